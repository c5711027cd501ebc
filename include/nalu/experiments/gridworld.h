// The NALU paper's grid-world time-tracking experiment: agents that see the grid
// (nalu/data/gridworld.h) as frames and are told a time T, trained with synchronous advantage
// actor-critic (A2C) on T in [5, 12] and tested on every T up to 25.
//
// Both agents share the same body: the frame's 11 x 11 window of each grid cell averaged
// (average pooling, stride 11: the four kinds of cell differ in their mean colour), a 1 x 1
// convolution to 8 channels and a ReLU (one detector read at every cell), a linear layer to 64
// features and a ReLU, an LSTM cell whose input is those features and T / 10, and linear policy
// (5 actions) and value heads on the LSTM state. (A stride-11 11 x 11 convolution on the pixels
// did the same work at 6 times the cost: Debian's LibTorch multiplies with the reference BLAS.)
//   baseline - exactly that (the paper's A3C agent: the LSTM must count the steps itself);
//   nac      - adds a time pathway of two NACs: a counter that accumulates a NAC's step,
//              c_t = c_{t-1} + NAC_c(1) (c_0 = 0), so c_t = w t for the NAC's weight w, and the
//              steps left r_t = NAC_r([T, c_t]). Both are linear in T and t whatever the
//              weights, and exactly c_t = t and r_t = T - t once NAC_c's weight reaches 1 and
//              NAC_r's (1, -1). r_t / 10 enters the LSTM beside T / 10, and the policy and value
//              heads beside the LSTM state, linearly, so the agent can compare "steps left"
//              with "distance to go" (which the frame shows) beyond the trained times.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nalu/data/gridworld.h"
#include "nalu/experiments/experiment.h"
#include "nalu/units/nac.h"

namespace nalu {

/// The two agents.
enum class GridAgentKind { kBaseline, kNac };
/// "baseline" or "nac".
std::string grid_agent_name(GridAgentKind kind);
/// Throws nalu::Error "unknown grid agent 'x' (known: baseline, nac)".
GridAgentKind parse_grid_agent(const std::string& name);

/// What an agent carries from one step to the next (per environment, batch first).
struct GridAgentState {
  torch::Tensor h, c;   // [B, hidden]
  torch::Tensor count;  // [B, 1], the NAC agent's counter (zeros for the baseline)
  /// Zeros for `batch` environments.
  static GridAgentState zeros(int64_t batch, int64_t hidden);
  /// The state with the rows where keep[b] == 0 set to zero (episodes that ended), detached.
  GridAgentState restarted(const torch::Tensor& keep) const;
};

/// One step of an agent: action logits, the value estimate and the next state.
struct GridAgentOutput {
  torch::Tensor logits;  // [B, 5]
  torch::Tensor value;   // [B]
  GridAgentState state;
};

/// The agent (see the file comment).
///
/// Example:
/// ```
/// nalu::GridAgent agent(nalu::GridAgentKind::kNac, 64);
/// auto state = nalu::GridAgentState::zeros(8, 64);
/// auto out = agent->step(frames /*[8, 3, 56, 56]*/, times /*[8]*/, state);
/// ```
class GridAgentImpl : public torch::nn::Cloneable<GridAgentImpl> {
 public:
  GridAgentImpl(GridAgentKind kind, int64_t hidden_size);

  void reset() override;
  GridAgentOutput step(const torch::Tensor& frames, const torch::Tensor& times,
                       const GridAgentState& state);

  GridAgentKind kind;
  int64_t hidden_size;
  torch::nn::Conv2d cells{nullptr};
  torch::nn::Linear features{nullptr};
  torch::nn::LSTMCell lstm{nullptr};
  torch::nn::Linear policy{nullptr}, value{nullptr};
  NAC counter{nullptr}, remaining{nullptr};  // the NAC agent only
};
TORCH_MODULE(GridAgent);

/// One grid-world experiment, reproducible from this struct alone.
struct GridworldConfig {
  std::vector<GridAgentKind> agents{GridAgentKind::kBaseline, GridAgentKind::kNac};
  int64_t seeds = 3;          // agents trained per kind
  int64_t updates = 10'000;   // A2C updates
  int64_t environments = 64;  // run side by side, one rollout each per update
  int64_t rollout = 8;        // steps per environment per update
  double discount = 0.95;
  double learning_rate = 2e-3;  // Adam
  double entropy = 0.01;        // weight of the entropy bonus
  double value_weight = 0.5;    // weight of the value loss
  double max_gradient_norm = 1.0;
  int64_t hidden_size = 32;
  int64_t min_time = 5, max_time = 12;  // training T, uniform
  data::GridRewards rewards;
  int64_t eval_interval = 250;        // updates between validation checks
  int64_t validation_episodes = 256;  // T uniform in the training range
  int64_t max_test_time = 25;         // tested T: 1 ... max_test_time
  int64_t test_episodes = 100;        // per T
  uint64_t seed = 0;
  int64_t threads = 0;

  /// The full size: both agents, 3 seeds, 10,000 updates of 64 x 8 steps, 100 episodes per T.
  static GridworldConfig paper();
  /// `--quick`: both agents, 1 seed, 1,000 updates at learning rate 8e-3, 50 episodes per T
  /// up to 20.
  static GridworldConfig quick();
  /// Throws nalu::Error with a one-line message for invalid settings.
  void validate() const;
};

/// How an agent does at one T: mean episode reward and the share of episodes that end on the
/// target.
struct GridScore {
  int64_t time = 0;
  int64_t episodes = 0;
  double mean_reward = 0.0;
  double on_target = 0.0;
};

/// One trained agent: the update with the best validation reward is the one tested.
struct GridworldRun {
  GridAgentKind agent = GridAgentKind::kBaseline;
  int64_t seed = 0;
  int64_t best_update = 0;
  double validation_reward = 0.0;
  std::vector<double> training_reward;  // mean reward per finished episode, per eval interval
  std::vector<GridScore> test;          // T = 1 ... max_test_time
  /// The NAC agent's time pathway after training: NAC_c's and NAC_r's weights.
  std::vector<float> counter_weights, remaining_weights;
  GridAgent model{nullptr};  // the tested agent (its best update)
  double seconds = 0.0;
};

struct GridworldResult {
  GridworldConfig config;
  std::vector<GridworldRun> runs;  // by agent, then seed
  double seconds = 0.0;
};

/// A random policy's score at each T (the floor a trained agent must beat), over `episodes`
/// seeded episodes per T.
std::vector<GridScore> random_policy_scores(const GridworldConfig& config, int64_t episodes);

/// Trains every agent x seed and tests each on T = 1 ... max_test_time; progress counts
/// updates over all agents.
GridworldResult run_gridworld(const GridworldConfig& config,
                              const ExperimentProgress& progress = {});

/// Per agent and T: mean reward and share on target (mean ± standard deviation over seeds),
/// beside `random` (random_policy_scores of the same config).
std::string gridworld_table(const GridworldResult& result, const std::vector<GridScore>& random);

/// One row per trained agent: the update tested, its validation reward, its share on target
/// over the training range and the largest T up to which that share stays at least half as
/// high (for agents on target at least twice as often as `random` over the training range).
/// The seeds' mean in gridworld_table can hide that some seeds learn and some do not.
std::string gridworld_seed_table(const GridworldResult& result,
                                 const std::vector<GridScore>& random);

/// One episode of `agent` at time T drawn as a strip of frames, left to right (step 0 ... T),
/// with a white column between frames: RGB bytes [56, frames * 57 - 1, 3] and its width.
struct FrameStrip {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;
  double reward = 0.0;
};
FrameStrip gridworld_episode_strip(GridAgentImpl& agent, int64_t time, uint64_t seed,
                                   const data::GridRewards& rewards);

/// The catalogue entry: paper() or quick(), run, and gridworld.md (tables), gridworld.jsonl
/// (one record per agent), gridworld-reward.svg and gridworld-on-target.svg (against T,
/// training range shaded) and gridworld-AGENT-T.png episode strips in options.output_dir.
ExperimentReport run_gridworld_experiment(const ExperimentOptions& options,
                                          const ExperimentProgress& progress);

}  // namespace nalu

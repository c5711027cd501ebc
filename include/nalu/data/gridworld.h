// The NALU paper's grid-world time-tracking environment, vectorised: N independent 5x5 grids
// stepped in one call. An episode tells the agent a time T; it is rewarded for standing on the
// target cell exactly at step T. LibTorch-free: frames are written into a caller's float
// buffer from precomputed tiles.
//
// Rules (one episode):
//   - reset: T is drawn uniformly from [min_time, max_time]; start and target cells are drawn
//     uniformly among the pairs of different cells whose Manhattan distance is at most T, so
//     that every episode can be won. The elapsed step count is 0.
//   - step(action): up, down, left, right move one cell (a move into the wall leaves the agent
//     where it is); stay stays. The count becomes t + 1. Then the reward:
//       t + 1 == T  : +1 if the agent is on the target, else 0, and the episode ends;
//       t + 1 <  T  : GridRewards::early (negative) if the agent is on the target, else 0.
//     An environment whose episode ended starts the next one in the same call (auto-reset), so
//     the frame after a final step already shows the new episode.
//
// Frame layout (56 x 56 RGB, values in [0, 1], channel-major [3, 56, 56]): grid lines of 1
// pixel (grey 0.3) at rows and columns 0, 11, 22, 33, 44, 55; the 10 x 10 interior of cell
// (row r, column c) at pixel rows 1 + 11r ... 10 + 11r and columns 1 + 11c ... 10 + 11c, light
// grey (0.85); the target cell red (1, 0, 0); the agent a blue (0, 0, 1) 6 x 6 square in the
// middle of its cell, drawn over the red when it stands on the target. Row 0 is the top.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace nalu::data {

inline constexpr int64_t kGridSize = 5;
inline constexpr int64_t kGridFramePixels = 56;
inline constexpr int64_t kGridFrameValues = 3 * kGridFramePixels * kGridFramePixels;

/// The five actions, in the order of a policy's outputs.
enum class GridAction : int64_t { kUp = 0, kDown = 1, kLeft = 2, kRight = 3, kStay = 4 };
inline constexpr int64_t kGridActions = 5;

/// Rewards of an episode (see the file comment).
struct GridRewards {
  double on_time = 1.0;  // on the target at step T
  double early = -0.1;   // per step on the target before T
};

/// One episode's setting: where the agent and the target are, the time T and the steps done.
struct GridEpisode {
  int64_t agent_row = 0, agent_col = 0;
  int64_t target_row = 0, target_col = 0;
  int64_t time = 1;     // T
  int64_t elapsed = 0;  // steps taken so far
  /// |agent - target| in rows plus in columns.
  int64_t distance() const;
};

/// N grids stepped together.
///
/// Example:
/// ```
/// nalu::data::GridWorld world(32, 5, 12, /*seed=*/7);
/// std::vector<float> frames(32 * nalu::data::kGridFrameValues);
/// world.render(frames.data());
/// std::vector<int64_t> actions(32, 4);  // everyone stays
/// std::vector<float> rewards(32);
/// std::vector<uint8_t> done(32);
/// world.step(actions.data(), rewards.data(), done.data());
/// ```
class GridWorld {
 public:
  /// Throws nalu::Error unless environments >= 1 and 1 <= min_time <= max_time <= 1000, or for
  /// a positive early reward. Every environment starts an episode (seeded: the same seed gives
  /// the same episodes).
  GridWorld(int64_t environments, int64_t min_time, int64_t max_time, uint64_t seed,
            GridRewards rewards = {});

  int64_t size() const { return static_cast<int64_t>(episodes_.size()); }
  const GridEpisode& episode(int64_t i) const;
  /// Replaces environment i's episode (tests, and evaluation at a chosen T). Throws
  /// nalu::Error for cells off the grid, T < 1, or elapsed outside [0, T).
  void set_episode(int64_t i, const GridEpisode& episode);
  /// Draws a new episode for environment i.
  void reset(int64_t i);
  /// When false, an ended episode is not replaced: the environment keeps its final state and
  /// further steps of it give reward 0 and done = 1 (evaluation runs one episode each).
  void set_auto_reset(bool on) { auto_reset_ = on; }

  /// Applies actions[i] (0-4) to every environment and writes rewards[i] and done[i]. Throws
  /// nalu::Error for an action outside 0-4 before changing anything.
  void step(const int64_t* actions, float* rewards, uint8_t* done);
  /// Writes every environment's frame, [N, 3, 56, 56] floats.
  void render(float* frames) const;
  /// One environment's frame, [3, 56, 56] floats.
  void render_one(int64_t i, float* frame) const;
  /// The T of every environment, as floats (an agent's instruction input).
  void times(float* out) const;

 private:
  GridEpisode draw(int64_t time);
  uint64_t below(uint64_t bound);  // uniform in [0, bound), from the seeded stream

  std::vector<GridEpisode> episodes_;
  std::vector<uint8_t> finished_;
  int64_t min_time_, max_time_;
  GridRewards rewards_;
  uint64_t state_;
  bool auto_reset_ = true;
};

}  // namespace nalu::data

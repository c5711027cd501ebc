// Internal helpers shared by the static trainer (trainer.cpp) and the recurrent one
// (recurrent.cpp): the optimiser, the divergence diagnosis, seeded model construction and the
// validation of settings both configs carry. Not installed; not part of the public API.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "nalu/io/archive.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/config.h"
#include "nalu/train/trainer.h"

namespace nalu {
class INALUImpl;
}

namespace nalu::detail {

/// Adam, RMSprop or SGD over `parameters` as `config` says; throws nalu::Error for other names.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& config,
                                                        std::vector<torch::Tensor> parameters);

/// Throws NumericalError naming `step` and the first non-finite parameter of `model`, or "loss"
/// when every parameter is finite.
[[noreturn]] void throw_diverged(const torch::nn::Module& model, int64_t step,
                                 const torch::Tensor& loss);

/// Throws (as throw_diverged) when a parameter of `model` is not finite after `step`.
void check_parameters_finite(const torch::nn::Module& model, int64_t step);

/// The bookkeeping every training loop shares (static torch, fused, recurrent): the history,
/// model selection at the lowest interpolation MSE, the stagnation count iNALU's
/// re-initialisation watches, progress events and timing.
class RunTracker {
 public:
  RunTracker(TrainResult& result, int64_t total, const ProgressCallback& on_progress,
             int64_t progress_interval);
  double elapsed() const;
  /// Appends `e` to the history. When it is the best so far it becomes result.best and, when
  /// `formula` is given, its formula becomes result.best_formula; returns whether it did.
  bool add(const Evaluation& e, const std::function<Formula()>& formula = {});
  /// Evaluations since the best one.
  int64_t stagnation() const { return stagnation_; }
  void restart_stagnation() { stagnation_ = 0; }
  /// The progress event of the evaluation just added.
  void report_evaluation(bool reinitialized = false);
  /// A plain progress event, every progress_interval steps.
  void report_step(int64_t step, double loss);
  /// Closes the result: the last evaluation becomes `final`, the step count and timing are
  /// filled in.
  void finish(int64_t iterations);

  /// What a checkpoint keeps of the tracker (the result is kept apart).
  struct Saved {
    bool have_best = false;
    int64_t stagnation = 0;
    double elapsed = 0.0;  // seconds of training so far, across resumptions
  };
  Saved saved() const { return {have_best_, stagnation_, elapsed()}; }
  void restore(const Saved& saved);

 private:
  TrainResult& result_;
  int64_t total_;
  const ProgressCallback& on_progress_;
  int64_t progress_interval_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double elapsed_before_ = 0.0;  // from before a resumption
  bool have_best_ = false;
  int64_t stagnation_ = 0;
};

/// Whether a run with `inalu_layers` iNALU layers has stagnated long enough, above the
/// threshold, to be re-initialised (iNALU's remedy).
bool should_reinitialize(size_t inalu_layers, const RunTracker& tracker, const TrainResult& result,
                         const TrainingConfig& training);

/// The iNALU layers of `model`, which the trainers re-initialise when a run stagnates.
std::vector<INALUImpl*> reinitializable_layers(StackImpl& model);

/// Checkpoints, resumption, stop requests, rollbacks and fault injection for one run, shared
/// by the torch and fused loops (checkpoint.cpp). The loops supply their engine's state as an
/// archive; this class decides when to save, keeps the last good state and writes the file.
class RunGuard {
 public:
  RunGuard(const RunControl& control, const RunConfig& config, std::string engine);

  /// The checkpoint to resume from, when resuming and the file exists (validated against the
  /// config and engine), else nullptr.
  const io::Archive* resume_state() const { return resume_ ? &*resume_ : nullptr; }
  /// Throws nalu::Error before training when the checkpoint or the saved model would not fit
  /// on its file system (a model of `parameters` floats).
  void check_space(size_t parameters) const;
  /// An empty checkpoint for this run (kind, config, engine), for the loop to fill.
  io::Archive new_state(int64_t step) const;
  /// Whether the loop should hand over its state every interval: there is a checkpoint file or
  /// a rollback may need the last good state.
  bool keeps_states() const {
    return !control_.checkpoint.empty() || control_.on_non_finite == NonFinitePolicy::kRollback;
  }
  /// Whether the state after `step` should be saved (every checkpoint interval).
  bool due(int64_t step) const { return step % interval_ == 0; }
  /// Keeps `state` as the last good one and writes it to the checkpoint file, if any.
  void save(io::Archive state);
  /// Whether a stop was requested.
  bool stop_requested() const {
    return control_.stop != nullptr && control_.stop->load(std::memory_order_relaxed);
  }
  /// Saves `state` (the run after `step`) and throws Interrupted.
  [[noreturn]] void interrupt(int64_t step, io::Archive state);
  /// True once, after the step RunControl::inject_non_finite_at names.
  bool inject(int64_t step);
  /// For a non-finite value: the state to go back to (rollback allowed and one kept), after
  /// recording it in `result` and lowering `learning_rate`; otherwise rethrows `error`.
  const io::Archive& rollback(const NumericalError& error, TrainResult& result,
                              double& learning_rate);
  const RunControl& control() const { return control_; }

 private:
  const RunControl& control_;
  nlohmann::json config_json_;
  std::string engine_;
  int64_t interval_;
  double evaluations_;  // over the whole run (a double: no overflow for any iteration count)
  std::optional<io::Archive> resume_;
  std::optional<io::Archive> last_good_;
  bool injected_ = false;
};

/// The parts of a checkpoint both engines share: the result so far, the tracker, the last
/// loss, the learning rate, the iNALU generator and the parameters at the best evaluation.
void store_progress(io::Archive& state, const TrainResult& result, const RunTracker& tracker,
                    double last_loss, double learning_rate, torch::Generator& generator,
                    const std::vector<float>& best_parameters);
/// Restores what store_progress kept; returns the step the state was saved after. `model` gets
/// the best parameters long enough to recompute result.best_formula, then `parameters`. A
/// resumption (rollback false) also takes the saved clock and rollbacks and sets
/// result.resumed_from; a rollback keeps them. On a resumption `learning_rate` comes in as the
/// configured rate, and a saved rate outside (0, it] is a damaged checkpoint.
int64_t restore_progress(const io::Archive& state, TrainResult& result, RunTracker& tracker,
                         double& last_loss, double& learning_rate, torch::Generator& generator,
                         std::vector<float>& best_parameters, StackImpl& model,
                         const std::vector<float>& parameters, bool rollback);

/// model.parameters() as one flat vector (the fused network's layout).
std::vector<float> flat_parameters(const torch::nn::Module& model);
/// The inverse; throws nalu::Error when the count differs.
void load_flat_parameters(torch::nn::Module& model, const std::vector<float>& values);

/// A LibTorch optimiser's state (Adam, RMSprop, SGD) into / out of `state`, per parameter.
void store_optimizer(io::Archive& state, torch::optim::Optimizer& optimizer);
void restore_optimizer(const io::Archive& state, torch::optim::Optimizer& optimizer);
/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate);

/// The lock around LibTorch's global generator, which its initialisers draw from.
std::mutex& global_generator_mutex();

/// Seeds the global generator with `seed` and calls `build` under one lock, so that models
/// built on parallel threads get the same weights as built alone.
template <typename Build>
auto build_seeded(uint64_t seed, Build&& build) {
  std::lock_guard<std::mutex> lock(global_generator_mutex());
  torch::manual_seed(seed);
  return build();
}

/// The largest learning rate or epsilon a run accepts. Training computes in 32-bit floats, and
/// LibTorch hands a rate (Adam: up to 10 times it) or an epsilon to its kernels as a float,
/// throwing std::runtime_error mid-run for one above FLT_MAX (3.4e38); no useful setting is near.
constexpr double kLargestSetting = 1e30;
/// Throws nalu::Error ("<name> must be a positive number of at most 1e+30, got <rate>") unless
/// 0 < rate <= kLargestSetting; `name` is e.g. "optimizer: learning rate".
void check_learning_rate(double rate, const std::string& name);
/// Throws nalu::Error ("optimizer: ...") for an unknown name, a learning rate outside
/// (0, kLargestSetting] or a momentum outside [0, 1).
void check_optimizer(const OptimizerConfig& optimizer);
/// Throws nalu::Error ("<name> must be a number in [0, 1e+30], got <value>") unless
/// 0 <= value <= kLargestSetting (NaN and infinity fail); `name` is e.g. "model: epsilon".
void check_setting(double value, const std::string& name);
/// Throws nalu::Error ("model: ...") for an unknown MLP activation or an epsilon outside
/// [0, kLargestSetting].
void check_unit_settings(const UnitSettings& settings);
/// Throws nalu::Error ("training: ...") for a set schedule whose scale is outside
/// [0, kLargestSetting] or whose start or end is negative.
void check_regularizer(const std::optional<RegularizerSchedule>& regularizer);
/// "100-2-1".
std::string size_text(const std::vector<int64_t>& sizes);

}  // namespace nalu::detail

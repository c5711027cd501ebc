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
#include <vector>

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
  /// `formula` is given, its formula becomes result.best_formula.
  void add(const Evaluation& e, const std::function<Formula()>& formula = {});
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

 private:
  TrainResult& result_;
  int64_t total_;
  const ProgressCallback& on_progress_;
  int64_t progress_interval_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool have_best_ = false;
  int64_t stagnation_ = 0;
};

/// Whether a run with `inalu_layers` iNALU layers has stagnated long enough, above the
/// threshold, to be re-initialised (iNALU's remedy).
bool should_reinitialize(size_t inalu_layers, const RunTracker& tracker, const TrainResult& result,
                         const TrainingConfig& training);

/// The iNALU layers of `model`, which the trainers re-initialise when a run stagnates.
std::vector<INALUImpl*> reinitializable_layers(StackImpl& model);

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

/// Throws nalu::Error ("optimizer: ...") for an unknown name, a learning rate <= 0 or a momentum
/// outside [0, 1).
void check_optimizer(const OptimizerConfig& optimizer);
/// Throws nalu::Error ("model: ...") for an unknown MLP activation or a bad epsilon.
void check_unit_settings(const UnitSettings& settings);

}  // namespace nalu::detail

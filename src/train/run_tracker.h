// The bookkeeping every training loop shares (static torch, fused, recurrent) and the part of a
// checkpoint that holds it. Internal to the library.
#pragma once

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "nalu/io/archive.h"
#include "nalu/train/config.h"
#include "nalu/train/result.h"
#include "nalu/units/stack.h"

namespace nalu {
class INALUImpl;
}

namespace nalu::detail {

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

}  // namespace nalu::detail

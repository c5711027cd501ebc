// Long runs that survive interruption: periodic and on-demand checkpoints (model, optimiser,
// generator, history, step) written atomically, resuming from them, rolling back on a
// non-finite value, and saving / loading trained models. Files use nalu's archive format
// (nalu/io/archive.h), so a damaged or foreign file is one clear error, never a crash.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "nalu/error.h"
#include "nalu/train/config.h"
#include "nalu/train/trainer.h"
#include "nalu/units/stack.h"

namespace nalu {

/// What a training loop does about a non-finite loss or parameter.
enum class NonFinitePolicy {
  kStop,      // throw NumericalError naming the step and the parameter
  kRollback,  // restore the last good state, scale the learning rate down and go on
};

/// "stop" and "rollback", in NonFinitePolicy's order.
const std::vector<std::string>& non_finite_policy_names();
/// The policy named `name`; throws nalu::Error listing the known names for another.
NonFinitePolicy parse_non_finite_policy(const std::string& name);

/// How a run checkpoints, resumes and stops. The default does none of it.
///
/// Example:
/// ```
/// std::atomic<bool> stop{false};  // set from a SIGINT handler
/// nalu::RunControl control;
/// control.checkpoint = "run.ckpt";
/// control.checkpoint_interval = 10'000;
/// control.resume = true;  // continue from run.ckpt when it exists
/// control.stop = &stop;
/// nalu::TrainResult result = nalu::run(config, {}, control);
/// ```
struct RunControl {
  /// Checkpoint file; empty writes none.
  std::string checkpoint;
  /// Steps between checkpoints (and between the in-memory snapshots a rollback returns to);
  /// 0 means the config's eval_interval.
  int64_t checkpoint_interval = 0;
  /// Continue from `checkpoint` when that file exists. The checkpoint must come from the same
  /// configuration and engine; the resumed run then ends as the uninterrupted one would
  /// (bit for bit on the fused engine).
  bool resume = false;
  /// Polled once per step: when it reads true the run writes its checkpoint (when it has a
  /// file) and throws Interrupted.
  const std::atomic<bool>* stop = nullptr;
  NonFinitePolicy on_non_finite = NonFinitePolicy::kStop;
  /// kRollback: the learning rate is multiplied by this after each rollback...
  double rollback_factor = 0.5;
  /// ...and the run stops as kStop would after this many.
  int64_t max_rollbacks = 5;
  /// Writes the trained model here at the end (see save_model); empty writes none.
  std::string save_model;
  /// Fault injection for tests: after this step (once), the first parameter becomes NaN.
  int64_t inject_non_finite_at = 0;

  /// Throws nalu::Error for a negative interval, a factor outside (0, 1) or a negative count.
  void validate() const;
};

/// A run stopped on request (RunControl::stop). `checkpoint` is the file written, or empty.
class Interrupted : public Error {
 public:
  Interrupted(int64_t step, std::string checkpoint, const std::string& what)
      : Error(what), step_(step), checkpoint_(std::move(checkpoint)) {}
  int64_t step() const { return step_; }
  const std::string& checkpoint() const { return checkpoint_; }

 private:
  int64_t step_;
  std::string checkpoint_;
};

/// Trains as run(config, on_progress) does, under `control`.
TrainResult run(const RunConfig& config, const ProgressCallback& on_progress,
                const RunControl& control);

/// Writes `model` (trained for `config`) to `path` atomically: the configuration and every
/// parameter, bit for bit.
void save_model(const std::string& path, const RunConfig& config, const StackImpl& model);

/// A model read back by load_model.
struct LoadedModel {
  RunConfig config;
  Stack model{nullptr};
};

/// Reads a file written by save_model: rebuilds the model its configuration describes and
/// loads its parameters. Throws nalu::Error for a missing, damaged or foreign file, or one
/// whose parameters do not fit the model.
LoadedModel load_model(const std::string& path);

}  // namespace nalu

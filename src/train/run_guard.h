// Checkpoints, resumption, stop requests, rollbacks and fault injection for one run, shared by
// the torch and fused loops. Internal to the library.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "nalu/error.h"
#include "nalu/io/archive.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/config.h"
#include "nalu/train/result.h"

namespace nalu::detail {

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

}  // namespace nalu::detail

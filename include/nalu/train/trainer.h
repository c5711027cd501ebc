// Training one model on one task with LibTorch autograd (the reference "torch" engine): the
// optimiser, MSE loss, the regulariser schedule, clamping, periodic evaluation on the fixed
// interpolation and extrapolation sets, model selection at the best interpolation error
// (Madsen & Johansen) and detection of non-finite values. It reports progress through a
// callback and never prints.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nalu/formula.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/config.h"
#include "nalu/train/result.h"
#include "nalu/units/stack.h"

namespace nalu {

struct RunControl;

/// The regulariser schedule of each layer of `model` for a run configured by `training`.
std::vector<RegularizerSchedule> layer_schedules(const StackImpl& model,
                                                 const TrainingConfig& training);

/// The formula a run reports: `literal` (a model's formula()) simplified where that is checked
/// on the task's interpolation and extrapolation sets (nalu::simplify). Both engines use it at
/// the best step and at the end, and `nalu eval` on its own sets.
Formula readout(const Formula& literal, const ArithmeticTask& task);

/// Evaluates `model` on a batch: MSE and share of predictions within atol + rtol * |target|,
/// in evaluation mode (model.eval()); the model's mode is restored afterwards.
std::pair<double, double> evaluate(StackImpl& model, const Batch& batch, double atol, double rtol);

/// Trains `model` on `task`. Calls `on_progress` about every `progress_interval` steps and
/// after every evaluation. Throws NumericalError when the loss or a parameter stops being finite.
TrainResult train_model(StackImpl& model, const ArithmeticTask& task, const RunConfig& config,
                        const ProgressCallback& on_progress = {}, int64_t progress_interval = 100);
/// The same under `control` (checkpoints, resumption, stop requests; nalu/train/checkpoint.h).
TrainResult train_model(StackImpl& model, const ArithmeticTask& task, const RunConfig& config,
                        const ProgressCallback& on_progress, int64_t progress_interval,
                        const RunControl& control);

/// Validates `config`, builds the task and the model from its seed, and trains.
TrainResult run(const RunConfig& config, const ProgressCallback& on_progress = {});

/// The task and the (untrained) model a config describes, seeded as run() seeds them.
/// make_model is safe to call from several threads.
ArithmeticTask make_task(const RunConfig& config);
Stack make_model(const RunConfig& config);

}  // namespace nalu

// The training loop of the recurrent arithmetic task.
#include "nalu/train/recurrent.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>

#include "nalu/error.h"
#include "nalu/units/registry.h"
#include "random/seeded.h"
#include "run_tracker.h"
#include "torch_optim.h"
#include "validation.h"

namespace nalu {

namespace {

// Streams of derive_seed(config.seed, stream) used by a recurrent run (the recurrent task uses
// 30-32).
constexpr uint64_t kInitializationStream = 33;
constexpr uint64_t kBatchStream = 34;

// Predictions within kAccuracyTolerance * (1 + |target|) count as correct, as the static
// trainer's default atol = rtol = 1e-4.
constexpr double kAccuracyTolerance = 1e-4;

std::pair<double, double> evaluate(RecurrentArithmeticModelImpl& model, const Batch& batch) {
  torch::NoGradGuard no_grad;
  const auto prediction = model.forward(batch.input);
  const double mse = torch::mse_loss(prediction, batch.target).item<double>();
  const auto close =
      (prediction - batch.target).abs() <= kAccuracyTolerance * (1 + batch.target.abs());
  return {mse, close.to(torch::kDouble).mean().item<double>()};
}

}  // namespace

void RecurrentConfig::validate() const {
  task.validate();
  check_recurrent_core(core);
  if (!head_unit.empty())
    find_unit(head_unit);
  check(hidden_size > 0, "model: hidden size must be positive, got " + std::to_string(hidden_size));
  detail::check_unit_settings(settings);
  detail::check_optimizer(optimizer);
  check(iterations > 0, "training: iterations must be positive, got " + std::to_string(iterations));
  check(batch_size > 0, "training: batch size must be positive, got " + std::to_string(batch_size));
  check(eval_interval > 0,
        "training: evaluation interval must be positive, got " + std::to_string(eval_interval));
  detail::check_regularizer(regularizer);
  check_memory(memory_needs());
}

std::vector<MemoryNeed> RecurrentConfig::memory_needs() const {
  const auto input = static_cast<double>(task.input_size);
  const auto hidden = static_cast<double>(hidden_size);
  const auto batch = static_cast<double>(batch_size);
  const auto evaluation = static_cast<double>(task.evaluation_size);
  const size_t intervals =
      std::max(task.interpolation.intervals.size(), task.extrapolation.intervals.size());
  // Per sequence element: its inputs, and the state an LSTM keeps for the backward pass (four
  // gates, cell and output, their gradients), in floats.
  const double per_element = input * 4.0 + hidden * 12.0 * 4.0 * 2.0;
  std::vector<MemoryNeed> needs;
  needs.push_back({"model",
                   "hidden size " + std::to_string(hidden_size) + ", input size " +
                       std::to_string(task.input_size),
                   (input + hidden + 2.0) * hidden * 4.0 * 4.0 * 8.0});
  const auto train = static_cast<double>(task.train_length);
  needs.push_back({"training: one step",
                   "batch size " + std::to_string(batch_size) + ", train length " +
                       std::to_string(task.train_length) + ", hidden size " +
                       std::to_string(hidden_size),
                   sampling_bytes(batch * train, input, intervals) + batch * train * per_element});
  // Both sets are kept; the longer is drawn while the other is held.
  const auto interpolation = static_cast<double>(task.interpolation_length);
  const auto extrapolation = static_cast<double>(task.extrapolation_length);
  needs.push_back(
      {"task: the evaluation sets",
       "evaluation size " + std::to_string(task.evaluation_size) + ", lengths " +
           std::to_string(task.interpolation_length) + " and " +
           std::to_string(task.extrapolation_length),
       evaluation * (interpolation + extrapolation) * input * 4.0 +
           sampling_bytes(evaluation * std::max(interpolation, extrapolation), input, intervals)});
  return needs;
}

RecurrentArithmeticModelOptions RecurrentConfig::model_options() const {
  return RecurrentArithmeticModelOptions(core, task.input_size)
      .hidden_size(hidden_size)
      .head_unit(head_unit)
      .settings(settings);
}

RecurrentArithmeticTask make_recurrent_task(const RecurrentConfig& config) {
  RecurrentTaskOptions options = config.task;
  options.seed = config.seed;
  return RecurrentArithmeticTask(options);
}

RecurrentArithmeticModel make_recurrent_model(const RecurrentConfig& config) {
  return detail::build_seeded(derive_seed(config.seed, kInitializationStream),
                              [&] { return RecurrentArithmeticModel(config.model_options()); });
}

TrainResult train_recurrent_model(RecurrentArithmeticModelImpl& model,
                                  const RecurrentArithmeticTask& task,
                                  const RecurrentConfig& config,
                                  const ProgressCallback& on_progress, int64_t progress_interval) {
  config.validate();
  check(model.options.input_size() == task.options().input_size,
        "model takes " + std::to_string(model.options.input_size()) +
            " inputs per step but the task gives " + std::to_string(task.options().input_size));
  auto generator = make_generator(derive_seed(config.seed, kBatchStream));
  auto optimizer = detail::make_optimizer(config.optimizer, model.parameters());

  TrainResult result;
  result.schedules = model.unit_schedules(config.iterations, config.regularizer);
  detail::RunTracker tracker(result, config.iterations, on_progress, progress_interval);
  double last_loss = NAN;

  auto run_evaluation = [&](int64_t step) {
    Evaluation e;
    e.step = step;
    e.train_loss = last_loss;
    std::tie(e.interpolation_mse, e.interpolation_accuracy) =
        evaluate(model, task.interpolation_set());
    std::tie(e.extrapolation_mse, e.extrapolation_accuracy) =
        evaluate(model, task.extrapolation_set());
    e.sparsity_error = model.sparsity_error();
    tracker.add(e);
    tracker.report_evaluation();
  };

  model.train();
  run_evaluation(0);
  for (int64_t step = 1; step <= config.iterations; ++step) {
    const Batch batch = task.sample(config.batch_size, generator);
    const auto mse = torch::mse_loss(model.forward(batch.input), batch.target);
    const auto loss = mse + model.scheduled_regularization_loss(step, result.schedules);
    last_loss = mse.item<double>();
    if (!std::isfinite(loss.item<double>()))
      detail::throw_diverged(model, step, loss);

    optimizer->zero_grad();
    loss.backward();
    optimizer->step();
    model.after_optimizer_step();

    if (step % config.eval_interval == 0 || step == config.iterations)
      run_evaluation(step);
    else
      tracker.report_step(step, last_loss);
  }
  // A parameter may have become non-finite in the very last step.
  detail::check_parameters_finite(model, config.iterations);

  result.engine = "torch";
  tracker.finish(config.iterations);
  return result;
}

TrainResult train_recurrent(const RecurrentConfig& config, const ProgressCallback& on_progress) {
  config.validate();
  const RecurrentArithmeticTask task = make_recurrent_task(config);
  RecurrentArithmeticModel model = make_recurrent_model(config);
  return train_recurrent_model(*model, task, config, on_progress);
}

}  // namespace nalu

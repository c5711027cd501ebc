// The torch engine's training loop.
#include "nalu/train/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>

#include "nalu/error.h"
#include "nalu/io/archive.h"
#include "nalu/io/module_archive.h"
#include "nalu/tasks/batch_stream.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/fused.h"
#include "nalu/units/inalu.h"
#include "random/seeded.h"
#include "run_guard.h"
#include "run_tracker.h"
#include "torch_optim.h"

namespace nalu {

namespace {

// Streams of derive_seed(config.seed, stream) used by a run (the task uses 1-3).
constexpr uint64_t kInitializationStream = 10;
constexpr uint64_t kBatchStream = 11;
constexpr uint64_t kReinitializationStream = 12;

}  // namespace

namespace detail {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& config,
                                                        std::vector<torch::Tensor> parameters) {
  if (config.name == "adam") {
    return std::make_unique<torch::optim::Adam>(parameters,
                                                torch::optim::AdamOptions(config.learning_rate));
  }
  if (config.name == "rmsprop") {
    return std::make_unique<torch::optim::RMSprop>(
        parameters, torch::optim::RMSpropOptions(config.learning_rate).momentum(config.momentum));
  }
  if (config.name == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        parameters, torch::optim::SGDOptions(config.learning_rate).momentum(config.momentum));
  }
  throw Error("unknown optimizer '" + config.name + "'");
}

namespace {

std::string describe_non_finite(const torch::Tensor& tensor) {
  return torch::isnan(tensor).any().item<bool>() ? "NaN" : "infinite";
}

}  // namespace

void throw_diverged(const torch::nn::Module& model, int64_t step, const torch::Tensor& loss) {
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    if (!torch::isfinite(item.value()).all().item<bool>()) {
      throw NumericalError(step, item.key(),
                           "training diverged at step " + std::to_string(step) + ": parameter '" +
                               item.key() + "' is " + describe_non_finite(item.value()));
    }
  }
  throw NumericalError(step, "loss",
                       "training diverged at step " + std::to_string(step) + ": the loss is " +
                           describe_non_finite(loss) +
                           " while every parameter is finite (the model's output overflowed)");
}

void check_parameters_finite(const torch::nn::Module& model, int64_t step) {
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    if (!torch::isfinite(item.value()).all().item<bool>())
      throw_diverged(model, step, torch::full({}, NAN));
  }
}

std::vector<INALUImpl*> reinitializable_layers(StackImpl& model) {
  std::vector<INALUImpl*> layers;
  for (const auto& layer : model.layers()) {
    if (auto* inalu = dynamic_cast<INALUImpl*>(layer.get()))
      layers.push_back(inalu);
  }
  return layers;
}

RunTracker::RunTracker(TrainResult& result, int64_t total, const ProgressCallback& on_progress,
                       int64_t progress_interval)
    : result_(result),
      total_(total),
      on_progress_(on_progress),
      progress_interval_(progress_interval) {}

double RunTracker::elapsed() const {
  return elapsed_before_ +
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

bool RunTracker::add(const Evaluation& e, const std::function<Formula()>& formula) {
  result_.history.push_back(e);
  if (!have_best_ || e.interpolation_mse < result_.best.interpolation_mse) {
    result_.best = e;
    if (formula)
      result_.best_formula = formula();
    have_best_ = !std::isnan(e.interpolation_mse);
    stagnation_ = 0;
    return true;
  }
  ++stagnation_;
  return false;
}

void RunTracker::restore(const Saved& saved) {
  have_best_ = saved.have_best;
  stagnation_ = saved.stagnation;
  elapsed_before_ = saved.elapsed;
  start_ = std::chrono::steady_clock::now();
}

void RunTracker::report_evaluation(bool reinitialized) {
  if (on_progress_) {
    const Evaluation& e = result_.history.back();
    on_progress_(ProgressEvent{e.step, total_, e.train_loss, elapsed(), &e, reinitialized});
  }
}

void RunTracker::report_step(int64_t step, double loss) {
  if (on_progress_ && progress_interval_ > 0 && step % progress_interval_ == 0)
    on_progress_(ProgressEvent{step, total_, loss, elapsed(), nullptr, false});
}

void RunTracker::finish(int64_t iterations) {
  const double wall_seconds = elapsed();
  result_.final = result_.history.back();
  result_.iterations = iterations;
  result_.wall_seconds = wall_seconds;
  result_.iterations_per_second =
      wall_seconds > 0 ? static_cast<double>(iterations) / wall_seconds : 0;
}

bool should_reinitialize(size_t inalu_layers, const RunTracker& tracker, const TrainResult& result,
                         const TrainingConfig& training) {
  return inalu_layers > 0 && training.reinit_patience > 0 &&
         tracker.stagnation() >= training.reinit_patience &&
         result.best.interpolation_mse > training.reinit_threshold;
}

}  // namespace detail

using detail::make_optimizer;
using detail::throw_diverged;

std::vector<RegularizerSchedule> layer_schedules(const StackImpl& model,
                                                 const TrainingConfig& training) {
  std::vector<RegularizerSchedule> schedules;
  for (const auto& layer : model.layers()) {
    schedules.push_back(training.regularizer
                            ? *training.regularizer
                            : scaled_to_run(layer->default_regularizer(), training.iterations));
  }
  return schedules;
}

std::pair<double, double> evaluate(StackImpl& model, const Batch& batch, double atol, double rtol) {
  torch::NoGradGuard no_grad;
  const auto prediction = model.forward(batch.input);
  const double mse = torch::mse_loss(prediction, batch.target).item<double>();
  const auto close = (prediction - batch.target).abs() <= atol + rtol * batch.target.abs();
  const double accuracy = close.to(torch::kDouble).mean().item<double>();
  return {mse, accuracy};
}

Formula readout(const Formula& literal, const ArithmeticTask& task) {
  std::vector<std::vector<float>> inputs;
  inputs.reserve(2);  // the sets view these vectors
  std::vector<EvaluationSet> sets;
  for (const Batch* set : {&task.interpolation_set(), &task.extrapolation_set()}) {
    const auto values = set->input.detach().to(torch::kCPU, torch::kFloat).contiguous();
    inputs.emplace_back(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
    sets.push_back({inputs.back(), values.dim() == 2 ? values.size(1) : 0});
  }
  return simplify(literal, sets);
}

ArithmeticTask make_task(const RunConfig& config) {
  ArithmeticTaskOptions options = config.task_options;
  options.seed = config.seed;
  return ArithmeticTask(options);
}

Stack make_model(const RunConfig& config) {
  // LibTorch's initialisers draw from the global generator: seed it and build under one lock so
  // that models built on parallel threads (nalu bench) get the same weights as alone.
  return detail::build_seeded(derive_seed(config.seed, kInitializationStream), [&] {
    return make_stack(config.resolve_layers(), config.sizes(), config.model.settings);
  });
}

TrainResult train_model(StackImpl& model, const ArithmeticTask& task, const RunConfig& config,
                        const ProgressCallback& on_progress, int64_t progress_interval) {
  return train_model(model, task, config, on_progress, progress_interval, RunControl{});
}

TrainResult train_model(StackImpl& model, const ArithmeticTask& task, const RunConfig& config,
                        const ProgressCallback& on_progress, int64_t progress_interval,
                        const RunControl& control) {
  config.validate();
  check(model.in_features() == task.options().input_size,
        "model takes " + std::to_string(model.in_features()) + " inputs but the task gives " +
            std::to_string(task.options().input_size));
  detail::RunGuard guard(control, config, "torch");
  const auto& training = config.training;
  const BatchStream stream(task, derive_seed(config.seed, kBatchStream));
  auto reinit_generator = make_generator(derive_seed(config.seed, kReinitializationStream));
  auto optimizer = make_optimizer(config.optimizer, model.parameters());
  const auto inalu_layers = detail::reinitializable_layers(model);
  guard.check_space(io::flat_parameters(model).size());

  TrainResult result;
  result.engine = "torch";
  result.schedules = layer_schedules(model, training);
  detail::RunTracker tracker(result, training.iterations, on_progress, progress_interval);
  double last_loss = NAN;
  double learning_rate = config.optimizer.learning_rate;
  std::vector<float> best_parameters;

  auto run_evaluation = [&](int64_t step) {
    Evaluation e;
    e.step = step;
    e.train_loss = last_loss;
    std::tie(e.interpolation_mse, e.interpolation_accuracy) =
        evaluate(model, task.interpolation_set(), training.accuracy_atol, training.accuracy_rtol);
    std::tie(e.extrapolation_mse, e.extrapolation_accuracy) =
        evaluate(model, task.extrapolation_set(), training.accuracy_atol, training.accuracy_rtol);
    e.sparsity_error = model.sparsity_error();
    if (tracker.add(e, [&] { return model.formula(); }))
      best_parameters = io::flat_parameters(model);
    bool reinitialized = false;
    if (detail::should_reinitialize(inalu_layers.size(), tracker, result, training)) {
      // iNALU's remedy for a stuck run: draw the weights again and restart the optimiser.
      for (auto* layer : inalu_layers)
        layer->reinitialize(reinit_generator);
      optimizer = make_optimizer(config.optimizer, model.parameters());
      detail::set_learning_rate(*optimizer, learning_rate);
      tracker.restart_stagnation();
      ++result.reinitializations;
      reinitialized = true;
    }
    tracker.report_evaluation(reinitialized);
  };
  // The run's whole state after `step`, and back.
  auto capture = [&](int64_t step) {
    io::Archive state = guard.new_state(step);
    state.add("parameters", io::flat_parameters(model));
    detail::store_optimizer(state, *optimizer);
    detail::store_progress(state, result, tracker, last_loss, learning_rate, reinit_generator,
                           best_parameters);
    return state;
  };
  auto restore = [&](const io::Archive& state, bool rollback) {
    const double lowered = learning_rate;
    const int64_t step = detail::restore_progress(state, result, tracker, last_loss, learning_rate,
                                                  reinit_generator, best_parameters, model,
                                                  state.get("parameters").floats(), rollback);
    if (rollback)
      learning_rate = lowered;
    detail::restore_optimizer(state, *optimizer);
    detail::set_learning_rate(*optimizer, learning_rate);
    return step;
  };

  model.train();
  int64_t first_step = 1;
  if (const io::Archive* state = guard.resume_state()) {
    first_step = restore(*state, false) + 1;
  } else {
    run_evaluation(0);
    if (guard.keeps_states())
      guard.save(capture(0));
  }
  for (int64_t step = first_step; step <= training.iterations; ++step) {
    try {
      const Batch batch = stream.batch(step, training.batch_size);
      const auto prediction = model.forward(batch.input);
      const auto mse = torch::mse_loss(prediction, batch.target);
      const auto loss = mse + model.scheduled_regularization_loss(step, result.schedules);
      last_loss = mse.item<double>();
      if (!std::isfinite(loss.item<double>()))
        throw_diverged(model, step, loss);

      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
      model.after_optimizer_step();
      if (guard.inject(step)) {
        torch::NoGradGuard no_grad;
        model.parameters().front().view(-1)[0].fill_(NAN);
      }
      if (step % training.eval_interval == 0 || step == training.iterations)
        run_evaluation(step);
      else
        tracker.report_step(step, last_loss);
      // A parameter may have become non-finite in the very last step.
      if (step == training.iterations)
        detail::check_parameters_finite(model, step);
    } catch (const NumericalError& error) {
      step = restore(guard.rollback(error, result, learning_rate), true);
      continue;
    }
    if (guard.keeps_states() && guard.due(step))
      guard.save(capture(step));
    if (guard.stop_requested())
      guard.interrupt(step, capture(step));
  }

  result.best_formula = readout(result.best_formula, task);
  result.final_formula = readout(model.formula(), task);
  tracker.finish(training.iterations);
  if (!control.save_model.empty())
    save_model(control.save_model, config, model);
  return result;
}

TrainResult run(const RunConfig& config, const ProgressCallback& on_progress) {
  return run(config, on_progress, RunControl{});
}

}  // namespace nalu

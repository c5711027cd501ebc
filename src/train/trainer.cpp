// The torch engine: LibTorch autograd over the model, driven by the shared loop (loop.cpp).
#include "nalu/train/trainer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>

#include "engine.h"
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
  // In evaluation mode (the NRU and NMRU compute their exact forms there), then back.
  struct ModeGuard {
    StackImpl& model;
    bool training;
    ~ModeGuard() { model.train(training); }
  } guard{model, model.is_training()};
  model.eval();
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
  check(config.task != "table" || config.task_options.table,
        "task 'table' needs its table of examples (task_options.table); a model file does not "
        "hold it");
  ArithmeticTaskOptions options = config.task_options;
  options.seed = config.seed;
  return ArithmeticTask(options);
}

Stack make_model(const RunConfig& config) {
  // LibTorch's initialisers draw from the global generator: seed it and build under one lock so
  // that models built on parallel threads (nalu bench) get the same weights as alone.
  return detail::build_seeded(derive_seed(config.seed, detail::kInitializationStream), [&] {
    return make_stack(config.resolve_layers(), config.sizes(), config.model.settings);
  });
}

TrainResult train_model(StackImpl& model, const ArithmeticTask& task, const RunConfig& config,
                        const ProgressCallback& on_progress, int64_t progress_interval) {
  return train_model(model, task, config, on_progress, progress_interval, RunControl{});
}

namespace {

// LibTorch autograd over the model itself.
class TorchEngine final : public detail::Engine {
 public:
  TorchEngine(StackImpl& model, const ArithmeticTask& task, const RunConfig& config)
      : model_(model),
        task_(task),
        config_(config),
        stream_(task, derive_seed(config.seed, detail::kBatchStream)),
        optimizer_(make_optimizer(config.optimizer, model.parameters())) {
    model_.train();
  }

  std::string name() const override { return "torch"; }
  StackImpl& model() override { return model_; }
  void sync_model() override {}
  std::vector<float> parameters() override { return io::flat_parameters(model_); }

  double step(int64_t step, const std::vector<RegularizerSchedule>& schedules,
              const std::function<bool()>& poison) override {
    const Batch batch = stream_.batch(step, config_.training.batch_size);
    const auto prediction = model_.forward(batch.input);
    const auto mse = torch::mse_loss(prediction, batch.target);
    const auto loss = mse + model_.scheduled_regularization_loss(step, schedules);
    const double last_loss = mse.item<double>();
    if (!std::isfinite(loss.item<double>()))
      throw_diverged(model_, step, loss);
    optimizer_->zero_grad();
    loss.backward();
    if (config_.optimizer.clip_grad_norm > 0)
      torch::nn::utils::clip_grad_norm_(model_.parameters(), config_.optimizer.clip_grad_norm);
    optimizer_->step();
    model_.after_optimizer_step();
    if (poison()) {
      torch::NoGradGuard no_grad;
      model_.parameters().front().view(-1)[0].fill_(NAN);
    }
    return last_loss;
  }

  Evaluation evaluate() override {
    const auto& training = config_.training;
    Evaluation e;
    std::tie(e.interpolation_mse, e.interpolation_accuracy) = nalu::evaluate(
        model_, task_.interpolation_set(), training.accuracy_atol, training.accuracy_rtol);
    std::tie(e.extrapolation_mse, e.extrapolation_accuracy) = nalu::evaluate(
        model_, task_.extrapolation_set(), training.accuracy_atol, training.accuracy_rtol);
    e.sparsity_error = model_.sparsity_error();
    return e;
  }

  void reinitialized(double learning_rate) override {
    optimizer_ = make_optimizer(config_.optimizer, model_.parameters());
    detail::set_learning_rate(*optimizer_, learning_rate);
  }

  void store(io::Archive& state) override {
    state.add("parameters", io::flat_parameters(model_));
    detail::store_optimizer(state, *optimizer_);
  }

  void restore(const io::Archive& state, double learning_rate) override {
    detail::restore_optimizer(state, *optimizer_);
    detail::set_learning_rate(*optimizer_, learning_rate);
  }

 private:
  StackImpl& model_;
  const ArithmeticTask& task_;
  const RunConfig& config_;
  const BatchStream stream_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace

TrainResult train_model(StackImpl& model, const ArithmeticTask& task, const RunConfig& config,
                        const ProgressCallback& on_progress, int64_t progress_interval,
                        const RunControl& control) {
  config.validate();
  check(model.in_features() == task.options().input_size,
        "model takes " + std::to_string(model.in_features()) + " inputs but the task gives " +
            std::to_string(task.options().input_size));
  TorchEngine engine(model, task, config);
  return detail::train_loop(engine, task, config, on_progress, progress_interval, control);
}

TrainResult run(const RunConfig& config, const ProgressCallback& on_progress) {
  return run(config, on_progress, RunControl{});
}

}  // namespace nalu

// The fused engine's training loop: the torch engine's loop (trainer.cpp) step for step, over
// the fused network instead of LibTorch modules.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "fused/network.h"
#include "fused/optimizer.h"
#include "kernels/kernels.h"
#include "nalu/error.h"
#include "nalu/io/archive.h"
#include "nalu/limits.h"
#include "nalu/tasks/batch_stream.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/fused.h"
#include "nalu/units/inalu.h"
#include "run_guard.h"
#include "run_tracker.h"
#include "torch_optim.h"

namespace nalu {

namespace {

// The streams trainer.cpp uses, so both engines draw the same batches and re-initialisations.
constexpr uint64_t kBatchStream = 11;
constexpr uint64_t kReinitializationStream = 12;
// Rows per forward pass when evaluating the fixed sets.
constexpr int kEvaluationChunk = 512;

// A fixed evaluation set as flat floats.
struct FlatSet {
  std::vector<float> input, target;
  int64_t rows = 0;
  int64_t columns = 0;
};

FlatSet flatten(const Batch& batch) {
  FlatSet set;
  const auto input = batch.input.to(torch::kFloat).contiguous();
  const auto target = batch.target.to(torch::kFloat).contiguous();
  set.rows = input.size(0);
  set.columns = input.size(1);
  set.input.assign(input.data_ptr<float>(), input.data_ptr<float>() + input.numel());
  set.target.assign(target.data_ptr<float>(), target.data_ptr<float>() + target.numel());
  return set;
}

// MSE and the share of predictions within atol + rtol * |target|, as nalu::evaluate.
std::pair<double, double> evaluate_flat(fused::Network& net, const FlatSet& set, double atol,
                                        double rtol) {
  double squared = 0.0;
  int64_t close = 0;
  for (int64_t first = 0; first < set.rows; first += net.max_batch()) {
    const int rows = static_cast<int>(std::min<int64_t>(net.max_batch(), set.rows - first));
    const float* y = net.forward(rows, set.input.data() + first * set.columns);
    for (int r = 0; r < rows; ++r) {
      const double target = set.target[static_cast<size_t>(first + r)];
      const double error = static_cast<double>(y[r]) - target;
      squared += error * error;
      close += std::fabs(error) <= atol + rtol * std::fabs(target) ? 1 : 0;
    }
  }
  const auto n = static_cast<double>(set.rows);
  return {squared / n, static_cast<double>(close) / n};
}

}  // namespace

const std::vector<std::string>& engine_names() {
  static const std::vector<std::string> kNames = {"auto", "fused", "torch"};
  return kNames;
}

std::string resolve_engine(const RunConfig& config) {
  if (config.engine == "torch")
    return "torch";
  const std::string why = fused::unsupported_reason(config);
  if (config.engine == "fused" && !why.empty())
    throw Error("engine fused: " + why + "; use --engine torch");
  return why.empty() ? "fused" : "torch";
}

namespace fused {

std::string unsupported_reason(const RunConfig& config) {
  // The kernels count rows and values in 32-bit integers, and the batch stream numbers every
  // value of a batch with a 32-bit counter.
  constexpr auto kMaxValues = static_cast<int64_t>(std::numeric_limits<int32_t>::max());
  const int64_t rows = std::max<int64_t>(config.training.batch_size, kEvaluationChunk);
  for (const auto size : config.sizes()) {
    if (size > kMaxValues / rows) {
      return "a batch of " + std::to_string(rows) + " rows of " + std::to_string(size) +
             " values is more than the fused engine's 32-bit counts hold (" +
             std::to_string(kMaxValues) + " values)";
    }
  }
  return Network::unsupported_reason(config.resolve_layers(), config.sizes(),
                                     config.model.settings);
}

std::pair<double, double> evaluate(const RunConfig& config, StackImpl& model, const Batch& batch,
                                   double atol, double rtol) {
  if (const auto why = unsupported_reason(config); !why.empty())
    throw Error("engine fused: " + why);
  // The chunk size training uses, so that every row goes through the same kernels.
  Network net(config.resolve_layers(), config.sizes(), config.model.settings,
              std::max(checked_narrow<int>(config.training.batch_size, "fused engine: batch size"),
                       kEvaluationChunk));
  net.load(model);
  return evaluate_flat(net, flatten(batch), atol, rtol);
}

std::string instruction_set() {
  return kernels::table().name;
}

TrainResult train(const RunConfig& config, const ProgressCallback& on_progress,
                  int64_t progress_interval) {
  return train(config, on_progress, progress_interval, RunControl{});
}

TrainResult train(const RunConfig& config, const ProgressCallback& on_progress,
                  int64_t progress_interval, const RunControl& control) {
  config.validate();
  if (const auto why = unsupported_reason(config); !why.empty())
    throw Error("engine fused: " + why);
  detail::RunGuard guard(control, config, "fused");
  const auto& training = config.training;
  const ArithmeticTask task = make_task(config);
  // The LibTorch model gives the initial weights (the torch engine's, for the same seed), reads
  // formulas and sparsity, and re-initialises iNALU layers.
  Stack model = make_model(config);
  const int batch = checked_narrow<int>(training.batch_size, "fused engine: batch size");
  Network net(config.resolve_layers(), config.sizes(), config.model.settings,
              std::max(batch, kEvaluationChunk));
  net.load(*model);
  Optimizer optimizer(config.optimizer, net.parameters().size());
  const BatchStream stream(task, derive_seed(config.seed, kBatchStream));
  auto reinit_generator = make_generator(derive_seed(config.seed, kReinitializationStream));
  const auto inalu_layers = detail::reinitializable_layers(*model);
  guard.check_space(net.parameters().size());
  const FlatSet interpolation = flatten(task.interpolation_set());
  const FlatSet extrapolation = flatten(task.extrapolation_set());

  TrainResult result;
  result.engine = "fused";
  result.schedules = layer_schedules(*model, training);
  detail::RunTracker tracker(result, training.iterations, on_progress, progress_interval);
  double last_loss = NAN;
  double learning_rate = config.optimizer.learning_rate;
  std::vector<float> best_parameters;

  auto run_evaluation = [&](int64_t step) {
    Evaluation e;
    e.step = step;
    e.train_loss = last_loss;
    std::tie(e.interpolation_mse, e.interpolation_accuracy) =
        evaluate_flat(net, interpolation, training.accuracy_atol, training.accuracy_rtol);
    std::tie(e.extrapolation_mse, e.extrapolation_accuracy) =
        evaluate_flat(net, extrapolation, training.accuracy_atol, training.accuracy_rtol);
    net.store(*model);
    e.sparsity_error = model->sparsity_error();
    if (tracker.add(e, [&] { return model->formula(); }))
      best_parameters = net.parameters();
    bool reinitialized = false;
    if (detail::should_reinitialize(inalu_layers.size(), tracker, result, training)) {
      for (auto* layer : inalu_layers)
        layer->reinitialize(reinit_generator);
      net.load(*model);
      optimizer.reset();
      tracker.restart_stagnation();
      ++result.reinitializations;
      reinitialized = true;
    }
    tracker.report_evaluation(reinitialized);
  };
  // The run's whole state after `step`, and back.
  auto capture = [&](int64_t step) {
    io::Archive state = guard.new_state(step);
    state.add("parameters", net.parameters());
    state.add("optimizer/first", optimizer.first());
    state.add("optimizer/second", optimizer.second());
    state.meta["optimizer_steps"] = optimizer.steps();
    detail::store_progress(state, result, tracker, last_loss, learning_rate, reinit_generator,
                           best_parameters);
    return state;
  };
  auto restore = [&](const io::Archive& state, bool rollback) {
    const double lowered = learning_rate;
    const int64_t step = detail::restore_progress(state, result, tracker, last_loss, learning_rate,
                                                  reinit_generator, best_parameters, *model,
                                                  state.get("parameters").floats(), rollback);
    if (rollback)
      learning_rate = lowered;
    net.load(*model);
    const auto steps = state.meta.find("optimizer_steps");
    check(steps != state.meta.end() && steps->is_number_integer(),
          state.source + ": damaged checkpoint ('optimizer_steps' is missing or mistyped)");
    optimizer.restore(steps->get<int64_t>(), state.get("optimizer/first").floats(),
                      state.get("optimizer/second").floats());
    optimizer.set_learning_rate(learning_rate);
    return step;
  };

  const int64_t input_size = config.sizes().front();
  const int block = training_block_rows(input_size, training.batch_size);
  std::vector<float> input(static_cast<size_t>(block * input_size));
  std::vector<float> target(static_cast<size_t>(block));
  std::vector<double> lambdas(result.schedules.size());
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
      net.zero_gradients();
      double squared = 0.0;
      for (int first = 0; first < batch; first += block) {
        const int rows = std::min(block, batch - first);
        stream.fill_rows(step, first, rows, input.data(), target.data());
        squared += net.accumulate_mse_gradients(rows, batch, input.data(), target.data());
      }
      const double mse = squared / batch;
      for (size_t l = 0; l < lambdas.size(); ++l)
        lambdas[l] = result.schedules[l].at(step);
      const double loss = mse + net.regularize(lambdas);
      last_loss = mse;
      if (!std::isfinite(loss)) {
        net.store(*model);
        detail::throw_diverged(*model, step, torch::full({}, loss));
      }
      optimizer.step(net.parameters(), net.gradients());
      net.project();
      if (guard.inject(step))
        net.parameters().front() = NAN;
      net.prepare();

      if (step % training.eval_interval == 0 || step == training.iterations)
        run_evaluation(step);
      else
        tracker.report_step(step, last_loss);
      if (step == training.iterations) {
        net.store(*model);
        detail::check_parameters_finite(*model, step);
      }
    } catch (const NumericalError& error) {
      step = restore(guard.rollback(error, result, learning_rate), true);
      continue;
    }
    if (guard.keeps_states() && guard.due(step))
      guard.save(capture(step));
    if (guard.stop_requested())
      guard.interrupt(step, capture(step));
  }
  net.store(*model);
  // The literal formulas were read from the LibTorch model, as the torch engine reads them; the
  // simplification checks them on the same sets.
  result.best_formula = readout(result.best_formula, task);
  result.final_formula = readout(model->formula(), task);
  tracker.finish(training.iterations);
  if (!control.save_model.empty())
    save_model(control.save_model, config, *model);
  return result;
}

}  // namespace fused

}  // namespace nalu

// The fused engine: the torch engine (trainer.cpp) step for step, over the fused network instead
// of LibTorch modules, driven by the shared loop (loop.cpp).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "engine.h"
#include "fused/network.h"
#include "fused/optimizer.h"
#include "kernels/kernels.h"
#include "nalu/error.h"
#include "nalu/io/archive.h"
#include "nalu/limits.h"
#include "nalu/tasks/batch_stream.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/fused.h"
#include "nalu/train/record.h"
#include "nalu/units/inalu.h"
#include "run_guard.h"
#include "run_tracker.h"
#include "torch_optim.h"

namespace nalu {

namespace {

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

// MSE and the share of predictions within atol + rtol * |target|, as nalu::evaluate: in
// evaluation mode, then back in training mode.
std::pair<double, double> evaluate_flat(fused::Network& net, const FlatSet& set, double atol,
                                        double rtol) {
  net.set_training(false);
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
  net.set_training(true);
  const auto n = static_cast<double>(set.rows);
  return {squared / n, static_cast<double>(close) / n};
}

}  // namespace

const std::vector<std::string>& engine_names() {
  static const std::vector<std::string> kNames = {"auto", "fused", "torch"};
  return kNames;
}

namespace {

// As torch::nn::utils::clip_grad_norm_: scales all gradients by max_norm / (norm + 1e-6) when
// that is below 1, norm being the L2 norm of all of them together.
void clip_gradient_norm(std::vector<float>& grads, double max_norm) {
  double squares = 0.0;
  for (const float g : grads)
    squares += static_cast<double>(g) * g;
  const double coefficient = max_norm / (std::sqrt(squares) + 1e-6);
  if (coefficient >= 1.0)
    return;
  const auto scale = static_cast<float>(coefficient);
  for (float& g : grads)
    g *= scale;
}

}  // namespace

std::string resolve_engine(const RunConfig& config) {
  if (config.engine == "torch")
    return "torch";
  const std::string why = fused::unsupported_reason(config);
  if (config.engine == "fused" && !why.empty())
    throw Error("engine fused: " + why + "; use --engine torch");
  return why.empty() ? "fused" : "torch";
}

Evaluation evaluate_as_trained(const RunConfig& config, StackImpl& model,
                               const ArithmeticTask& task) {
  const bool fused_engine = resolve_engine(config) == "fused";
  const double atol = config.training.accuracy_atol;
  const double rtol = config.training.accuracy_rtol;
  auto on = [&](const Batch& set) {
    return fused_engine ? fused::evaluate(config, model, set, atol, rtol)
                        : evaluate(model, set, atol, rtol);
  };
  Evaluation e;
  std::tie(e.interpolation_mse, e.interpolation_accuracy) = on(task.interpolation_set());
  std::tie(e.extrapolation_mse, e.extrapolation_accuracy) = on(task.extrapolation_set());
  e.sparsity_error = model.sparsity_error();
  return e;
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

namespace {

// The fused network over flat buffers; the LibTorch model gives the initial weights (the torch
// engine's, for the same seed), reads formulas and sparsity, and re-initialises iNALU layers.
class FusedEngine final : public detail::Engine {
 public:
  // With `shared_logs`, the first layer takes the logs of its inputs from there when they hold
  // them (train_together).
  FusedEngine(const ArithmeticTask& task, const RunConfig& config, InputLogs* shared_logs = nullptr)
      : config_(config),
        model_(make_model(config)),
        batch_(checked_narrow<int>(config.training.batch_size, "fused engine: batch size")),
        net_(config.resolve_layers(), config.sizes(), config.model.settings,
             std::max(batch_, kEvaluationChunk)),
        optimizer_(config.optimizer, net_.parameters().size()),
        stream_(task, derive_seed(config.seed, detail::kBatchStream)),
        interpolation_(flatten(task.interpolation_set())),
        extrapolation_(flatten(task.extrapolation_set())) {
    net_.load(*model_);
    if (shared_logs != nullptr)
      net_.share_input_logs(shared_logs);
    input_size_ = config.sizes().front();
    block_ = training_block_rows(input_size_, config.training.batch_size);
    input_.resize(static_cast<size_t>(block_ * input_size_));
    target_.resize(static_cast<size_t>(block_));
  }

  std::string name() const override { return "fused"; }
  StackImpl& model() override { return *model_; }
  void sync_model() override { net_.store(*model_); }
  std::vector<float> parameters() override { return net_.parameters(); }

  /// The rows of a training block (training_block_rows).
  int block_rows() const { return block_; }

  /// train_together pushes the blocks of `step`'s batch through forward and backward itself,
  /// each block through every run in turn while it is in the L1 cache, before the run's loop
  /// takes the step: begin_shared_step, then shared_block for each block in order. The step
  /// then uses these gradients instead of drawing its own blocks; they are the same.
  void begin_shared_step(int64_t step) {
    net_.zero_gradients();
    shared_step_ = step;
    shared_squared_ = 0.0;
    shared_error_ = nullptr;
  }
  void shared_block(int rows, const float* input, const float* target) {
    if (shared_error_)
      return;
    try {
      shared_squared_ += net_.accumulate_mse_gradients(rows, batch_, input, target);
    } catch (...) {
      shared_error_ = std::current_exception();  // rethrown by the step, inside the run's loop
    }
  }

  double step(int64_t step, const std::vector<RegularizerSchedule>& schedules,
              const std::function<bool()>& poison) override {
    double squared = 0.0;
    if (std::exchange(shared_step_, 0) == step) {
      if (shared_error_)
        std::rethrow_exception(std::exchange(shared_error_, nullptr));
      squared = shared_squared_;
    } else {
      net_.zero_gradients();
      for (int first = 0; first < batch_; first += block_) {
        const int rows = std::min(block_, batch_ - first);
        stream_.fill_rows(step, first, rows, input_.data(), target_.data());
        squared += net_.accumulate_mse_gradients(rows, batch_, input_.data(), target_.data());
      }
    }
    const double mse = squared / batch_;
    lambdas_.resize(schedules.size());
    for (size_t l = 0; l < lambdas_.size(); ++l)
      lambdas_[l] = schedules[l].at(step);
    const double loss = mse + net_.regularize(lambdas_);
    if (!std::isfinite(loss)) {
      net_.store(*model_);
      detail::throw_diverged(*model_, step, torch::full({}, loss));
    }
    if (config_.optimizer.clip_grad_norm > 0)
      clip_gradient_norm(net_.gradients(), config_.optimizer.clip_grad_norm);
    optimizer_.step(net_.parameters(), net_.gradients());
    net_.project();
    if (poison())
      net_.parameters().front() = NAN;
    net_.prepare();
    return mse;
  }

  Evaluation evaluate() override {
    const auto& training = config_.training;
    Evaluation e;
    std::tie(e.interpolation_mse, e.interpolation_accuracy) =
        evaluate_flat(net_, interpolation_, training.accuracy_atol, training.accuracy_rtol);
    std::tie(e.extrapolation_mse, e.extrapolation_accuracy) =
        evaluate_flat(net_, extrapolation_, training.accuracy_atol, training.accuracy_rtol);
    net_.store(*model_);
    e.sparsity_error = model_->sparsity_error();
    return e;
  }

  void reinitialized(double /*learning_rate*/) override {
    // reset() keeps the optimiser's learning rate, which is the run's current one.
    net_.load(*model_);
    optimizer_.reset();
  }

  void store(io::Archive& state) override {
    state.add("parameters", net_.parameters());
    state.add("optimizer/first", optimizer_.first());
    state.add("optimizer/second", optimizer_.second());
    state.meta["optimizer_steps"] = optimizer_.steps();
  }

  void restore(const io::Archive& state, double learning_rate) override {
    net_.load(*model_);
    const auto steps = state.meta.find("optimizer_steps");
    check(steps != state.meta.end() && steps->is_number_integer(),
          state.source + ": damaged checkpoint ('optimizer_steps' is missing or mistyped)");
    optimizer_.restore(steps->get<int64_t>(), state.get("optimizer/first").floats(),
                       state.get("optimizer/second").floats());
    optimizer_.set_learning_rate(learning_rate);
  }

 private:
  const RunConfig& config_;
  Stack model_;
  int batch_;
  Network net_;
  Optimizer optimizer_;
  const BatchStream stream_;
  const FlatSet interpolation_, extrapolation_;
  int64_t input_size_ = 0;
  int block_ = 0;
  std::vector<float> input_, target_;
  std::vector<double> lambdas_;
  int64_t shared_step_ = 0;  // the step begin_shared_step prepared, 0 for none
  double shared_squared_ = 0.0;
  std::exception_ptr shared_error_;
};

}  // namespace

TrainResult train(const RunConfig& config, const ProgressCallback& on_progress,
                  int64_t progress_interval, const RunControl& control) {
  config.validate();
  if (const auto why = unsupported_reason(config); !why.empty())
    throw Error("engine fused: " + why);
  const ArithmeticTask task = make_task(config);
  FusedEngine engine(task, config);
  return detail::train_loop(engine, task, config, on_progress, progress_interval, control);
}

std::string batch_key(const RunConfig& config) {
  if (config.task == "table" || resolve_engine(config) != "fused")
    return {};
  return config_to_json(config)["task"].dump() + " seed=" + std::to_string(config.seed) +
         " batch=" + std::to_string(config.training.batch_size);
}

std::vector<TogetherOutcome> train_together(const std::vector<RunConfig>& configs,
                                            const std::vector<RunControl>& controls) {
  check(!configs.empty() && configs.size() == controls.size(),
        "train_together: needs one control per config, and at least one config");
  const std::string key = batch_key(configs.front());
  for (const auto& config : configs) {
    config.validate();
    check(!key.empty() && batch_key(config) == key,
          "train_together: the runs must be fused runs of one task, seed and batch size");
  }
  // Each run's loop refers to its task, engine and callback: they stay where they are.
  struct Member {
    ArithmeticTask task;
    std::unique_ptr<FusedEngine> engine;
    std::optional<detail::LoopTask> loop;
  };
  InputLogs logs;
  const ProgressCallback no_progress;
  std::vector<std::unique_ptr<Member>> members;
  for (size_t i = 0; i < configs.size(); ++i) {
    auto member = std::make_unique<Member>(Member{make_task(configs[i]), nullptr, std::nullopt});
    member->engine = std::make_unique<FusedEngine>(member->task, configs[i], &logs);
    member->loop.emplace(detail::train_loop_steps(*member->engine, member->task, configs[i],
                                                  no_progress, 100, controls[i], true));
    members.push_back(std::move(member));
  }
  const BatchStream stream(members.front()->task,
                           derive_seed(configs.front().seed, detail::kBatchStream));
  // One block of the batch at a time: row r of a batch is the same whether drawn alone or with
  // the whole batch, so these are the blocks each run would draw itself.
  const int batch_size = checked_narrow<int>(configs.front().training.batch_size, "batch size");
  const int64_t input_size = configs.front().sizes().front();
  const int block = members.front()->engine->block_rows();
  std::vector<float> input(static_cast<size_t>(block * input_size));
  std::vector<float> target(static_cast<size_t>(block));
  std::vector<FusedEngine*> at_step;
  for (auto& member : members)
    member->loop->resume();  // to its first step
  while (true) {
    // The step most runs are at; one that rolled back draws its own batches from then on.
    int64_t step = 0;
    for (const auto& member : members) {
      if (!member->loop->done())
        step = std::max(step, member->loop->next_step());
    }
    if (step == 0)
      break;
    at_step.clear();
    for (auto& member : members) {
      if (!member->loop->done() && member->loop->next_step() == step) {
        member->engine->begin_shared_step(step);
        at_step.push_back(member->engine.get());
      }
    }
    for (int first = 0; first < batch_size; first += block) {
      const int rows = std::min(block, batch_size - first);
      stream.fill_rows(step, first, rows, input.data(), target.data());
      logs.reset(input.data(), static_cast<size_t>(rows * input_size));
      for (auto* engine : at_step)
        engine->shared_block(rows, input.data(), target.data());
    }
    for (auto& member : members) {
      if (!member->loop->done())
        member->loop->resume();
    }
  }
  std::vector<TogetherOutcome> outcomes(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    try {
      outcomes[i].result = members[i]->loop->take();
      outcomes[i].result->runs_in_pass = static_cast<int64_t>(members.size());
    } catch (...) {
      outcomes[i].error = std::current_exception();
    }
  }
  return outcomes;
}

}  // namespace fused

}  // namespace nalu

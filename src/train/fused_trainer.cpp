// The fused engine: the torch engine (trainer.cpp) step for step, over the fused network instead
// of LibTorch modules, driven by the shared loop (loop.cpp).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
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

// A task's two evaluation sets, with the logs of their inputs that the first layers of NAC-mul
// and NALU networks take: computed at the first evaluation and kept, since the sets never
// change. The runs of one task trained together (train_together) share one, so that each set is
// held once and stays in the cache while the runs evaluate one after another.
struct EvaluationSets {
  explicit EvaluationSets(const ArithmeticTask& task)
      : interpolation(flatten(task.interpolation_set())),
        extrapolation(flatten(task.extrapolation_set())) {
    interpolation_logs.reset(interpolation.input.data(), interpolation.input.size());
    extrapolation_logs.reset(extrapolation.input.data(), extrapolation.input.size());
  }
  EvaluationSets(const EvaluationSets&) = delete;
  EvaluationSets& operator=(const EvaluationSets&) = delete;

  const FlatSet interpolation, extrapolation;
  fused::InputLogs interpolation_logs, extrapolation_logs;
};

// MSE and the share of predictions within atol + rtol * |target|, as nalu::evaluate: in
// evaluation mode, then back in training mode. With `logs`, the first layer takes the logs of
// the set's inputs from them, and then takes `training_logs` again.
std::pair<double, double> evaluate_flat(fused::Network& net, const FlatSet& set, double atol,
                                        double rtol, fused::InputLogs* logs = nullptr,
                                        fused::InputLogs* training_logs = nullptr) {
  if (logs != nullptr)
    net.share_input_logs(logs);
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
  if (logs != nullptr)
    net.share_input_logs(training_logs);
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

// A batch that runs trained together (train_together) share: its inputs drawn once per step,
// with the logs of them that the first layers of several runs take (NAC-mul, NALU), and each
// task's targets for them. The runs of one task share its evaluation sets too.
struct SharedBatch {
  struct Task {
    Task(const ArithmeticTask& task, const RunConfig& config)
        : stream(task, derive_seed(config.seed, detail::kBatchStream)),
          target(static_cast<size_t>(config.training.batch_size)),
          evaluation(std::make_shared<EvaluationSets>(task)) {}
    const BatchStream stream;
    std::vector<float> target;
    const std::shared_ptr<EvaluationSets> evaluation;
  };
  int64_t step = 0;  // 0: none yet
  std::vector<float> input;
  fused::InputLogs logs;
  std::vector<std::unique_ptr<Task>> tasks;
};

// The fused network over flat buffers; the LibTorch model gives the initial weights (the torch
// engine's, for the same seed), reads formulas and sparsity, and re-initialises iNALU layers.
class FusedEngine final : public detail::Engine {
 public:
  // With `shared`, a step whose batch is there takes its inputs and the targets of
  // `shared_task` (this run's task) instead of drawing its own.
  FusedEngine(const ArithmeticTask& task, const RunConfig& config, SharedBatch* shared = nullptr,
              const SharedBatch::Task* shared_task = nullptr)
      : config_(config),
        shared_(shared),
        shared_task_(shared_task),
        model_(make_model(config)),
        batch_(checked_narrow<int>(config.training.batch_size, "fused engine: batch size")),
        net_(config.resolve_layers(), config.sizes(), config.model.settings,
             std::max(batch_, kEvaluationChunk)),
        optimizer_(config.optimizer, net_.parameters().size()),
        stream_(task, derive_seed(config.seed, detail::kBatchStream)),
        evaluation_(shared_task != nullptr ? shared_task->evaluation
                                           : std::make_shared<EvaluationSets>(task)) {
    net_.load(*model_);
    if (shared != nullptr)
      net_.share_input_logs(&shared->logs);
    input_size_ = config.sizes().front();
    block_ = training_block_rows(input_size_, config.training.batch_size);
    input_.resize(static_cast<size_t>(block_ * input_size_));
    target_.resize(static_cast<size_t>(block_));
  }

  std::string name() const override { return "fused"; }
  StackImpl& model() override { return *model_; }
  void sync_model() override { net_.store(*model_); }
  std::vector<float> parameters() override { return net_.parameters(); }

  double step(int64_t step, const std::vector<RegularizerSchedule>& schedules,
              const std::function<bool()>& poison) override {
    net_.zero_gradients();
    double squared = 0.0;
    // Row r of a batch is the same whether drawn alone or with the whole batch, so a shared
    // batch gives the same blocks as drawing them here.
    const bool shared = shared_ != nullptr && shared_->step == step;
    for (int first = 0; first < batch_; first += block_) {
      const int rows = std::min(block_, batch_ - first);
      const float* input = input_.data();
      const float* target = target_.data();
      if (shared) {
        input = shared_->input.data() + static_cast<size_t>(first) * input_size_;
        target = shared_task_->target.data() + first;
      } else {
        stream_.fill_rows(step, first, rows, input_.data(), target_.data());
      }
      squared += net_.accumulate_mse_gradients(rows, batch_, input, target);
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
    fused::InputLogs* training_logs = shared_ != nullptr ? &shared_->logs : nullptr;
    EvaluationSets& sets = *evaluation_;
    std::tie(e.interpolation_mse, e.interpolation_accuracy) =
        evaluate_flat(net_, sets.interpolation, training.accuracy_atol, training.accuracy_rtol,
                      &sets.interpolation_logs, training_logs);
    std::tie(e.extrapolation_mse, e.extrapolation_accuracy) =
        evaluate_flat(net_, sets.extrapolation, training.accuracy_atol, training.accuracy_rtol,
                      &sets.extrapolation_logs, training_logs);
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
  SharedBatch* shared_;
  const SharedBatch::Task* shared_task_;
  Stack model_;
  int batch_;
  Network net_;
  Optimizer optimizer_;
  const BatchStream stream_;
  const std::shared_ptr<EvaluationSets> evaluation_;
  int64_t input_size_ = 0;
  int block_ = 0;
  std::vector<float> input_, target_;
  std::vector<double> lambdas_;
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
  // What BatchStream's inputs depend on; the operation and subsets give only the targets.
  const auto task = config_to_json(config)["task"];
  nlohmann::json inputs;
  for (const char* field : {"name", "input_size", "interpolation_range", "integers"})
    inputs[field] = task.at(field);
  return inputs.dump() + " seed=" + std::to_string(config.seed) +
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
  SharedBatch shared;
  const int64_t batch_size = configs.front().training.batch_size;
  shared.input.resize(static_cast<size_t>(batch_size * configs.front().sizes().front()));
  // One target buffer and one copy of the evaluation sets per task (operation, subsets, ...).
  std::map<std::string, const SharedBatch::Task*> task_of_key;
  const ProgressCallback no_progress;
  std::vector<std::unique_ptr<Member>> members;
  for (size_t i = 0; i < configs.size(); ++i) {
    auto member = std::make_unique<Member>(Member{make_task(configs[i]), nullptr, std::nullopt});
    const auto [it, added] =
        task_of_key.emplace(config_to_json(configs[i])["task"].dump(), nullptr);
    if (added) {
      shared.tasks.push_back(std::make_unique<SharedBatch::Task>(member->task, configs[i]));
      it->second = shared.tasks.back().get();
    }
    member->engine = std::make_unique<FusedEngine>(member->task, configs[i], &shared, it->second);
    member->loop.emplace(detail::train_loop_steps(*member->engine, member->task, configs[i],
                                                  no_progress, 100, controls[i], true));
    members.push_back(std::move(member));
  }
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
    // The first task's stream draws the inputs (every task's stream would draw the same: the
    // batch key), and each task computes its targets for them.
    shared.tasks.front()->stream.fill(step, batch_size, shared.input.data(),
                                      shared.tasks.front()->target.data());
    for (size_t t = 1; t < shared.tasks.size(); ++t)
      shared.tasks[t]->stream.targets(batch_size, shared.input.data(),
                                      shared.tasks[t]->target.data());
    shared.step = step;
    shared.logs.reset(shared.input.data(), shared.input.size());
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

// Run configuration: presets, layer resolution and validation.
#include "nalu/train/config.h"

#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/train/fused.h"
#include "nalu/units/baselines.h"
#include "nalu/units/registry.h"
#include "validation.h"

namespace nalu {

namespace detail {

void check_optimizer(const OptimizerConfig& optimizer) {
  find_name(optimizer_names(), optimizer.name, "optimizer");
  check_learning_rate(optimizer.learning_rate, "optimizer: learning rate");
  check(optimizer.momentum >= 0 && optimizer.momentum < 1,
        "optimizer: momentum must be in [0, 1), got " + format_number(optimizer.momentum));
  check(optimizer.clip_grad_norm >= 0 && optimizer.clip_grad_norm <= kLargestSetting,
        "optimizer: the gradient-norm clip must be 0 (off) or positive, got " +
            format_number(optimizer.clip_grad_norm));
}

void check_unit_settings(const UnitSettings& settings) {
  parse_activation(settings.mlp_activation);
  check_setting(settings.epsilon, "model: epsilon");
}

void check_regularizer(const std::optional<RegularizerSchedule>& regularizer) {
  if (!regularizer)
    return;
  check_setting(regularizer->scale, "training: regulariser scale");
  check(regularizer->start >= 0 && regularizer->end >= 0,
        "training: regulariser start and end must be >= 0");
  check(regularizer->tenfold_every >= 0, "training: regulariser tenfold_every must be >= 0");
}

std::string size_text(const std::vector<int64_t>& sizes) {
  std::vector<std::string> parts;
  for (auto size : sizes)
    parts.push_back(std::to_string(size));
  return join(parts, "-");
}

}  // namespace detail

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> kNames = {"static", "seed-sum", "seed-mul"};
  return kNames;
}

const std::vector<std::string>& optimizer_names() {
  static const std::vector<std::string> kNames = {"adam", "rmsprop", "sgd"};
  return kNames;
}

std::vector<int64_t> RunConfig::sizes() const {
  std::vector<int64_t> sizes{task_options.input_size};
  sizes.insert(sizes.end(), model.hidden.begin(), model.hidden.end());
  sizes.push_back(1);
  return sizes;
}

std::vector<std::string> RunConfig::resolve_layers() const {
  const size_t depth = model.hidden.size() + 1;
  if (model.units.size() != 1)
    return model.units;
  const std::string& unit = model.units.front();
  if (unit == "mlp")
    return {unit};
  std::vector<std::string> layers(depth, unit);
  if (const auto& partner = find_unit(unit).partner; !partner.empty()) {
    for (size_t l = 0; l + 1 < depth; ++l)
      layers[l] = partner;
  }
  return layers;
}

std::vector<MemoryNeed> RunConfig::memory_needs() const {
  const auto layer_sizes = sizes();
  double widths = 0.0, in_out = 0.0, weights = 0.0;
  for (size_t l = 0; l < layer_sizes.size(); ++l) {
    const auto size = static_cast<double>(layer_sizes[l]);
    widths += size;
    if (l + 1 < layer_sizes.size()) {
      const auto next = static_cast<double>(layer_sizes[l + 1]);
      in_out += size + next;
      weights += size * next;
    }
  }
  const auto input = static_cast<double>(task_options.input_size);
  const auto batch = static_cast<double>(training.batch_size);
  const auto evaluation = static_cast<double>(task_options.evaluation_size);
  const size_t intervals = std::max(task_options.interpolation.intervals.size(),
                                    task_options.extrapolation.intervals.size());
  const bool fused = resolve_engine(*this) == "fused";
  const std::string sizes_text = "layer sizes " + detail::size_text(layer_sizes);
  std::vector<MemoryNeed> needs;
  // Up to three weight matrices per layer (NALU, iNALU, NPU), each held by the LibTorch model
  // and the fused network as value, gradient, two Adam moments and the best step's copy.
  needs.push_back({"model", sizes_text,
                   3.0 * weights * 4.0 * 8.0 + 4096.0 * static_cast<double>(layer_sizes.size())});
  // One step: the batch as drawn, then the activations and their gradients (the torch engine
  // also keeps a log-space copy of the input for NALU-like units; the fused engine keeps
  // per-row buffers of every layer's input and output).
  const double hidden_widths = widths - input;
  const double step = fused ? std::max(batch, 512.0) * in_out * 4.0 + 3200.0 * 8.0
                            : sampling_bytes(batch, input, intervals) +
                                  batch * (input * 8.0 + hidden_widths * 32.0);
  needs.push_back({"training: one step",
                   "batch size " + std::to_string(training.batch_size) + ", " + sizes_text, step});
  // The two evaluation sets, kept as floats (the fused engine keeps a flat copy as well, and the
  // logs of its inputs where the first layer takes them), and at the peak of one of: drawing a
  // set, a forward pass over a whole set (torch), or the formula readout, which checks its
  // simplifications on both sets in double precision.
  const double sets = 2.0 * evaluation * (input + 1.0) * 4.0 * (fused ? 3.0 : 1.0);
  const double pass = fused ? 0.0 : evaluation * widths * 16.0;
  const double readout = 2.0 * evaluation * (input * 12.0 + widths * 32.0);
  needs.push_back({"task: the evaluation sets",
                   "evaluation size " + std::to_string(task_options.evaluation_size) +
                       ", input size " + std::to_string(task_options.input_size),
                   sets + std::max({sampling_bytes(evaluation, input, intervals), pass, readout})});
  return needs;
}

void RunConfig::validate() const {
  if (task != "table")
    find_name(task_names(), task, "task");
  // A "table" config without its table still describes a model (a file nalu fit saved); only
  // training and evaluating need the table (make_task).
  check(!task_options.table || task == "table",
        "task: a config with a table must name the task 'table', not '" + task + "'");
  find_name(engine_names(), engine, "engine");
  check(!model.units.empty(), "model: no unit given");
  for (const auto& unit : model.units)
    find_unit(unit);
  for (auto size : model.hidden) {
    check(size > 0, "model: hidden sizes must be positive, got " + std::to_string(size));
  }
  const size_t depth = model.hidden.size() + 1;
  check(static_cast<int64_t>(depth) <= kMaxLayers,
        "model: " + std::to_string(depth) + " layers, more than the " + std::to_string(kMaxLayers) +
            " a model may have");
  check(model.units.size() == 1 || model.units.size() == depth,
        "model: " + std::to_string(depth) + " layers need 1 or " + std::to_string(depth) +
            " unit names, got " + std::to_string(model.units.size()));
  detail::check_unit_settings(model.settings);
  detail::check_optimizer(optimizer);

  check(training.iterations > 0,
        "training: iterations must be positive, got " + std::to_string(training.iterations));
  check(training.batch_size > 0,
        "training: batch size must be positive, got " + std::to_string(training.batch_size));
  check(training.eval_interval > 0, "training: evaluation interval must be positive, got " +
                                        std::to_string(training.eval_interval));
  detail::check_regularizer(training.regularizer);
  check(training.reinit_patience >= 0, "training: reinit patience must be >= 0");
  check(training.reinit_threshold >= 0, "training: reinit threshold must be a number >= 0, got " +
                                            format_number(training.reinit_threshold));
  check_setting(training.accuracy_atol, "training: accuracy atol");
  check_setting(training.accuracy_rtol, "training: accuracy rtol");
  check(task_options.input_size > 0,
        "task: input size must be positive, got " + std::to_string(task_options.input_size));
  check(task_options.evaluation_size > 0, "task: evaluation size must be positive, got " +
                                              std::to_string(task_options.evaluation_size));
  check_memory(memory_needs());
}

RunConfig task_preset(const std::string& name) {
  RunConfig config;
  config.task = name;
  if (name == "static")
    return config;
  if (name == "seed-sum") {
    auto& t = config.task_options;
    t.op = Operation::kAdd;
    t.input_size = 10;
    t.explicit_subsets = true;
    t.subsets = {0, 4, 4, 10};
    t.interpolation = Range{{{0.0, 10.0}}};
    t.extrapolation = Range{{{0.0, 100.0}}};
    config.model.units = {"nalu"};
    config.model.hidden = {2};
    config.optimizer.learning_rate = 0.1;
    return config;
  }
  if (name == "seed-mul") {
    auto& t = config.task_options;
    t.op = Operation::kMul;
    t.input_size = 2;
    t.integers = true;
    t.explicit_subsets = true;
    t.subsets = {0, 1, 1, 2};
    t.interpolation = Range{{{0.0, 9.0}}};
    t.extrapolation = Range{{{9.0, 30.0}}};
    config.model.units = {"nalu"};
    config.model.hidden = {};
    config.optimizer.learning_rate = 1e-3;
    config.training.batch_size = 10;
    return config;
  }
  find_name(task_names(), name, "task");
  throw Error("task '" + name + "' has no preset");
}

}  // namespace nalu

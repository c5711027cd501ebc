// Run configuration: presets, layer resolution and validation.
#include "nalu/train/config.h"

#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/train/fused.h"
#include "nalu/units/baselines.h"
#include "nalu/units/registry.h"
#include "shared.h"

namespace nalu {

namespace {

// The additive layer placed before a multiplicative unit named alone, as in Madsen & Johansen's
// networks (NAU -> NMU, NAC -> NAC-mul).
const char* additive_partner(const std::string& unit) {
  if (unit == "nmu" || unit == "npu" || unit == "real-npu")
    return "nau";
  if (unit == "nac-mul")
    return "nac";
  return nullptr;
}

}  // namespace

namespace detail {

void check_learning_rate(double rate, const std::string& name) {
  check(rate > 0 && rate <= kLargestSetting, name + " must be a positive number of at most " +
                                                 format_number(kLargestSetting) + ", got " +
                                                 format_number(rate));
}

void check_optimizer(const OptimizerConfig& optimizer) {
  find_name(optimizer_names(), optimizer.name, "optimizer");
  check_learning_rate(optimizer.learning_rate, "optimizer: learning rate");
  check(optimizer.momentum >= 0 && optimizer.momentum < 1, "optimizer: momentum must be in [0, 1)");
}

void check_setting(double value, const std::string& name) {
  check(value >= 0 && value <= kLargestSetting, name + " must be a number in [0, " +
                                                    format_number(kLargestSetting) + "], got " +
                                                    format_number(value));
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
  if (const char* partner = additive_partner(unit); partner != nullptr) {
    for (size_t l = 0; l + 1 < depth; ++l)
      layers[l] = partner;
  }
  return layers;
}

void RunConfig::validate() const {
  find_name(task_names(), task, "task");
  find_name(engine_names(), engine, "engine");
  check(!model.units.empty(), "model: no unit given");
  for (const auto& unit : model.units)
    find_unit(unit);
  for (auto size : model.hidden) {
    check(size > 0, "model: hidden sizes must be positive, got " + std::to_string(size));
  }
  const size_t depth = model.hidden.size() + 1;
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
  detail::check_setting(training.accuracy_atol, "training: accuracy atol");
  detail::check_setting(training.accuracy_rtol, "training: accuracy rtol");
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

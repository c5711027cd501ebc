// JSON records and safe file writing.
#include "nalu/train/record.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "nalu/error.h"
#include "nalu/limits.h"
#include "nalu/version.h"

namespace nalu {

nlohmann::json json_number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

namespace {

nlohmann::json range_to_json(const Range& range) {
  auto out = nlohmann::json::array();
  for (const auto& interval : range.intervals)
    out.push_back({interval.low, interval.high});
  return out;
}

// Strict field access for config_from_json: "config: 'task.input_size' must be an integer".
class Fields {
 public:
  Fields(const nlohmann::json& json, std::string path) : json_(json), path_(std::move(path)) {
    if (!json_.is_object())
      fail("", "an object");
  }
  const nlohmann::json& at(const std::string& key) const {
    const auto it = json_.find(key);
    if (it == json_.end()) {
      std::string message = "config: '";
      message += name(key);
      message += "' is missing";
      throw Error(message);
    }
    return *it;
  }
  bool has(const std::string& key) const { return json_.contains(key); }
  Fields object(const std::string& key) const {
    at(key);
    return Fields(at(key), name(key));
  }
  std::string text(const std::string& key) const {
    if (!at(key).is_string())
      fail(key, "a string");
    return at(key).get<std::string>();
  }
  int64_t integer(const std::string& key) const {
    if (!at(key).is_number_integer())
      fail(key, "an integer");
    return at(key).get<int64_t>();
  }
  uint64_t unsigned_integer(const std::string& key) const {
    if (!at(key).is_number_unsigned())
      fail(key, "a non-negative integer");
    return at(key).get<uint64_t>();
  }
  double real(const std::string& key) const {
    if (!at(key).is_number())
      fail(key, "a number");
    return at(key).get<double>();
  }
  bool flag(const std::string& key) const {
    if (!at(key).is_boolean())
      fail(key, "true or false");
    return at(key).get<bool>();
  }
  std::vector<std::string> texts(const std::string& key) const {
    const auto& value = at(key);
    if (!value.is_array())
      fail(key, "a list of strings");
    std::vector<std::string> out;
    for (const auto& item : value) {
      if (!item.is_string())
        fail(key, "a list of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }
  std::vector<int64_t> integers(const std::string& key) const {
    const auto& value = at(key);
    if (!value.is_array())
      fail(key, "a list of integers");
    std::vector<int64_t> out;
    for (const auto& item : value) {
      if (!item.is_number_integer())
        fail(key, "a list of integers");
      out.push_back(item.get<int64_t>());
    }
    return out;
  }
  Range range(const std::string& key) const {
    const auto& value = at(key);
    Range range;
    if (!value.is_array() || value.empty())
      fail(key, "a list of [low, high] pairs");
    for (const auto& pair : value) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_number())
        fail(key, "a list of [low, high] pairs");
      range.intervals.push_back({pair[0].get<double>(), pair[1].get<double>()});
    }
    return range;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const {
    std::string message = "config: '";
    message += key.empty() ? path_ : name(key);
    message += "' must be ";
    message += expected;
    throw Error(message);
  }

 private:
  std::string name(const std::string& key) const {
    if (path_.empty())
      return key;
    std::string full = path_;
    full += '.';
    full += key;
    return full;
  }
  const nlohmann::json& json_;
  std::string path_;
};

// A schedule as records write it; the ladder's step only when it has one, so that records of
// linear schedules read as before.
nlohmann::json schedule_to_json(const RegularizerSchedule& r) {
  nlohmann::json out = {{"scale", r.scale}, {"start", r.start}, {"end", r.end}};
  if (r.tenfold_every > 0)
    out["tenfold_every"] = r.tenfold_every;
  return out;
}

}  // namespace

RunConfig config_from_json(const nlohmann::json& json) {
  const Fields root(json, "");
  RunConfig config;
  config.engine = root.text("engine");
  config.seed = root.unsigned_integer("seed");

  const Fields task = root.object("task");
  config.task = task.text("name");
  auto& t = config.task_options;
  // A table task (nalu fit) writes only its input size: its examples are not in the record.
  t.input_size = task.integer("input_size");
  if (config.task != "table") {
    t.op = parse_operation(task.text("operation"));
    t.subset_ratio = task.real("subset_ratio");
    t.overlap_ratio = task.real("overlap_ratio");
    t.interpolation = task.range("interpolation_range");
    t.extrapolation = task.range("extrapolation_range");
    t.integers = task.flag("integers");
    t.evaluation_size = task.integer("evaluation_size");
    if (task.has("subsets")) {
      const Fields subsets = task.object("subsets");
      const auto a = subsets.integers("a");
      const auto b = subsets.integers("b");
      if (a.size() != 2 || b.size() != 2)
        subsets.fail("a", "[begin, end] pairs for a and b");
      t.explicit_subsets = true;
      t.subsets = {a[0], a[1], b[0], b[1]};
    }
  }

  const Fields model = root.object("model");
  config.model.units = model.texts("units");
  const auto sizes = model.integers("sizes");
  if (sizes.size() < 2 || sizes.front() != t.input_size || sizes.back() != 1)
    model.fail("sizes", "the input size, the hidden sizes, then 1");
  config.model.hidden.assign(sizes.begin() + 1, sizes.end() - 1);
  auto& s = config.model.settings;
  const std::string init = model.text("init");
  if (init != "truncated-normal" && init != "xavier-uniform" && init != "reference")
    model.fail("init", "xavier-uniform, truncated-normal or reference");
  s.init = parse_init(init);
  s.epsilon = model.real("epsilon");
  s.nalu_shared_weights = model.flag("nalu_shared_weights");
  s.nalu_gate_bias = model.flag("nalu_gate_bias");
  // Written only when set (records before the field existed have none).
  s.npu_improved = model.has("npu_improved") && model.flag("npu_improved");
  s.linear_bias = model.flag("bias");
  // Records before the field existed started every Linear layer as torch::nn::Linear does.
  s.linear_init = LinearInit::kTorch;
  if (model.has("linear_init")) {
    const std::string linear_init = model.text("linear_init");
    if (linear_init == "reference")
      s.linear_init = LinearInit::kReference;
    else if (linear_init != "torch")
      model.fail("linear_init", "torch or reference");
  }
  s.mlp_activation = model.text("mlp_activation");

  const Fields optimizer = root.object("optimizer");
  config.optimizer.name = optimizer.text("name");
  config.optimizer.learning_rate = optimizer.real("learning_rate");
  config.optimizer.momentum = optimizer.real("momentum");
  // Records before the field existed, and runs without clipping, do not write it.
  if (optimizer.has("clip_grad_norm"))
    config.optimizer.clip_grad_norm = optimizer.real("clip_grad_norm");

  const Fields training = root.object("training");
  auto& r = config.training;
  r.iterations = training.integer("iterations");
  r.batch_size = training.integer("batch_size");
  r.eval_interval = training.integer("eval_interval");
  r.reinit_patience = training.integer("reinit_patience");
  r.reinit_threshold = training.real("reinit_threshold");
  r.accuracy_atol = training.real("accuracy_atol");
  r.accuracy_rtol = training.real("accuracy_rtol");
  if (training.at("regularizer").is_object()) {
    const Fields regularizer = training.object("regularizer");
    r.regularizer = RegularizerSchedule{regularizer.real("scale"), regularizer.integer("start"),
                                        regularizer.integer("end")};
    if (regularizer.has("tenfold_every"))
      r.regularizer->tenfold_every = regularizer.integer("tenfold_every");
  } else if (!training.at("regularizer").is_string()) {
    training.fail("regularizer", "an object or the per-unit default's description");
  }
  try {
    config.validate();
  } catch (const Error& e) {
    std::string message = "config: ";
    message += e.what();
    throw Error(message);
  }
  // The layers the record names must be the ones these units resolve to.
  if (model.texts("layers") != config.resolve_layers())
    model.fail("layers", "what the units resolve to");
  return config;
}

nlohmann::json config_to_json(const RunConfig& config) {
  const auto& t = config.task_options;
  const auto& s = config.model.settings;
  nlohmann::json task = {
      {"name", config.task},
      {"operation", operation_name(t.op)},
      {"input_size", t.input_size},
      {"subset_ratio", t.subset_ratio},
      {"overlap_ratio", t.overlap_ratio},
      {"interpolation_range", range_to_json(t.interpolation)},
      {"extrapolation_range", range_to_json(t.extrapolation)},
      {"integers", t.integers},
      {"evaluation_size", t.evaluation_size},
  };
  if (config.task == "table") {
    // Its examples are the table's (nalu fit's record describes them); the rest is unused.
    task = {{"name", config.task}, {"input_size", t.input_size}};
  } else if (t.explicit_subsets) {
    task["subsets"] = {{"a", {t.subsets.a_begin, t.subsets.a_end}},
                       {"b", {t.subsets.b_begin, t.subsets.b_end}}};
  }
  nlohmann::json training = {
      {"iterations", config.training.iterations},
      {"batch_size", config.training.batch_size},
      {"eval_interval", config.training.eval_interval},
      {"reinit_patience", config.training.reinit_patience},
      {"reinit_threshold", config.training.reinit_threshold},
      {"accuracy_atol", config.training.accuracy_atol},
      {"accuracy_rtol", config.training.accuracy_rtol},
      {"loss", "mse"},
  };
  nlohmann::json optimizer = {{"name", config.optimizer.name},
                              {"learning_rate", config.optimizer.learning_rate},
                              {"momentum", config.optimizer.momentum}};
  if (config.optimizer.clip_grad_norm > 0)
    optimizer["clip_grad_norm"] = config.optimizer.clip_grad_norm;
  if (config.training.regularizer) {
    const auto& r = *config.training.regularizer;
    training["regularizer"] = schedule_to_json(r);
  } else {
    training["regularizer"] = "per-unit defaults, scaled to the run length";
  }
  nlohmann::json model = {
      {"units", config.model.units},
      {"layers", config.resolve_layers()},
      {"sizes", config.sizes()},
      {"init", init_name(s.init)},
      {"epsilon", s.epsilon},
      {"nalu_shared_weights", s.nalu_shared_weights},
      {"nalu_gate_bias", s.nalu_gate_bias},
      {"bias", s.linear_bias},
      {"linear_init", s.linear_init == LinearInit::kReference ? "reference" : "torch"},
      {"mlp_activation", s.mlp_activation}};
  if (s.npu_improved)
    model["npu_improved"] = true;
  return {
      {"engine", config.engine}, {"task", task},         {"model", model},
      {"optimizer", optimizer},  {"training", training}, {"seed", config.seed},
  };
}

nlohmann::json evaluation_to_json(const Evaluation& e) {
  return {{"step", e.step},
          {"train_loss", json_number(e.train_loss)},
          {"interpolation_mse", json_number(e.interpolation_mse)},
          {"extrapolation_mse", json_number(e.extrapolation_mse)},
          {"interpolation_accuracy", json_number(e.interpolation_accuracy)},
          {"extrapolation_accuracy", json_number(e.extrapolation_accuracy)},
          {"sparsity_error", json_number(e.sparsity_error)}};
}

nlohmann::json formula_to_json(const Formula& formula) {
  nlohmann::json out = {{"lines", formula.lines()},
                        {"max_rounding_error", json_number(formula.max_rounding_error)},
                        {"exact", formula.exact()},
                        {"ascii", formula.ascii_lines()}};
  // What the readout simplified (checked on the evaluation sets), and the formula before.
  auto simplifications = nlohmann::json::array();
  for (const auto& s : formula.simplifications) {
    simplifications.push_back(
        {{"where", s.where}, {"what", s.what}, {"max_deviation", json_number(s.max_deviation)}});
  }
  out["simplifications"] = simplifications;
  out["max_simplification_deviation"] = json_number(formula.max_simplification_deviation);
  const Formula& literal = formula.literal ? *formula.literal : formula;
  out["literal_lines"] = literal.lines();
  out["literal_ascii"] = literal.ascii_lines();
  return out;
}

nlohmann::json make_record(const RunConfig& config, const TrainResult& result) {
  auto history = nlohmann::json::array();
  for (const auto& e : result.history)
    history.push_back(evaluation_to_json(e));
  auto rollbacks = nlohmann::json::array();
  for (const auto& r : result.rollbacks) {
    rollbacks.push_back({{"step", r.step},
                         {"parameter", r.parameter},
                         {"restored_step", r.restored_step},
                         {"learning_rate", r.learning_rate}});
  }
  auto schedules = nlohmann::json::array();
  for (const auto& s : result.schedules) {
    schedules.push_back(schedule_to_json(s));
  }
  return {
      {"nalu_version", kVersion},
      {"kind", "train"},
      {"status", "ok"},
      {"seed", config.seed},
      {"config", config_to_json(config)},
      {"best", evaluation_to_json(result.best)},
      {"final", evaluation_to_json(result.final)},
      {"formula", formula_to_json(result.best_formula)},
      {"final_formula", formula_to_json(result.final_formula)},
      {"reinitializations", result.reinitializations},
      {"resumed_from_step", result.resumed_from},
      {"non_finite_rollbacks", rollbacks},
      {"regularizer_schedules", schedules},
      {"history", history},
      {"timing",
       {{"engine", result.engine},
        {"iterations", result.iterations},
        {"wall_seconds", result.wall_seconds},
        {"iterations_per_second", result.iterations_per_second},
        {"runs_in_pass", result.runs_in_pass}}},
  };
}

double record_bytes_estimate(const TrainingConfig& training, int64_t history_every) {
  const auto evaluations = training.iterations / std::max<int64_t>(training.eval_interval, 1);
  return 4096.0 +
         512.0 * (static_cast<double>(evaluations / std::max<int64_t>(history_every, 1)) + 2.0);
}

void thin_history(nlohmann::json& record, int64_t every) {
  check(every >= 1,
        "history: keep every N-th evaluation needs N >= 1, got " + std::to_string(every));
  if (every == 1 || !record.contains("history") || !record["history"].is_array())
    return;
  const auto& history = record["history"];
  auto kept = nlohmann::json::array();
  const auto size = static_cast<int64_t>(history.size());
  for (int64_t i = 0; i < size; ++i) {
    if (i % every == 0 || i == size - 1)
      kept.push_back(history[static_cast<size_t>(i)]);
  }
  record["history"] = std::move(kept);
  record["history_every"] = every;
}

nlohmann::json make_failure_record(const RunConfig& config, const std::string& status,
                                   const std::string& message) {
  return {{"nalu_version", kVersion}, {"kind", "train"},     {"status", status},
          {"error", message},         {"seed", config.seed}, {"config", config_to_json(config)}};
}

}  // namespace nalu

// JSON records and safe file writing.
#include "nalu/train/record.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <unistd.h>

#include "nalu/error.h"
#include "nalu/version.h"

namespace nalu {

namespace {

// JSON has no NaN or infinity: write null for them.
nlohmann::json number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json range_to_json(const Range& range) {
  auto out = nlohmann::json::array();
  for (const auto& interval : range.intervals)
    out.push_back({interval.low, interval.high});
  return out;
}

std::string init_name(Init init) {
  return init == Init::kTruncatedNormal ? "truncated-normal" : "xavier-uniform";
}

}  // namespace

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
  if (t.explicit_subsets) {
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
  if (config.training.regularizer) {
    const auto& r = *config.training.regularizer;
    training["regularizer"] = {{"scale", r.scale}, {"start", r.start}, {"end", r.end}};
  } else {
    training["regularizer"] = "per-unit defaults, scaled to the run length";
  }
  return {
      {"engine", config.engine},
      {"task", task},
      {"model",
       {{"units", config.model.units},
        {"layers", config.resolve_layers()},
        {"sizes", config.sizes()},
        {"init", init_name(s.init)},
        {"epsilon", s.epsilon},
        {"nalu_shared_weights", s.nalu_shared_weights},
        {"nalu_gate_bias", s.nalu_gate_bias},
        {"bias", s.linear_bias},
        {"mlp_activation", s.mlp_activation}}},
      {"optimizer",
       {{"name", config.optimizer.name},
        {"learning_rate", config.optimizer.learning_rate},
        {"momentum", config.optimizer.momentum}}},
      {"training", training},
      {"seed", config.seed},
  };
}

nlohmann::json evaluation_to_json(const Evaluation& e) {
  return {{"step", e.step},
          {"train_loss", number(e.train_loss)},
          {"interpolation_mse", number(e.interpolation_mse)},
          {"extrapolation_mse", number(e.extrapolation_mse)},
          {"interpolation_accuracy", number(e.interpolation_accuracy)},
          {"extrapolation_accuracy", number(e.extrapolation_accuracy)},
          {"sparsity_error", number(e.sparsity_error)}};
}

nlohmann::json formula_to_json(const Formula& formula) {
  return {{"lines", formula.lines()},
          {"max_rounding_error", number(formula.max_rounding_error)},
          {"exact", formula.exact()}};
}

nlohmann::json make_record(const RunConfig& config, const TrainResult& result) {
  auto history = nlohmann::json::array();
  for (const auto& e : result.history)
    history.push_back(evaluation_to_json(e));
  auto schedules = nlohmann::json::array();
  for (const auto& s : result.schedules) {
    schedules.push_back({{"scale", s.scale}, {"start", s.start}, {"end", s.end}});
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
      {"regularizer_schedules", schedules},
      {"history", history},
      {"timing",
       {{"engine", result.engine},
        {"iterations", result.iterations},
        {"wall_seconds", result.wall_seconds},
        {"iterations_per_second", result.iterations_per_second}}},
  };
}

nlohmann::json make_failure_record(const RunConfig& config, const std::string& status,
                                   const std::string& message) {
  return {{"nalu_version", kVersion}, {"kind", "train"},     {"status", status},
          {"error", message},         {"seed", config.seed}, {"config", config_to_json(config)}};
}

void check_writable(const std::string& path) {
  namespace fs = std::filesystem;
  check(!path.empty(), "output path is empty");
  const fs::path target(path);
  std::error_code error;
  check(!fs::is_directory(target, error), "output '" + path + "' is a directory");
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  check(fs::is_directory(directory, error),
        "cannot write '" + path + "': directory '" + directory.string() + "' does not exist");
  check(::access(directory.c_str(), W_OK) == 0,
        "cannot write '" + path + "': directory '" + directory.string() + "' is not writable");
  if (fs::exists(target, error)) {
    check(::access(target.c_str(), W_OK) == 0, "cannot write '" + path + "': permission denied");
  }
}

void write_file_atomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::random_device random;
  // Appending piecewise avoids GCC 12's false -Wstringop-overflow on `"." + std::string`.
  std::string name(".");
  name += target.filename().string();
  name += ".tmp";
  name += std::to_string(random());
  const fs::path temporary = directory / name;
  FILE* file = std::fopen(temporary.c_str(), "wb");
  check(file != nullptr, "cannot write '" + temporary.string() + "': " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size() &&
                       std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const int saved_errno = errno;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw Error("cannot write '" + path + "': " + std::strerror(written ? errno : saved_errno));
  }
  std::error_code error;
  fs::rename(temporary, target, error);
  if (error) {
    fs::remove(temporary, error);
    throw Error("cannot write '" + path + "': " + error.message());
  }
}

}  // namespace nalu

// `nalu eval --model FILE`: reads a model saved by `nalu train --save-model` and reports its
// formula and its errors on the task's evaluation sets (or on other ranges).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace nalu::cli {

struct EvalFlags {
  std::string model;
  std::optional<std::string> interpolation, extrapolation;
  std::optional<int64_t> eval_size;
  std::string output;
  bool ascii_formula = false, literal_formula = false;
};

CLI::App* add_eval_command(CLI::App& app, EvalFlags& flags);
int run_eval_command(const EvalFlags& flags);

}  // namespace nalu::cli

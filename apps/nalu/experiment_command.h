// `nalu experiment NAME`: the papers' experiments (identity, ...) from the library's catalogue,
// with the flags every experiment shares.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace nalu::cli {

struct ExperimentFlags {
  std::string name;
  bool list = false;
  bool quick = false;
  uint64_t seed = 0;
  std::string output;  // empty: results/NAME
  std::string progress = "auto";
  int64_t threads = 0;
};

/// Adds `experiment` to `app`.
CLI::App* add_experiment_command(CLI::App& app, ExperimentFlags& flags);
/// Lists the experiments or runs one and prints its tables; returns the exit code.
int run_experiment_command(const ExperimentFlags& flags);

}  // namespace nalu::cli

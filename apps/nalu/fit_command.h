// `nalu fit data.csv --target y`: learns an arithmetic formula from a table of examples.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace nalu::cli {

struct FitFlags {
  std::string file;
  std::string target;
  std::vector<std::string> inputs;
  std::string units;  // empty: nalu::default_fit_units()
  int64_t seeds = 5;
  uint64_t seed = 0;
  int64_t hidden = 3;
  int64_t iterations = 50'000;
  int64_t batch_size = 128;
  double learning_rate = 1e-3;
  double holdout = 0.2;
  double validation = 0.2;
  uint64_t split_seed = 0;
  int64_t jobs = 0;
  std::string engine = "auto";
  double rtol = 1e-5;
  double approximate = 1e-2;
  std::string save_model;
  std::string output;
  bool quiet = false;
};

CLI::App* add_fit_command(CLI::App& app, FitFlags& flags);
int run_fit_command(const FitFlags& flags);

}  // namespace nalu::cli

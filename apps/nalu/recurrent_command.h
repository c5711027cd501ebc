// `nalu recurrent`: the NALU paper's recurrent arithmetic table (operations x cores x seeds).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace nalu::cli {

struct RecurrentFlags {
  std::string operations = "add,mul";
  std::string cores = "nac,nalu,lstm,rnn-relu";
  int64_t seeds = 3;
  int64_t iterations = 2'000;
  int64_t train_length = 10;
  int64_t extrapolation_length = 100;
  int64_t hidden = 2;
  std::optional<int64_t> baseline_hidden, batch_size, eval_interval, eval_size, input_size;
  std::optional<double> learning_rate;
  std::optional<std::string> range, extrapolation_range;
  int64_t jobs = 0;  // 0: one per core
  std::string format = "markdown";
  std::string output;  // JSON Lines records, one per run; empty: none
  bool quiet = false;
};

/// Adds `recurrent` to `app`.
CLI::App* add_recurrent_command(CLI::App& app, RecurrentFlags& flags);
/// Runs the grid the flags describe and prints its table; returns the exit code.
int run_recurrent_command(const RecurrentFlags& flags);

}  // namespace nalu::cli

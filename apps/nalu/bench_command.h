// `nalu bench`, `nalu bench merge` and `nalu bench table`.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace nalu::cli {

struct BenchFlags {
  std::string preset = "demo";
  std::optional<std::string> operations, units;
  std::optional<int64_t> seeds, iterations, eval_interval, input_size;
  std::optional<std::string> init;
  int64_t jobs = 0;  // 0: one per core
  std::string engine = "auto";
  std::string output;
  bool resume = false;
  std::string shard;
  std::string format = "markdown";
  bool pool_ranges = false;  // bench table: one row per operation and unit
  bool quiet = false;
  // Checkpoints of the runs in flight (nalu::BenchControl).
  std::string checkpoint_dir;
  int64_t checkpoint_every = 0;
  std::string on_nan = "stop";
  int64_t history_every = 1;  // bench and merge: keep every N-th evaluation in the records
  bool no_shared_batches = false;
  // merge / table
  std::vector<std::string> inputs;
  std::string merge_output;
};

/// Adds `bench` (with its `merge` and `table` subcommands) to `app`.
CLI::App* add_bench_command(CLI::App& app, BenchFlags& flags);
/// Runs whichever of bench / merge / table was given; returns the exit code.
int run_bench_command(CLI::App& bench, const BenchFlags& flags);

}  // namespace nalu::cli

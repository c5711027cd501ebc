// `nalu train`: one model on one arithmetic task, its progress, formula and record.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace nalu::cli {

/// Flags of `nalu train`; std::optional marks "not given": the task preset's value stays.
struct TrainFlags {
  std::string task = "static";
  std::optional<std::string> op, units, interpolation, extrapolation, optimizer, init, activation;
  std::optional<std::string> hidden, linear_init;
  std::optional<int64_t> input_size, layers, batch_size, iterations, eval_interval, eval_size;
  std::optional<double> subset_ratio, overlap_ratio, learning_rate, momentum, epsilon;
  std::optional<double> clip_grad_norm;
  std::optional<double> reg_scale;
  std::optional<int64_t> reg_start, reg_end;
  bool nalu_separate_weights = false, nalu_gate_bias = false, no_bias = false;
  bool npu_improved = false;
  uint64_t seed = 0;
  std::string output;
  std::string progress = "auto";
  std::string engine = "auto";
  bool quiet = false;
  bool ascii_formula = false, literal_formula = false;
  // Checkpoints and faults (nalu/train/checkpoint.h).
  std::string checkpoint, save_model, on_nan = "stop";
  int64_t checkpoint_every = 0;
  bool resume = false;
  int64_t inject_nan = 0;
};

/// Adds `train` to `app`.
void add_train_command(CLI::App& app, TrainFlags& flags);
/// Runs `nalu train`; returns the exit code (errors are thrown, as by the other commands).
int run_train_command(const TrainFlags& flags);

}  // namespace nalu::cli

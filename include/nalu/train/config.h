// The complete description of one run: task, model, optimiser and training settings. A run is
// reproducible from this struct alone; records store it in full.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nalu/limits.h"
#include "nalu/regularizer.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/units/stack.h"

namespace nalu {

struct ModelConfig {
  /// One unit name per layer, or a single name for every layer. A multiplicative unit given
  /// alone (nmu, nac-mul, npu, real-npu) gets its additive partner as first layer (see
  /// resolve_layers).
  std::vector<std::string> units{"nalu"};
  /// Hidden layer sizes; the input size comes from the task and the output size is 1.
  std::vector<int64_t> hidden{2};
  UnitSettings settings;
};

struct OptimizerConfig {
  std::string name = "adam";  // adam, rmsprop, sgd
  double learning_rate = 1e-3;
  double momentum = 0.0;  // rmsprop and sgd
  /// When > 0, the gradient of all parameters together is scaled down to this L2 norm before
  /// each step (torch::nn::utils::clip_grad_norm_), as the NMRU's authors train it. 0: off.
  double clip_grad_norm = 0.0;
};

struct TrainingConfig {
  int64_t iterations = 100'000;
  int64_t batch_size = 128;
  int64_t eval_interval = 1'000;
  /// Replaces every layer's own schedule when set. Otherwise each layer uses its unit's
  /// default_regularizer() stretched to this run's length (scaled_to_run).
  std::optional<RegularizerSchedule> regularizer;
  /// iNALU: re-initialise when the interpolation error has not improved for this many
  /// evaluations while above reinit_threshold (0 disables).
  int64_t reinit_patience = 10;
  double reinit_threshold = 1.0;
  /// Predictions within atol + rtol * |target| count as correct (numpy's isclose).
  double accuracy_atol = 1e-4;
  double accuracy_rtol = 1e-4;
};

struct RunConfig {
  std::string task = "static";  // static, seed-sum, seed-mul, table (task_options.table)
  ArithmeticTaskOptions task_options;
  ModelConfig model;
  OptimizerConfig optimizer;
  TrainingConfig training;
  uint64_t seed = 0;  // drives the dataset, the initialisation and the batches
  /// "auto" (the fused engine where it applies, else torch), "fused" or "torch"; see
  /// nalu/train/fused.h.
  std::string engine = "auto";

  /// Layer sizes: input size, hidden sizes, 1.
  std::vector<int64_t> sizes() const;
  /// The unit name of every layer after expanding a single name.
  std::vector<std::string> resolve_layers() const;
  /// What one training step, one evaluation and the model would allocate on the engine this
  /// config resolves to (estimates; see docs/reliability.md).
  std::vector<MemoryNeed> memory_needs() const;
  /// Throws nalu::Error for invalid settings (sizes <= 0, unknown names, more layers than
  /// kMaxLayers, ...) and for settings whose memory_needs() exceed machine_memory_bytes().
  void validate() const;
};

/// The tasks with a preset, accepted as RunConfig::task besides "table" (the examples of a table
/// in task_options.table, as nalu::fit_table trains them; it has no preset).
const std::vector<std::string>& task_names();

/// The defaults of a named task:
///   static   - docs/design.md §3: input 100, subsets 25 overlapping by half, U[1,2] -> U[2,6].
///   seed-sum - 10 inputs from U[0,10), a = x0+..+x3, b = x4+..+x9, y = a+b, NALU 10-2-1, Adam
///              lr 0.1; extrapolation U[0,100).
///   seed-mul - two integers from [0,9), y = x0*x1, one NALU 2-1, Adam lr 1e-3, batch 10;
///              extrapolation: integers from [9,30) (our choice; the seeds give none).
RunConfig task_preset(const std::string& name);

/// Names accepted as OptimizerConfig::name.
const std::vector<std::string>& optimizer_names();

}  // namespace nalu

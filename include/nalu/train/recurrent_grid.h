// The NALU paper's recurrent arithmetic table: a grid of runs (operations x cores x seeds),
// summarised per (operation, core) as the paper reports it - error normalised so that the
// randomly initialised model scores 100 and a perfect one 0 - next to the median
// extrapolation MSE.
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nalu/train/recurrent.h"

namespace nalu {

/// The grid of a recurrent table. `base` holds every setting the grid does not vary.
struct RecurrentGrid {
  RecurrentConfig base;
  std::vector<Operation> operations{Operation::kAdd, Operation::kMul};
  std::vector<std::string> cores{"nac", "nalu", "lstm", "rnn-relu"};
  int64_t seeds = 3;  // seeds 0 .. seeds - 1
  /// Hidden size of the LSTM / GRU / RNN cores; base.hidden_size when unset.
  std::optional<int64_t> baseline_hidden_size;

  /// Every run's configuration, in a fixed order (operation, core, seed).
  std::vector<RecurrentConfig> expand() const;
};

/// What the table needs of one run.
struct RecurrentRun {
  Operation op = Operation::kAdd;
  std::string core;
  uint64_t seed = 0;
  bool diverged = false;
  std::string error;                       // the NumericalError's message when diverged
  double initial_interpolation_mse = NAN;  // step 0: the randomly initialised model
  double initial_extrapolation_mse = NAN;
  double best_interpolation_mse = NAN;  // at the lowest interpolation MSE
  double best_extrapolation_mse = NAN;
  std::vector<Evaluation> history;  // every evaluation, step 0 first (empty when diverged)
};

/// One row of the table: the runs of one (operation, core).
struct RecurrentRow {
  Operation op = Operation::kAdd;
  std::string core;
  int64_t runs = 0;
  int64_t diverged = 0;
  /// 100 * mean best MSE / mean step-0 MSE over the runs that did not diverge (NaN if none).
  double interpolation_error = NAN;
  double extrapolation_error = NAN;
  double median_extrapolation_mse = NAN;  // over the runs that did not diverge
  /// How much the last quarter of the steps still gained: the mean over the runs that did not
  /// diverge of 100 * (lowest interpolation MSE up to 3/4 of the steps - lowest up to the end)
  /// / step-0 interpolation MSE, in the normalised error's points. Near 0 when the runs have
  /// flattened; NaN when no run has an evaluation at or before 3/4 of the steps.
  double last_quarter_gain = NAN;
};

/// Trains one run; a run that diverges is reported as such, not thrown. When `stop` is given
/// and becomes true, the run throws nalu::Interrupted within 100 steps.
RecurrentRun run_recurrent(const RecurrentConfig& config, const std::atomic<bool>* stop = nullptr);

/// Runs the grid on `jobs` threads (one LibTorch thread each when jobs > 1) and returns the
/// runs in expand() order. `on_run` is called (serialised) as each run finishes, with the count
/// of finished runs and the total. Throws nalu::Error for bad settings before any run starts,
/// and nalu::Interrupted when `stop` (e.g. set by a signal handler) becomes true.
std::vector<RecurrentRun> run_recurrent_grid(
    const RecurrentGrid& grid, int64_t jobs,
    const std::function<void(const RecurrentRun&, int64_t, int64_t)>& on_run = {},
    const std::atomic<bool>* stop = nullptr);

/// One row per (operation, core), in order of first appearance.
std::vector<RecurrentRow> summarize_recurrent(const std::vector<RecurrentRun>& runs);

/// One JSON Lines record per run (`grid.expand()` order, as run_recurrent_grid returns them):
/// kind "recurrent", version, operation, core, seed, the run's settings, diverged (and its
/// error), the step-0 and best MSEs and the history of evaluations.
std::string recurrent_records(const RecurrentGrid& grid, const std::vector<RecurrentRun>& runs);

/// The rows as a "markdown" or "csv" table; throws nalu::Error for other formats.
std::string render_recurrent_table(const std::vector<RecurrentRow>& rows,
                                   const std::string& format);

}  // namespace nalu

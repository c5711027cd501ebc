// Summaries of bench records in the field's format: per (operation, unit, range), the success
// rate with a Wilson 95% interval, median solved-at step, median sparsity error and
// extrapolation error, and the NALU paper's normalised errors.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nalu {

struct BenchRow {
  std::string operation, unit, range;
  int64_t runs = 0;
  int64_t successes = 0;
  int64_t diverged = 0;
  double success_rate = 0.0;
  double success_low = 0.0, success_high = 0.0;  // Wilson 95%
  double median_solved_at = 0.0;                 // over successful runs; NaN if none
  double median_sparsity_error = 0.0;            // over successful runs; NaN if none
  double median_extrapolation_mse = 0.0;         // over all runs
  double interpolation_normalized_error = 0.0;   // NALU paper: random init = 100, perfect = 0
  double extrapolation_normalized_error = 0.0;
};

/// Groups records into rows, ordered by the grid position ("index") of each group's first run,
/// so that a table does not depend on the order in which parallel runs finished. With
/// `pool_ranges`, one row per (operation, unit) over all its ranges, its range column "N
/// ranges" (as Mistry, Hare & Farrahi average their division benchmark over 9 ranges x 25
/// seeds).
std::vector<BenchRow> summarize(const std::vector<nlohmann::json>& records,
                                bool pool_ranges = false);

/// Renders rows as "markdown", "csv" or "json"; throws nalu::Error for other formats.
std::string render_table(const std::vector<BenchRow>& rows, const std::string& format);

}  // namespace nalu

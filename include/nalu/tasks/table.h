// A task made of a table of examples rather than a formula (`nalu fit`): the rows whose inputs
// are largest in magnitude are held out to test extrapolation, a random share of the others
// checks the fit in range (the validation rows model selection uses), and training batches are
// drawn from the rest. ArithmeticTaskOptions::table carries it into training.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "nalu/tasks/arithmetic.h"

namespace nalu {

struct TableSplitOptions {
  /// Share of the rows held out for the extrapolation check: those with the largest max_i |x_i|.
  double holdout_fraction = 0.2;
  /// Share of the remaining rows, drawn at random, for validation.
  double validation_fraction = 0.2;
  uint64_t seed = 0;  // draws the validation rows
};

/// The rows of a table split three ways, as float tensors ([rows, inputs] and [rows, 1]).
struct TableData {
  torch::Tensor training_input, training_target;
  Batch validation;  // ArithmeticTask's interpolation set
  Batch holdout;     // ArithmeticTask's extrapolation set
  /// The rows (0-based, in the table's order) of each part.
  std::vector<int64_t> training_rows, validation_rows, holdout_rows;
  /// The smallest max_i |x_i| among the held-out rows: every training and validation row's is at
  /// most this.
  double holdout_magnitude = 0.0;
};

/// Splits `rows` examples of `columns` inputs (`inputs`, row-major) and their `targets`. At least
/// one row goes to each part: each fraction must be in (0, 1), and the table needs 3 rows or
/// more; throws nalu::Error otherwise (and for sizes that do not match). Ties in magnitude at the
/// holdout's edge go by row order. Deterministic in options.seed.
TableData split_table(const std::vector<double>& inputs, const std::vector<double>& targets,
                      int64_t columns, const TableSplitOptions& options = {});

}  // namespace nalu

// The NALU paper's recurrent arithmetic task (Trask et al. 2018; docs/design.md §3): a
// sequence of T vectors x_t is drawn uniformly from a range, a and b are the sums over every
// step of two overlapping subsets of x_t (placed as in the static task), and op(a, b) is the
// target after the last step. Extrapolation means longer sequences and so larger a and b.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

#include "nalu/tasks/arithmetic.h"

namespace nalu {

/// Settings of the recurrent task. The paper gives no lengths or ranges for this task; the
/// defaults are our choice: train and interpolate on 10 steps of U[1, 2], extrapolate on 100
/// steps of the same range (a and b grow about tenfold).
struct RecurrentTaskOptions {
  Operation op = Operation::kAdd;
  int64_t input_size = 10;     // elements of each x_t
  double subset_ratio = 0.25;  // as ArithmeticTaskOptions
  double overlap_ratio = 0.5;
  Range interpolation{{{1.0, 2.0}}};  // values of the training and interpolation sequences
  Range extrapolation{{{1.0, 2.0}}};  // values of the extrapolation sequences
  int64_t train_length = 10;          // steps of a training sequence
  int64_t interpolation_length = 10;
  int64_t extrapolation_length = 100;
  int64_t evaluation_size = 1'000;  // sequences in each evaluation set
  uint64_t seed = 0;                // places the subsets and draws the evaluation sets

  /// Throws nalu::Error ("recurrent task: ...") for sizes or lengths <= 0, bad ranges, sqrt of a
  /// range with negative values, or subsets that do not fit.
  void validate() const;
};

/// Validated recurrent task with its fixed evaluation sets. Batches hold input [B, T, I] and
/// target [B, 1].
///
/// Example:
/// ```
/// nalu::RecurrentTaskOptions options;
/// options.op = nalu::Operation::kMul;
/// nalu::RecurrentArithmeticTask task(options);
/// torch::Generator gen = nalu::make_generator(1);
/// nalu::Batch batch = task.sample(64, gen);  // input [64, 10, 10], target [64, 1]
/// ```
class RecurrentArithmeticTask {
 public:
  explicit RecurrentArithmeticTask(RecurrentTaskOptions options);

  /// Training sequences: train_length steps from the interpolation range.
  Batch sample(int64_t batch_size, torch::Generator& generator) const;
  /// Sequences of any length and range.
  Batch sample(int64_t batch_size, int64_t length, const Range& range,
               torch::Generator& generator) const;
  /// Targets for sequences [B, T, I] -> [B, 1] (summed over T in double precision).
  torch::Tensor target(const torch::Tensor& input) const;

  const Batch& interpolation_set() const { return interpolation_set_; }
  const Batch& extrapolation_set() const { return extrapolation_set_; }
  const RecurrentTaskOptions& options() const { return options_; }
  const Subsets& subsets() const { return subsets_; }
  /// "a = sum_t x_t[2:4], b = sum_t x_t[3:5], y = a · b"
  std::string describe() const;

 private:
  RecurrentTaskOptions options_;
  Subsets subsets_;
  Batch interpolation_set_;
  Batch extrapolation_set_;
};

}  // namespace nalu

// Training batches from a counter-based generator. Batch `step` of a stream is a pure function
// of (seed, step, batch size): it needs no generator state, so both engines, any number of
// threads and a resumed run all see the same data. Value c of a batch is
// lowbias32(c + k1) ^ k2 with (k1, k2) = SplitMix64(seed, step), scaled to 24 bits. For a table
// task, row r of batch `step` is training row derive_seed(derive_seed(seed, step), r) mod n.
#pragma once

#include <cstdint>
#include <memory>

#include "nalu/tasks/arithmetic.h"

namespace nalu {

namespace fused::kernels {
struct UniformMap;
}

/// Example:
/// ```
/// nalu::ArithmeticTask task(options);
/// nalu::BatchStream stream(task, /*seed=*/7);
/// nalu::Batch batch = stream.batch(/*step=*/1, /*batch_size=*/128);
/// ```
class BatchStream {
 public:
  /// Copies what it needs from `task` (operation, subsets, training range, integers; a table
  /// task's table is shared).
  /// Throws nalu::Error when the range has more than 8 intervals.
  BatchStream(const ArithmeticTask& task, uint64_t seed);

  /// Writes batch `step`: inputs [batch_size, input_size] and targets [batch_size], as floats.
  /// Throws nalu::Error when batch_size * input_size does not fit 32 bits.
  void fill(int64_t step, int64_t batch_size, float* input, float* target) const;
  /// Rows [first_row, first_row + rows) of batch `step` only (any batch size holds them: row r
  /// of a batch does not depend on the batch size).
  void fill_rows(int64_t step, int64_t first_row, int64_t rows, float* input, float* target) const;
  /// The targets [rows] of inputs [rows, input_size] (rows of any batch): what fill() writes
  /// beside them. The inputs of a stream depend only on its seed, training range, input size
  /// and integer flag, not on the operation or subsets, so runs of other operations can take a
  /// batch drawn once and their own targets from this. Throws nalu::Error for a table task,
  /// whose targets are looked up, not computed.
  void targets(int64_t rows, const float* input, float* target) const;
  /// The same batch as tensors ([B, input_size] and [B, 1], float).
  Batch batch(int64_t step, int64_t batch_size) const;

  int64_t input_size() const { return input_size_; }
  /// How the stream maps the generator's 32-bit values onto the training range (the fused
  /// kernels' uniform() takes it; bench/ times the generator with it).
  const fused::kernels::UniformMap& uniform_map() const { return *map_; }

 private:
  Operation op_;
  Subsets subsets_;
  int64_t input_size_;
  uint64_t seed_;
  std::shared_ptr<const fused::kernels::UniformMap> map_;
  std::shared_ptr<const TableData> table_;
};

/// Scalar op(a, b) as the task defines it (a / b, sqrt(a), ...).
double apply_operation(Operation op, double a, double b);

}  // namespace nalu

// Counter-based training batches.
#include "nalu/tasks/batch_stream.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/kernels.h"
#include "nalu/error.h"
#include "nalu/limits.h"
#include "nalu/tasks/table.h"

namespace nalu {

namespace {
constexpr int kRowBlock = 64;  // rows whose subset sums are computed together
}  // namespace

double apply_operation(Operation op, double a, double b) {
  switch (op) {
    case Operation::kAdd:
      return a + b;
    case Operation::kSub:
      return a - b;
    case Operation::kMul:
      return a * b;
    case Operation::kDiv:
      return a / b;
    case Operation::kSquare:
      return a * a;
    case Operation::kSqrt:
      return std::sqrt(a);
  }
  return NAN;
}

BatchStream::BatchStream(const ArithmeticTask& task, uint64_t seed)
    : op_(task.options().op),
      subsets_(task.subsets()),
      input_size_(task.options().input_size),
      seed_(seed),
      table_(task.options().table) {
  const Range& range = task.options().interpolation;
  constexpr int kMax = fused::kernels::UniformMap::kMaxIntervals;
  if (range.intervals.empty() || range.intervals.size() > static_cast<size_t>(kMax)) {
    std::string message = "task: the training range may have 1 to ";
    message += std::to_string(kMax);
    message += " intervals, got ";
    message += std::to_string(range.intervals.size());
    throw Error(message);
  }
  auto map = std::make_shared<fused::kernels::UniformMap>();
  map->count = static_cast<int>(range.intervals.size());
  double offset = 0.0;
  for (int k = 0; k < map->count; ++k) {
    const auto& interval = range.intervals[static_cast<size_t>(k)];
    map->low[k] = static_cast<float>(interval.low);
    map->offset[k] = static_cast<float>(offset);
    offset += interval.high - interval.low;
  }
  map->length = static_cast<float>(offset);
  map->high_last = static_cast<float>(range.intervals.back().high);
  // high is exclusive: the largest float below it, where rounding may land.
  map->high_last = std::nextafter(map->high_last, -std::numeric_limits<float>::infinity());
  map->integers = task.options().integers;
  map_ = std::move(map);
}

void BatchStream::fill(int64_t step, int64_t batch_size, float* input, float* target) const {
  fill_rows(step, 0, batch_size, input, target);
}

void BatchStream::fill_rows(int64_t step, int64_t first_row, int64_t rows, float* input,
                            float* target) const {
  const int64_t end = (first_row + rows) * input_size_;
  if (first_row < 0 || rows <= 0 || end > std::numeric_limits<int32_t>::max()) {
    std::string message = "task: cannot draw rows ";
    message += std::to_string(first_row);
    message += " to ";
    message += std::to_string(first_row + rows);
    message += " of a batch of ";
    message += std::to_string(input_size_);
    message += " values per row";
    throw Error(message);
  }
  const uint64_t key = derive_seed(seed_, static_cast<uint64_t>(step));
  if (table_) {
    const auto n = static_cast<uint64_t>(table_->training_input.size(0));
    const float* x = table_->training_input.data_ptr<float>();
    const float* y = table_->training_target.data_ptr<float>();
    for (int64_t r = 0; r < rows; ++r) {
      const auto row =
          static_cast<int64_t>(derive_seed(key, static_cast<uint64_t>(first_row + r)) % n);
      std::copy_n(x + row * input_size_, input_size_, input + r * input_size_);
      target[r] = y[row];
    }
    return;
  }
  const int n = checked_narrow<int>(rows, "batch stream: rows");
  const int I = checked_narrow<int>(input_size_, "batch stream: input size");
  fused::kernels::table().uniform(static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32),
                                  static_cast<uint32_t>(first_row * input_size_), n * I, *map_,
                                  input);
  targets(rows, input, target);
}

void BatchStream::targets(int64_t rows, const float* input, float* target) const {
  check(table_ == nullptr, "task: a table task's targets are looked up, not computed");
  const auto& k = fused::kernels::table();
  const int n = checked_narrow<int>(rows, "batch stream: rows");
  const int I = checked_narrow<int>(input_size_, "batch stream: input size");
  // a and b in float (as the model sees them), the operation in double.
  float a[kRowBlock], b[kRowBlock];
  for (int r0 = 0; r0 < n; r0 += kRowBlock) {
    const int block = std::min(kRowBlock, n - r0);
    const float* x = input + static_cast<int64_t>(r0) * I;
    k.row_sums(block, I, x, static_cast<int>(subsets_.a_begin), static_cast<int>(subsets_.a_end),
               a);
    k.row_sums(block, I, x, static_cast<int>(subsets_.b_begin), static_cast<int>(subsets_.b_end),
               b);
    for (int r = 0; r < block; ++r)
      target[r0 + r] = static_cast<float>(apply_operation(op_, a[r], b[r]));
  }
}

Batch BatchStream::batch(int64_t step, int64_t batch_size) const {
  Batch batch;
  batch.input = torch::empty({batch_size, input_size_}, torch::kFloat);
  batch.target = torch::empty({batch_size, 1}, torch::kFloat);
  fill(step, batch_size, batch.input.data_ptr<float>(), batch.target.data_ptr<float>());
  return batch;
}

}  // namespace nalu

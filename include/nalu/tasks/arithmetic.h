// The static arithmetic task (Madsen & Johansen's convention, docs/design.md §3): x is drawn
// uniformly from a range, a and b are sums of two overlapping subsets of x, and the target is
// a+b, a-b, a*b, a/b, a^2 or sqrt(a). Everything is deterministic from a seed.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nalu/random.h"

namespace nalu {

enum class Operation { kAdd, kSub, kMul, kDiv, kSquare, kSqrt };

/// "add", "sub", "mul", "div", "square", "sqrt".
const std::vector<std::string>& operation_names();
Operation parse_operation(const std::string& name);
/// A comma-separated list of operation names ("add,sub,mul"); throws nalu::Error naming the
/// known ones for an unknown name, and for an empty list.
std::vector<Operation> parse_operations(const std::string& names);
std::string operation_name(Operation op);
/// "a + b", "a · b", ...
std::string operation_symbol(Operation op);

/// A half-open interval [low, high).
struct Interval {
  double low = 0.0;
  double high = 0.0;
};

/// A union of intervals to sample from uniformly (by length).
struct Range {
  std::vector<Interval> intervals;

  /// Parses "LOW:HIGH" or a union "LOW:HIGH,LOW:HIGH" (e.g. "-6:-2,2:6"); throws nalu::Error.
  static Range parse(const std::string& text);
  std::string str() const;  // the same syntax
  double length() const;
  double min() const;
  double max() const;
  /// Throws nalu::Error (naming `what`) for no intervals, NaN/Inf bounds, or low >= high.
  void validate(const std::string& what) const;
};

/// Explicit positions of the two subsets: a = sum x[a_begin, a_end), b = sum x[b_begin, b_end).
struct Subsets {
  int64_t a_begin = 0, a_end = 0, b_begin = 0, b_end = 0;
};

struct TableData;  // nalu/tasks/table.h

struct ArithmeticTaskOptions {
  Operation op = Operation::kAdd;
  int64_t input_size = 100;
  double subset_ratio = 0.25;  // each subset holds floor(ratio * input_size) elements
  double overlap_ratio = 0.5;  // the subsets share floor(ratio * subset size) elements
  Range interpolation{{{1.0, 2.0}}};
  Range extrapolation{{{2.0, 6.0}}};
  bool integers = false;  // draw floor(U[low, high)) instead of U[low, high)
  bool explicit_subsets = false;
  Subsets subsets;  // used when explicit_subsets
  int64_t evaluation_size = 10'000;
  uint64_t seed = 0;  // places the subsets and draws the evaluation sets
  /// When set, the task is this table's examples (`nalu fit`): batches are drawn from its
  /// training rows, and its validation and held-out rows are the interpolation and extrapolation
  /// sets. The operation, ranges, subsets and evaluation size are then unused, and input_size
  /// must be the table's input count.
  std::shared_ptr<const TableData> table;
};

struct Batch {
  torch::Tensor input;   // [B, input_size]
  torch::Tensor target;  // [B, 1]
};

/// Validated task with its fixed interpolation and extrapolation evaluation sets.
///
/// Example:
/// ```
/// nalu::ArithmeticTaskOptions options;
/// options.op = nalu::Operation::kMul;
/// nalu::ArithmeticTask task(options);
/// torch::Generator gen = nalu::make_generator(1);
/// nalu::Batch batch = task.sample(128, gen);
/// ```
class ArithmeticTask {
 public:
  explicit ArithmeticTask(ArithmeticTaskOptions options);

  /// A batch from the interpolation (training) range, or of training rows drawn with
  /// replacement for a table task.
  Batch sample(int64_t batch_size, torch::Generator& generator) const;
  /// A batch from any range; throws nalu::Error for a table task.
  Batch sample(int64_t batch_size, const Range& range, torch::Generator& generator) const;
  /// Targets for given inputs [B, input_size] -> [B, 1]; throws nalu::Error for a table task.
  torch::Tensor target(const torch::Tensor& input) const;

  const Batch& interpolation_set() const { return interpolation_set_; }
  const Batch& extrapolation_set() const { return extrapolation_set_; }
  const ArithmeticTaskOptions& options() const { return options_; }
  const Subsets& subsets() const { return subsets_; }
  /// "a = x[25:50], b = x[37:62], y = a · b", or for a table task "table rows: 600 training,
  /// 150 validation, 250 held out (max |x| >= 7.9)".
  std::string describe() const;

 private:
  ArithmeticTaskOptions options_;
  Subsets subsets_;
  Batch interpolation_set_;
  Batch extrapolation_set_;
};

/// The two subsets of an input of `input_size` elements: floor(subset_ratio * input_size)
/// elements each, overlapping by floor(overlap_ratio * subset size), placed at a position drawn
/// from a generator seeded with `placement_seed`. Throws nalu::Error ("task: ...") when they do
/// not fit. Shared by every task that sums subsets (static and recurrent).
Subsets place_subsets(int64_t input_size, double subset_ratio, double overlap_ratio,
                      uint64_t placement_seed);
/// op(a, b) with a, b the sums of `input`'s subsets: x:[B,I] -> y:[B,1], computed in double and
/// returned in x's dtype.
torch::Tensor apply_operation(Operation op, const Subsets& subsets, const torch::Tensor& input);
/// Peak bytes of drawing `rows` x `columns` uniform values from a range of `intervals`
/// intervals (doubles, their float copy, and for several intervals the positions, masks and
/// one temporary per interval): the estimate the memory checks use.
double sampling_bytes(double rows, double columns, size_t intervals);

/// Values drawn uniformly (by length) from the union `range`, as a double tensor of `sizes`.
/// Throws nalu::Error when drawing them would need more than machine_memory_bytes().
torch::Tensor sample_uniform(const Range& range, at::IntArrayRef sizes,
                             torch::Generator& generator);
/// sample_uniform into `out` (a double tensor), reusing its memory: the values
/// sample_uniform(range, out.sizes(), generator) gives from the same generator state. Drawing
/// many chunks of a one-interval range into one buffer saves allocating, and the system
/// zeroing, each chunk's memory; a range of several intervals still allocates its masks.
void sample_uniform_into(const Range& range, torch::Tensor& out, torch::Generator& generator);

}  // namespace nalu

// The static arithmetic task.
#include "nalu/tasks/arithmetic.h"

#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "nalu/error.h"
#include "nalu/limits.h"
#include "nalu/strings.h"
#include "nalu/tasks/table.h"

namespace nalu {

namespace {

// Streams of derive_seed(seed, stream) used by the task.
constexpr uint64_t kPositionsStream = 1;
constexpr uint64_t kInterpolationSetStream = 2;
constexpr uint64_t kExtrapolationSetStream = 3;

}  // namespace

const std::vector<std::string>& operation_names() {
  static const std::vector<std::string> kNames = {"add", "sub", "mul", "div", "square", "sqrt"};
  return kNames;
}

Operation parse_operation(const std::string& name) {
  return static_cast<Operation>(find_name(operation_names(), name, "operation"));
}

std::vector<Operation> parse_operations(const std::string& names) {
  std::vector<Operation> operations;
  for (const auto& name : split(names, ','))
    operations.push_back(parse_operation(name));
  check(!operations.empty(), "no operation given");
  return operations;
}

std::string operation_name(Operation op) {
  return operation_names().at(static_cast<size_t>(op));
}

std::string operation_symbol(Operation op) {
  switch (op) {
    case Operation::kAdd:
      return "a + b";
    case Operation::kSub:
      return "a − b";
    case Operation::kMul:
      return "a · b";
    case Operation::kDiv:
      return "a / b";
    case Operation::kSquare:
      return "a²";
    case Operation::kSqrt:
      return "√a";
  }
  return "?";
}

// ---- Range ----

Range Range::parse(const std::string& text) {
  Range range;
  std::stringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ',')) {
    const auto colon = part.find(':', part.empty() || part[0] != '-' ? 0 : 1);
    if (colon == std::string::npos) {
      throw Error("range '" + text + "': expected LOW:HIGH[,LOW:HIGH...], e.g. 1:2 or -6:-2,2:6");
    }
    Interval interval;
    try {
      size_t used = 0;
      const std::string low = part.substr(0, colon);
      const std::string high = part.substr(colon + 1);
      interval.low = std::stod(low, &used);
      if (used != low.size())
        throw std::invalid_argument(low);
      interval.high = std::stod(high, &used);
      if (used != high.size())
        throw std::invalid_argument(high);
    } catch (const std::logic_error&) {
      throw Error("range '" + text + "': '" + part + "' is not LOW:HIGH with two numbers");
    }
    range.intervals.push_back(interval);
  }
  if (range.intervals.empty())
    throw Error("range '" + text + "' is empty");
  return range;
}

std::string Range::str() const {
  std::vector<std::string> parts;
  for (const auto& interval : intervals) {
    parts.push_back(format_number(interval.low) + ":" + format_number(interval.high));
  }
  return join(parts, ",");
}

double Range::length() const {
  double total = 0.0;
  for (const auto& interval : intervals)
    total += interval.high - interval.low;
  return total;
}

double Range::min() const {
  double value = INFINITY;
  for (const auto& interval : intervals)
    value = std::min(value, interval.low);
  return value;
}

double Range::max() const {
  double value = -INFINITY;
  for (const auto& interval : intervals)
    value = std::max(value, interval.high);
  return value;
}

void Range::validate(const std::string& what) const {
  check(!intervals.empty(), what + " range is empty");
  for (const auto& interval : intervals) {
    check(std::isfinite(interval.low) && std::isfinite(interval.high),
          what + " range " + str() + " has a bound that is not a finite number");
    check(interval.low < interval.high,
          what + " range " + str() + " is empty or reversed (each LOW must be < HIGH)");
  }
}

// ---- seeds ----

// ---- subsets and targets ----

Subsets place_subsets(int64_t input_size, double subset_ratio, double overlap_ratio,
                      uint64_t placement_seed) {
  check(subset_ratio > 0 && subset_ratio <= 1,
        "task: subset ratio must be in (0, 1], got " + format_number(subset_ratio));
  check(overlap_ratio >= 0 && overlap_ratio < 1,
        "task: overlap ratio must be in [0, 1), got " + format_number(overlap_ratio));
  const auto subset = static_cast<int64_t>(std::floor(subset_ratio * input_size));
  const auto overlap = static_cast<int64_t>(std::floor(overlap_ratio * subset));
  check(subset >= 1, "task: subset ratio " + format_number(subset_ratio) + " of an input of size " +
                         std::to_string(input_size) + " selects no element");
  const int64_t span = 2 * subset - overlap;
  check(span <= input_size, "task: two subsets of " + std::to_string(subset) +
                                " elements overlapping by " + std::to_string(overlap) + " need " +
                                std::to_string(span) + " inputs, but the input size is " +
                                std::to_string(input_size));
  // The subsets' place is drawn once per dataset seed.
  auto generator = make_generator(placement_seed);
  const int64_t start =
      torch::randint(0, input_size - span + 1, {1}, generator, torch::kLong).item<int64_t>();
  return {start, start + subset, start + subset - overlap, start + span};
}

torch::Tensor apply_operation(Operation op, const Subsets& subsets, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  const auto x = input.to(torch::kDouble);
  const auto a = x.slice(1, subsets.a_begin, subsets.a_end).sum(1, true);
  const auto b = x.slice(1, subsets.b_begin, subsets.b_end).sum(1, true);
  torch::Tensor y;
  switch (op) {
    case Operation::kAdd:
      y = a + b;
      break;
    case Operation::kSub:
      y = a - b;
      break;
    case Operation::kMul:
      y = a * b;
      break;
    case Operation::kDiv:
      y = a / b;
      break;
    case Operation::kSquare:
      y = a * a;
      break;
    case Operation::kSqrt:
      y = a.sqrt();
      break;
  }
  return y.to(input.scalar_type());
}

double sampling_bytes(double rows, double columns, size_t intervals) {
  const double per_value =
      12.0 + (intervals > 1 ? 8.0 * (2.0 + static_cast<double>(intervals)) : 0.0);
  return rows * columns * per_value;
}

torch::Tensor sample_uniform(const Range& range, at::IntArrayRef sizes,
                             torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  // Checked here as well as in the run configurations, for programs that draw batches
  // themselves: refused in one line rather than by LibTorch's allocator.
  double rows = 1.0;
  for (size_t d = 0; d + 1 < sizes.size(); ++d)
    rows *= static_cast<double>(sizes[d]);
  const double columns = sizes.empty() ? 1.0 : static_cast<double>(sizes.back());
  const double bytes = sampling_bytes(rows, columns, range.intervals.size());
  if (bytes > static_cast<double>(machine_memory_bytes())) {  // the message only when needed
    std::string shape;
    for (size_t d = 0; d + 1 < sizes.size(); ++d)
      shape += std::string(d == 0 ? "" : " x ") + std::to_string(sizes[d]);
    check_memory(
        {"task: drawing samples",
         shape + " rows of " + std::to_string(sizes.empty() ? 1 : sizes.back()) + " values",
         bytes});
  }
  if (range.intervals.size() == 1) {
    // The common case, without the masks that cost most of the time.
    auto out = torch::empty(sizes, torch::kDouble);
    sample_uniform_into(range, out, generator);
    return out;
  }
  // Uniform over the union: draw a position along the total length, then map it into its
  // interval.
  auto u = torch::rand(sizes, generator, torch::kDouble) * range.length();
  auto x = torch::empty_like(u);
  double offset = 0.0;
  auto assigned = torch::zeros_like(u, torch::kBool);
  for (const auto& interval : range.intervals) {
    const double width = interval.high - interval.low;
    auto inside = (u >= offset) & (u < offset + width) & ~assigned;
    x = torch::where(inside, u - offset + interval.low, x);
    assigned |= inside;
    offset += width;
  }
  // Rounding can leave u == length: put it at the top of the last interval.
  return torch::where(assigned, x, torch::full_like(x, range.intervals.back().high));
}

void sample_uniform_into(const Range& range, torch::Tensor& out, torch::Generator& generator) {
  torch::NoGradGuard no_grad;
  check(out.scalar_type() == torch::kDouble, "sample_uniform_into: needs a double tensor");
  if (range.intervals.size() == 1) {
    // torch::rand is empty() then uniform_(0, 1): the same draws.
    const auto& interval = range.intervals.front();
    out.uniform_(0.0, 1.0, generator)
        .mul_(interval.high - interval.low)
        .add_(interval.low)
        .clamp_max_(interval.high);
    return;
  }
  out.copy_(sample_uniform(range, out.sizes(), generator));
}

// ---- ArithmeticTask ----

ArithmeticTask::ArithmeticTask(ArithmeticTaskOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  check(o.input_size > 0, "task: input size must be positive, got " + std::to_string(o.input_size));
  if (o.table) {
    const auto columns = o.table->training_input.size(1);
    check(columns == o.input_size, "task: the table has " + std::to_string(columns) +
                                       " inputs but the input size is " +
                                       std::to_string(o.input_size));
    interpolation_set_ = o.table->validation;
    extrapolation_set_ = o.table->holdout;
    return;
  }
  check(o.evaluation_size > 0,
        "task: evaluation size must be positive, got " + std::to_string(o.evaluation_size));
  o.interpolation.validate("interpolation");
  o.extrapolation.validate("extrapolation");
  if (o.op == Operation::kSqrt) {
    check(o.interpolation.min() >= 0 && o.extrapolation.min() >= 0,
          "task: sqrt needs non-negative ranges, got interpolation " + o.interpolation.str() +
              " and extrapolation " + o.extrapolation.str());
  }
  if (o.integers) {
    for (const Range* range : {&o.interpolation, &o.extrapolation}) {
      for (const auto& interval : range->intervals) {
        check(std::ceil(interval.low) < interval.high,
              "task: range " + range->str() + " holds no integer");
      }
    }
  }

  if (o.explicit_subsets) {
    const auto& s = o.subsets;
    for (auto [begin, end] : {std::pair{s.a_begin, s.a_end}, std::pair{s.b_begin, s.b_end}}) {
      check(0 <= begin && begin < end && end <= o.input_size,
            "task: subset [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") does not fit an input of size " + std::to_string(o.input_size));
    }
    subsets_ = s;
  } else {
    subsets_ = place_subsets(o.input_size, o.subset_ratio, o.overlap_ratio,
                             derive_seed(o.seed, kPositionsStream));
  }

  auto interpolation_generator = make_generator(derive_seed(o.seed, kInterpolationSetStream));
  auto extrapolation_generator = make_generator(derive_seed(o.seed, kExtrapolationSetStream));
  interpolation_set_ = sample(o.evaluation_size, o.interpolation, interpolation_generator);
  extrapolation_set_ = sample(o.evaluation_size, o.extrapolation, extrapolation_generator);
}

Batch ArithmeticTask::sample(int64_t batch_size, torch::Generator& generator) const {
  if (options_.table) {
    check(batch_size > 0, "task: batch size must be positive, got " + std::to_string(batch_size));
    const auto& table = *options_.table;
    const auto rows = torch::randint(table.training_input.size(0), {batch_size}, generator,
                                     torch::TensorOptions(torch::kLong));
    return {table.training_input.index_select(0, rows),
            table.training_target.index_select(0, rows)};
  }
  return sample(batch_size, options_.interpolation, generator);
}

Batch ArithmeticTask::sample(int64_t batch_size, const Range& range,
                             torch::Generator& generator) const {
  check(!options_.table, "task: a table's examples are not drawn from a range");
  check(batch_size > 0, "task: batch size must be positive, got " + std::to_string(batch_size));
  torch::NoGradGuard no_grad;
  auto x = sample_uniform(range, {batch_size, options_.input_size}, generator);
  if (options_.integers)
    x = x.floor();
  x = x.to(torch::kFloat);
  return {x, target(x)};
}

torch::Tensor ArithmeticTask::target(const torch::Tensor& input) const {
  check(!options_.table, "task: a table's targets have no formula to compute them from");
  return apply_operation(options_.op, subsets_, input);
}

std::string ArithmeticTask::describe() const {
  if (options_.table) {
    const auto& t = *options_.table;
    return "table rows: " + std::to_string(t.training_rows.size()) + " training, " +
           std::to_string(t.validation_rows.size()) + " validation, " +
           std::to_string(t.holdout_rows.size()) +
           " held out (max |x| >= " + format_number(t.holdout_magnitude) + ")";
  }
  const auto& s = subsets_;
  std::string text = "a = sum x[" + std::to_string(s.a_begin) + ":" + std::to_string(s.a_end) + "]";
  if (options_.op != Operation::kSquare && options_.op != Operation::kSqrt) {
    text += ", b = sum x[" + std::to_string(s.b_begin) + ":" + std::to_string(s.b_end) + "]";
  }
  return text + ", y = " + operation_symbol(options_.op);
}

}  // namespace nalu

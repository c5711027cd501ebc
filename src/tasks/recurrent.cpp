// The recurrent arithmetic task.
#include "nalu/tasks/recurrent.h"

#include <torch/torch.h>

#include "nalu/error.h"

namespace nalu {

namespace {

// Streams of derive_seed(seed, stream) used by the recurrent task (the static task uses 1-3,
// the trainers 10-11 and 33-34, the metrics 20).
constexpr uint64_t kPositionsStream = 30;
constexpr uint64_t kInterpolationSetStream = 31;
constexpr uint64_t kExtrapolationSetStream = 32;

void check_positive(int64_t value, const std::string& what) {
  check(value > 0, "recurrent task: " + what + " must be positive, got " + std::to_string(value));
}

}  // namespace

void RecurrentTaskOptions::validate() const {
  check_positive(input_size, "input size");
  check_positive(train_length, "train length");
  check_positive(interpolation_length, "interpolation length");
  check_positive(extrapolation_length, "extrapolation length");
  check_positive(evaluation_size, "evaluation size");
  interpolation.validate("recurrent task: interpolation");
  extrapolation.validate("recurrent task: extrapolation");
  if (op == Operation::kSqrt) {
    check(interpolation.min() >= 0 && extrapolation.min() >= 0,
          "recurrent task: sqrt needs non-negative ranges, got interpolation " +
              interpolation.str() + " and extrapolation " + extrapolation.str());
  }
  place_subsets(input_size, subset_ratio, overlap_ratio, 0);
}

RecurrentArithmeticTask::RecurrentArithmeticTask(RecurrentTaskOptions options)
    : options_(std::move(options)) {
  const auto& o = options_;
  o.validate();
  subsets_ = place_subsets(o.input_size, o.subset_ratio, o.overlap_ratio,
                           derive_seed(o.seed, kPositionsStream));
  auto interpolation_generator = make_generator(derive_seed(o.seed, kInterpolationSetStream));
  auto extrapolation_generator = make_generator(derive_seed(o.seed, kExtrapolationSetStream));
  interpolation_set_ =
      sample(o.evaluation_size, o.interpolation_length, o.interpolation, interpolation_generator);
  extrapolation_set_ =
      sample(o.evaluation_size, o.extrapolation_length, o.extrapolation, extrapolation_generator);
}

Batch RecurrentArithmeticTask::sample(int64_t batch_size, torch::Generator& generator) const {
  return sample(batch_size, options_.train_length, options_.interpolation, generator);
}

Batch RecurrentArithmeticTask::sample(int64_t batch_size, int64_t length, const Range& range,
                                      torch::Generator& generator) const {
  check_positive(batch_size, "batch size");
  check_positive(length, "sequence length");
  range.validate("recurrent task: sample");
  const auto x =
      sample_uniform(range, {batch_size, length, options_.input_size}, generator).to(torch::kFloat);
  return {x, target(x)};
}

torch::Tensor RecurrentArithmeticTask::target(const torch::Tensor& input) const {
  TORCH_CHECK(input.dim() == 3 && input.size(2) == options_.input_size,
              "recurrent task: expected sequences [batch, steps, ", options_.input_size, "], got ",
              input.sizes());
  // a and b add up over the steps, so sum the steps first (in double) and reuse the static
  // task's operation on the totals.
  const auto totals = input.detach().to(torch::kDouble).sum(1);
  return apply_operation(options_.op, subsets_, totals).to(input.scalar_type());
}

std::string RecurrentArithmeticTask::describe() const {
  const auto& s = subsets_;
  std::string text = "a = sum_t x_t[";
  text += std::to_string(s.a_begin) + ":" + std::to_string(s.a_end) + "]";
  if (options_.op != Operation::kSquare && options_.op != Operation::kSqrt) {
    text += ", b = sum_t x_t[";
    text += std::to_string(s.b_begin) + ":" + std::to_string(s.b_end) + "]";
  }
  return text + ", y = " + operation_symbol(options_.op);
}

}  // namespace nalu

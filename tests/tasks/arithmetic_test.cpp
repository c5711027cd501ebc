// The static arithmetic task: targets, subsets, ranges, determinism and validation.
#include "nalu/tasks/arithmetic.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nalu/error.h"
#include "test_util.h"

namespace nalu {
namespace {

ArithmeticTaskOptions small_options(Operation op) {
  ArithmeticTaskOptions options;
  options.op = op;
  options.input_size = 8;
  options.evaluation_size = 64;
  options.seed = 3;
  return options;
}

TEST(ArithmeticTask, SubsetsFollowRatiosAndOverlap) {
  ArithmeticTaskOptions options;  // the field's standard: 100 inputs, ratio 0.25, overlap 0.5
  options.evaluation_size = 16;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    options.seed = seed;
    const ArithmeticTask task(options);
    const auto& s = task.subsets();
    EXPECT_EQ(s.a_end - s.a_begin, 25);
    EXPECT_EQ(s.b_end - s.b_begin, 25);
    EXPECT_EQ(s.a_end - s.b_begin, 12);  // floor(0.5 * 25) shared elements
    EXPECT_GE(s.a_begin, 0);
    EXPECT_LE(s.b_end, 100);
  }
}

TEST(ArithmeticTask, TargetsMatchEveryOperation) {
  const auto x = torch::tensor({{1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f}});
  for (const auto& name : operation_names()) {
    auto options = small_options(parse_operation(name));
    options.explicit_subsets = true;
    options.subsets = {0, 2, 1, 4};  // a = 1 + 2 = 3, b = 2 + 3 + 4 = 9
    const ArithmeticTask task(options);
    const double y = task.target(x).item<double>();
    const double a = 3.0, b = 9.0;
    const double expected = name == "add"      ? a + b
                            : name == "sub"    ? a - b
                            : name == "mul"    ? a * b
                            : name == "div"    ? a / b
                            : name == "square" ? a * a
                                               : std::sqrt(a);
    EXPECT_NEAR(y, expected, 1e-6) << name;
  }
}

TEST(ArithmeticTask, SamplesStayInTheirRanges) {
  auto options = small_options(Operation::kAdd);
  options.interpolation = Range::parse("-2:-1,3:4");
  options.extrapolation = Range::parse("10:20");
  const ArithmeticTask task(options);
  auto generator = make_generator(5);
  const auto batch = task.sample(4096, generator);
  const auto x = batch.input;
  EXPECT_TRUE((((x >= -2) & (x < -1)) | ((x >= 3) & (x < 4))).all().item<bool>());
  // Both intervals are drawn, in proportion to their (equal) lengths.
  const double share_negative = (x < 0).to(torch::kDouble).mean().item<double>();
  EXPECT_NEAR(share_negative, 0.5, 0.02);
  const auto& e = task.extrapolation_set().input;
  EXPECT_TRUE(((e >= 10) & (e < 20)).all().item<bool>());
  EXPECT_EQ(task.extrapolation_set().input.size(0), 64);
  EXPECT_TRUE(torch::allclose(batch.target, task.target(batch.input)));
}

TEST(ArithmeticTask, IntegersAreDrawnWhenAsked) {
  auto options = small_options(Operation::kMul);
  options.input_size = 2;
  options.integers = true;
  options.interpolation = Range::parse("0:9");
  options.explicit_subsets = true;
  options.subsets = {0, 1, 1, 2};
  const ArithmeticTask task(options);
  auto generator = make_generator(1);
  const auto x = task.sample(1000, generator).input;
  EXPECT_TRUE(torch::equal(x, x.floor()));
  EXPECT_EQ(x.min().item<float>(), 0.0f);
  EXPECT_EQ(x.max().item<float>(), 8.0f);
}

TEST(ArithmeticTask, SameSeedSameData) {
  const ArithmeticTask first(small_options(Operation::kMul));
  const ArithmeticTask second(small_options(Operation::kMul));
  EXPECT_TRUE(torch::equal(first.interpolation_set().input, second.interpolation_set().input));
  EXPECT_TRUE(torch::equal(first.extrapolation_set().target, second.extrapolation_set().target));
  auto other_options = small_options(Operation::kMul);
  other_options.seed = 4;
  const ArithmeticTask other(other_options);
  EXPECT_FALSE(torch::equal(first.interpolation_set().input, other.interpolation_set().input));
  auto g1 = make_generator(9), g2 = make_generator(9);
  EXPECT_TRUE(torch::equal(first.sample(16, g1).input, first.sample(16, g2).input));
}

TEST(ArithmeticTask, RejectsBadSettings) {
  auto options = small_options(Operation::kAdd);
  options.input_size = 0;
  EXPECT_THROW_WITH(ArithmeticTask{options}, "input size must be positive");

  options = small_options(Operation::kAdd);
  options.subset_ratio = 0.9;  // two subsets of 7 overlapping by 3 need 11 > 8 inputs
  EXPECT_THROW_WITH(ArithmeticTask{options}, "but the input size is 8");

  options = small_options(Operation::kAdd);
  options.subset_ratio = 0.05;
  EXPECT_THROW_WITH(ArithmeticTask{options}, "selects no element");

  options = small_options(Operation::kAdd);
  options.interpolation = Range{{{2.0, 1.0}}};
  EXPECT_THROW_WITH(ArithmeticTask{options}, "empty or reversed");

  options = small_options(Operation::kAdd);
  options.extrapolation = Range{{{1.0, NAN}}};
  EXPECT_THROW_WITH(ArithmeticTask{options}, "not a finite number");

  options = small_options(Operation::kSqrt);
  options.interpolation = Range::parse("-1:1");
  EXPECT_THROW_WITH(ArithmeticTask{options}, "sqrt needs non-negative ranges");

  options = small_options(Operation::kAdd);
  options.explicit_subsets = true;
  options.subsets = {0, 4, 6, 9};
  EXPECT_THROW_WITH(ArithmeticTask{options}, "does not fit an input of size 8");

  EXPECT_THROW_WITH(parse_operation("pow"), "unknown operation 'pow'");
}

TEST(Range, ParsesUnionsAndRejectsGarbage) {
  const auto range = Range::parse("-6:-2,2:6");
  ASSERT_EQ(range.intervals.size(), 2u);
  EXPECT_EQ(range.intervals[0].low, -6.0);
  EXPECT_EQ(range.intervals[0].high, -2.0);
  EXPECT_EQ(range.str(), "-6:-2,2:6");
  EXPECT_DOUBLE_EQ(range.length(), 8.0);
  EXPECT_DOUBLE_EQ(Range::parse("0.1:0.2").max(), 0.2);
  EXPECT_THROW_WITH(Range::parse("1-2"), "expected LOW:HIGH");
  EXPECT_THROW_WITH(Range::parse("a:2"), "is not LOW:HIGH with two numbers");
  EXPECT_THROW_WITH(Range::parse("1:2x"), "is not LOW:HIGH with two numbers");
  EXPECT_THROW_WITH(Range::parse(""), "is empty");
}

TEST(DeriveSeed, StreamsDiffer) {
  EXPECT_NE(derive_seed(1, 0), derive_seed(1, 1));
  EXPECT_NE(derive_seed(1, 0), derive_seed(2, 0));
  EXPECT_EQ(derive_seed(7, 3), derive_seed(7, 3));
}

}  // namespace
}  // namespace nalu

// The recurrent arithmetic task: targets over time, subsets, lengths, determinism, validation.
#include "nalu/tasks/recurrent.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nalu/error.h"
#include "test_util.h"

namespace nalu {
namespace {

// Three inputs with subset ratio 2/3 leave one place for the subsets: a = x0 + x1, b = x1 + x2.
RecurrentTaskOptions three_inputs(Operation op) {
  RecurrentTaskOptions options;
  options.op = op;
  options.input_size = 3;
  options.subset_ratio = 2.0 / 3.0 + 1e-9;
  options.evaluation_size = 10;
  return options;
}

TEST(RecurrentTask, TargetsAccumulateOverEveryStepForEveryOperation) {
  // Two steps: a = (1 + 2) + (4 + 5) = 12, b = (2 + 3) + (5 + 6) = 16.
  const auto sequence = torch::tensor({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}).reshape({1, 2, 3});
  const std::vector<std::pair<Operation, double>> expected = {
      {Operation::kAdd, 28.0}, {Operation::kSub, -4.0},   {Operation::kMul, 192.0},
      {Operation::kDiv, 0.75}, {Operation::kSquare, 144}, {Operation::kSqrt, std::sqrt(12.0)}};
  for (const auto& [op, value] : expected) {
    const RecurrentArithmeticTask task(three_inputs(op));
    ASSERT_EQ(task.subsets().a_begin, 0);
    ASSERT_EQ(task.subsets().a_end, 2);
    ASSERT_EQ(task.subsets().b_begin, 1);
    ASSERT_EQ(task.subsets().b_end, 3);
    const auto target = task.target(sequence);
    ASSERT_EQ(target.sizes(), (std::vector<int64_t>{1, 1}));
    EXPECT_NEAR(target.item<double>(), value, 1e-5) << operation_name(op);
  }
}

TEST(RecurrentTask, DefaultsGiveTenStepsToTrainAndAHundredToExtrapolate) {
  const RecurrentArithmeticTask task(RecurrentTaskOptions{});
  const auto& interpolation = task.interpolation_set();
  const auto& extrapolation = task.extrapolation_set();
  EXPECT_EQ(interpolation.input.sizes(), (std::vector<int64_t>{1000, 10, 10}));
  EXPECT_EQ(extrapolation.input.sizes(), (std::vector<int64_t>{1000, 100, 10}));
  EXPECT_EQ(extrapolation.target.sizes(), (std::vector<int64_t>{1000, 1}));
  for (const auto* batch : {&interpolation, &extrapolation}) {
    EXPECT_GE(batch->input.min().item<double>(), 1.0);
    EXPECT_LT(batch->input.max().item<double>(), 2.0);
  }
  // Subsets of 10 inputs: 2 elements each, overlapping in 1.
  const auto& s = task.subsets();
  EXPECT_EQ(s.a_end - s.a_begin, 2);
  EXPECT_EQ(s.b_end - s.b_begin, 2);
  EXPECT_EQ(s.a_end - s.b_begin, 1);
  // Ten times the steps, about ten times a + b (each step adds 4 values of mean 1.5).
  EXPECT_NEAR(interpolation.target.mean().item<double>(), 60.0, 1.0);
  EXPECT_NEAR(extrapolation.target.mean().item<double>(), 600.0, 5.0);
  auto generator = make_generator(5);
  const Batch batch = task.sample(7, generator);
  EXPECT_EQ(batch.input.sizes(), (std::vector<int64_t>{7, 10, 10}));
  EXPECT_TRUE(torch::equal(batch.target, task.target(batch.input)));
}

TEST(RecurrentTask, SameSeedSameDataOtherSeedOtherData) {
  RecurrentTaskOptions options;
  options.op = Operation::kMul;
  options.evaluation_size = 50;
  options.seed = 3;
  const RecurrentArithmeticTask first(options), second(options);
  EXPECT_TRUE(torch::equal(first.interpolation_set().input, second.interpolation_set().input));
  EXPECT_TRUE(torch::equal(first.extrapolation_set().target, second.extrapolation_set().target));
  options.seed = 4;
  const RecurrentArithmeticTask other(options);
  EXPECT_FALSE(torch::equal(first.interpolation_set().input, other.interpolation_set().input));
  // Its own streams: the evaluation sets differ from each other.
  EXPECT_FALSE(torch::equal(first.interpolation_set().input,
                            first.extrapolation_set().input.slice(1, 0, 10)));
}

TEST(RecurrentTask, PlacesSubsetsAsTheStaticTaskDoes) {
  // The static task places its subsets with place_subsets on stream 1 of its seed.
  ArithmeticTaskOptions options;
  options.seed = 11;
  options.evaluation_size = 1;
  const ArithmeticTask task(options);
  const Subsets placed = place_subsets(100, 0.25, 0.5, derive_seed(11, 1));
  EXPECT_EQ(placed.a_begin, task.subsets().a_begin);
  EXPECT_EQ(placed.b_end, task.subsets().b_end);
  EXPECT_EQ(placed.a_end - placed.a_begin, 25);
  EXPECT_EQ(placed.a_end - placed.b_begin, 12);
}

TEST(RecurrentTask, DescribesItsSubsets) {
  const RecurrentArithmeticTask task(three_inputs(Operation::kMul));
  EXPECT_EQ(task.describe(), "a = sum_t x_t[0:2], b = sum_t x_t[1:3], y = a · b");
}

TEST(RecurrentTask, RejectsBadSettingsWithOneLine) {
  auto with = [](auto change) {
    RecurrentTaskOptions options;
    change(options);
    return options;
  };
  EXPECT_THROW_WITH(RecurrentArithmeticTask(with([](auto& o) { o.train_length = 0; })),
                    "recurrent task: train length must be positive, got 0");
  EXPECT_THROW_WITH(RecurrentArithmeticTask(with([](auto& o) { o.extrapolation_length = -3; })),
                    "recurrent task: extrapolation length must be positive, got -3");
  EXPECT_THROW_WITH(RecurrentArithmeticTask(with([](auto& o) { o.input_size = 0; })),
                    "recurrent task: input size must be positive, got 0");
  EXPECT_THROW_WITH(RecurrentArithmeticTask(with([](auto& o) {
                      o.interpolation = Range{{{2.0, 1.0}}};
                    })),
                    "recurrent task: interpolation range 2:1 is empty or reversed");
  EXPECT_THROW_WITH(RecurrentArithmeticTask(with([](auto& o) { o.extrapolation = Range{}; })),
                    "recurrent task: extrapolation range is empty");
  EXPECT_THROW_WITH(RecurrentArithmeticTask(with([](auto& o) {
                      o.op = Operation::kSqrt;
                      o.interpolation = Range{{{-1.0, 1.0}}};
                    })),
                    "recurrent task: sqrt needs non-negative ranges");
  EXPECT_THROW_WITH(RecurrentArithmeticTask(with([](auto& o) { o.input_size = 2; })),
                    "task: subset ratio 0.25 of an input of size 2 selects no element");
  const RecurrentArithmeticTask task(with([](auto& o) { o.evaluation_size = 2; }));
  EXPECT_THROW_WITH(task.target(torch::ones({2, 10})), "expected sequences [batch, steps, 10]");
}

}  // namespace
}  // namespace nalu

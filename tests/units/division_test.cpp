// NRU and NMRU against hand computations: the forward in training and in evaluation, the sign
// of products with negative inputs, the reciprocal at zero, start ranges, clamping and the
// regularisers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nalu/tasks/arithmetic.h"
#include "nalu/train/trainer.h"
#include "nalu/units/division.h"
#include "nalu/units/stack.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::assign;
using testing::close_to;
using testing::matrix;

TEST(NruTest, DividesAndMultipliesWithSignsInBothModes) {
  NRU nru(3, 2);
  auto w = nru->named_parameters()["weight"];
  assign(w, matrix({{1, -1, 0}, {-1, 1, 1}}));
  const auto x = matrix({{3, -2, 5}, {-4, 0.5, 7}});
  const auto expected = matrix({{3.0 / -2.0, -2.0 * 5.0 / 3.0}, {-4.0 / 0.5, 0.5 * 7.0 / -4.0}});
  nru->eval();  // A(w) = |w|
  EXPECT_TRUE(close_to(nru(x), expected, 1e-6, 1e-6));
  nru->train();  // A(w) = tanh(1000 w)^2, which is 1 and 0 in float at these weights
  EXPECT_TRUE(close_to(nru(x), expected, 1e-6, 1e-6));
}

TEST(NruTest, InBetweenWeightsFollowTheFormulaInEachMode) {
  NRU nru(2, 1);
  auto w = nru->named_parameters()["weight"];
  assign(w, matrix({{0.5, -0.002}}));
  const double x0 = -4.0, x1 = 2.0;
  const auto x = matrix({{x0, x1}});
  auto factor = [](double x, double w, double a) {
    return (x < 0 ? -1.0 : 1.0) * std::pow(std::abs(x), w) * a + 1 - a;
  };
  nru->eval();
  const double eval_y = factor(x0, 0.5, 0.5) * factor(x1, -0.002, 0.002);
  EXPECT_NEAR(nru(x).item<double>(), eval_y, 1e-5);
  nru->train();
  const double a0 = std::pow(std::tanh(500.0), 2), a1 = std::pow(std::tanh(-2.0), 2);
  const double train_y = factor(x0, 0.5, a0) * factor(x1, -0.002, a1);
  EXPECT_NEAR(nru(x).item<double>(), train_y, 1e-5);
  EXPECT_GT(std::abs(train_y - eval_y), 0.1);  // the two modes differ here
}

TEST(NruTest, StartsWithinItsRangeClampsAndRegularises) {
  torch::manual_seed(3);
  NRU wide(2, 1);  // r = min(0.5, sqrt(6 / 3)) = 0.5
  EXPECT_LE(wide->weight.abs().max().item<double>(), 0.5);
  NRU narrow(200, 100);  // r = sqrt(6 / 300)
  EXPECT_LE(narrow->weight.abs().max().item<double>(), std::sqrt(6.0 / 300.0) + 1e-7);
  EXPECT_GT(narrow->weight.abs().max().item<double>(), 0.9 * std::sqrt(6.0 / 300.0));

  auto w = wide->named_parameters()["weight"];
  assign(w, matrix({{0.5, -0.25}}));
  // 2 · mean(min(|W|, 1 - |W|)) = 2 · (0.5 + 0.25) / 2.
  EXPECT_NEAR(wide->regularization_loss(2.0).item<double>(), 0.75, 1e-6);
  EXPECT_NEAR(wide->sparsity_error(), 0.5, 1e-6);
  assign(w, matrix({{0.5, -1.5}}));
  wide->after_optimizer_step();
  EXPECT_TRUE(close_to(wide->weight, matrix({{0.5, -1.0}}), 0.0));
  // The authors' ramp, 50,000-75,000, on their 10^5-step runs.
  const auto schedule = scaled_to_run(wide->default_regularizer(), 100'000);
  EXPECT_EQ(schedule.start, 50'000);
  EXPECT_EQ(schedule.end, 75'000);
  EXPECT_EQ(schedule.scale, 10.0);
}

TEST(NmruTest, DividesWithTheSignOfTheQuotient) {
  NMRU nmru(2, 2);
  auto w = nmru->named_parameters()["weight"];
  // Output 0: x0 / x1; output 1: x0 · x1.
  assign(w, matrix({{1, 0, 0, 1}, {1, 1, 0, 0}}));
  nmru->eval();
  const auto x = matrix({{3, -2}, {-4, -0.5}, {-1.5, 6}});
  const auto expected = matrix({{-1.5, -6}, {8, 2}, {-0.25, -9}});
  EXPECT_TRUE(close_to(nmru(x), expected, 1e-6, 1e-6));
}

TEST(NmruTest, TrainingOffsetsTheReciprocalAndEvaluationDoesNot) {
  NMRU nmru(1, 1);
  auto w = nmru->named_parameters()["weight"];
  assign(w, matrix({{0, 1}}));  // 1 / x0
  const auto zero = matrix({{0}});
  nmru->train();
  const double trained = nmru(zero).item<double>();
  EXPECT_TRUE(std::isfinite(trained));
  EXPECT_NEAR(trained, 1.0 / 1.1920928955078125e-07, 1.0);
  nmru->eval();
  EXPECT_TRUE(std::isinf(nmru(zero).item<double>()));
  EXPECT_NEAR(nmru(matrix({{4}})).item<double>(), 0.25, 1e-7);
}

TEST(NmruTest, StartsWithinItsRangeClampsAndRegularises) {
  torch::manual_seed(4);
  NMRU nmru(3, 2);
  EXPECT_EQ(nmru->weight.sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_GE(nmru->weight.min().item<double>(), 0.25);
  EXPECT_LE(nmru->weight.max().item<double>(), 0.75);
  auto w = nmru->named_parameters()["weight"];
  assign(w, matrix({{0.5, 1.5, -0.25, 0, 1, 0.75}, {0, 0, 0, 0, 0, 0}}));
  // mean(min(W, 1 - W)) over 12 weights: 0.5 - 0.5 - 0.25 + 0 + 0 + 0.25 = 0.
  EXPECT_NEAR(nmru->regularization_loss(1.0).item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(nmru->sparsity_error(), 0.5, 1e-6);
  nmru->after_optimizer_step();
  EXPECT_TRUE(close_to(nmru->weight[0], torch::tensor({0.5, 1.0, 0.0, 0.0, 1.0, 0.75}), 0.0));
}

// nalu::evaluate reports a model in evaluation mode, as the units' authors test them, and
// leaves the model in the mode it found it in.
TEST(DivisionUnits, AreEvaluatedInEvaluationMode) {
  auto model = make_stack({"nru"}, {2, 1}, {});
  auto w = model->named_parameters()["layer0.weight"];
  assign(w, matrix({{0.5, -0.002}}));  // A(w) differs between the modes (test above)
  Batch batch;
  batch.input = matrix({{-4.0, 2.0}, {3.0, 5.0}});
  batch.target = torch::zeros({2, 1});
  model->eval();
  const double expected = model->forward(batch.input).square().mean().item<double>();
  model->train();
  const double in_training = model->forward(batch.input).square().mean().item<double>();
  ASSERT_GT(std::abs(expected - in_training), 1e-3);
  EXPECT_NEAR(evaluate(*model, batch, 0.0, 0.0).first, expected, 1e-6 * expected);
  EXPECT_TRUE(model->is_training());
}

}  // namespace
}  // namespace nalu

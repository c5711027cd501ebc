// NAU: exact addition and subtraction with weights in {-1, 0, 1}, the read-back formula and its
// rounding error, the regulariser, the clamp after each step and the initialisation range.
#include "nalu/units/nau.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "test_util.h"

namespace nalu {
namespace {

using testing::assign;
using testing::close_to;
using testing::contains;
using testing::matrix;
using testing::message_of;

TEST(NauTest, ExactAddAndSubtractIncludingNegatives) {
  torch::manual_seed(0);
  NAU nau(3, 2);
  assign(nau->weight, matrix({{1, 1, 0}, {1, 0, -1}}));
  const auto x = matrix({{1.5, -2.25, 9}, {-3, 7, -4}, {-100, -0.5, 2}, {0, 0, 0}});
  const auto expected = matrix({{-0.75, -7.5}, {4, 1}, {-100.5, -102}, {0, 0}});
  EXPECT_TRUE(close_to(nau(x), expected, 1e-6));
  EXPECT_TRUE(close_to(functional::nau(x, nau->weight), expected, 1e-6));
}

TEST(NauTest, FormulaReadsHandSetWeights) {
  torch::manual_seed(1);
  NAU nau(3, 1);
  assign(nau->weight, matrix({{1, 0, -1}}));
  auto formula = nau->formula();
  EXPECT_EQ(formula.str(), "y0 = x0 − x2");
  EXPECT_EQ(formula.max_rounding_error, 0.0);
  EXPECT_TRUE(formula.exact());

  // One weight 0.9 away: still reads x1, with rounding error 0.1.
  assign(nau->weight, matrix({{1, 0.9, -1}}));
  formula = nau->formula();
  EXPECT_EQ(formula.str(), "y0 = x0 + x1 − x2");
  EXPECT_NEAR(formula.max_rounding_error, 0.1, 1e-6);
  EXPECT_FALSE(formula.exact());
}

TEST(NauTest, DivergedWeightsAreNotAnExactFormula) {
  torch::manual_seed(8);
  NAU nau(2, 1);
  assign(nau->weight, matrix({{std::nan(""), 1}}));
  EXPECT_FALSE(nau->formula().exact());
  EXPECT_TRUE(std::isnan(nau->formula().max_rounding_error));
  EXPECT_TRUE(std::isnan(nau->sparsity_error()));
}

TEST(NauTest, RegularizationLossIsScaledMeanDistanceToSparse) {
  torch::manual_seed(2);
  NAU nau(4, 1);
  assign(nau->weight, matrix({{1, 0.3, -0.6, 0}}));
  // min(|W|, 1 - |W|) = {0, 0.3, 0.4, 0}, mean 0.175.
  EXPECT_NEAR(nau->regularization_loss(1.0).item<double>(), 0.175, 1e-6);
  EXPECT_NEAR(nau->regularization_loss(4.0).item<double>(), 0.7, 1e-6);
  EXPECT_NEAR(functional::nau_regularizer(nau->weight).item<double>(), 0.175, 1e-6);

  // The loss is differentiable in W: d/dW of mean(min(|W|, 1 - |W|)) at 0.3 is +1/4, at -0.6
  // (1 - |W| branch) is +1/4 as well.
  nau->regularization_loss(1.0).backward();
  EXPECT_NEAR(nau->weight.grad()[0][1].item<double>(), 0.25, 1e-6);
  EXPECT_NEAR(nau->weight.grad()[0][2].item<double>(), 0.25, 1e-6);
}

TEST(NauTest, AfterOptimizerStepClampsToPlusMinusOne) {
  torch::manual_seed(3);
  NAU nau(4, 1);
  assign(nau->weight, matrix({{1.5, -2, 0.3, -0.7}}));
  nau->after_optimizer_step();
  EXPECT_TRUE(close_to(nau->weight, matrix({{1, -1, 0.3, -0.7}}), 0.0));
}

TEST(NauTest, SparsityError) {
  torch::manual_seed(4);
  NAU nau(3, 1);
  assign(nau->weight, matrix({{1, 0, -1}}));
  EXPECT_EQ(nau->sparsity_error(), 0.0);
  assign(nau->weight, matrix({{1, -0.5, -1}}));
  EXPECT_NEAR(nau->sparsity_error(), 0.5, 1e-7);
  assign(nau->weight, matrix({{0.1, -0.8, 1}}));
  EXPECT_NEAR(nau->sparsity_error(), 0.2, 1e-6);
}

TEST(NauTest, InitialisesUniformWithinR) {
  torch::manual_seed(5);
  // r = min(0.5, sqrt(6 / (in + out))): 0.5 for small units, sqrt(6 / 102) for 100 -> 2.
  NAU small(2, 1);
  NAU wide(100, 2);
  const double r_wide = std::sqrt(6.0 / 102.0);
  EXPECT_LE(small->weight.abs().max().item<double>(), 0.5);
  EXPECT_LE(wide->weight.abs().max().item<double>(), r_wide);
  EXPECT_GE(wide->weight.abs().max().item<double>(), 0.9 * r_wide);
  EXPECT_LT(wide->weight.min().item<double>(), 0.0);
  EXPECT_NEAR(wide->weight.mean().item<double>(), 0.0, 0.05);
}

TEST(NauTest, UsesMadsenJohansenSchedule) {
  torch::manual_seed(6);
  NAU nau(2, 1);
  const auto schedule = nau->default_regularizer();
  EXPECT_EQ(schedule.scale, 0.01);
  EXPECT_EQ(schedule.start, 5'000);
  EXPECT_EQ(schedule.end, 50'000);
  EXPECT_EQ(nau->unit_name(), "nau");
}

TEST(NauTest, RejectsBadSizesAndInputs) {
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NAU(-2, 1); }),
                       "nau: in_features must be positive, got -2"));
  torch::manual_seed(7);
  NAU nau(3, 1);
  EXPECT_TRUE(contains(message_of<c10::Error>([&] { nau(torch::ones({3})); }),
                       "nau: expected a 2-D input [batch, 3], got 1-D"));
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         nau(torch::ones({2, 2}));
                       }),
                       "nau: expected 3 input features, got 2"));
  EXPECT_TRUE(contains(message_of<c10::Error>([&] { nau(torch::Tensor()); }),
                       "nau: expected an input tensor"));
}

}  // namespace
}  // namespace nalu

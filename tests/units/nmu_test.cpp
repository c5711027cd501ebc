// NMU: exact products with weights in {0, 1} (negatives and zeros included, W = 0 ignores its
// input), the read-back formula, the regulariser, the clamp and the initialisation range.
#include "nalu/units/nmu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_util.h"

namespace nalu {
namespace {

using testing::assign;
using testing::close_to;
using testing::contains;
using testing::matrix;
using testing::message_of;

TEST(NmuTest, ExactProductIncludingNegativesAndZeros) {
  torch::manual_seed(0);
  NMU nmu(3, 2);
  assign(nmu->weight, matrix({{1, 1, 0}, {0, 1, 1}}));
  // Column 2 is ignored by output 0 (even 1e6 and 0), column 0 by output 1.
  const auto x = matrix({{-2, 3, 1e6}, {0, 5, -7}, {-1.5, -4, 0}, {2.5, -0.5, -2}});
  const auto expected = matrix({{-6, 3e6}, {0, -35}, {6, 0}, {-1.25, 1}});
  EXPECT_TRUE(close_to(nmu(x), expected, 1e-5, 1e-6));
  EXPECT_TRUE(close_to(functional::nmu(x, nmu->weight), expected, 1e-5, 1e-6));
}

TEST(NmuTest, AllZeroWeightsGiveTheEmptyProduct) {
  torch::manual_seed(1);
  NMU nmu(2, 1);
  assign(nmu->weight, torch::zeros({1, 2}));
  EXPECT_TRUE(close_to(nmu(matrix({{-3, 0}, {5, 7}})), torch::ones({2, 1}), 0.0));
  EXPECT_EQ(nmu->formula().str(), "y0 = 1");
}

TEST(NmuTest, FunctionalFormMatchesTheDefinition) {
  torch::manual_seed(2);
  const auto x = torch::randn({4, 3});
  const auto w = torch::rand({2, 3});
  auto expected = torch::ones({4, 2});
  for (int64_t j = 0; j < 2; ++j) {
    for (int64_t i = 0; i < 3; ++i) {
      expected.select(1, j).mul_(w[j][i] * x.select(1, i) + 1 - w[j][i]);
    }
  }
  EXPECT_TRUE(close_to(functional::nmu(x, w), expected, 1e-6, 1e-6));
}

TEST(NmuTest, FormulaReadsHandSetWeights) {
  torch::manual_seed(3);
  NMU nmu(3, 1);
  assign(nmu->weight, matrix({{1, 1, 0}}));
  EXPECT_EQ(nmu->formula().str(), "y0 = x0 · x1");
  EXPECT_TRUE(nmu->formula().exact());

  assign(nmu->weight, matrix({{0.9, 1, 0.2}}));
  const auto formula = nmu->formula();
  EXPECT_EQ(formula.str(), "y0 = x0 · x1");
  EXPECT_NEAR(formula.max_rounding_error, 0.2, 1e-6);
}

TEST(NmuTest, RegularizationLossIsScaledMeanDistanceToZeroOne) {
  torch::manual_seed(4);
  NMU nmu(4, 1);
  assign(nmu->weight, matrix({{1, 0.3, 0.6, 0}}));
  // min(W, 1 - W) = {0, 0.3, 0.4, 0}, mean 0.175.
  EXPECT_NEAR(nmu->regularization_loss(1.0).item<double>(), 0.175, 1e-6);
  EXPECT_NEAR(nmu->regularization_loss(10.0).item<double>(), 1.75, 1e-5);
  EXPECT_NEAR(functional::nmu_regularizer(nmu->weight).item<double>(), 0.175, 1e-6);
}

TEST(NmuTest, AfterOptimizerStepClampsToZeroOne) {
  torch::manual_seed(5);
  NMU nmu(4, 1);
  assign(nmu->weight, matrix({{1.5, -0.2, 0.3, 1}}));
  nmu->after_optimizer_step();
  EXPECT_TRUE(close_to(nmu->weight, matrix({{1, 0, 0.3, 1}}), 0.0));
}

TEST(NmuTest, SparsityError) {
  torch::manual_seed(6);
  NMU nmu(3, 1);
  assign(nmu->weight, matrix({{1, 0, 1}}));
  EXPECT_EQ(nmu->sparsity_error(), 0.0);
  assign(nmu->weight, matrix({{1, 0.5, 0}}));
  EXPECT_NEAR(nmu->sparsity_error(), 0.5, 1e-7);
  assign(nmu->weight, matrix({{0.95, 0.1, 0}}));
  EXPECT_NEAR(nmu->sparsity_error(), 0.1, 1e-6);
}

TEST(NmuTest, InitialisesUniformQuarterToThreeQuarters) {
  torch::manual_seed(7);
  NMU nmu(50, 20);
  EXPECT_GE(nmu->weight.min().item<double>(), 0.25);
  EXPECT_LE(nmu->weight.max().item<double>(), 0.75);
  EXPECT_NEAR(nmu->weight.mean().item<double>(), 0.5, 0.02);
  const auto schedule = nmu->default_regularizer();
  EXPECT_EQ(schedule.scale, 10.0);
  EXPECT_EQ(schedule.start, 1'000'000);
  EXPECT_EQ(schedule.end, 2'000'000);
}

TEST(NmuTest, RejectsBadSizesAndInputs) {
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NMU(1, 0); }),
                       "nmu: out_features must be positive, got 0"));
  torch::manual_seed(8);
  NMU nmu(2, 1);
  EXPECT_EQ(nmu->unit_name(), "nmu");
  EXPECT_TRUE(contains(message_of<c10::Error>([&] { nmu(torch::ones({2})); }),
                       "nmu: expected a 2-D input"));
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         nmu(torch::ones({2, 3}));
                       }),
                       "nmu: expected 2 input features, got 3"));
}

}  // namespace
}  // namespace nalu

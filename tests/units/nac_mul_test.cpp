// NAC-mul: saturated weights multiply (W = 1) and divide (W = -1) positive inputs, the sign of
// negative inputs is lost as documented, and the formula reads exponents back.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nalu/units/nac_mul.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::assign;
using testing::close_to;
using testing::contains;
using testing::matrix;
using testing::message_of;

constexpr double kSaturated = 20.0;

void set_weight(NACMulImpl& unit, const std::vector<std::vector<double>>& w) {
  assign(unit.w_hat, matrix(w) * kSaturated);
  assign(unit.m_hat, (matrix(w).abs() * 2 - 1) * kSaturated);
}

TEST(NacMulTest, SaturatedWeightsMultiplyAndDividePositiveInputs) {
  torch::manual_seed(0);
  NACMul unit(3, 2);
  set_weight(*unit, {{1, 1, 0}, {1, -1, 0}});
  const auto x = matrix({{1.5, 2.0, 7}, {3, 0.25, 100}, {12, 4, 0.5}});
  const auto expected = matrix({{3, 0.75}, {0.75, 12}, {48, 3}});
  EXPECT_TRUE(close_to(unit(x), expected, 1e-4, 1e-4));
}

TEST(NacMulTest, LosesTheSignOfNegativeInputs) {
  torch::manual_seed(1);
  NACMul unit(2, 1);
  set_weight(*unit, {{1, 1}});
  const auto x = matrix({{-2, 3}, {-2, -3}});
  EXPECT_TRUE(close_to(unit(x), matrix({{6}, {6}}), 1e-4, 1e-4));
}

TEST(NacMulTest, EpsilonKeepsZeroInputsFinite) {
  torch::manual_seed(2);
  NACMul unit(NACOptions(2, 1).epsilon(1e-3));
  set_weight(*unit, {{1, -1}});
  // (0 + eps) / (2 + eps) and 2 / (0 + eps): finite, and eps enters exactly as documented.
  const auto y = unit(matrix({{0, 2}, {2, 0}}));
  EXPECT_TRUE(close_to(y, matrix({{1e-3 / 2.001}, {2.001 / 1e-3}}), 1e-6, 1e-4));
}

TEST(NacMulTest, FunctionalFormIsExpOfLogWeightedSum) {
  torch::manual_seed(3);
  const auto x = torch::rand({6, 4}) * 3 + 0.1;
  const auto w = torch::rand({2, 4}) * 2 - 1;
  const auto expected = torch::exp(torch::matmul(torch::log(x.abs() + 1e-7), w.t()));
  EXPECT_TRUE(close_to(functional::nac_mul(x, w, 1e-7), expected, 1e-5, 1e-5));
}

TEST(NacMulTest, FormulaReadsMultiplyAndDivide) {
  torch::manual_seed(4);
  NACMul unit(3, 2);
  set_weight(*unit, {{1, 0, -1}, {1, 1, 0}});
  const auto lines = unit->formula().lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "y0 = |x0| · |x2|⁻¹");  // the sign of x is lost, and so it reads
  EXPECT_EQ(lines[1], "y1 = |x0| · |x1|");
  EXPECT_TRUE(unit->formula().exact());
  EXPECT_NEAR(unit->sparsity_error(), 0.0, 1e-6);
}

TEST(NacMulTest, RejectsBadOptionsAndInputs) {
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NACMul(-1, 1); }),
                       "nac-mul: in_features must be positive, got -1"));
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NACMul(NACOptions(2, 1).epsilon(-1)); }),
                       "nac-mul: epsilon must be >= 0"));
  torch::manual_seed(5);
  NACMul unit(2, 1);
  EXPECT_EQ(unit->unit_name(), "nac-mul");
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         unit(torch::ones({3, 2, 1}));
                       }),
                       "nac-mul: expected a 2-D input"));
}

}  // namespace
}  // namespace nalu

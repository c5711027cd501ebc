// NALU: with the gate saturated the unit is exactly its additive or its multiplicative path,
// for the paper's shared weights and for separate weights with a gate bias.
#include "nalu/units/nalu.h"

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

constexpr double kSaturated = 20.0;

torch::Tensor w_hat_for(const std::vector<std::vector<double>>& w) {
  return matrix(w) * kSaturated;
}
torch::Tensor m_hat_for(const std::vector<std::vector<double>>& w) {
  return (matrix(w).abs() * 2 - 1) * kSaturated;
}

TEST(NaluTest, SharedWeightsGateSaturatedToAddPath) {
  torch::manual_seed(0);
  NALU unit(2, 1);
  assign(unit->w_hat, w_hat_for({{1, 1}}));
  assign(unit->m_hat, m_hat_for({{1, 1}}));
  // Positive inputs and G = 20: G x >= 20, so g = 1.
  assign(unit->gate_weight, matrix({{kSaturated, kSaturated}}));
  const auto x = matrix({{1, 2}, {3.5, 0.5}, {10, 20}});
  EXPECT_TRUE(close_to(unit->gate(x), torch::ones({3, 1}), 1e-6));
  EXPECT_TRUE(close_to(unit(x), matrix({{3}, {4}, {30}}), 1e-4));
}

TEST(NaluTest, SharedWeightsGateSaturatedToMulPath) {
  torch::manual_seed(1);
  NALU unit(2, 1);
  assign(unit->w_hat, w_hat_for({{1, 1}}));
  assign(unit->m_hat, m_hat_for({{1, 1}}));
  assign(unit->gate_weight, matrix({{-kSaturated, -kSaturated}}));
  const auto x = matrix({{1, 2}, {3.5, 0.5}, {10, 20}});
  EXPECT_TRUE(close_to(unit->gate(x), torch::zeros({3, 1}), 1e-6));
  EXPECT_TRUE(close_to(unit(x), matrix({{2}, {1.75}, {200}}), 1e-4, 1e-4));
}

TEST(NaluTest, GateBiasSaturatesIndependentlyOfTheInput) {
  torch::manual_seed(2);
  NALU unit(NALUOptions(2, 2).shared_weights(false).gate_bias(true));
  ASSERT_TRUE(unit->gate_bias.defined());
  ASSERT_TRUE(unit->w_hat_mul.defined());
  // Output 0 adds/subtracts (x0 - x1), output 1 divides (x0 / x1).
  assign(unit->w_hat, w_hat_for({{1, -1}, {1, 1}}));
  assign(unit->m_hat, m_hat_for({{1, -1}, {1, 1}}));
  assign(unit->w_hat_mul, w_hat_for({{1, 1}, {1, -1}}));
  assign(unit->m_hat_mul, m_hat_for({{1, 1}, {1, -1}}));
  assign(unit->gate_weight, torch::zeros({2, 2}));
  assign(unit->gate_bias, torch::tensor({30.0f, -30.0f}));

  const auto negative = matrix({{-3, 1.5}, {2, -8}, {-1, -4}});
  const auto y = unit(negative);
  EXPECT_TRUE(close_to(y.select(1, 0), torch::tensor({-4.5f, 10.0f, 3.0f}), 1e-4));

  // The log-space path sees only magnitudes.
  const auto positive = matrix({{3, 1.5}, {2, 8}, {1, 4}});
  EXPECT_TRUE(
      close_to(unit(positive).select(1, 1), torch::tensor({2.0f, 0.25f, 0.25f}), 1e-4, 1e-4));
  EXPECT_TRUE(close_to(y.select(1, 1), torch::tensor({2.0f, 0.25f, 0.25f}), 1e-4, 1e-4));
}

TEST(NaluTest, FunctionalFormMixesThePathsWithTheGate) {
  torch::manual_seed(3);
  const auto x = torch::rand({5, 3}) + 0.5;
  const auto w_add = torch::rand({2, 3}) * 2 - 1;
  const auto w_mul = torch::rand({2, 3}) * 2 - 1;
  const auto g_w = torch::randn({2, 3});
  const auto g_b = torch::randn({2});
  const auto a = torch::matmul(x, w_add.t());
  const auto m = torch::exp(torch::matmul(torch::log(x.abs() + 1e-7), w_mul.t()));
  const auto g = torch::sigmoid(torch::matmul(x, g_w.t()) + g_b);
  EXPECT_TRUE(
      close_to(functional::nalu(x, w_add, w_mul, g_w, g_b, 1e-7), g * a + (1 - g) * m, 1e-5, 1e-5));
  const auto g0 = torch::sigmoid(torch::matmul(x, g_w.t()));
  EXPECT_TRUE(close_to(functional::nalu(x, w_add, w_mul, g_w, torch::Tensor(), 1e-7),
                       g0 * a + (1 - g0) * m, 1e-5, 1e-5));
}

TEST(NaluTest, ParametersFollowTheOptions) {
  torch::manual_seed(4);
  EXPECT_EQ(NALU(3, 2)->parameters().size(), 3u);
  EXPECT_EQ(NALU(NALUOptions(3, 2).gate_bias(true))->parameters().size(), 4u);
  EXPECT_EQ(NALU(NALUOptions(3, 2).shared_weights(false))->parameters().size(), 5u);
  // Shared weights: the log-space path reads the additive weight.
  NALU shared(3, 2);
  EXPECT_TRUE(torch::equal(shared->multiplicative_weight(), shared->additive_weight()));
}

TEST(NaluTest, FormulaShowsBothPathsAndTheGate) {
  torch::manual_seed(5);
  NALU unit(NALUOptions(2, 1).shared_weights(false));
  assign(unit->w_hat, w_hat_for({{1, 1}}));
  assign(unit->m_hat, m_hat_for({{1, 1}}));
  assign(unit->w_hat_mul, w_hat_for({{1, -1}}));
  assign(unit->m_hat_mul, m_hat_for({{1, -1}}));
  assign(unit->gate_weight, matrix({{0.5, -2}}));
  const auto formula = unit->formula();
  ASSERT_EQ(formula.outputs.size(), 1u);
  EXPECT_EQ(formula.lines()[0],
            "y0 = σ(0.5·x0 − 2·x1)·(x0 + x1) + (1 − σ(0.5·x0 − 2·x1))·(|x0| · |x1|⁻¹)");
  // Gate weights are written out, not rounded: they do not count as rounding error.
  EXPECT_TRUE(formula.exact());

  assign(unit->m_hat_mul, torch::zeros({1, 2}));  // log-space weights 0.5 and -0.5
  EXPECT_NEAR(unit->formula().max_rounding_error, 0.5, 1e-6);
  EXPECT_NEAR(unit->sparsity_error(), 0.5, 1e-6);
}

TEST(NaluTest, RejectsBadOptionsAndInputs) {
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NALU(2, 0); }),
                       "nalu: out_features must be positive, got 0"));
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NALU(NALUOptions(2, 1).epsilon(-0.5)); }),
                       "nalu: epsilon must be >= 0"));
  torch::manual_seed(6);
  NALU unit(2, 1);
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         unit(torch::ones({5, 4}));
                       }),
                       "nalu: expected 2 input features, got 4"));
}

}  // namespace
}  // namespace nalu

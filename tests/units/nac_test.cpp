// NAC: hand-set saturated weights add and subtract exactly (negatives included), the formula
// reads them back, and bad sizes and inputs are reported with the unit's name.
#include "nalu/units/nac.h"

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

// tanh(20) and sigmoid(20) round to 1 in float, so W = tanh(W_hat) * sigmoid(M_hat) is exact.
constexpr double kSaturated = 20.0;

// W_hat = +-20 picks the sign, M_hat = +20 selects an input and -20 drops it.
void set_weight(NACImpl& nac, const std::vector<std::vector<double>>& w) {
  auto w_hat = matrix(w) * kSaturated;
  auto m_hat = (matrix(w).abs() * 2 - 1) * kSaturated;
  assign(nac.w_hat, w_hat);
  assign(nac.m_hat, m_hat);
}

TEST(NacTest, SaturatedWeightsAddAndSubtractIncludingNegatives) {
  torch::manual_seed(0);
  NAC nac(3, 2);
  set_weight(*nac, {{1, 1, 0}, {1, -1, 0}});
  EXPECT_TRUE(close_to(nac->weight(), matrix({{1, 1, 0}, {1, -1, 0}}), 1e-6));

  const auto x = matrix({{1.5, -2.25, 9}, {-3, 7, -4}, {100, 0.5, 2}, {-0.1, -0.2, 0}});
  const auto expected = matrix({{-0.75, 3.75}, {4, -10}, {100.5, 99.5}, {-0.3, 0.1}});
  EXPECT_TRUE(close_to(nac(x), expected, 1e-4));
}

TEST(NacTest, FunctionalFormIsInputTimesWeightTransposed) {
  torch::manual_seed(1);
  const auto w_hat = torch::randn({2, 5});
  const auto m_hat = torch::randn({2, 5});
  const auto x = torch::randn({7, 5});
  const auto w = torch::tanh(w_hat) * torch::sigmoid(m_hat);
  EXPECT_TRUE(close_to(functional::nac_weight(w_hat, m_hat), w, 1e-7));
  EXPECT_TRUE(close_to(functional::nac(x, w_hat, m_hat), torch::matmul(x, w.t()), 1e-5));

  NAC nac(5, 2);
  assign(nac->w_hat, w_hat);
  assign(nac->m_hat, m_hat);
  EXPECT_TRUE(close_to(nac(x), torch::matmul(x, w.t()), 1e-5));
}

TEST(NacTest, FormulaReadsSaturatedWeights) {
  torch::manual_seed(2);
  NAC nac(3, 2);
  set_weight(*nac, {{1, 0, 1}, {0, -1, 1}});
  const auto formula = nac->formula();
  ASSERT_EQ(formula.lines().size(), 2u);
  EXPECT_EQ(formula.lines()[0], "y0 = x0 + x2");
  EXPECT_EQ(formula.lines()[1], "y1 = −x1 + x2");
  EXPECT_LT(formula.max_rounding_error, 1e-6);
  EXPECT_TRUE(formula.exact());
}

TEST(NacTest, SparsityErrorIsDistanceToMinusOneZeroOne) {
  torch::manual_seed(3);
  NAC nac(2, 1);
  set_weight(*nac, {{1, -1}});
  EXPECT_NEAR(nac->sparsity_error(), 0.0, 1e-6);

  // M_hat = 0 halves the weight: W = 0.5 is as far from {0, 1} as a weight can be.
  assign(nac->m_hat, torch::zeros({1, 2}));
  EXPECT_NEAR(nac->sparsity_error(), 0.5, 1e-6);
  EXPECT_NEAR(nac->formula().max_rounding_error, 0.5, 1e-6);
}

TEST(NacTest, TruncatedNormalInitStaysWithinTwoStandardDeviations) {
  torch::manual_seed(4);
  NAC nac(NACOptions(60, 50).init(Init::kTruncatedNormal));
  for (const auto& parameter : {nac->w_hat, nac->m_hat}) {
    EXPECT_LE(parameter.abs().max().item<double>(), 0.04 + 1e-7);
    // A normal truncated at 2 sigma has standard deviation 0.88 sigma.
    EXPECT_NEAR(parameter.std().item<double>(), 0.88 * 0.02, 0.002);
    EXPECT_NEAR(parameter.mean().item<double>(), 0.0, 0.002);
  }
}

TEST(NacTest, ReferenceInitGivesTheWeightVarianceTwoOverFan) {
  // Madsen & Johansen's start: W_hat, M_hat ~ U[-r, r] with fan * Var(W) = 2. The r values
  // were computed independently (bisection of the same variance in Python): 0.50391 for the
  // 100 -> 2 layer of Table 1, 9.4714 for its 2 -> 1 layer (fan floored at 5).
  EXPECT_NEAR(detail::nac_reference_range(100, 2), 0.5039089, 1e-6);
  EXPECT_NEAR(detail::nac_reference_range(2, 1), 9.4714064, 1e-6);
  EXPECT_DOUBLE_EQ(detail::nac_reference_range(1, 1), detail::nac_reference_range(2, 3));
  torch::manual_seed(6);
  NAC nac(NACOptions(300, 100).init(Init::kReference));
  const double r = detail::nac_reference_range(300, 100);
  for (const auto& parameter : {nac->w_hat, nac->m_hat}) {
    EXPECT_LE(parameter.abs().max().item<double>(), r);
    EXPECT_GT(parameter.abs().max().item<double>(), 0.99 * r);
  }
  // 30,000 draws of W: its variance within 3% of 2 / 400.
  EXPECT_NEAR(nac->weight().var().item<double>() * 400.0, 2.0, 0.06);
  EXPECT_EQ(parse_init("reference"), Init::kReference);
  EXPECT_EQ(init_name(parse_init("xavier")), "xavier-uniform");
  EXPECT_TRUE(
      contains(testing::error_message([] { parse_init("glorot"); }), "unknown init 'glorot'"));
}

TEST(NacTest, XavierInitDiffersPerSeedAndIsReproducible) {
  torch::manual_seed(5);
  NAC first(4, 3);
  torch::manual_seed(5);
  NAC same(4, 3);
  NAC other(4, 3);
  EXPECT_TRUE(torch::equal(first->w_hat, same->w_hat));
  EXPECT_FALSE(torch::equal(first->w_hat, other->w_hat));
  // Glorot bound sqrt(6 / (in + out)).
  EXPECT_LE(first->w_hat.abs().max().item<double>(), std::sqrt(6.0 / 7.0));
}

TEST(NacTest, RejectsBadSizesAndInputs) {
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NAC(0, 1); }),
                       "nac: in_features must be positive, got 0"));
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NAC(2, -3); }),
                       "nac: out_features must be positive, got -3"));
  torch::manual_seed(6);
  NAC nac(2, 1);
  EXPECT_TRUE(contains(message_of<c10::Error>([&] { nac(torch::ones({2})); }),
                       "nac: expected a 2-D input"));
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         nac(torch::ones({4, 3}));
                       }),
                       "nac: expected 2 input features, got 3"));
}

TEST(NacTest, ReportsItsNameSizesAndNoRegularizer) {
  torch::manual_seed(7);
  NAC nac(5, 2);
  EXPECT_EQ(nac->unit_name(), "nac");
  EXPECT_EQ(nac->in_features(), 5);
  EXPECT_EQ(nac->out_features(), 2);
  EXPECT_EQ(nac->regularization_loss(3.0).item<double>(), 0.0);
  EXPECT_EQ(nac->default_regularizer().at(1'000'000'000), 0.0);
  EXPECT_EQ(nac(torch::ones({8, 5})).sizes(), (std::vector<int64_t>{8, 2}));
  EXPECT_EQ(nac->parameters().size(), 2u);
}

}  // namespace
}  // namespace nalu

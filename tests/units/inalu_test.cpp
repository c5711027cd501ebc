// iNALU: with the gate saturated it adds, multiplies and divides exactly, recovering the sign of
// a product from the inputs' signs; the log-space clips, regulariser and read-back.
#include "nalu/units/inalu.h"

#include "nalu/tasks/arithmetic.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "test_util.h"

namespace nalu {
namespace {

using testing::assign;
using testing::close_to;
using testing::contains;
using testing::matrix;
using testing::message_of;

constexpr double kSaturated = 20.0;

// Sets additive and multiplicative weights to exactly `add` and `mul` (entries in {-1, 0, 1})
// and the gate logits to `gate` (+30: additive path, -30: multiplicative path).
void set_weights(INALUImpl& unit, const std::vector<std::vector<double>>& add,
                 const std::vector<std::vector<double>>& mul, const std::vector<float>& gate) {
  assign(unit.w_hat_add, matrix(add) * kSaturated);
  assign(unit.m_hat_add, (matrix(add).abs() * 2 - 1) * kSaturated);
  assign(unit.w_hat_mul, matrix(mul) * kSaturated);
  assign(unit.m_hat_mul, (matrix(mul).abs() * 2 - 1) * kSaturated);
  assign(unit.gate, torch::tensor(gate));
}

TEST(InaluTest, MultiplyAndDivideRecoverTheSign) {
  torch::manual_seed(0);
  INALU unit(3, 2);
  // Output 0: x0 * x1, output 1: x0 / x1; x2 is ignored, so its sign must not flip the result.
  set_weights(*unit, {{0, 0, 0}, {0, 0, 0}}, {{1, 1, 0}, {1, -1, 0}}, {-30, -30});
  const auto x = matrix({{-2, 3, -5}, {-1.5, -4, 2}, {2.5, -0.5, -1}, {6, 1.5, -7}});
  const auto expected = matrix({{-6, -2.0 / 3}, {6, 0.375}, {-1.25, -5}, {9, 4}});
  EXPECT_TRUE(close_to(unit(x), expected, 1e-5, 1e-5));
}

TEST(InaluTest, GateSaturatedToAddPathAddsAndSubtracts) {
  torch::manual_seed(1);
  INALU unit(2, 2);
  set_weights(*unit, {{1, 1}, {1, -1}}, {{1, 1}, {1, 1}}, {30, 30});
  const auto x = matrix({{-2, 3}, {-1.5, -4}, {100, 0.5}});
  EXPECT_TRUE(close_to(unit(x), matrix({{1, -5}, {-5.5, 2.5}, {100.5, 99.5}}), 1e-4));
}

TEST(InaluTest, ZeroInputGivesZeroProduct) {
  torch::manual_seed(2);
  INALU unit(2, 1);
  set_weights(*unit, {{0, 0}}, {{1, 1}}, {-30});
  EXPECT_TRUE(close_to(unit(matrix({{0, 5}, {-3, 0}})), torch::zeros({2, 1}), 1e-6));
}

TEST(InaluTest, ExponentIsClippedAtOmega) {
  torch::manual_seed(3);
  INALU unit(INALUOptions(2, 1).omega(5.0));
  set_weights(*unit, {{0, 0}}, {{1, 1}}, {-30});
  // log(20 * 30) = 6.4 > 5: the magnitude is exp(5); the sign still comes from the inputs.
  EXPECT_TRUE(close_to(unit(matrix({{20, 30}, {-20, 30}, {2, 3}})),
                       matrix({{std::exp(5.0)}, {-std::exp(5.0)}, {6}}), 1e-4, 1e-5));
}

TEST(InaluTest, FunctionalFormMatchesTheDefinition) {
  torch::manual_seed(4);
  const auto x = torch::randn({6, 3});
  const auto w_add = torch::rand({2, 3}) * 2 - 1;
  const auto w_mul = torch::rand({2, 3}) * 2 - 1;
  const auto gate = torch::randn({2});
  const auto a = torch::matmul(x, w_add.t());
  const auto m = torch::exp(torch::matmul(torch::log(x.abs()), w_mul.t()));
  auto sign = torch::ones({6, 2});
  for (int64_t j = 0; j < 2; ++j) {
    for (int64_t i = 0; i < 3; ++i) {
      const auto w = w_mul[j][i].abs();
      sign.select(1, j).mul_(torch::sign(x.select(1, i)) * w + 1 - w);
    }
  }
  const auto g = torch::sigmoid(gate);
  EXPECT_TRUE(close_to(functional::inalu(x, w_add, w_mul, gate, 1e-7, 20.0),
                       g * a + (1 - g) * m * sign, 1e-5, 1e-5));
}

TEST(InaluTest, FormulaReadsTheSaturatedPath) {
  torch::manual_seed(5);
  INALU unit(2, 2);
  set_weights(*unit, {{1, -1}, {1, 1}}, {{1, -1}, {1, 1}}, {30, -30});
  const auto formula = unit->formula();
  EXPECT_EQ(formula.str(), "y0 = x0 − x1; y1 = min(|x0| · |x1|, exp(20)) · sign(x0) · sign(x1)");
  EXPECT_TRUE(formula.exact());
  EXPECT_NEAR(unit->sparsity_error(), 0.0, 1e-6);

  // An undecided gate (sigmoid(0) = 0.5) is both a rounding and a sparsity error.
  assign(unit->gate, torch::tensor({0.0f, -30.0f}));
  EXPECT_NEAR(unit->formula().max_rounding_error, 0.5, 1e-6);
  EXPECT_NEAR(unit->sparsity_error(), 0.5, 1e-6);
}

TEST(InaluTest, DivergedGateIsNotAnExactFormula) {
  torch::manual_seed(10);
  INALU unit(2, 1);
  set_weights(*unit, {{1, 1}}, {{1, 1}}, {30});
  ASSERT_TRUE(unit->formula().exact());
  assign(unit->gate, torch::tensor({std::nanf("")}));
  EXPECT_TRUE(std::isnan(unit->formula().max_rounding_error));
  EXPECT_FALSE(unit->formula().exact());
}

TEST(InaluTest, RegularizerPushesParametersPastTheThreshold) {
  torch::manual_seed(6);
  INALU unit(INALUOptions(2, 1).regularizer_threshold(10.0));
  // mean over all 9 parameters of max(t - |w|, 0) / t.
  for (auto& parameter : unit->parameters())
    assign(parameter, torch::full_like(parameter, 12.0));
  EXPECT_NEAR(unit->regularization_loss(1.0).item<double>(), 0.0, 1e-7);
  for (auto& parameter : unit->parameters())
    assign(parameter, torch::zeros_like(parameter));
  EXPECT_NEAR(unit->regularization_loss(2.0).item<double>(), 2.0, 1e-6);
  assign(unit->gate, torch::tensor({-5.0f}));  // one of 9 values at half the threshold
  EXPECT_NEAR(unit->regularization_loss(1.0).item<double>(), (8 + 0.5) / 9.0, 1e-6);
  const auto schedule = unit->default_regularizer();
  EXPECT_EQ(schedule.at(9'999), 0.0);
  EXPECT_EQ(schedule.at(10'000), 1.0);
}

TEST(InaluTest, InitialisationFollowsTheAuthorsAndReinitializeRedraws) {
  torch::manual_seed(7);
  INALU unit(60, 40);
  EXPECT_NEAR(unit->w_hat_add.mean().item<double>(), 0.88, 0.02);
  EXPECT_NEAR(unit->m_hat_mul.mean().item<double>(), 0.5, 0.02);
  EXPECT_NEAR(unit->w_hat_mul.std().item<double>(), 0.2, 0.02);
  const auto before = unit->w_hat_add.clone();
  const auto address = unit->w_hat_add.data_ptr();
  unit->reinitialize();
  EXPECT_FALSE(torch::equal(before, unit->w_hat_add));
  EXPECT_EQ(unit->w_hat_add.data_ptr(), address);  // redrawn in place: optimisers keep it
}

TEST(InaluTest, PrettyPrintShowsEveryOption) {
  torch::manual_seed(9);
  INALU unit(INALUOptions(3, 2).epsilon(1e-5).omega(15).regularizer_threshold(8));
  std::ostringstream text;
  unit->pretty_print(text);
  EXPECT_EQ(text.str(),
            "nalu::INALU(in_features=3, out_features=2, epsilon=1e-05, omega=15, "
            "regularizer_threshold=8)");
}

TEST(InaluTest, RejectsBadOptionsAndInputs) {
  EXPECT_TRUE(contains(message_of<c10::Error>([] { INALU(0, 1); }),
                       "inalu: in_features must be positive, got 0"));
  EXPECT_TRUE(contains(message_of<c10::Error>([] { INALU(INALUOptions(2, 1).epsilon(0)); }),
                       "inalu: epsilon must be > 0"));
  torch::manual_seed(8);
  INALU unit(2, 1);
  EXPECT_EQ(unit->unit_name(), "inalu");
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         unit(torch::ones({1, 2, 2}));
                       }),
                       "inalu: expected a 2-D input"));
}

}  // namespace
}  // namespace nalu

namespace nalu {
namespace {

TEST(InaluTest, ReinitializationFromAGeneratorIsReproducible) {
  INALU first(3, 2), second(3, 2);
  auto g1 = make_generator(5), g2 = make_generator(5);
  first->reinitialize(g1);
  torch::manual_seed(123);  // the global generator must not matter
  torch::rand({10});
  second->reinitialize(g2);
  EXPECT_TRUE(torch::equal(first->w_hat_add, second->w_hat_add));
  EXPECT_TRUE(torch::equal(first->gate, second->gate));
  auto g3 = make_generator(6);
  second->reinitialize(g3);
  EXPECT_FALSE(torch::equal(first->w_hat_add, second->w_hat_add));
}

}  // namespace
}  // namespace nalu

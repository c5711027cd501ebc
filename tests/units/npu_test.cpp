// NPU and RealNPU: with the gate open and integer exponents they multiply, divide and square,
// also negative inputs through the phase term; the complex form matches std::complex.
#include "nalu/units/npu.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>

#include "test_util.h"

namespace nalu {
namespace {

using testing::assign;
using testing::close_to;
using testing::contains;
using testing::matrix;
using testing::message_of;

// Inputs with negative entries in every position, and x0 * x1, x0 / x1, x0^2 for them.
torch::Tensor signed_inputs() {
  return matrix({{-2, 3}, {-1.5, -4}, {2.5, -0.5}, {6, 1.5}});
}
torch::Tensor expected_outputs() {
  return matrix({{-6, -2.0 / 3, 4}, {6, 0.375, 2.25}, {-1.25, -5, 6.25}, {9, 4, 36}});
}

void set_exponents(NPUImpl& unit, const torch::Tensor& exponents) {
  assign(unit.w_real, exponents);
  if (unit.w_imag.defined())
    assign(unit.w_imag, torch::zeros_like(exponents));
  assign(unit.gate, torch::ones({unit.in_features()}));
}

TEST(NpuTest, RealNpuMultipliesDividesAndSquaresNegativeInputs) {
  torch::manual_seed(0);
  RealNPU unit(NPUOptions(2, 3).epsilon(0));
  EXPECT_FALSE(unit->w_imag.defined());
  set_exponents(*unit, matrix({{1, 1}, {1, -1}, {2, 0}}));
  EXPECT_TRUE(close_to(unit(signed_inputs()), expected_outputs(), 1e-5, 1e-5));
}

TEST(NpuTest, ComplexNpuWithZeroImaginaryWeightsDoesTheSame) {
  torch::manual_seed(1);
  NPU unit(2, 3);  // default epsilon 1e-7: relative error ~1e-7
  ASSERT_TRUE(unit->w_imag.defined());
  set_exponents(*unit, matrix({{1, 1}, {1, -1}, {2, 0}}));
  EXPECT_TRUE(close_to(unit(signed_inputs()), expected_outputs(), 1e-4, 1e-4));
}

TEST(NpuTest, ClosedGateIgnoresTheInput) {
  torch::manual_seed(2);
  RealNPU unit(NPUOptions(2, 1).epsilon(0));
  set_exponents(*unit, matrix({{1, 5}}));
  assign(unit->gate, torch::tensor({1.0f, 0.0f}));
  const auto x = signed_inputs();
  EXPECT_TRUE(close_to(unit(x), x.slice(1, 0, 1), 1e-5, 1e-5));
  EXPECT_EQ(unit->formula().str(), "y0 = x0");
}

TEST(NpuTest, ComplexFormIsTheRealPartOfAComplexPower) {
  // y_j = Re exp(sum_i (W_re + i W_im)_ji log(x_i)) with the principal complex logarithm.
  torch::manual_seed(3);
  const auto x = torch::randn({5, 3}, torch::kDouble);
  const auto w_real = torch::randn({2, 3}, torch::kDouble);
  const auto w_imag = torch::randn({2, 3}, torch::kDouble) * 0.3;
  const auto gate = torch::ones({3}, torch::kDouble);
  const auto y = functional::npu(x, w_real, w_imag, gate, 0.0);
  auto expected = torch::empty({5, 2}, torch::kDouble);
  for (int64_t b = 0; b < 5; ++b) {
    for (int64_t j = 0; j < 2; ++j) {
      std::complex<double> exponent = 0;
      for (int64_t i = 0; i < 3; ++i) {
        const std::complex<double> w(w_real[j][i].item<double>(), w_imag[j][i].item<double>());
        exponent += w * std::log(std::complex<double>(x[b][i].item<double>(), 0.0));
      }
      expected[b][j].fill_(std::exp(exponent).real());
    }
  }
  EXPECT_TRUE(close_to(y, expected, 1e-10, 1e-10));
}

TEST(NpuTest, FormulaDropsClosedGatesAndReadsExponents) {
  torch::manual_seed(4);
  NPU unit(3, 2);
  set_exponents(*unit, matrix({{1, -1, 3}, {2, 0, 1}}));
  assign(unit->gate, torch::tensor({1.0f, 1.0f, 0.0f}));
  auto formula = unit->formula();
  EXPECT_EQ(formula.str(), "y0 = x0 · x1⁻¹; y1 = x0²");
  EXPECT_TRUE(formula.exact());

  assign(unit->w_imag, matrix({{0, 0.25, 0}, {0, 0, 0}}));
  EXPECT_NEAR(unit->formula().max_rounding_error, 0.25, 1e-6);
  EXPECT_NEAR(unit->sparsity_error(), 0.25, 1e-6);
  assign(unit->gate, torch::tensor({1.0f, 0.9f, 0.0f}));
  assign(unit->w_imag, torch::zeros({2, 3}));
  EXPECT_NEAR(unit->formula().max_rounding_error, 0.1, 1e-6);
}

TEST(NpuTest, DivergedGateOrWeightsAreNotAnExactFormula) {
  torch::manual_seed(10);
  NPU unit(2, 1);
  set_exponents(*unit, matrix({{1, 1}}));
  ASSERT_TRUE(unit->formula().exact());
  assign(unit->gate, torch::tensor({std::nanf(""), 1.0f}));
  EXPECT_TRUE(std::isnan(unit->formula().max_rounding_error));
  assign(unit->gate, torch::ones({2}));
  assign(unit->w_imag, matrix({{std::nan(""), 0}}));
  EXPECT_FALSE(unit->formula().exact());
}

// Heim et al. clamp the gate in the forward pass, not the parameter: a gate pushed past 1 (or 0)
// reads as 1 (or 0), passes no gradient, and stays where it is after the step.
TEST(NpuTest, TheGateIsClampedInTheForwardPassOnly) {
  torch::manual_seed(5);
  RealNPU unit(3, 1);
  assign(unit->gate, torch::tensor({1.5f, -0.5f, 0.25f}));
  assign(unit->w_real, matrix({{1, -1, 0.5}}));
  const auto x = torch::tensor({{2.0f, 3.0f, 4.0f}});
  const auto y = unit->forward(x);
  // Gates 1, 0, 0.25: 2^1 * 1^-1 * (0.25 (4 + eps) + 0.75)^0.5.
  EXPECT_NEAR(y.item<double>(), 2.0 * std::sqrt(0.25 * 4.0 + 0.75), 1e-5);
  y.sum().backward();
  const auto gate_grad = unit->gate.grad();
  EXPECT_EQ(gate_grad[0].item<double>(), 0.0);
  EXPECT_EQ(gate_grad[1].item<double>(), 0.0);
  EXPECT_NE(gate_grad[2].item<double>(), 0.0);
  unit->after_optimizer_step();
  EXPECT_TRUE(close_to(unit->gate, torch::tensor({1.5f, -0.5f, 0.25f}), 0.0));
  EXPECT_TRUE(close_to(unit->w_real, matrix({{1, -1, 0.5}}), 0.0));
  // The readout and the sparsity error read the clamped gate.
  assign(unit->w_real, matrix({{1, -1, 0}}));
  assign(unit->gate, torch::tensor({1.5f, 1.0f, -0.5f}));
  EXPECT_EQ(unit->sparsity_error(), 0.0);
  EXPECT_TRUE(unit->formula().exact());
}

TEST(NpuTest, RegularizationLossIsMeanAbsoluteParameter) {
  torch::manual_seed(6);
  NPU npu(2, 1);
  assign(npu->w_real, matrix({{1, -2}}));
  assign(npu->w_imag, matrix({{0, 0.5}}));
  assign(npu->gate, torch::tensor({0.5f, 1.0f}));
  EXPECT_NEAR(npu->regularization_loss(3.0).item<double>(), 3.0 * 5.0 / 6.0, 1e-6);

  RealNPU real(2, 1);
  assign(real->w_real, matrix({{1, -2}}));
  assign(real->gate, torch::tensor({0.5f, 1.0f}));
  EXPECT_NEAR(real->regularization_loss(1.0).item<double>(), 4.5 / 4.0, 1e-6);
}

TEST(NpuTest, InitialisationAndNames) {
  torch::manual_seed(7);
  NPU npu(4, 3);
  RealNPU real(4, 3);
  EXPECT_EQ(npu->unit_name(), "npu");
  EXPECT_EQ(real->unit_name(), "real-npu");
  EXPECT_EQ(npu->parameters().size(), 3u);
  EXPECT_EQ(real->parameters().size(), 2u);
  EXPECT_TRUE(close_to(npu->gate, torch::full({4}, 0.5), 0.0));
  EXPECT_EQ(npu->w_imag.abs().max().item<double>(), 0.0);
  EXPECT_LE(npu->w_real.abs().max().item<double>(), std::sqrt(6.0 / 7.0));
}

TEST(NpuTest, RealNpuClonesAsARealNpu) {
  torch::manual_seed(9);
  RealNPU unit(2, 2);
  auto copy = std::dynamic_pointer_cast<RealNPUImpl>(unit->clone());
  ASSERT_NE(copy, nullptr) << "clone() of a RealNPU is not a RealNPUImpl";
  EXPECT_TRUE(copy->real);
  EXPECT_FALSE(copy->w_imag.defined());
  ASSERT_EQ(copy->named_parameters().size(), 2u);
  EXPECT_TRUE(copy->named_parameters()["w_real"].is_same(copy->w_real));
  EXPECT_TRUE(copy->named_parameters()["gate"].is_same(copy->gate));
  EXPECT_TRUE(torch::equal(copy->w_real, unit->w_real));
  EXPECT_NE(copy->w_real.data_ptr(), unit->w_real.data_ptr());
  // Containers clone their members through the holder's type.
  torch::nn::Sequential net(RealNPU(2, 2), NPU(2, 1));
  auto net_copy = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(net->clone());
  ASSERT_NE(net_copy, nullptr);
  const auto x = signed_inputs();
  EXPECT_TRUE(close_to(net_copy->forward(x), net->forward(x), 0.0));
}

// Mistry, Hare & Farrahi's improved Real NPU: the NAU's start, W_re clamped with the gate, and
// a regulariser towards exponents ±1 and gates 0 or 1 (ramped over 50-75% of a run).
TEST(NpuTest, ImprovedRealNpuStartsClampsAndRegularisesAsItsAuthorsDo) {
  torch::manual_seed(5);
  RealNPU wide(NPUOptions(2, 1).improved(true));  // r = min(0.5, sqrt(6 / 3)) = 0.5
  EXPECT_LE(wide->w_real.abs().max().item<double>(), 0.5);
  RealNPU narrow(NPUOptions(100, 50).improved(true));  // r = sqrt(6 / 150) = 0.2
  EXPECT_LE(narrow->w_real.abs().max().item<double>(), 0.2 + 1e-7);
  EXPECT_GT(narrow->w_real.abs().max().item<double>(), 0.18);
  EXPECT_TRUE(close_to(narrow->gate, torch::full({100}, 0.5), 0.0));

  auto w = wide->named_parameters()["w_real"];
  auto g = wide->named_parameters()["gate"];
  assign(w, matrix({{0.25, -1.5}}));
  assign(g, torch::tensor({0.2, 0.9}));
  // mean|1 - |W|| = (0.75 + 0.5) / 2; mean(min(|g|, |1 - g|)) = (0.2 + 0.1) / 2.
  EXPECT_NEAR(wide->regularization_loss(2.0).item<double>(), 2.0 * (0.625 + 0.15), 1e-6);
  wide->after_optimizer_step();
  EXPECT_TRUE(close_to(wide->w_real, matrix({{0.25, -1.0}}), 0.0));
  const auto schedule = wide->default_regularizer();
  EXPECT_EQ(scaled_to_run(schedule, 100'000).start, 50'000);
  EXPECT_EQ(scaled_to_run(schedule, 100'000).end, 75'000);
  EXPECT_EQ(schedule.scale, 1.0);
  // The plain Real NPU keeps Xavier's start and its unclamped W, and its authors' L1 term:
  // beta sum|p| with beta 10^-9, 10^-8 from step 10^4 and 10^-7 from 2 * 10^4 of 10^5 on (the
  // unit's loss is the mean over its 4 parameters, hence the factor 4).
  RealNPU plain(2, 1);
  const auto l1 = scaled_to_run(plain->default_regularizer(), 100'000);
  EXPECT_EQ(l1.tenfold_every, 10'000);
  EXPECT_NEAR(l1.at(0), 4e-9, 1e-20);
  EXPECT_NEAR(l1.at(9'999), 4e-9, 1e-20);
  EXPECT_NEAR(l1.at(10'000), 4e-8, 1e-20);
  EXPECT_NEAR(l1.at(19'999), 4e-8, 1e-20);
  EXPECT_NEAR(l1.at(20'000), 4e-7, 1e-20);
  EXPECT_NEAR(l1.at(99'000), 4e-7, 1e-20);
  EXPECT_NEAR(NPU(2, 1)->default_regularizer().scale, 6e-7, 1e-20);  // W_re, W_im and gate
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NPU(NPUOptions(2, 1).improved(true)); }),
                       "the improved form is the Real NPU's"));
}

TEST(NpuTest, RejectsBadOptionsAndInputs) {
  EXPECT_TRUE(contains(message_of<c10::Error>([] { NPU(0, 1); }),
                       "npu: in_features must be positive, got 0"));
  EXPECT_TRUE(contains(message_of<c10::Error>([] { RealNPU(2, -1); }),
                       "real-npu: out_features must be positive, got -1"));
  EXPECT_TRUE(contains(message_of<c10::Error>([] { RealNPU(NPUOptions(2, 1).epsilon(-1)); }),
                       "real-npu: epsilon must be >= 0"));
  torch::manual_seed(8);
  RealNPU unit(2, 1);
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         unit(torch::ones({2, 5}));
                       }),
                       "real-npu: expected 2 input features, got 5"));
}

}  // namespace
}  // namespace nalu

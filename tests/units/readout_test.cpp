// The formula readout says exactly what a unit computes: for every unit, with hand-set weights
// on rounded values, the ASCII formula, parsed and evaluated by the independent evaluator of
// tests/formula_eval.h, agrees with the module's forward on random inputs from an interpolation
// range U[1, 2] and an extrapolation range U[-6, -2] ∪ [2, 6] (negative inputs included); and
// so does the formula simplified on those inputs. Also: what the simplification removes and
// reports, and that an MLP stays opaque.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "formula_eval.h"
#include "nalu/formula.h"
#include "nalu/units/baselines.h"
#include "nalu/units/division.h"
#include "nalu/units/inalu.h"
#include "nalu/units/nac.h"
#include "nalu/units/nac_mul.h"
#include "nalu/units/nalu.h"
#include "nalu/units/nau.h"
#include "nalu/units/nmu.h"
#include "nalu/units/npu.h"
#include "nalu/units/stack.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::AsciiEvaluator;
using testing::assign;
using testing::matrix;

constexpr double kSaturated = 20.0;  // tanh(20) · σ(20) is 1 in float

torch::Tensor w_hat_for(const std::vector<std::vector<double>>& w) {
  return matrix(w) * kSaturated;
}
torch::Tensor m_hat_for(const std::vector<std::vector<double>>& w) {
  return (matrix(w).abs() * 2 - 1) * kSaturated;
}

// `rows` rows from U[1, 2], then `rows` from U[-6, -2] ∪ [2, 6] (each entry's sign at random).
torch::Tensor sample_inputs(int64_t in, int64_t rows = 64, uint64_t seed = 7) {
  torch::manual_seed(seed);
  const auto interpolation = torch::rand({rows, in}) + 1;
  const auto magnitude = torch::rand({rows, in}) * 4 + 2;
  const auto sign = (torch::rand({rows, in}) < 0.5).to(torch::kFloat) * -2 + 1;
  return torch::cat({interpolation, magnitude * sign}).to(torch::kFloat);
}

// Interpolation and extrapolation sets as simplify() takes them (the rows of sample_inputs).
struct Sets {
  std::vector<float> interpolation, extrapolation;
  int64_t columns = 0;
  std::vector<EvaluationSet> views() const {
    return {{interpolation, columns}, {extrapolation, columns}};
  }
};

Sets sets_of(const torch::Tensor& inputs) {
  const auto half = inputs.size(0) / 2;
  const auto a = inputs.slice(0, 0, half).contiguous();
  const auto b = inputs.slice(0, half).contiguous();
  Sets sets;
  sets.interpolation.assign(a.data_ptr<float>(), a.data_ptr<float>() + a.numel());
  sets.extrapolation.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
  sets.columns = inputs.size(1);
  return sets;
}

// Every row: the ASCII lines, evaluated apart from the library, give the forward's outputs to
// float tolerance (relative 1e-4, absolute 1e-5 at least).
::testing::AssertionResult ascii_matches_forward(const std::vector<std::string>& lines,
                                                 const torch::Tensor& inputs,
                                                 const torch::Tensor& outputs) {
  const auto x = inputs.to(torch::kDouble);
  const auto y = outputs.detach().to(torch::kDouble);
  for (int64_t r = 0; r < x.size(0); ++r) {
    std::vector<double> row(x.size(1));
    for (int64_t i = 0; i < x.size(1); ++i)
      row[i] = x[r][i].item<double>();
    std::vector<double> got;
    try {
      got = AsciiEvaluator::run(lines, row);
    } catch (const std::exception& error) {
      return ::testing::AssertionFailure() << error.what();
    }
    if (static_cast<int64_t>(got.size()) != y.size(1))
      return ::testing::AssertionFailure() << got.size() << " outputs, expected " << y.size(1);
    for (int64_t j = 0; j < y.size(1); ++j) {
      const double expected = y[r][j].item<double>();
      if (!(std::abs(got[j] - expected) <= 1e-5 + 1e-4 * std::abs(expected))) {
        std::string text;
        for (const auto& line : lines)
          text += "\n  " + line;
        return ::testing::AssertionFailure()
               << "row " << r << " " << x[r] << ": output " << j << " is " << expected
               << ", the formula gives " << got[j] << text;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// The literal formula, and the one simplified on the inputs' two halves, both match forward.
void expect_readout_matches(ArithmeticUnit& unit, uint64_t seed = 7) {
  torch::NoGradGuard no_grad;
  const auto inputs = sample_inputs(unit.in_features(), 64, seed);
  const auto outputs = unit.forward(inputs);
  const Formula literal = unit.formula();
  EXPECT_TRUE(ascii_matches_forward(literal.ascii_lines(), inputs, outputs)) << "literal";
  const Sets sets = sets_of(inputs);
  const Formula simplified = simplify(literal, sets.views());
  EXPECT_TRUE(ascii_matches_forward(simplified.ascii_lines(), inputs, outputs)) << "simplified";
  EXPECT_LE(simplified.max_simplification_deviation, 1e-6);
}

TEST(ReadoutTest, Nac) {
  torch::manual_seed(0);
  NAC unit(3, 2);
  assign(unit->w_hat, w_hat_for({{1, 0, -1}, {0, -1, 1}}));
  assign(unit->m_hat, m_hat_for({{1, 0, -1}, {0, -1, 1}}));
  EXPECT_EQ(unit->formula().ascii_lines(),
            (std::vector<std::string>{"y0 = x0 - x2", "y1 = -x1 + x2"}));
  expect_readout_matches(*unit);
}

TEST(ReadoutTest, NacMulReadsAbsoluteValues) {
  torch::manual_seed(0);
  NACMul unit(3, 2);
  assign(unit->w_hat, w_hat_for({{1, 0, -1}, {1, 1, 0}}));
  assign(unit->m_hat, m_hat_for({{1, 0, -1}, {1, 1, 0}}));
  EXPECT_EQ(unit->formula().lines(),
            (std::vector<std::string>{"y0 = |x0| · |x2|⁻¹", "y1 = |x0| · |x1|"}));
  EXPECT_EQ(unit->formula().ascii_lines(),
            (std::vector<std::string>{"y0 = abs(x0)*abs(x2)**-1", "y1 = abs(x0)*abs(x1)"}));
  expect_readout_matches(*unit);
}

TEST(ReadoutTest, NacMulWritesANonNegligibleEpsilon) {
  torch::manual_seed(0);
  NACMul unit(NACOptions(2, 1).epsilon(0.25));
  assign(unit->w_hat, w_hat_for({{1, -1}}));
  assign(unit->m_hat, m_hat_for({{1, -1}}));
  EXPECT_EQ(unit->formula().str(), "y0 = (|x0| + 0.25) · (|x1| + 0.25)⁻¹");
  expect_readout_matches(*unit);
}

// NALU with its gate between 0 and 1, so that both paths count: every weights/bias variant.
void check_nalu(bool shared, bool gate_bias) {
  torch::manual_seed(0);
  NALU unit(NALUOptions(3, 2).shared_weights(shared).gate_bias(gate_bias));
  const std::vector<std::vector<double>> add = {{1, 1, 0}, {1, 0, -1}};
  const std::vector<std::vector<double>> mul = {{1, -1, 0}, {0, 1, 1}};
  assign(unit->w_hat, w_hat_for(add));
  assign(unit->m_hat, m_hat_for(add));
  if (!shared) {
    assign(unit->w_hat_mul, w_hat_for(mul));
    assign(unit->m_hat_mul, m_hat_for(mul));
  }
  assign(unit->gate_weight, matrix({{0.5, -0.25, 0.125}, {-0.75, 0.5, 0.0625}}));
  if (gate_bias)
    assign(unit->gate_bias, torch::tensor({0.375f, -1.5f}));
  const auto lines = unit->formula().lines();
  EXPECT_NE(lines[0].find(shared ? "|x0| · |x1|" : "|x0| · |x1|⁻¹"), std::string::npos) << lines[0];
  expect_readout_matches(*unit);
}

TEST(ReadoutTest, NaluSharedWeights) {
  check_nalu(true, false);
}
TEST(ReadoutTest, NaluSharedWeightsWithGateBias) {
  check_nalu(true, true);
}
TEST(ReadoutTest, NaluSeparateWeights) {
  check_nalu(false, false);
}
TEST(ReadoutTest, NaluSeparateWeightsWithGateBias) {
  check_nalu(false, true);
}

TEST(ReadoutTest, NauAndNmu) {
  torch::manual_seed(0);
  NAU nau(3, 2);
  assign(nau->weight, matrix({{1, 0, -1}, {-1, 1, 1}}));
  expect_readout_matches(*nau);
  NMU nmu(3, 2);
  assign(nmu->weight, matrix({{1, 1, 0}, {0, 1, 1}}));
  EXPECT_EQ(nmu->formula().str(), "y0 = x0 · x1; y1 = x1 · x2");  // NMU keeps signs
  expect_readout_matches(*nmu);
}

void set_inalu(INALUImpl& unit, const std::vector<std::vector<double>>& add,
               const std::vector<std::vector<double>>& mul, const std::vector<float>& gate) {
  assign(unit.w_hat_add, w_hat_for(add));
  assign(unit.m_hat_add, m_hat_for(add));
  assign(unit.w_hat_mul, w_hat_for(mul));
  assign(unit.m_hat_mul, m_hat_for(mul));
  assign(unit.gate, torch::tensor(gate));
}

TEST(ReadoutTest, InaluClipsAndRecoversTheSign) {
  torch::manual_seed(0);
  INALU unit(3, 3);
  set_inalu(*unit, {{1, -1, 0}, {0, 0, 0}, {0, 0, 0}}, {{0, 0, 0}, {1, 1, 0}, {1, -1, 1}},
            {30, -30, -30});
  EXPECT_EQ(unit->formula().lines()[1], "y1 = min(|x0| · |x1|, exp(20)) · sign(x0) · sign(x1)");
  expect_readout_matches(*unit);
  // A low omega clips the products of the extrapolation range: the clip must be in the formula.
  INALU clipped(INALUOptions(3, 2).omega(1.5).epsilon(0.5));
  set_inalu(*clipped, {{0, 0, 0}, {0, 0, 0}}, {{1, 1, 0}, {1, 0, -1}}, {-30, -30});
  EXPECT_EQ(clipped->formula().lines()[0],
            "y0 = min(max(|x0|, 0.5) · max(|x1|, 0.5), exp(1.5)) · sign(x0) · sign(x1)");
  expect_readout_matches(*clipped);
}

TEST(ReadoutTest, NpuAndRealNpuWithNegativeInputs) {
  torch::manual_seed(0);
  NPU npu(3, 2);
  assign(npu->w_real, matrix({{1, -1, 3}, {2, 0, 1}}));
  assign(npu->w_imag, torch::zeros({2, 3}));
  assign(npu->gate, torch::tensor({1.0f, 1.0f, 0.0f}));
  // cos(pi W [x < 0]) gives a negative x to an odd power its sign back: exactly x^W.
  EXPECT_EQ(npu->formula().str(), "y0 = x0 · x1⁻¹; y1 = x0²");
  expect_readout_matches(*npu);

  RealNPU real(NPUOptions(3, 2).epsilon(0.25));
  assign(real->w_real, matrix({{1, -1, 3}, {2, 0, -3}}));
  assign(real->gate, torch::tensor({1.0f, 1.0f, 1.0f}));
  EXPECT_EQ(real->formula().lines()[0],
            "y0 = (|x0| + 0.25) · (|x1| + 0.25)⁻¹ · (|x2| + 0.25)³ · "
            "cos(π·([x0 < 0] + [x1 < 0] + [x2 < 0]))");
  expect_readout_matches(*real);
}

TEST(ReadoutTest, NruAndNmruDivide) {
  // Evaluation mode, where the NRU's A(w) is |w| and the NMRU's reciprocal has no epsilon.
  NRU nru(3, 2);
  nru->eval();
  auto w = nru->named_parameters()["weight"];
  assign(w, matrix({{1, -1, 0}, {-1, -1, 1}}));
  const Formula nru_formula = nru->formula();
  EXPECT_EQ(nru_formula.ascii_lines(),
            (std::vector<std::string>{"y0 = x0*x1**-1", "y1 = x0**-1*x1**-1*x2"}));
  expect_readout_matches(*nru);

  NMRU nmru(3, 2);
  nmru->eval();
  auto v = nmru->named_parameters()["weight"];
  // Output 0: x0 · (1 / x1). Output 1: x2 and 1 / x2 both taken (x2 / x2 = 1), 1 / x0.
  assign(v, matrix({{1, 0, 0, 0, 1, 0}, {0, 0, 1, 1, 0, 1}}));
  EXPECT_EQ(nmru->formula().ascii_lines(),
            (std::vector<std::string>{"y0 = x0*x1**-1", "y1 = x0**-1"}));
  expect_readout_matches(*nmru);
}

TEST(ReadoutTest, LinearWithBias) {
  torch::manual_seed(0);
  Linear linear(LinearOptions(2, 2));
  assign(linear->weight, matrix({{1, -1}, {2, 0}}));
  assign(linear->bias, torch::tensor({3.0f, -1.0f}));
  EXPECT_EQ(linear->formula().ascii_lines(),
            (std::vector<std::string>{"y0 = x0 - x1 + 3", "y1 = 2*x0 - 1"}));
  expect_readout_matches(*linear);
}

TEST(ReadoutTest, StacksInlinedAndWithAGateKeptAsHiddenLayer) {
  torch::manual_seed(0);
  auto product = make_stack({"nau", "nmu"}, {3, 2, 1});
  assign(dynamic_cast<NAUImpl&>(*product->layers()[0]).weight, matrix({{1, 1, 0}, {0, 1, 1}}));
  assign(dynamic_cast<NMUImpl&>(*product->layers()[1]).weight, matrix({{1, 1}}));
  EXPECT_EQ(product->formula().str(), "y0 = (x0 + x1) · (x1 + x2)");
  expect_readout_matches(*product);

  auto ratio = make_stack({"nau", "nac-mul"}, {3, 2, 1});
  assign(dynamic_cast<NAUImpl&>(*ratio->layers()[0]).weight, matrix({{1, -1, 0}, {0, 0, 1}}));
  auto& nac_mul = dynamic_cast<NACMulImpl&>(*ratio->layers()[1]);
  assign(nac_mul.w_hat, w_hat_for({{1, -1}}));
  assign(nac_mul.m_hat, m_hat_for({{1, -1}}));
  EXPECT_EQ(ratio->formula().str(), "y0 = |x0 − x1| · |x2|⁻¹");
  expect_readout_matches(*ratio);

  auto gated = make_stack({"nalu", "nmu"}, {3, 2, 1});
  auto& nalu = dynamic_cast<NALUImpl&>(*gated->layers()[0]);
  assign(nalu.w_hat, w_hat_for({{1, 1, 0}, {0, -1, 1}}));
  assign(nalu.m_hat, m_hat_for({{1, 1, 0}, {0, -1, 1}}));
  assign(nalu.gate_weight, matrix({{0.5, -0.25, 0.125}, {1, 0.5, -0.5}}));
  assign(dynamic_cast<NMUImpl&>(*gated->layers()[1]).weight, matrix({{1, 1}}));
  const Formula formula = gated->formula();
  ASSERT_EQ(formula.hidden.size(), 1u);
  EXPECT_EQ(formula.ascii_lines().back(), "y0 = h0*h1");
  expect_readout_matches(*gated);
}

TEST(ReadoutTest, MlpStaysOpaque) {
  torch::manual_seed(0);
  MLP mlp(MLPOptions(3, 1).hidden({4}));
  const Formula formula = mlp->formula();
  EXPECT_EQ(formula.ascii_lines(), (std::vector<std::string>{"y0 = mlp_0(x)"}));
  EXPECT_TRUE(std::isinf(formula.max_rounding_error));
  // Nothing to evaluate, and nothing the simplification may claim about it.
  EXPECT_THROW(AsciiEvaluator::run(formula.ascii_lines(), {1, 2, 3}), std::runtime_error);
  const auto inputs = sample_inputs(3);
  const Sets sets = sets_of(inputs);
  const Formula simplified = simplify(formula, sets.views());
  EXPECT_EQ(simplified.lines(), formula.lines());
  EXPECT_TRUE(simplified.simplifications.empty());
}

// The seed-sum model's shape (two NALUs): the first layer's gate is saturated to its additive
// path, h0 = -(x0 + x1 + x2) < 0; the second layer's gate to its multiplicative path |h0|.
Stack seed_sum_like() {
  torch::manual_seed(0);
  auto stack = make_stack({"nalu"}, {3, 2, 1});
  auto& first = dynamic_cast<NALUImpl&>(*stack->layers()[0]);
  assign(first.w_hat, w_hat_for({{-1, -1, -1}, {0, 0, 1}}));
  assign(first.m_hat, m_hat_for({{-1, -1, -1}, {0, 0, 1}}));
  assign(first.gate_weight, matrix({{20, 20, 20}, {20, 20, 20}}));
  auto& second = dynamic_cast<NALUImpl&>(*stack->layers()[1]);
  assign(second.w_hat, w_hat_for({{1, 0}}));
  assign(second.m_hat, m_hat_for({{1, 0}}));
  assign(second.gate_weight, matrix({{8, 0.5}}));
  return stack;
}

TEST(ReadoutTest, SimplificationKeepsOnlyWhatItChecked) {
  auto stack = seed_sum_like();
  // Positive inputs, as in the static task: U[1, 2] and U[2, 6].
  const auto interpolation = torch::rand({200, 3}) + 1;
  const auto extrapolation = torch::rand({200, 3}) * 4 + 2;
  const auto inputs = torch::cat({interpolation, extrapolation});
  const Formula literal = stack->formula();
  ASSERT_EQ(literal.hidden.size(), 1u);
  EXPECT_NE(literal.lines().back().find("|h0|"), std::string::npos) << literal.str();
  const Formula simplified = simplify(literal, sets_of(inputs).views());
  EXPECT_EQ(simplified.lines(), (std::vector<std::string>{"y0 = x0 + x1 + x2"}));
  EXPECT_EQ(simplified.ascii_lines(), (std::vector<std::string>{"y0 = x0 + x1 + x2"}));
  ASSERT_TRUE(simplified.literal);
  EXPECT_EQ(simplified.literal->lines(), literal.lines());
  std::vector<std::string> what;
  for (const auto& s : simplified.simplifications) {
    what.push_back(s.where + ": " + s.what);
    EXPECT_LE(s.max_deviation, 1e-5) << s.what;
  }
  auto has = [&](const std::string& part) {
    for (const auto& w : what) {
      if (w.find(part) != std::string::npos)
        return true;
    }
    return false;
  };
  EXPECT_TRUE(has("h0: gate σ(")) << ::testing::PrintToString(what);
  EXPECT_TRUE(has("its first path")) << ::testing::PrintToString(what);
  EXPECT_TRUE(has("y0: gate σ(8·h0 + 0.5·h1) within 1e-6 of 0")) << ::testing::PrintToString(what);
  EXPECT_TRUE(has("y0: |h0| = −h0: ≤ 0 on every sample")) << ::testing::PrintToString(what);
  EXPECT_TRUE(has("h1: dropped: nothing reads it")) << ::testing::PrintToString(what);
  // Paths a gate never takes are neither simplified nor reported.
  EXPECT_EQ(what.size(), 5u) << ::testing::PrintToString(what);
  EXPECT_GT(simplified.max_simplification_deviation, 0.0);
  EXPECT_LE(simplified.max_simplification_deviation, 1e-5);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(ascii_matches_forward(simplified.ascii_lines(), inputs, stack->forward(inputs)));

  // Negative inputs too: |h0| is no longer of one sign, and the gate of y0 opens.
  const auto mixed = sample_inputs(3);
  const Formula kept = simplify(literal, sets_of(mixed).views());
  EXPECT_NE(kept.str().find("|h0|"), std::string::npos) << kept.str();
  EXPECT_TRUE(ascii_matches_forward(kept.ascii_lines(), mixed, stack->forward(mixed)));

  // Without data nothing is checked, so nothing data-dependent is simplified.
  const Formula unchecked = simplify(literal, {});
  EXPECT_NE(unchecked.str().find("|h0|"), std::string::npos) << unchecked.str();
  EXPECT_NE(unchecked.str().find("σ("), std::string::npos) << unchecked.str();
}

// Optional: SymPy (python3 with sympy) parses the ASCII form and gives the same values.
TEST(ReadoutTest, SympyParsesTheAsciiForm) {
  if (std::system("python3 -c 'import sympy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 with sympy is not installed; the C++ evaluator covers the ASCII form";
  torch::manual_seed(0);
  INALU unit(3, 2);
  set_inalu(*unit, {{1, -1, 0}, {0, 0, 0}}, {{0, 0, 0}, {1, -1, 1}}, {30, -30});
  NPU npu(NPUOptions(3, 1).epsilon(0.25));
  assign(npu->w_real, matrix({{1, -1, 3}}));
  assign(npu->w_imag, torch::zeros({1, 3}));
  assign(npu->gate, torch::ones({3}));
  NALU nalu(NALUOptions(3, 1).gate_bias(true));
  assign(nalu->w_hat, w_hat_for({{1, -1, 0}}));
  assign(nalu->m_hat, m_hat_for({{1, -1, 0}}));
  assign(nalu->gate_weight, matrix({{0.5, -0.25, 0.125}}));
  assign(nalu->gate_bias, torch::tensor({0.375f}));
  const std::vector<double> x = {-2.5, 3.25, -4.75};
  const auto input = torch::tensor({-2.5f, 3.25f, -4.75f}).reshape({1, 3});
  const testing::TempDir dir;
  const std::string script = (dir.path / "sympy_check.py").string();
  for (ArithmeticUnit* u : std::vector<ArithmeticUnit*>{unit.get(), npu.get(), nalu.get()}) {
    torch::NoGradGuard no_grad;
    const auto y = u->forward(input);
    std::string program =
        "from sympy import *\nx0, x1, x2 = Rational(-5, 2), Rational(13, 4), Rational(-19, 4)\n"
        "import sys\nwant = [float(v) for v in sys.argv[1:]]\ngot = []\n";
    for (const auto& line : u->formula().ascii_lines())
      program += line + "\ngot.append(float(" + line.substr(0, line.find(' ')) + "))\n";
    program +=
        "ok = all(abs(g - w) <= 1e-5 + 1e-4 * abs(w) for g, w in zip(got, want))\n"
        "sys.exit(0 if ok and len(got) == len(want) else 1)\n";
    FILE* file = std::fopen(script.c_str(), "w");
    ASSERT_NE(file, nullptr);
    std::fputs(program.c_str(), file);
    std::fclose(file);
    std::string command = "python3 " + script;
    for (int64_t j = 0; j < y.size(1); ++j) {
      char value[32];
      std::snprintf(value, sizeof value, " %.17g", y[0][j].item<double>());
      command += value;
    }
    EXPECT_EQ(std::system(command.c_str()), 0) << program;
  }
}

}  // namespace
}  // namespace nalu

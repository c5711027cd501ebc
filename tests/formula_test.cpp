// formula.h: building and simplifying expressions, rendering them with Unicode operators, and
// reading rounded weight matrices back into formulas.
#include "nalu/formula.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace nalu {
namespace {

ExprPtr x(int i) {
  return input_expr(i);
}
ExprPtr c(double value) {
  return constant_expr(value);
}

TEST(FormulaTest, SumsRenderSignsAndCoefficients) {
  EXPECT_EQ(to_string(sum_expr({{1, x(0)}, {-1, x(2)}})), "x0 − x2");
  EXPECT_EQ(to_string(sum_expr({{-1, x(0)}, {2, x(1)}})), "−x0 + 2·x1");
  EXPECT_EQ(to_string(sum_expr({{0.5, x(3)}, {-2.5, x(1)}})), "−2.5·x1 + 0.5·x3");
  EXPECT_EQ(to_string(sum_expr({{1, x(0)}, {1, c(3)}})), "x0 + 3");
  EXPECT_EQ(to_string(sum_expr({{1, x(0)}, {1, c(-3)}})), "x0 − 3");
  EXPECT_EQ(to_string(sum_expr({{1, x(0)}, {1, x(1)}}), "a"), "a0 + a1");
}

TEST(FormulaTest, SumsDropZerosAndMergeRepeatedInputsAndConstants) {
  EXPECT_EQ(to_string(sum_expr({{0, x(0)}, {1, x(1)}})), "x1");
  EXPECT_EQ(to_string(sum_expr({{1, x(0)}, {1, x(1)}, {1, x(0)}})), "2·x0 + x1");
  EXPECT_EQ(to_string(sum_expr({{1, x(0)}, {-1, x(0)}})), "0");
  EXPECT_EQ(to_string(sum_expr({})), "0");
  EXPECT_EQ(to_string(sum_expr({{1, c(2)}, {3, c(1)}})), "5");
  EXPECT_EQ(to_string(sum_expr({{1, c(2)}, {-1, c(2)}, {1, x(0)}})), "x0");
  EXPECT_EQ(to_string(sum_expr({{1, c(0)}, {1, x(0)}})), "x0");
  EXPECT_EQ(to_string(sum_expr({{2, c(3)}})), "6");
  // Nested sums flatten with their coefficients multiplied.
  const auto inner = sum_expr({{1, x(0)}, {-1, x(1)}});
  EXPECT_EQ(to_string(sum_expr({{2, inner}, {1, x(1)}})), "2·x0 − x1");
  const auto flat = sum_expr({{2, inner}, {1, x(1)}});
  ASSERT_EQ(flat->kind, Expr::Kind::kSum);
  EXPECT_EQ(flat->terms.size(), 2u);
}

TEST(FormulaTest, ProductsRenderSuperscriptExponents) {
  EXPECT_EQ(to_string(product_expr({{1, x(0)}, {1, x(1)}})), "x0 · x1");
  EXPECT_EQ(to_string(product_expr({{1, x(0)}, {-1, x(1)}})), "x0 · x1⁻¹");
  EXPECT_EQ(to_string(product_expr({{2, x(0)}, {-3, x(1)}})), "x0² · x1⁻³");
  EXPECT_EQ(to_string(product_expr({{12, x(4)}})), "x4¹²");
  EXPECT_EQ(to_string(product_expr({{10, x(0)}})), "x0¹⁰");
  EXPECT_EQ(to_string(product_expr({{0.5, x(0)}})), "x0^0.5");
  EXPECT_EQ(to_string(product_expr({})), "1");
  EXPECT_EQ(to_string(product_expr({{0, x(0)}})), "1");
}

TEST(FormulaTest, ProductsMergeRepeatedFactorsAndFlatten) {
  EXPECT_EQ(to_string(product_expr({{1, x(0)}, {1, x(0)}})), "x0²");
  EXPECT_EQ(to_string(product_expr({{1, x(0)}, {1, x(1)}, {-1, x(1)}})), "x0");
  const auto inner = product_expr({{1, x(0)}, {-1, x(1)}});
  EXPECT_EQ(to_string(product_expr({{2, inner}, {1, x(2)}})), "x0² · x1⁻² · x2");
}

TEST(FormulaTest, ParenthesesFollowPrecedence) {
  const auto sum = sum_expr({{1, x(0)}, {1, x(1)}});
  const auto product = product_expr({{1, x(0)}, {1, x(1)}});
  EXPECT_EQ(to_string(product_expr({{1, sum}, {1, x(2)}})), "(x0 + x1) · x2");
  EXPECT_EQ(to_string(product_expr({{-1, sum}})), "(x0 + x1)⁻¹");
  EXPECT_EQ(to_string(product_expr({{2, product}})), "x0² · x1²");
  EXPECT_EQ(to_string(sum_expr({{1, product}, {1, x(2)}})), "x0 · x1 + x2");
  EXPECT_EQ(to_string(sum_expr({{3, product}, {-1, x(2)}})), "3·(x0 · x1) − x2");
  // A one-term sum with coefficient 1 is as tight as its term.
  EXPECT_EQ(to_string(product_expr({{1, sum_expr({{1, x(0)}})}, {1, x(1)}})), "x0 · x1");
}

TEST(FormulaTest, ConstantsAndOpaqueNodes) {
  EXPECT_EQ(to_string(c(4)), "4");
  EXPECT_EQ(to_string(c(0.125)), "0.125");
  EXPECT_EQ(to_string(opaque_expr("mlp_0(x)")), "mlp_0(x)");
  EXPECT_EQ(to_string(sigmoid_expr(sum_expr({{1, x(0)}, {-1, x(1)}}))), "σ(x0 − x1)");
}

TEST(FormulaTest, GatesWithConstantGateCollapse) {
  const auto add = sum_expr({{1, x(0)}, {1, x(1)}});
  const auto mul = product_expr({{1, x(0)}, {1, x(1)}});
  EXPECT_EQ(to_string(gate_expr(c(1), add, mul)), "x0 + x1");
  EXPECT_EQ(to_string(gate_expr(c(0), add, mul)), "x0 · x1");
  EXPECT_EQ(to_string(gate_expr(c(0.25), x(0), x(1))), "0.25·x0 + 0.75·x1");
  EXPECT_EQ(to_string(gate_expr(sigmoid_expr(x(2)), add, mul)),
            "σ(x2)·(x0 + x1) + (1 − σ(x2))·(x0 · x1)");
}

TEST(FormulaTest, SubstituteReplacesInputsAndSimplifiesAgain) {
  const auto outer = sum_expr({{1, x(0)}, {-1, x(1)}});
  // (x0 + x1) - x0 = x1
  EXPECT_EQ(to_string(substitute(outer, {sum_expr({{1, x(0)}, {1, x(1)}}), x(0)})), "x1");
  // (x0 x1) * x1^-1 = x0
  const auto ratio = product_expr({{1, x(0)}, {-1, x(1)}});
  EXPECT_EQ(to_string(substitute(ratio, {product_expr({{1, x(0)}, {1, x(1)}}), x(1)})), "x0");
  // Inputs beyond the substitution list stay as they are.
  EXPECT_EQ(to_string(substitute(outer, {x(5)})), "−x1 + x5");
  // Gates and sigmoids substitute in every part.
  const auto gate = gate_expr(sigmoid_expr(x(0)), x(1), x(0));
  EXPECT_EQ(to_string(substitute(gate, {x(3), x(4)})), "σ(x3)·x4 + (1 − σ(x3))·x3");
  EXPECT_EQ(to_string(substitute(c(2), {x(1)})), "2");
}

TEST(FormulaTest, FormulaLinesStrAndExact) {
  Formula formula;
  formula.outputs = {sum_expr({{1, x(0)}, {1, x(1)}}), product_expr({{1, x(0)}, {-1, x(1)}})};
  EXPECT_EQ(formula.lines(), (std::vector<std::string>{"y0 = x0 + x1", "y1 = x0 · x1⁻¹"}));
  EXPECT_EQ(formula.lines("in", "out"),
            (std::vector<std::string>{"out0 = in0 + in1", "out1 = in0 · in1⁻¹"}));
  EXPECT_EQ(formula.str(), "y0 = x0 + x1; y1 = x0 · x1⁻¹");
  formula.max_rounding_error = 1e-6;
  EXPECT_TRUE(formula.exact());
  formula.max_rounding_error = 2e-6;
  EXPECT_FALSE(formula.exact());
  formula.max_rounding_error = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(formula.exact());
}

TEST(FormulaTest, ComposeSubstitutesAndKeepsTheWorstError) {
  Formula inner;
  inner.outputs = {sum_expr({{1, x(0)}, {1, x(1)}}), x(2)};
  inner.max_rounding_error = 0.05;
  Formula outer;
  outer.outputs = {product_expr({{1, x(0)}, {1, x(1)}})};
  outer.max_rounding_error = 0.2;
  const auto composed = compose(inner, outer);
  EXPECT_EQ(composed.str(), "y0 = (x0 + x1) · x2");
  EXPECT_EQ(composed.max_rounding_error, 0.2);

  outer.max_rounding_error = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(std::isnan(compose(inner, outer).max_rounding_error));
  inner.max_rounding_error = std::numeric_limits<double>::infinity();
  outer.max_rounding_error = 0;
  EXPECT_TRUE(std::isinf(compose(inner, outer).max_rounding_error));
}

TEST(FormulaTest, ReadAdditiveRoundsWeightsAndBias) {
  double error = 0;
  const std::vector<float> weight = {0.98f, 0.02f, -1.1f, 0, 0, 0.6f};
  const auto outputs = read_additive(weight, 2, 3, error);
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(to_string(outputs[0]), "x0 − x2");
  EXPECT_EQ(to_string(outputs[1]), "x2");
  EXPECT_NEAR(error, 0.4, 1e-6);

  double with_bias_error = 0;
  const std::vector<float> bias = {2.1f, 0.3f};
  const auto biased = read_additive(weight, 2, 3, with_bias_error, &bias);
  EXPECT_EQ(to_string(biased[0]), "x0 − x2 + 2");
  EXPECT_EQ(to_string(biased[1]), "x2");
  EXPECT_NEAR(with_bias_error, 0.4, 1e-6);

  // Larger integers are read as coefficients (Linear weights are not limited to {-1, 0, 1}).
  double integer_error = 0;
  EXPECT_EQ(to_string(read_additive({3.0f, -2.0f}, 1, 2, integer_error)[0]), "3·x0 − 2·x1");
  EXPECT_EQ(integer_error, 0.0);
}

TEST(FormulaTest, ReadMultiplicativeRoundsExponentsAndAccumulatesError) {
  double error = 0.3;  // the error adds to what the caller already has
  const auto outputs = read_multiplicative({1.05f, -0.9f, 0.1f, 2.0f}, 2, 2, error);
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(to_string(outputs[0]), "x0 · x1⁻¹");
  EXPECT_EQ(to_string(outputs[1]), "x1²");
  EXPECT_NEAR(error, 0.3, 1e-6);
  error = 0;
  read_multiplicative({1.05f, -0.9f, 0.1f, 2.0f}, 2, 2, error);
  EXPECT_NEAR(error, 0.1, 1e-6);
}

TEST(FormulaTest, NonFiniteWeightsAreNeverExact) {
  // A diverged unit must not read as an exact formula.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  double error = 0;
  read_additive({1.0f, nan}, 1, 2, error);
  EXPECT_TRUE(std::isnan(error));
  error = 0;
  read_multiplicative({inf, 1.0f}, 1, 2, error);
  EXPECT_TRUE(std::isnan(error));
  error = 0;
  const std::vector<float> bias = {nan};
  read_additive({1.0f}, 1, 1, error, &bias);
  EXPECT_TRUE(std::isnan(error));
  // Once NaN, later finite weights do not hide it.
  error = 0;
  read_additive({nan, 0.4f}, 1, 2, error);
  EXPECT_TRUE(std::isnan(error));
  Formula formula;
  formula.max_rounding_error = error;
  EXPECT_FALSE(formula.exact());
}

TEST(FormulaTest, AsciiFormIsPythonSyntax) {
  const auto sum = sum_expr({{1, x(0)}, {-2, x(1)}, {1, c(3)}});
  EXPECT_EQ(to_ascii(sum), "x0 - 2*x1 + 3");
  EXPECT_EQ(to_ascii(sum_expr({{-1, x(0)}, {0.5, x(1)}})), "-x0 + 0.5*x1");
  EXPECT_EQ(to_ascii(product_expr({{1, x(0)}, {-1, x(1)}, {2, x(2)}})), "x0*x1**-1*x2**2");
  EXPECT_EQ(to_ascii(product_expr({{1, sum}, {-1, x(2)}})), "(x0 - 2*x1 + 3)*x2**-1");
  EXPECT_EQ(to_ascii(product_expr({{1, abs_expr(x(0))}, {-1, abs_expr(sum)}})),
            "abs(x0)*abs(x0 - 2*x1 + 3)**-1");
  EXPECT_EQ(to_ascii(sigmoid_expr(sum_expr({{0.5, x(0)}}))), "(1/(1 + exp(-(0.5*x0))))");
  EXPECT_EQ(to_ascii(gate_expr(sigmoid_expr(x(2)), x(0), abs_expr(x(1)))),
            "(1/(1 + exp(-(x2))))*x0 + (1 - (1/(1 + exp(-(x2)))))*abs(x1)");
  EXPECT_EQ(to_ascii(min_expr(product_expr({{1, sign_expr(x(0))}, {1, x(1)}}), exp_expr(c(20)))),
            "Min(sign(x0)*x1, exp(20))");
  EXPECT_EQ(to_ascii(max_expr(abs_expr(x(0)), c(1e-7))), "Max(abs(x0), 1e-07)");
  EXPECT_EQ(to_ascii(cos_pi_expr(sum_expr({{1, negative_expr(x(0))}, {1, negative_expr(x(1))}}))),
            "cos(pi*(Heaviside(-(x0), 0) + Heaviside(-(x1), 0)))");
  EXPECT_EQ(to_ascii(c(-3)), "-3");
  EXPECT_EQ(to_ascii(product_expr({{1, c(-3)}, {1, x(0)}})), "(-3)*x0");
  // Non-integers keep every digit of the double they stand for.
  EXPECT_EQ(to_ascii(sum_expr({{0.1f, x(0)}})), "0.10000000149011612*x0");
  // A single factor or term prints as itself.
  EXPECT_EQ(to_ascii(product_expr({{1, sum}})), "x0 - 2*x1 + 3");
  EXPECT_EQ(to_string(product_expr({{1, sum}})), "x0 − 2·x1 + 3");
}

TEST(FormulaTest, PrettyFormOfFunctions) {
  EXPECT_EQ(to_string(product_expr({{1, abs_expr(x(0))}, {-1, abs_expr(x(1))}})), "|x0| · |x1|⁻¹");
  EXPECT_EQ(to_string(min_expr(product_expr({{1, sign_expr(x(0))}, {1, x(1)}}), exp_expr(c(20)))),
            "min(sign(x0) · x1, exp(20))");
  EXPECT_EQ(to_string(cos_pi_expr(negative_expr(x(0)))), "cos(π·[x0 < 0])");
  EXPECT_EQ(to_string(cos_pi_expr(sum_expr({{1, negative_expr(x(0))}, {1, negative_expr(x(1))}}))),
            "cos(π·([x0 < 0] + [x1 < 0]))");
  EXPECT_TRUE(same_expr(abs_expr(sum_expr({{1, x(0)}, {1, x(1)}})),
                        abs_expr(sum_expr({{1, x(1)}, {1, x(0)}}))));
  EXPECT_FALSE(same_expr(abs_expr(x(0)), sign_expr(x(0))));
  EXPECT_EQ(to_string(substitute(abs_expr(x(0)), {sum_expr({{1, x(1)}, {-1, x(2)}})})),
            "|x1 − x2|");
}

TEST(FormulaTest, EvaluateComputesEveryKind) {
  Formula formula;
  formula.outputs = {
      product_expr({{1, abs_expr(x(0))}, {-1, abs_expr(x(1))}}),
      gate_expr(sigmoid_expr(c(0)), x(0), x(1)),
      min_expr(product_expr({{1, abs_expr(x(0))}, {1, abs_expr(x(1))}}), exp_expr(c(1))),
      product_expr({{1, sign_expr(x(0))}, {1, cos_pi_expr(negative_expr(x(1)))}}),
  };
  const std::vector<double> in = {-3, 1.5};
  const auto y = evaluate(formula, in);
  ASSERT_EQ(y.size(), 4u);
  EXPECT_DOUBLE_EQ(y[0], 2.0);
  EXPECT_DOUBLE_EQ(y[1], -0.75);
  EXPECT_DOUBLE_EQ(y[2], std::exp(1.0));
  EXPECT_DOUBLE_EQ(y[3], -1.0);
}

TEST(FormulaTest, SimplifyChecksSignsClipsAndGatesOnTheSets) {
  Formula formula;
  formula.outputs = {
      product_expr({{1, abs_expr(x(0))}, {1, abs_expr(x(1))}}),
      min_expr(product_expr({{1, abs_expr(x(0))}, {1, sign_expr(x(0))}}), exp_expr(c(20))),
      gate_expr(sigmoid_expr(sum_expr({{-40, x(0)}})), x(1), abs_expr(x(0))),
      gate_expr(sigmoid_expr(x(1)), abs_expr(x(0)), abs_expr(x(0))),
  };
  // x0 in [1, 3], x1 of both signs.
  const std::vector<float> rows = {1, -2, 2, 0.5, 3, 4};
  const Formula simplified = simplify(formula, {{rows, 2}});
  EXPECT_EQ(simplified.lines(),
            (std::vector<std::string>{"y0 = x0 · |x1|", "y1 = x0", "y2 = x0", "y3 = x0"}));
  EXPECT_EQ(simplified.literal->lines(), formula.lines());
  EXPECT_LE(simplified.max_simplification_deviation, 1e-12);
  for (const auto& s : simplified.simplifications)
    EXPECT_LE(s.max_deviation, 1e-12) << s.where << ": " << s.what;
  // A set in which x0 takes both signs checks none of the sign claims; the clip still never acts.
  const std::vector<float> mixed = {1, -2, -2, 0.5};
  const Formula kept = simplify(formula, {{mixed, 2}});
  EXPECT_EQ(kept.lines()[0], "y0 = |x0| · |x1|");
  EXPECT_EQ(kept.lines()[1], "y1 = x0");    // |x0| · sign(x0) = x0 holds everywhere
  EXPECT_EQ(kept.lines()[3], "y3 = |x0|");  // equal paths merge without data
}

TEST(FormulaTest, HugeValuesRenderInScientificNotation) {
  // Beyond the range of long long an integer-valued double is not printed digit by digit.
  EXPECT_EQ(to_string(c(1e20)), "1e+20");
  EXPECT_EQ(to_string(sum_expr({{-1e20, x(0)}})), "−1e+20·x0");
  EXPECT_EQ(to_string(product_expr({{1e20, x(0)}})), "x0^1e+20");
  EXPECT_EQ(to_string(c(123456)), "123456");
}

}  // namespace
}  // namespace nalu

namespace nalu {
namespace {

TEST(FormulaTest, GatedLayersStayNamedInsteadOfInlined) {
  // A NALU-like first layer (a gate over x) feeding a product: inlining would repeat the gate.
  Formula inner;
  const auto gate = sigmoid_expr(sum_expr({{0.5, input_expr(0)}}));
  inner.outputs = {gate_expr(gate, sum_expr({{1, input_expr(0)}, {1, input_expr(1)}}),
                             product_expr({{1, input_expr(0)}, {1, input_expr(1)}})),
                   sum_expr({{1, input_expr(1)}})};
  Formula outer;
  outer.outputs = {product_expr({{1, input_expr(0)}, {1, input_expr(1)}})};
  const Formula composed = compose(inner, outer);
  ASSERT_EQ(composed.hidden.size(), 1u);
  EXPECT_EQ(composed.lines(),
            (std::vector<std::string>{"h0 = σ(0.5·x0)·(x0 + x1) + (1 − σ(0.5·x0))·(x0 · x1)",
                                      "h1 = x1", "y0 = h0 · h1"}));
  // A third layer numbers the hidden layers.
  Formula square;
  square.outputs = {product_expr({{2, input_expr(0)}})};
  const Formula deeper = compose(composed, square);
  ASSERT_EQ(deeper.hidden.size(), 2u);
  const auto lines = deeper.lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[1], "h1_1 = x1");
  EXPECT_EQ(lines[2], "h2_0 = h1_0 · h1_1");
  EXPECT_EQ(lines[3], "y0 = h2_0²");
}

}  // namespace
}  // namespace nalu

// Symbolic read-back of what a trained unit computes: weights are rounded to the values the
// unit is pushed towards (-1/0/1, 0/1, small integer exponents) and written as an expression
// such as `y0 = x3 + x17 - x42` or `y0 = x1 * x2^-1`. Free of LibTorch on purpose.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nalu {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

/// One node of a formula. Sums hold (coefficient, term) pairs and products (exponent, factor)
/// pairs; a gate is g * first + (1 - g) * second where g is itself an expression.
struct Expr {
  enum class Kind { kInput, kConstant, kSum, kProduct, kGate, kSigmoid, kOpaque };
  Kind kind = Kind::kConstant;
  int input = 0;                                  // kInput: index into the unit's inputs
  double value = 0.0;                             // kConstant
  std::string text;                               // kOpaque: a name such as "mlp(x)"
  std::vector<std::pair<double, ExprPtr>> terms;  // kSum, kProduct
  ExprPtr gate, first, second;                    // kGate; kSigmoid uses `first`
};

ExprPtr input_expr(int index);
ExprPtr constant_expr(double value);
/// Sum of coefficient * term; terms with a zero coefficient are dropped.
ExprPtr sum_expr(std::vector<std::pair<double, ExprPtr>> terms);
/// Product of factor ^ exponent; factors with a zero exponent are dropped.
ExprPtr product_expr(std::vector<std::pair<double, ExprPtr>> factors);
ExprPtr gate_expr(ExprPtr gate, ExprPtr first, ExprPtr second);
ExprPtr sigmoid_expr(ExprPtr argument);
ExprPtr opaque_expr(std::string text);

/// Replaces every input i in `expr` by `inputs[i]` (used to compose stacked layers).
ExprPtr substitute(const ExprPtr& expr, const std::vector<ExprPtr>& inputs);

/// Renders an expression with inputs named `<prefix><index>` (x0, x1, ...).
std::string to_string(const ExprPtr& expr, const std::string& input_prefix = "x");

/// What a unit (or a stack of units) computes, one expression per output, and how far the
/// weights it was read from were from the rounded values (max absolute distance; infinity
/// when the unit has no closed form, such as an MLP).
struct Formula {
  /// Expressions of the outputs: of the inputs, or of the last hidden layer when `hidden` is
  /// not empty.
  std::vector<ExprPtr> outputs;
  /// Hidden layers kept apart because inlining them would not read well (a gate or an opaque
  /// part): layer 0 is in terms of the inputs, layer l of layer l - 1. They print as h0, h1, ...
  /// (one hidden layer) or h1_0, h2_0, ... (several).
  std::vector<std::vector<ExprPtr>> hidden;
  double max_rounding_error = 0.0;

  /// "h0 = ..." for each hidden output, then "y0 = ...", one line per output.
  std::vector<std::string> lines(const std::string& input_prefix = "x",
                                 const std::string& output_prefix = "y") const;
  /// All lines joined by "; ".
  std::string str() const;
  bool exact() const;  // every read weight was within 1e-6 of its rounded value
};

/// The formula of `outer` applied to the outputs of `inner`: substituted into one expression
/// when `inner` is plain sums and products, else kept as a named hidden layer.
Formula compose(const Formula& inner, const Formula& outer);

/// max_error = max(max_error, distance), except that NaN (from a non-finite weight) wins and
/// stays, so that a diverged unit never reads as exact.
void add_rounding_error(double& max_error, double distance);

/// Reads an additive weight matrix (row-major [out][in]) rounded to the nearest integer:
/// y_j = sum_i round(W_ji) x_i (+ round(b_j)). Adds to `max_error`.
std::vector<ExprPtr> read_additive(const std::vector<float>& weight, int out, int in,
                                   double& max_error, const std::vector<float>* bias = nullptr);
/// Reads a multiplicative (exponent) weight matrix: y_j = prod_i x_i ^ round(W_ji).
std::vector<ExprPtr> read_multiplicative(const std::vector<float>& weight, int out, int in,
                                         double& max_error);

}  // namespace nalu

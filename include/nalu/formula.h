// Symbolic read-back of what a trained unit computes: weights are rounded to the values the
// unit is pushed towards (-1/0/1, 0/1, small integer exponents) and written as an expression
// such as `y0 = x3 + x17 − x42` or `y0 = |x1| · |x2|⁻¹`. With the rounded weights the expression
// is literally what the unit computes (absolute values of log-space paths, clips, sign terms
// included); simplify() then removes only what it has checked on data. Each formula prints in
// two forms: pretty (Unicode) and plain ASCII that Python and SymPy parse. Free of LibTorch on
// purpose.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nalu {

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

/// One node of a formula. Sums hold (coefficient, term) pairs and products (exponent, factor)
/// pairs; a gate is g * first + (1 - g) * second where g is itself an expression. The one-argument
/// functions (sigmoid, abs, sign, [x < 0], exp, cos(pi x)) use `first`; min and max use `first`
/// and `second`.
struct Expr {
  enum class Kind {
    kInput,
    kConstant,
    kSum,
    kProduct,
    kGate,
    kSigmoid,
    kOpaque,
    kAbs,       // |first|
    kSign,      // sign(first): -1, 0 or 1
    kNegative,  // [first < 0]: 1 where first < 0, else 0
    kExp,       // exp(first)
    kCosPi,     // cos(pi * first)
    kMin,       // min(first, second)
    kMax,       // max(first, second)
  };
  Kind kind = Kind::kConstant;
  int input = 0;                                  // kInput: index into the unit's inputs
  double value = 0.0;                             // kConstant
  std::string text;                               // kOpaque: a name such as "mlp(x)"
  std::vector<std::pair<double, ExprPtr>> terms;  // kSum, kProduct
  ExprPtr gate, first, second;                    // kGate; functions use `first` (and `second`)
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
ExprPtr abs_expr(ExprPtr argument);
ExprPtr sign_expr(ExprPtr argument);
ExprPtr negative_expr(ExprPtr argument);
ExprPtr exp_expr(ExprPtr argument);
ExprPtr cos_pi_expr(ExprPtr argument);
ExprPtr min_expr(ExprPtr first, ExprPtr second);
ExprPtr max_expr(ExprPtr first, ExprPtr second);

/// Whether two expressions are the same tree (same kinds, numbers and children).
bool same_expr(const ExprPtr& left, const ExprPtr& right);

/// Replaces every input i in `expr` by `inputs[i]` (used to compose stacked layers).
ExprPtr substitute(const ExprPtr& expr, const std::vector<ExprPtr>& inputs);

/// Renders an expression with inputs named `<prefix><index>` (x0, x1, ...).
std::string to_string(const ExprPtr& expr, const std::string& input_prefix = "x");
/// The same in plain ASCII that Python (with `from sympy import *`) and SymPy parse: `abs(x0)`,
/// `x0*x1**-1`, `exp(...)`, `cos(pi*(...))`, `sign(x0)`, `Min(a, b)`, `Max(a, b)`,
/// `Heaviside(-(x0), 0)` for [x0 < 0], `(1/(1 + exp(-(...))))` for the sigmoid. Numbers that are
/// not integers are written with enough digits to give back the same double.
std::string to_ascii(const ExprPtr& expr, const std::string& input_prefix = "x");

/// How far from 0 or 1 a gate may stay on the evaluation sets to be replaced by one path.
inline constexpr double kGateTolerance = 1e-6;
/// The epsilon that log-space paths add to |x| (or clip |x| to) is written out only when it is
/// larger than this; a smaller one changes a factor |x|^w by a relative |w| epsilon / |x| at most,
/// below float precision wherever |x| >= 0.1 |w| for the default epsilon 1e-7.
inline constexpr double kNegligibleEpsilon = 1e-6;

/// One change simplify() made to the literal formula, and the largest absolute change of the
/// changed expression's value it caused on the evaluation sets.
struct Simplification {
  std::string where;  // the line it was made in, named as in the literal formula ("y0", "h1")
  std::string what;   // e.g. "|h0| = −h0: h0 ≤ 0 on every sample"
  double max_deviation = 0.0;
};

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
  /// Set by simplify(): the changes it made (in order), the largest absolute difference of any
  /// output between this formula and the literal one on the evaluation sets, and the literal
  /// formula itself. Empty, 0 and null for a literal formula.
  std::vector<Simplification> simplifications;
  double max_simplification_deviation = 0.0;
  std::shared_ptr<const Formula> literal;

  /// "h0 = ..." for each hidden output, then "y0 = ...", one line per output.
  std::vector<std::string> lines(const std::string& input_prefix = "x",
                                 const std::string& output_prefix = "y") const;
  /// The same lines in the ASCII form of to_ascii().
  std::vector<std::string> ascii_lines(const std::string& input_prefix = "x",
                                       const std::string& output_prefix = "y") const;
  /// All lines joined by "; ".
  std::string str() const;
  bool exact() const;  // every read weight was within 1e-6 of its rounded value
};

/// The formula of `outer` applied to the outputs of `inner`: substituted into one expression
/// when `inner` is plain sums and products, else kept as a named hidden layer.
Formula compose(const Formula& inner, const Formula& outer);

/// Inputs to check simplifications on: rows of `columns` values each, row-major.
struct EvaluationSet {
  std::span<const float> inputs;
  int64_t columns = 0;
};

/// `literal` with what holds on every row of `sets` simplified (and nothing else): a gate within
/// kGateTolerance of 1 or 0 becomes its first or second path; a gate whose paths are the same
/// becomes that path; |e|, sign(e) and [e < 0] with e of one sign become e or -e, ±1, 1 or 0;
/// min(a, b) and max(a, b) that always pick a become a; |e|^w · sign(e) with odd w becomes e^w
/// (and |e|^w with even w e^w, which holds everywhere); hidden units that nothing reads are
/// dropped, and hidden layers that are plain sums and products are inlined. Each change is
/// recorded with its largest deviation on the sets. Without rows (or for an opaque formula)
/// only the exact rewrites apply.
Formula simplify(const Formula& literal, const std::vector<EvaluationSet>& sets);

/// The value of every output of `formula` for one row of inputs, in double precision.
std::vector<double> evaluate(const Formula& formula, std::span<const double> inputs);

/// max_error = max(max_error, distance), except that NaN (from a non-finite weight) wins and
/// stays, so that a diverged unit never reads as exact.
void add_rounding_error(double& max_error, double distance);

/// Reads an additive weight matrix (row-major [out][in]) rounded to the nearest integer:
/// y_j = sum_i round(W_ji) x_i (+ round(b_j)). Adds to `max_error`.
std::vector<ExprPtr> read_additive(const std::vector<float>& weight, int out, int in,
                                   double& max_error, const std::vector<float>* bias = nullptr);
/// Reads a multiplicative (exponent) weight matrix: y_j = prod_i x_i ^ round(W_ji) (NMU, whose
/// factors W x + 1 - W are x or 1 for W in {0, 1}).
std::vector<ExprPtr> read_multiplicative(const std::vector<float>& weight, int out, int in,
                                         double& max_error);
/// Reads a log-space path exp(W log(|x| + epsilon)): y_j = prod_i |x_i| ^ round(W_ji), with
/// (|x_i| + epsilon) when epsilon > kNegligibleEpsilon.
std::vector<ExprPtr> read_log_space(const std::vector<float>& weight, int out, int in,
                                    double& max_error, double epsilon);

}  // namespace nalu

// Building, composing and printing read-back formulas (evaluation and simplification:
// formula_simplify.cpp).
#include "nalu/formula.h"

#include "formula_detail.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <sstream>

namespace nalu {

namespace detail {

// Integers print digit by digit only while a long long holds them exactly.
bool is_integer(double value) {
  return std::abs(value) < 1e15 && std::abs(value - std::round(value)) < 1e-9;
}

// Precedence: sums bind loosest, then products, then atoms (inputs, constants, calls).
int precedence(const ExprPtr& expr) {
  if (expr->terms.empty() &&
      (expr->kind == Expr::Kind::kSum || expr->kind == Expr::Kind::kProduct)) {
    return 2;  // prints as the constant 0 or 1
  }
  switch (expr->kind) {
    case Expr::Kind::kSum:
      return expr->terms.size() == 1 && expr->terms[0].first == 1.0
                 ? precedence(expr->terms[0].second)
                 : 0;
    case Expr::Kind::kGate:
      return 0;
    case Expr::Kind::kProduct:
      return expr->terms.size() == 1 && expr->terms[0].first == 1.0
                 ? precedence(expr->terms[0].second)
                 : 1;
    case Expr::Kind::kConstant:
      return expr->value < 0 ? 0 : 2;
    default:
      return 2;
  }
}

ExprPtr function_expr(Expr::Kind kind, ExprPtr first, ExprPtr second) {
  auto expr = std::make_shared<Expr>();
  expr->kind = kind;
  expr->first = std::move(first);
  expr->second = std::move(second);
  return expr;
}

std::string hidden_prefix(size_t layer, size_t layers) {
  std::string prefix("h");
  if (layers > 1) {
    prefix += std::to_string(layer + 1);
    prefix += '_';
  }
  return prefix;
}

// Plain sums and products of inputs and constants (and their absolute values and signs) inline
// well; gates, sigmoids, clips, exponentials, cosines and opaque parts would be repeated at
// every use.
bool inlines_well(const ExprPtr& expr) {
  switch (expr->kind) {
    case Expr::Kind::kAbs:
    case Expr::Kind::kSign:
      return inlines_well(expr->first);
    case Expr::Kind::kInput:
    case Expr::Kind::kConstant:
    case Expr::Kind::kSum:
    case Expr::Kind::kProduct:
      for (const auto& term : expr->terms) {
        if (!inlines_well(term.second))
          return false;
      }
      return true;
    default:
      return false;
  }
}

}  // namespace detail

namespace {

using detail::function_expr;
using detail::hidden_prefix;
using detail::inlines_well;
using detail::is_integer;
using detail::precedence;

std::shared_ptr<Expr> make(Expr::Kind kind) {
  auto expr = std::make_shared<Expr>();
  expr->kind = kind;
  return expr;
}

std::string number(double value) {
  if (is_integer(value))
    return std::to_string(static_cast<long long>(std::llround(value)));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

// The shortest decimal that reads back as the same double, so that the ASCII form evaluates to
// what the weights give.
std::string exact_number(double value) {
  if (is_integer(value))
    return std::to_string(static_cast<long long>(std::llround(value)));
  char buffer[40];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
    if (std::strtod(buffer, nullptr) == value)
      break;
  }
  return buffer;
}

std::string superscript(double exponent) {
  if (!is_integer(exponent))
    return "^" + number(exponent);
  static const char* kDigits[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  long long n = std::llround(exponent);
  std::string digits;
  for (long long m = std::llabs(n); m > 0 || digits.empty(); m /= 10) {
    digits = std::string(kDigits[m % 10]) + digits;
  }
  return (n < 0 ? std::string("⁻") : std::string()) + digits;
}

std::string render(const ExprPtr& expr, const std::string& prefix);

std::string wrapped(const ExprPtr& expr, const std::string& prefix, int min_precedence) {
  std::string text = render(expr, prefix);
  return precedence(expr) < min_precedence ? "(" + text + ")" : text;
}

std::string render(const ExprPtr& expr, const std::string& prefix) {
  switch (expr->kind) {
    case Expr::Kind::kInput:
      return prefix + std::to_string(expr->input);
    case Expr::Kind::kConstant:
      return number(expr->value);
    case Expr::Kind::kOpaque:
      return expr->text;
    case Expr::Kind::kSigmoid:
      return "σ(" + render(expr->first, prefix) + ")";
    case Expr::Kind::kAbs:
      return "|" + render(expr->first, prefix) + "|";
    case Expr::Kind::kSign:
      return "sign(" + render(expr->first, prefix) + ")";
    case Expr::Kind::kNegative:
      return "[" + render(expr->first, prefix) + " < 0]";
    case Expr::Kind::kExp:
      return "exp(" + render(expr->first, prefix) + ")";
    case Expr::Kind::kCosPi:
      return "cos(π·" + wrapped(expr->first, prefix, 2) + ")";
    case Expr::Kind::kMin:
    case Expr::Kind::kMax:
      return std::string(expr->kind == Expr::Kind::kMin ? "min(" : "max(") +
             render(expr->first, prefix) + ", " + render(expr->second, prefix) + ")";
    case Expr::Kind::kSum: {
      if (expr->terms.empty())
        return "0";
      if (expr->terms.size() == 1 && expr->terms[0].first == 1.0 &&
          expr->terms[0].second->kind != Expr::Kind::kConstant)
        return render(expr->terms[0].second, prefix);  // as tight as its term (precedence())
      std::string out;
      for (const auto& [weight, term] : expr->terms) {
        const bool constant = term->kind == Expr::Kind::kConstant;
        const double coefficient = constant ? weight * term->value : weight;
        const bool negative = coefficient < 0;
        const double magnitude = std::abs(coefficient);
        std::string body = constant           ? number(magnitude)
                           : magnitude == 1.0 ? wrapped(term, prefix, 1)
                                              : number(magnitude) + "·" + wrapped(term, prefix, 2);
        if (out.empty()) {
          out = (negative ? "−" : "") + body;
        } else {
          out += negative ? " − " : " + ";
          out += body;
        }
      }
      return out;
    }
    case Expr::Kind::kProduct: {
      if (expr->terms.empty())
        return "1";
      if (expr->terms.size() == 1 && expr->terms[0].first == 1.0)
        return render(expr->terms[0].second, prefix);  // as tight as its factor (precedence())
      std::string out;
      for (const auto& [exponent, factor] : expr->terms) {
        if (!out.empty())
          out += " · ";
        out += exponent == 1.0 ? wrapped(factor, prefix, 1)
                               : wrapped(factor, prefix, 2) + superscript(exponent);
      }
      return out;
    }
    case Expr::Kind::kGate: {
      const std::string gate = wrapped(expr->gate, prefix, 2);
      if (expr->gate->kind == Expr::Kind::kConstant) {
        if (expr->gate->value == 1.0)
          return render(expr->first, prefix);
        if (expr->gate->value == 0.0)
          return render(expr->second, prefix);
        return gate + "·" + wrapped(expr->first, prefix, 2) + " + " +
               number(1.0 - expr->gate->value) + "·" + wrapped(expr->second, prefix, 2);
      }
      return gate + "·" + wrapped(expr->first, prefix, 2) + " + (1 − " + gate + ")·" +
             wrapped(expr->second, prefix, 2);
    }
  }
  return "?";
}

// ---- ASCII: the same structure in Python/SymPy syntax ----

std::string render_ascii(const ExprPtr& expr, const std::string& prefix);

std::string wrapped_ascii(const ExprPtr& expr, const std::string& prefix, int min_precedence) {
  std::string text = render_ascii(expr, prefix);
  return precedence(expr) < min_precedence ? "(" + text + ")" : text;
}

std::string ascii_sigmoid(const ExprPtr& expr, const std::string& prefix) {
  // Parenthesised whole, so that it is an atom wherever it stands.
  return "(1/(1 + exp(-(" + render_ascii(expr->first, prefix) + "))))";
}

std::string render_ascii(const ExprPtr& expr, const std::string& prefix) {
  switch (expr->kind) {
    case Expr::Kind::kInput:
      return prefix + std::to_string(expr->input);
    case Expr::Kind::kConstant:
      return exact_number(expr->value);
    case Expr::Kind::kOpaque:
      return expr->text;
    case Expr::Kind::kSigmoid:
      return ascii_sigmoid(expr, prefix);
    case Expr::Kind::kAbs:
      return "abs(" + render_ascii(expr->first, prefix) + ")";
    case Expr::Kind::kSign:
      return "sign(" + render_ascii(expr->first, prefix) + ")";
    case Expr::Kind::kNegative:
      // SymPy's Heaviside(x, 0) is 1 for x > 0 and 0 for x <= 0: [e < 0] = H(-e) with H(0) = 0.
      return "Heaviside(-(" + render_ascii(expr->first, prefix) + "), 0)";
    case Expr::Kind::kExp:
      return "exp(" + render_ascii(expr->first, prefix) + ")";
    case Expr::Kind::kCosPi:
      return "cos(pi*(" + render_ascii(expr->first, prefix) + "))";
    case Expr::Kind::kMin:
    case Expr::Kind::kMax:
      return std::string(expr->kind == Expr::Kind::kMin ? "Min(" : "Max(") +
             render_ascii(expr->first, prefix) + ", " + render_ascii(expr->second, prefix) + ")";
    case Expr::Kind::kSum: {
      if (expr->terms.empty())
        return "0";
      if (expr->terms.size() == 1 && expr->terms[0].first == 1.0 &&
          expr->terms[0].second->kind != Expr::Kind::kConstant)
        return render_ascii(expr->terms[0].second, prefix);  // as tight as its term (precedence())
      std::string out;
      for (const auto& [weight, term] : expr->terms) {
        const bool constant = term->kind == Expr::Kind::kConstant;
        const double coefficient = constant ? weight * term->value : weight;
        const bool negative = coefficient < 0;
        const double magnitude = std::abs(coefficient);
        std::string body = constant ? exact_number(magnitude)
                           : magnitude == 1.0
                               ? wrapped_ascii(term, prefix, 1)
                               : exact_number(magnitude) + "*" + wrapped_ascii(term, prefix, 2);
        if (out.empty()) {
          out = (negative ? "-" : "") + body;
        } else {
          out += negative ? " - " : " + ";
          out += body;
        }
      }
      return out;
    }
    case Expr::Kind::kProduct: {
      if (expr->terms.empty())
        return "1";
      if (expr->terms.size() == 1 && expr->terms[0].first == 1.0)
        return render_ascii(expr->terms[0].second,
                            prefix);  // as tight as its factor (precedence())
      std::string out;
      for (const auto& [exponent, factor] : expr->terms) {
        if (!out.empty())
          out += "*";
        out += exponent == 1.0 ? wrapped_ascii(factor, prefix, 1)
                               : wrapped_ascii(factor, prefix, 2) + "**" + exact_number(exponent);
      }
      return out;
    }
    case Expr::Kind::kGate: {
      if (expr->gate->kind == Expr::Kind::kConstant) {
        if (expr->gate->value == 1.0)
          return render_ascii(expr->first, prefix);
        if (expr->gate->value == 0.0)
          return render_ascii(expr->second, prefix);
        return exact_number(expr->gate->value) + "*" + wrapped_ascii(expr->first, prefix, 2) +
               " + " + exact_number(1.0 - expr->gate->value) + "*" +
               wrapped_ascii(expr->second, prefix, 2);
      }
      const std::string gate = wrapped_ascii(expr->gate, prefix, 2);
      return gate + "*" + wrapped_ascii(expr->first, prefix, 2) + " + (1 - " + gate + ")*" +
             wrapped_ascii(expr->second, prefix, 2);
    }
  }
  return "?";
}

}  // namespace

ExprPtr input_expr(int index) {
  auto expr = make(Expr::Kind::kInput);
  expr->input = index;
  return expr;
}

ExprPtr constant_expr(double value) {
  auto expr = make(Expr::Kind::kConstant);
  expr->value = value;
  return expr;
}

namespace {

// Adds weight * term to `out`, flattening nested instances of `kind` (sums into sums, products
// into products) and merging repeated inputs and constants, so that composed layers read as
// one simplified expression.
void accumulate(std::vector<std::pair<double, ExprPtr>>& out, Expr::Kind kind, double weight,
                const ExprPtr& term) {
  if (weight == 0.0)
    return;
  if (term->kind == kind) {
    for (const auto& [inner_weight, inner] : term->terms) {
      accumulate(out, kind, weight * inner_weight, inner);
    }
    return;
  }
  for (auto& [existing_weight, existing] : out) {
    const bool same_input = term->kind == Expr::Kind::kInput &&
                            existing->kind == Expr::Kind::kInput && existing->input == term->input;
    const bool both_constant = kind == Expr::Kind::kSum && term->kind == Expr::Kind::kConstant &&
                               existing->kind == Expr::Kind::kConstant;
    if (same_input) {
      existing_weight += weight;
      return;
    }
    if (both_constant) {
      existing = constant_expr(existing_weight * existing->value + weight * term->value);
      existing_weight = 1.0;
      return;
    }
  }
  out.emplace_back(weight, term);
}

ExprPtr collect(Expr::Kind kind, const std::vector<std::pair<double, ExprPtr>>& items) {
  std::vector<std::pair<double, ExprPtr>> merged;
  for (const auto& [weight, item] : items)
    accumulate(merged, kind, weight, item);
  // A linear form (inputs and constants only) reads in index order, x2 + 2·x3 + x4, with the
  // constant last; other sums and all products keep the order of their terms.
  const bool linear =
      kind == Expr::Kind::kSum && std::all_of(merged.begin(), merged.end(), [](const auto& term) {
        return term.second->kind == Expr::Kind::kInput ||
               term.second->kind == Expr::Kind::kConstant;
      });
  if (linear) {
    std::stable_sort(merged.begin(), merged.end(), [](const auto& left, const auto& right) {
      const bool l = left.second->kind == Expr::Kind::kInput;
      const bool r = right.second->kind == Expr::Kind::kInput;
      if (l != r)
        return l;
      return l && left.second->input < right.second->input;
    });
  }
  auto expr = make(kind);
  for (auto& item : merged) {
    const bool zero_constant =
        item.second->kind == Expr::Kind::kConstant && item.second->value == 0.0;
    if (item.first != 0.0 && !(kind == Expr::Kind::kSum && zero_constant)) {
      expr->terms.push_back(std::move(item));
    }
  }
  return expr;
}

}  // namespace

ExprPtr sum_expr(std::vector<std::pair<double, ExprPtr>> terms) {
  return collect(Expr::Kind::kSum, terms);
}

ExprPtr product_expr(std::vector<std::pair<double, ExprPtr>> factors) {
  return collect(Expr::Kind::kProduct, factors);
}

ExprPtr gate_expr(ExprPtr gate, ExprPtr first, ExprPtr second) {
  auto expr = make(Expr::Kind::kGate);
  expr->gate = std::move(gate);
  expr->first = std::move(first);
  expr->second = std::move(second);
  return expr;
}

ExprPtr sigmoid_expr(ExprPtr argument) {
  auto expr = make(Expr::Kind::kSigmoid);
  expr->first = std::move(argument);
  return expr;
}

ExprPtr opaque_expr(std::string text) {
  auto expr = make(Expr::Kind::kOpaque);
  expr->text = std::move(text);
  return expr;
}

namespace {

bool is_function(Expr::Kind kind) {
  switch (kind) {
    case Expr::Kind::kSigmoid:
    case Expr::Kind::kAbs:
    case Expr::Kind::kSign:
    case Expr::Kind::kNegative:
    case Expr::Kind::kExp:
    case Expr::Kind::kCosPi:
    case Expr::Kind::kMin:
    case Expr::Kind::kMax:
      return true;
    default:
      return false;
  }
}

}  // namespace

ExprPtr abs_expr(ExprPtr argument) {
  return function_expr(Expr::Kind::kAbs, std::move(argument));
}
ExprPtr sign_expr(ExprPtr argument) {
  return function_expr(Expr::Kind::kSign, std::move(argument));
}
ExprPtr negative_expr(ExprPtr argument) {
  return function_expr(Expr::Kind::kNegative, std::move(argument));
}
ExprPtr exp_expr(ExprPtr argument) {
  return function_expr(Expr::Kind::kExp, std::move(argument));
}
ExprPtr cos_pi_expr(ExprPtr argument) {
  return function_expr(Expr::Kind::kCosPi, std::move(argument));
}
ExprPtr min_expr(ExprPtr first, ExprPtr second) {
  return function_expr(Expr::Kind::kMin, std::move(first), std::move(second));
}
ExprPtr max_expr(ExprPtr first, ExprPtr second) {
  return function_expr(Expr::Kind::kMax, std::move(first), std::move(second));
}

bool same_expr(const ExprPtr& left, const ExprPtr& right) {
  if (left == right)
    return true;
  if (!left || !right || left->kind != right->kind)
    return false;
  switch (left->kind) {
    case Expr::Kind::kInput:
      return left->input == right->input;
    case Expr::Kind::kConstant:
      return left->value == right->value;
    case Expr::Kind::kOpaque:
      return left->text == right->text;
    case Expr::Kind::kSum:
    case Expr::Kind::kProduct:
      if (left->terms.size() != right->terms.size())
        return false;
      for (size_t i = 0; i < left->terms.size(); ++i) {
        if (left->terms[i].first != right->terms[i].first ||
            !same_expr(left->terms[i].second, right->terms[i].second))
          return false;
      }
      return true;
    case Expr::Kind::kGate:
      return same_expr(left->gate, right->gate) && same_expr(left->first, right->first) &&
             same_expr(left->second, right->second);
    default:
      return same_expr(left->first, right->first) &&
             (left->second == nullptr ? right->second == nullptr
                                      : same_expr(left->second, right->second));
  }
}

ExprPtr substitute(const ExprPtr& expr, const std::vector<ExprPtr>& inputs) {
  switch (expr->kind) {
    case Expr::Kind::kInput:
      if (expr->input < 0 || expr->input >= static_cast<int>(inputs.size()))
        return expr;
      return inputs[expr->input];
    case Expr::Kind::kConstant:
    case Expr::Kind::kOpaque:
      return expr;
    default:
      break;
  }
  // Rebuild through the constructors so that the result is simplified again.
  std::vector<std::pair<double, ExprPtr>> terms;
  for (const auto& [weight, term] : expr->terms)
    terms.emplace_back(weight, substitute(term, inputs));
  switch (expr->kind) {
    case Expr::Kind::kSum:
      return sum_expr(std::move(terms));
    case Expr::Kind::kProduct:
      return product_expr(std::move(terms));
    case Expr::Kind::kGate:
      return gate_expr(substitute(expr->gate, inputs), substitute(expr->first, inputs),
                       substitute(expr->second, inputs));
    default:
      break;
  }
  if (is_function(expr->kind)) {
    return function_expr(expr->kind, substitute(expr->first, inputs),
                         expr->second ? substitute(expr->second, inputs) : nullptr);
  }
  return expr;
}

std::string to_string(const ExprPtr& expr, const std::string& input_prefix) {
  return render(expr, input_prefix);
}

std::string to_ascii(const ExprPtr& expr, const std::string& input_prefix) {
  return render_ascii(expr, input_prefix);
}

namespace {}  // namespace

std::vector<std::string> Formula::lines(const std::string& input_prefix,
                                        const std::string& output_prefix) const {
  std::vector<std::string> out;
  std::string previous = input_prefix;
  for (size_t l = 0; l < hidden.size(); ++l) {
    const std::string name = hidden_prefix(l, hidden.size());
    for (size_t j = 0; j < hidden[l].size(); ++j) {
      out.push_back(name + std::to_string(j) + " = " + to_string(hidden[l][j], previous));
    }
    previous = name;
  }
  for (size_t j = 0; j < outputs.size(); ++j) {
    out.push_back(output_prefix + std::to_string(j) + " = " + to_string(outputs[j], previous));
  }
  return out;
}

std::vector<std::string> Formula::ascii_lines(const std::string& input_prefix,
                                              const std::string& output_prefix) const {
  std::vector<std::string> out;
  std::string previous = input_prefix;
  for (size_t l = 0; l < hidden.size(); ++l) {
    const std::string name = hidden_prefix(l, hidden.size());
    for (size_t j = 0; j < hidden[l].size(); ++j)
      out.push_back(name + std::to_string(j) + " = " + to_ascii(hidden[l][j], previous));
    previous = name;
  }
  for (size_t j = 0; j < outputs.size(); ++j)
    out.push_back(output_prefix + std::to_string(j) + " = " + to_ascii(outputs[j], previous));
  return out;
}

std::string Formula::str() const {
  std::string joined;
  for (const auto& line : lines()) {
    if (!joined.empty())
      joined += "; ";
    joined += line;
  }
  return joined;
}

bool Formula::exact() const {
  return max_rounding_error <= 1e-6;
}

Formula compose(const Formula& inner, const Formula& outer) {
  Formula result;
  const bool inline_inner = inner.hidden.empty() && outer.hidden.empty() &&
                            std::all_of(inner.outputs.begin(), inner.outputs.end(), inlines_well);
  if (inline_inner) {
    for (const auto& output : outer.outputs) {
      result.outputs.push_back(substitute(output, inner.outputs));
    }
  } else {
    result.hidden = inner.hidden;
    result.hidden.push_back(inner.outputs);
    result.hidden.insert(result.hidden.end(), outer.hidden.begin(), outer.hidden.end());
    result.outputs = outer.outputs;
  }
  result.max_rounding_error = std::max(inner.max_rounding_error, outer.max_rounding_error);
  if (std::isnan(inner.max_rounding_error) || std::isnan(outer.max_rounding_error)) {
    result.max_rounding_error = std::numeric_limits<double>::quiet_NaN();
  }
  return result;
}

void add_rounding_error(double& max_error, double distance) {
  if (std::isnan(distance) || distance > max_error)
    max_error = distance;
}

std::vector<ExprPtr> read_additive(const std::vector<float>& weight, int out, int in,
                                   double& max_error, const std::vector<float>* bias) {
  std::vector<ExprPtr> outputs;
  for (int j = 0; j < out; ++j) {
    std::vector<std::pair<double, ExprPtr>> terms;
    for (int i = 0; i < in; ++i) {
      const double w = weight[static_cast<size_t>(j) * in + i];
      const double rounded = std::round(w);
      add_rounding_error(max_error, std::abs(w - rounded));
      terms.emplace_back(rounded, input_expr(i));
    }
    if (bias != nullptr) {
      const double b = (*bias)[j];
      const double rounded = std::round(b);
      add_rounding_error(max_error, std::abs(b - rounded));
      terms.emplace_back(1.0, constant_expr(rounded));
      if (rounded == 0.0)
        terms.pop_back();
    }
    outputs.push_back(sum_expr(std::move(terms)));
  }
  return outputs;
}

std::vector<ExprPtr> read_log_space(const std::vector<float>& weight, int out, int in,
                                    double& max_error, double epsilon) {
  std::vector<ExprPtr> outputs;
  for (int j = 0; j < out; ++j) {
    std::vector<std::pair<double, ExprPtr>> factors;
    for (int i = 0; i < in; ++i) {
      const double w = weight[static_cast<size_t>(j) * in + i];
      const double rounded = std::round(w);
      add_rounding_error(max_error, std::abs(w - rounded));
      if (rounded == 0.0)
        continue;
      ExprPtr magnitude = abs_expr(input_expr(i));
      if (epsilon > kNegligibleEpsilon)
        magnitude = sum_expr({{1.0, magnitude}, {1.0, constant_expr(epsilon)}});
      factors.emplace_back(rounded, magnitude);
    }
    outputs.push_back(product_expr(std::move(factors)));
  }
  return outputs;
}

std::vector<ExprPtr> read_multiplicative(const std::vector<float>& weight, int out, int in,
                                         double& max_error) {
  std::vector<ExprPtr> outputs;
  for (int j = 0; j < out; ++j) {
    std::vector<std::pair<double, ExprPtr>> factors;
    for (int i = 0; i < in; ++i) {
      const double w = weight[static_cast<size_t>(j) * in + i];
      const double rounded = std::round(w);
      add_rounding_error(max_error, std::abs(w - rounded));
      factors.emplace_back(rounded, input_expr(i));
    }
    outputs.push_back(product_expr(std::move(factors)));
  }
  return outputs;
}

}  // namespace nalu

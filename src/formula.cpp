// Building, composing, printing, evaluating and simplifying read-back formulas.
#include "nalu/formula.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <sstream>

namespace nalu {
namespace {

std::shared_ptr<Expr> make(Expr::Kind kind) {
  auto expr = std::make_shared<Expr>();
  expr->kind = kind;
  return expr;
}

// Integers print digit by digit only while a long long holds them exactly.
bool is_integer(double value) {
  return std::abs(value) < 1e15 && std::abs(value - std::round(value)) < 1e-9;
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

ExprPtr function_expr(Expr::Kind kind, ExprPtr first, ExprPtr second = nullptr) {
  auto expr = make(kind);
  expr->first = std::move(first);
  expr->second = std::move(second);
  return expr;
}

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

namespace {

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

std::string hidden_prefix(size_t layer, size_t layers) {
  std::string prefix("h");
  if (layers > 1) {
    prefix += std::to_string(layer + 1);
    prefix += '_';
  }
  return prefix;
}

}  // namespace

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

// ---- Evaluation ----

namespace {

using Column = std::vector<double>;
using Columns = std::vector<Column>;  // one column of values per input

double sigmoid(double v) {
  return 1.0 / (1.0 + std::exp(-v));
}

double cos_pi(double v) {
  // cos(k pi) exactly for integers k (what the rounded NPU phases give); cos(pi v) otherwise.
  if (std::abs(v) < 1e15 && v == std::round(v))
    return std::fmod(std::abs(v), 2.0) == 0.0 ? 1.0 : -1.0;
  return std::cos(std::numbers::pi * v);
}

Column values(const ExprPtr& expr, const Columns& in, size_t rows) {
  Column out(rows);
  switch (expr->kind) {
    case Expr::Kind::kInput:
      if (expr->input >= 0 && static_cast<size_t>(expr->input) < in.size())
        return in[expr->input];
      std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
      return out;
    case Expr::Kind::kConstant:
      std::fill(out.begin(), out.end(), expr->value);
      return out;
    case Expr::Kind::kOpaque:
      // No closed form: nothing about it can be checked.
      std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
      return out;
    case Expr::Kind::kSum:
      std::fill(out.begin(), out.end(), 0.0);
      for (const auto& [weight, term] : expr->terms) {
        const Column t = values(term, in, rows);
        for (size_t r = 0; r < rows; ++r)
          out[r] += weight * t[r];
      }
      return out;
    case Expr::Kind::kProduct:
      std::fill(out.begin(), out.end(), 1.0);
      for (const auto& [exponent, factor] : expr->terms) {
        const Column f = values(factor, in, rows);
        for (size_t r = 0; r < rows; ++r)
          out[r] *= exponent == 1.0 ? f[r] : std::pow(f[r], exponent);
      }
      return out;
    case Expr::Kind::kGate: {
      const Column g = values(expr->gate, in, rows);
      const Column a = values(expr->first, in, rows);
      const Column b = values(expr->second, in, rows);
      for (size_t r = 0; r < rows; ++r)
        out[r] = g[r] * a[r] + (1.0 - g[r]) * b[r];
      return out;
    }
    default:
      break;
  }
  const Column a = values(expr->first, in, rows);
  const Column b = expr->second ? values(expr->second, in, rows) : Column();
  for (size_t r = 0; r < rows; ++r) {
    const double v = a[r];
    switch (expr->kind) {
      case Expr::Kind::kSigmoid:
        out[r] = sigmoid(v);
        break;
      case Expr::Kind::kAbs:
        out[r] = std::abs(v);
        break;
      case Expr::Kind::kSign:
        out[r] = v > 0 ? 1.0 : v < 0 ? -1.0 : v;  // keeps 0 and NaN
        break;
      case Expr::Kind::kNegative:
        out[r] = std::isnan(v) ? v : v < 0 ? 1.0 : 0.0;
        break;
      case Expr::Kind::kExp:
        out[r] = std::exp(v);
        break;
      case Expr::Kind::kCosPi:
        out[r] = cos_pi(v);
        break;
      case Expr::Kind::kMin:
        out[r] = std::isnan(v) || std::isnan(b[r]) ? std::numeric_limits<double>::quiet_NaN()
                                                   : std::min(v, b[r]);
        break;
      case Expr::Kind::kMax:
        out[r] = std::isnan(v) || std::isnan(b[r]) ? std::numeric_limits<double>::quiet_NaN()
                                                   : std::max(v, b[r]);
        break;
      default:
        out[r] = std::numeric_limits<double>::quiet_NaN();
    }
  }
  return out;
}

// The values of every expression of one layer.
Columns layer_values(const std::vector<ExprPtr>& layer, const Columns& in, size_t rows) {
  Columns out;
  for (const auto& expr : layer)
    out.push_back(values(expr, in, rows));
  return out;
}

// Layers in evaluation order: the hidden ones, then the outputs.
std::vector<std::vector<ExprPtr>> all_layers(const Formula& formula) {
  auto layers = formula.hidden;
  layers.push_back(formula.outputs);
  return layers;
}

Columns output_values(const Formula& formula, Columns in, size_t rows) {
  for (const auto& layer : all_layers(formula))
    in = layer_values(layer, in, rows);
  return in;
}

// |a - b|, 0 where both are the same (infinities included); NaN where only one is NaN.
double deviation(double a, double b) {
  if (a == b || (std::isnan(a) && std::isnan(b)))
    return 0.0;
  return std::abs(a - b);
}

double max_deviation(const Column& a, const Column& b) {
  double worst = 0.0;
  for (size_t r = 0; r < a.size(); ++r)
    add_rounding_error(worst, deviation(a[r], b[r]));
  return worst;
}

}  // namespace

std::vector<double> evaluate(const Formula& formula, std::span<const double> inputs) {
  Columns in;
  for (double v : inputs)
    in.push_back(Column{v});
  std::vector<double> out;
  for (const auto& column : output_values(formula, std::move(in), 1))
    out.push_back(column.front());
  return out;
}

// ---- Simplification ----

namespace {

// Shortens a rendered subexpression for a description; cuts between UTF-8 characters.
std::string brief(const std::string& text) {
  constexpr size_t kLimit = 60;
  if (text.size() <= kLimit)
    return text;
  size_t cut = kLimit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;
  return text.substr(0, cut) + "…";
}

ExprPtr negated(const ExprPtr& expr) {
  return sum_expr({{-1.0, expr}});
}

bool all_of(const Column& column, bool (*predicate)(double)) {
  return std::all_of(column.begin(), column.end(), predicate);
}

bool is_odd_integer(double w) {
  return is_integer(w) && std::fmod(std::abs(w), 2.0) == 1.0;
}
bool is_even_integer(double w) {
  return is_integer(w) && std::fmod(std::abs(w), 2.0) == 0.0;
}

// Simplifies the expressions of one layer, given the values of that layer's inputs.
class Simplifier {
 public:
  Simplifier(const Columns& in, size_t rows, bool checks, std::string prefix,
             std::vector<Simplification>& log)
      : in_(in), rows_(rows), checks_(checks), prefix_(std::move(prefix)), log_(log) {}

  ExprPtr run(const ExprPtr& expr, const std::string& where) {
    where_ = where;
    return simplify(expr);
  }

 private:
  Column eval(const ExprPtr& expr) const { return values(expr, in_, rows_); }
  std::string text(const ExprPtr& expr) const { return brief(to_string(expr, prefix_)); }

  // Logs a change. Changes of one kind in a row on the same line (`|x0| = x0`, `|x1| = x1`, ...)
  // share one entry, `reason` written once, so that a wide layer does not list each input.
  ExprPtr record(const ExprPtr& before, ExprPtr after, const std::string& what,
                 const std::string& reason = "") {
    const double deviation = max_deviation(eval(before), eval(after));
    if (!reason.empty() && !log_.empty() && log_.size() == merge_entry_ &&
        log_.back().where == where_ && reason == merge_reason_) {
      ++merge_count_;
      if (merge_count_ <= 3)
        merge_items_ += ", " + what;
      Simplification& last = log_.back();
      last.what = merge_items_ +
                  (merge_count_ > 3 ? ", … (" + std::to_string(merge_count_) + " in all)" : "") +
                  reason;
      add_rounding_error(last.max_deviation, deviation);
      return after;
    }
    log_.push_back({where_, what + reason, deviation});
    merge_entry_ = reason.empty() ? 0 : log_.size();
    merge_reason_ = reason;
    merge_items_ = what;
    merge_count_ = 1;
    return after;
  }

  // Folds constant factors into a coefficient, and |e|^w · sign(e) (w odd) and |e|^w (w even)
  // into e^w.
  ExprPtr tidy_product(const ExprPtr& product) {
    std::vector<std::pair<double, ExprPtr>> factors = product->terms;
    std::vector<std::pair<double, ExprPtr>> kept;
    double coefficient = 1.0;
    std::vector<bool> used(factors.size(), false);
    for (size_t i = 0; i < factors.size(); ++i) {
      const auto& [w, f] = factors[i];
      if (f->kind == Expr::Kind::kConstant) {
        coefficient *= std::pow(f->value, w);
        used[i] = true;
      }
    }
    bool folded = false;
    for (size_t i = 0; i < factors.size(); ++i) {
      if (used[i] || factors[i].second->kind != Expr::Kind::kAbs)
        continue;
      const auto& [w, f] = factors[i];
      if (is_odd_integer(w)) {
        for (size_t k = 0; k < factors.size(); ++k) {
          if (!used[k] && k != i && factors[k].first == 1.0 &&
              factors[k].second->kind == Expr::Kind::kSign &&
              same_expr(factors[k].second->first, f->first)) {
            used[i] = used[k] = true;
            kept.emplace_back(w, f->first);
            folded = true;
            break;
          }
        }
      } else if (is_even_integer(w)) {
        used[i] = true;
        kept.emplace_back(w, f->first);
        folded = true;
      }
    }
    for (size_t i = 0; i < factors.size(); ++i) {
      if (!used[i])
        kept.push_back(factors[i]);
    }
    if (!folded && coefficient == 1.0 && kept.size() == factors.size())
      return product;
    ExprPtr result = product_expr(std::move(kept));
    if (coefficient != 1.0)
      result = sum_expr({{coefficient, result}});
    if (folded)
      return record(product, result, "|e|^w · sign(e) = e^w (w odd), |e|^w = e^w (w even)");
    return result;
  }

  ExprPtr simplify(const ExprPtr& expr) {
    switch (expr->kind) {
      case Expr::Kind::kInput:
      case Expr::Kind::kConstant:
      case Expr::Kind::kOpaque:
        return expr;
      case Expr::Kind::kSum:
      case Expr::Kind::kProduct: {
        std::vector<std::pair<double, ExprPtr>> terms;
        for (const auto& [weight, term] : expr->terms)
          terms.emplace_back(weight, simplify(term));
        if (expr->kind == Expr::Kind::kSum)
          return sum_expr(std::move(terms));
        return tidy_product(product_expr(std::move(terms)));
      }
      case Expr::Kind::kGate:
        return simplify_gate(expr);
      default:
        break;
    }
    const ExprPtr first = simplify(expr->first);
    const ExprPtr second = expr->second ? simplify(expr->second) : nullptr;
    const ExprPtr rebuilt = function_expr(expr->kind, first, second);
    if (!checks_)
      return rebuilt;
    const Column a = eval(first);
    const std::string e = text(first);
    switch (expr->kind) {
      case Expr::Kind::kAbs:
        if (all_of(a, [](double v) { return v >= 0; }))
          return record(rebuilt, first, "|" + e + "| = " + e, ": ≥ 0 on every sample");
        if (all_of(a, [](double v) { return v <= 0; })) {
          const std::string minus = precedence(first) == 2 ? "−" + e : "−(" + e + ")";
          return record(rebuilt, negated(first), "|" + e + "| = " + minus, ": ≤ 0 on every sample");
        }
        return rebuilt;
      case Expr::Kind::kSign:
        if (all_of(a, [](double v) { return v > 0; }))
          return record(rebuilt, constant_expr(1), "sign(" + e + ") = 1", ": > 0 on every sample");
        if (all_of(a, [](double v) { return v < 0; }))
          return record(rebuilt, constant_expr(-1), "sign(" + e + ") = −1",
                        ": < 0 on every sample");
        return rebuilt;
      case Expr::Kind::kNegative:
        if (all_of(a, [](double v) { return v < 0; }))
          return record(rebuilt, constant_expr(1), "[" + e + " < 0] = 1", " on every sample");
        if (all_of(a, [](double v) { return v >= 0; }))
          return record(rebuilt, constant_expr(0), "[" + e + " < 0] = 0", " on every sample");
        return rebuilt;
      case Expr::Kind::kCosPi:
        if (first->kind == Expr::Kind::kConstant)
          return constant_expr(cos_pi(first->value));
        return rebuilt;
      case Expr::Kind::kMin:
      case Expr::Kind::kMax: {
        const bool is_min = expr->kind == Expr::Kind::kMin;
        const Column b = eval(second);
        bool first_wins = true;
        for (size_t r = 0; r < rows_ && first_wins; ++r)
          first_wins = is_min ? a[r] <= b[r] : a[r] >= b[r];
        if (first_wins) {
          return record(rebuilt, first,
                        std::string(is_min ? "min" : "max") + "(" + e + ", " + text(second) +
                            ") = " + e + " on every sample");
        }
        return rebuilt;
      }
      default:
        return rebuilt;
    }
  }

  ExprPtr simplify_gate(const ExprPtr& expr) {
    const ExprPtr gate = simplify(expr->gate);
    if (gate->kind == Expr::Kind::kConstant && (gate->value == 1.0 || gate->value == 0.0))
      return simplify(gate->value == 1.0 ? expr->first : expr->second);  // prints as that path
    // The gate first, so that a path it never takes is not simplified (nor reported) at all.
    if (checks_) {
      const ExprPtr literal = gate_expr(gate, expr->first, expr->second);
      const Column g = eval(gate);
      const std::string name = text(gate);
      if (all_of(g, [](double v) { return std::abs(v - 1.0) <= kGateTolerance; })) {
        record(literal, expr->first,
               "gate " + name + " within 1e-6 of 1 on every sample: its first path");
        return simplify(expr->first);
      }
      if (all_of(g, [](double v) { return std::abs(v) <= kGateTolerance; })) {
        record(literal, expr->second,
               "gate " + name + " within 1e-6 of 0 on every sample: its second path");
        return simplify(expr->second);
      }
    }
    const ExprPtr first = simplify(expr->first);
    const ExprPtr second = simplify(expr->second);
    const ExprPtr rebuilt = gate_expr(gate, first, second);
    if (same_expr(first, second))
      return record(rebuilt, first, "g·P + (1 − g)·P = P: both paths of the gate are the same");
    return rebuilt;
  }

  const Columns& in_;
  size_t rows_;
  bool checks_;
  std::string prefix_;
  std::vector<Simplification>& log_;
  std::string where_;
  size_t merge_entry_ = 0;  // log size right after the entry that later changes may join
  std::string merge_reason_, merge_items_;
  int merge_count_ = 0;
};

// Which inputs `exprs` read.
void mark_inputs(const ExprPtr& expr, std::vector<bool>& read) {
  if (expr->kind == Expr::Kind::kInput) {
    if (expr->input >= 0 && static_cast<size_t>(expr->input) < read.size())
      read[expr->input] = true;
    return;
  }
  for (const auto& term : expr->terms)
    mark_inputs(term.second, read);
  for (const auto* part : {&expr->gate, &expr->first, &expr->second}) {
    if (*part)
      mark_inputs(*part, read);
  }
}

}  // namespace

Formula simplify(const Formula& literal, const std::vector<EvaluationSet>& sets) {
  // The inputs as columns; rows of a set whose width does not match are not used.
  const auto layers = all_layers(literal);
  size_t width = 0;
  for (const auto& set : sets)
    width = std::max(width, static_cast<size_t>(std::max<int64_t>(set.columns, 0)));
  Columns in(width);
  for (const auto& set : sets) {
    if (set.columns <= 0 || static_cast<size_t>(set.columns) != width)
      continue;
    const size_t rows = set.inputs.size() / width;
    for (size_t r = 0; r < rows; ++r) {
      for (size_t i = 0; i < width; ++i)
        in[i].push_back(set.inputs[r * width + i]);
    }
  }
  const size_t rows = width == 0 ? 0 : in.front().size();
  const bool checks = rows > 0;

  Formula result;
  result.max_rounding_error = literal.max_rounding_error;
  const size_t hidden = literal.hidden.size();
  std::vector<std::vector<ExprPtr>> simplified;
  Columns current = in;
  for (size_t l = 0; l < layers.size(); ++l) {
    const std::string prefix = l == 0 ? "x" : hidden_prefix(l - 1, hidden);
    const std::string name = l == hidden ? "y" : hidden_prefix(l, hidden);
    Simplifier simplifier(current, rows, checks, prefix, result.simplifications);
    std::vector<ExprPtr> layer;
    for (size_t j = 0; j < layers[l].size(); ++j)
      layer.push_back(simplifier.run(layers[l][j], name + std::to_string(j)));
    if (l + 1 < layers.size())
      current = layer_values(layer, current, rows);
    simplified.push_back(std::move(layer));
  }

  // Hidden units that nothing reads, from the last hidden layer down; the others renumbered.
  for (size_t l = hidden; l-- > 0;) {
    std::vector<bool> read(simplified[l].size(), false);
    for (const auto& expr : simplified[l + 1])
      mark_inputs(expr, read);
    if (std::all_of(read.begin(), read.end(), [](bool r) { return r; }))
      continue;
    std::vector<ExprPtr> kept, renumbered;
    for (size_t j = 0; j < read.size(); ++j) {
      if (read[j]) {
        renumbered.push_back(input_expr(static_cast<int>(kept.size())));
        kept.push_back(simplified[l][j]);
      } else {
        renumbered.push_back(constant_expr(std::numeric_limits<double>::quiet_NaN()));
        result.simplifications.push_back(
            {hidden_prefix(l, hidden) + std::to_string(j), "dropped: nothing reads it", 0.0});
      }
    }
    for (auto& expr : simplified[l + 1])
      expr = substitute(expr, renumbered);
    simplified[l] = std::move(kept);
  }
  // Hidden layers that are now plain sums and products (or empty) are inlined into the next.
  for (size_t l = 0; l + 1 < simplified.size();) {
    if (!std::all_of(simplified[l].begin(), simplified[l].end(), inlines_well)) {
      ++l;
      continue;
    }
    for (auto& expr : simplified[l + 1])
      expr = substitute(expr, simplified[l]);
    simplified.erase(simplified.begin() + static_cast<std::ptrdiff_t>(l));
  }
  result.outputs = simplified.back();
  simplified.pop_back();
  result.hidden = std::move(simplified);

  if (checks) {
    const Columns before = output_values(literal, in, rows);
    const Columns after = output_values(result, in, rows);
    for (size_t j = 0; j < before.size() && j < after.size(); ++j)
      add_rounding_error(result.max_simplification_deviation, max_deviation(before[j], after[j]));
  }
  result.literal = std::make_shared<const Formula>(literal);
  return result;
}

}  // namespace nalu

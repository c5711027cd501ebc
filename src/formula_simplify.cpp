// Evaluating read-back formulas in double precision, and simplifying them where the evaluation
// sets show that a simplification holds (formula.h: simplify()).
#include "nalu/formula.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <sstream>

#include "formula_detail.h"

namespace nalu {

// ---- Evaluation ----

namespace {

using detail::function_expr;
using detail::hidden_prefix;
using detail::inlines_well;
using detail::is_integer;
using detail::precedence;

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

// The outputs' values; `in` is read, not copied (the evaluation sets are tens of MB as columns).
Columns output_values(const Formula& formula, const Columns& in, size_t rows) {
  Columns values;
  const Columns* from = &in;
  for (const auto& layer : all_layers(formula)) {
    values = layer_values(layer, *from, rows);
    from = &values;
  }
  return values;
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
  for (const auto& column : output_values(formula, in, 1))
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
  size_t total_rows = 0;
  for (const auto& set : sets) {
    if (set.columns > 0 && static_cast<size_t>(set.columns) == width)
      total_rows += set.inputs.size() / width;
  }
  for (auto& column : in)
    column.reserve(total_rows);
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
  Columns values;  // the last simplified hidden layer's, once there is one
  const Columns* current = &in;
  for (size_t l = 0; l < layers.size(); ++l) {
    const std::string prefix = l == 0 ? "x" : hidden_prefix(l - 1, hidden);
    const std::string name = l == hidden ? "y" : hidden_prefix(l, hidden);
    std::vector<ExprPtr> layer;
    {
      Simplifier simplifier(*current, rows, checks, prefix, result.simplifications);
      for (size_t j = 0; j < layers[l].size(); ++j)
        layer.push_back(simplifier.run(layers[l][j], name + std::to_string(j)));
    }
    if (l + 1 < layers.size()) {
      values = layer_values(layer, *current, rows);
      current = &values;
    }
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

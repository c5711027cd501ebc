// Helpers shared by formula.cpp (building and printing formulas) and formula_simplify.cpp
// (evaluating and simplifying them). Private to the library.
#pragma once

#include <cstddef>
#include <string>

#include "nalu/formula.h"

namespace nalu::detail {

/// Whether `value` is an integer that a long long holds exactly (integers print digit by digit).
bool is_integer(double value);
/// Binding strength of an expression as printed: 0 sums (and gates, negative constants),
/// 1 products, 2 atoms (inputs, constants, calls).
int precedence(const ExprPtr& expr);
/// A node of a one- or two-argument function kind (abs, sign, exp, min, ...).
ExprPtr function_expr(Expr::Kind kind, ExprPtr first, ExprPtr second = nullptr);
/// Whether a hidden unit reads well substituted into the next layer (sums and products of
/// inputs, constants and their absolute values or signs).
bool inlines_well(const ExprPtr& expr);
/// "h" for a single hidden layer, "h<layer + 1>_" when there are several.
std::string hidden_prefix(size_t layer, size_t layers);

}  // namespace nalu::detail

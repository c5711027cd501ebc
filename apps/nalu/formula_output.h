// Printing a formula the way `nalu train` and `nalu eval` show it.
#pragma once

#include <cstdio>
#include <string>

#include "format.h"
#include "nalu/formula.h"

namespace nalu::cli {

/// What the readout printing adds to the formula's lines.
struct FormulaDetail {
  bool ascii = false;    // the lines in ASCII (Python/SymPy) form too
  bool literal = false;  // the formula before simplification too
};

/// Prints `heading` (which goes on to say how far the weights were from the rounded ones), the
/// formula's lines, the simplifications made to it with their largest deviation, and what
/// `detail` asks for.
inline void print_formula(const Formula& formula, const std::string& heading,
                          const FormulaDetail& detail) {
  std::printf("%smax distance from rounded weights %s):\n", heading.c_str(),
              short_number(formula.max_rounding_error).c_str());
  for (const auto& line : formula.lines())
    std::printf("  %s\n", line.c_str());
  if (!formula.simplifications.empty()) {
    // Names (h0, h1, ...) are those of the literal formula (--literal-formula shows it).
    std::printf("simplified where checked on the evaluation sets (outputs moved by at most %s):\n",
                short_number(formula.max_simplification_deviation).c_str());
    for (const auto& s : formula.simplifications) {
      std::printf("  %s: %s [%s]\n", s.where.c_str(), s.what.c_str(),
                  short_number(s.max_deviation).c_str());
    }
  }
  if (detail.ascii) {
    std::printf("ascii:\n");
    for (const auto& line : formula.ascii_lines())
      std::printf("  %s\n", line.c_str());
  }
  if (detail.literal && formula.literal) {
    std::printf("literal (before simplification):\n");
    for (const auto& line : formula.literal->lines())
      std::printf("  %s\n", line.c_str());
    if (detail.ascii) {
      for (const auto& line : formula.literal->ascii_lines())
        std::printf("  %s\n", line.c_str());
    }
  }
}

}  // namespace nalu::cli

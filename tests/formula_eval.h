// An evaluator for the ASCII form of read-back formulas (nalu::to_ascii), written apart from
// src/formula.cpp on purpose: tests parse what the readout prints and compare its value with
// the module's forward, so a readout that prints something other than what the unit computes
// fails however the library builds its expressions.
//
// Grammar (the Python/SymPy subset the readout uses):
//   line    := name '=' expr
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := ('-' | '+') unary | power
//   power   := atom ('**' unary)?           (Python: -x**2 = -(x**2), x**-1 = x**(-1))
//   atom    := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
// Functions: abs, sign, exp, cos, Min, Max, Heaviside(x, h0) (h0 its value at 0); the constant
// pi; variables are looked up by name (x0, h1, h2_0, ...).
#pragma once

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace nalu::testing {

class AsciiEvaluator {
 public:
  /// Evaluates `lines` ("h0 = ...", "y0 = ...") in order with the inputs x0, x1, ... set to
  /// `inputs`; returns the values of the lines whose name starts with `output_prefix`, in order.
  static std::vector<double> run(const std::vector<std::string>& lines,
                                 const std::vector<double>& inputs,
                                 const std::string& output_prefix = "y") {
    std::map<std::string, double> variables;
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::string name = "x";
      name += std::to_string(i);
      variables[name] = inputs[i];
    }
    std::vector<double> outputs;
    for (const auto& line : lines) {
      const size_t equals = line.find(" = ");
      if (equals == std::string::npos)
        throw std::runtime_error("no ' = ' in line: " + line);
      const std::string name = line.substr(0, equals);
      AsciiEvaluator parser(line.substr(equals + 3), variables);
      const double value = parser.parse();
      variables[name] = value;
      if (name.rfind(output_prefix, 0) == 0)
        outputs.push_back(value);
    }
    return outputs;
  }

  AsciiEvaluator(std::string text, const std::map<std::string, double>& variables)
      : text_(std::move(text)), variables_(variables) {}

  double parse() {
    const double value = expr();
    skip_spaces();
    if (position_ != text_.size())
      fail("unexpected text");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(what + " at " + std::to_string(position_) + " in: " + text_);
  }

  void skip_spaces() {
    while (position_ < text_.size() && text_[position_] == ' ')
      ++position_;
  }

  bool accept(const std::string& token) {
    skip_spaces();
    if (text_.compare(position_, token.size(), token) != 0)
      return false;
    position_ += token.size();
    return true;
  }

  void expect(const std::string& token) {
    if (!accept(token))
      fail("expected '" + token + "'");
  }

  double expr() {
    double value = term();
    for (;;) {
      if (accept("+"))
        value += term();
      else if (accept("-"))
        value -= term();
      else
        return value;
    }
  }

  double term() {
    double value = unary();
    for (;;) {
      skip_spaces();
      // '*' but not '**', which belongs to power().
      if (text_.compare(position_, 2, "**") != 0 && accept("*"))
        value *= unary();
      else if (accept("/"))
        value /= unary();
      else
        return value;
    }
  }

  double unary() {
    if (accept("-"))
      return -unary();
    if (accept("+"))
      return unary();
    return power();
  }

  double power() {
    const double base = atom();
    if (accept("**"))
      return std::pow(base, unary());
    return base;
  }

  double atom() {
    skip_spaces();
    if (position_ >= text_.size())
      fail("unexpected end");
    const char c = text_[position_];
    if (c == '(') {
      ++position_;
      const double value = expr();
      expect(")");
      return value;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      const char* start = text_.c_str() + position_;
      char* end = nullptr;
      const double value = std::strtod(start, &end);
      if (end == start)
        fail("bad number");
      position_ += static_cast<size_t>(end - start);
      return value;
    }
    if (!std::isalpha(static_cast<unsigned char>(c)))
      fail("unexpected character");
    size_t end = position_;
    while (end < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_'))
      ++end;
    const std::string name = text_.substr(position_, end - position_);
    position_ = end;
    if (accept("(")) {
      std::vector<double> arguments = {expr()};
      while (accept(","))
        arguments.push_back(expr());
      expect(")");
      return call(name, arguments);
    }
    if (name == "pi")
      return std::numbers::pi;
    const auto found = variables_.find(name);
    if (found == variables_.end())
      fail("unknown name '" + name + "'");
    return found->second;
  }

  double call(const std::string& name, const std::vector<double>& a) {
    auto arity = [&](size_t n) {
      if (a.size() != n)
        fail(name + " takes " + std::to_string(n) + " arguments");
    };
    if (name == "abs") {
      arity(1);
      return std::abs(a[0]);
    }
    if (name == "sign") {
      arity(1);
      return a[0] > 0 ? 1.0 : a[0] < 0 ? -1.0 : 0.0;
    }
    if (name == "exp") {
      arity(1);
      return std::exp(a[0]);
    }
    if (name == "cos") {
      arity(1);
      return std::cos(a[0]);
    }
    if (name == "Min") {
      arity(2);
      return std::min(a[0], a[1]);
    }
    if (name == "Max") {
      arity(2);
      return std::max(a[0], a[1]);
    }
    if (name == "Heaviside") {
      arity(2);
      return a[0] > 0 ? 1.0 : a[0] < 0 ? 0.0 : a[1];
    }
    fail("unknown function '" + name + "'");
  }

  std::string text_;
  const std::map<std::string, double>& variables_;
  size_t position_ = 0;
};

}  // namespace nalu::testing

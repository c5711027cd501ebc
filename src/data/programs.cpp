// The program generator and the evaluator (nalu/data/programs.h). They share nothing but the
// grammar: the generator builds a program and its value together, the evaluator parses the text.
#include "nalu/data/programs.h"

#include <cctype>
#include <map>

#include "nalu/error.h"
#include "nalu/strings.h"
#include "random/splitmix64.h"

namespace nalu::data {

namespace {

constexpr int64_t kMaxDigits = 9;
constexpr int64_t kMaxStatements = 8;
constexpr int64_t kMaxNesting = 3;
constexpr int64_t kMaxPrograms = 100'000'000;

const std::vector<std::string>& family_names() {
  static const std::vector<std::string> kNames = {"addition", "subtraction", "if", "combined"};
  return kNames;
}

// ---- generator ----

// An expression under construction: its text, its value, its literals in text order, and
// whether it needs parentheses to be an operand of + or - (a conditional expression does).
struct Expression {
  std::string text;
  int64_t value = 0;
  std::vector<int64_t> literals;
  bool conditional = false;
};

class Generator {
 public:
  Generator(ProgramFamily family, const ProgramShape& shape, uint64_t seed)
      : family_(family), shape_(shape), random_(seed) {}

  Program program() {
    variables_.clear();
    Program result;
    for (int64_t s = 0; s < shape_.statements; ++s) {
      const Expression e = expression(0);
      const std::string name(1, static_cast<char>('a' + s));
      result.text += name + "=" + e.text + ";";
      result.literals.insert(result.literals.end(), e.literals.begin(), e.literals.end());
      variables_.push_back({name, e.value});
    }
    const Expression e = expression(0);
    result.text += "print(" + e.text + ")";
    result.literals.insert(result.literals.end(), e.literals.begin(), e.literals.end());
    result.value = e.value;
    return result;
  }

 private:
  struct Variable {
    std::string name;
    int64_t value;
  };

  Expression literal() {
    const int64_t digits = random_.between(shape_.min_digits, shape_.max_digits);
    int64_t low = 1, high = 9;
    for (int64_t d = 1; d < digits; ++d)
      low *= 10;
    high = low * 10 - 1;
    if (digits == 1)
      low = 0;
    const int64_t value = random_.between(low, high);
    return {std::to_string(value), value, {value}, false};
  }

  // A literal, or an earlier variable half of the time when there is one.
  Expression operand() {
    if (!variables_.empty() && random_.below(2) == 0) {
      const auto& v = variables_[random_.below(variables_.size())];
      return {v.name, v.value, {}, false};
    }
    return literal();
  }

  static Expression combine(const Expression& left, char op, const Expression& right) {
    Expression e;
    e.text = left.text + op + right.text;
    e.value = op == '+' ? left.value + right.value : left.value - right.value;
    e.literals = left.literals;
    e.literals.insert(e.literals.end(), right.literals.begin(), right.literals.end());
    return e;
  }

  // The operands are drawn in separate statements: the order in which a compiler evaluates
  // function arguments is unspecified (g++ and clang differ), and the programs must not depend
  // on it.
  Expression sum(char op) {
    const Expression left = operand();
    const Expression right = operand();
    return combine(left, op, right);
  }

  // `then if a<b else other`, where the branches may hold further conditionals up to the
  // nesting limit (in parentheses, as a reader would write them).
  Expression conditional(int64_t depth, bool arithmetic_branches) {
    auto branch = [&]() {
      if (depth < shape_.nesting && random_.below(3) == 0) {
        Expression inner = conditional(depth + 1, arithmetic_branches);
        inner.text = "(" + inner.text + ")";
        return inner;
      }
      if (arithmetic_branches && random_.below(2) == 0)
        return sum(random_.below(2) == 0 ? '+' : '-');
      return operand();
    };
    const Expression then_branch = branch();
    const Expression left = operand();
    const char comparison = random_.below(2) == 0 ? '<' : '>';
    const Expression right = operand();
    const Expression else_branch = branch();
    const bool holds = comparison == '<' ? left.value < right.value : left.value > right.value;
    Expression e;
    e.text = then_branch.text + " if " + left.text + comparison + right.text + " else " +
             else_branch.text;
    e.value = holds ? then_branch.value : else_branch.value;
    for (const auto* part : {&then_branch, &left, &right, &else_branch})
      e.literals.insert(e.literals.end(), part->literals.begin(), part->literals.end());
    e.conditional = true;
    return e;
  }

  Expression expression(int64_t depth) {
    switch (family_) {
      case ProgramFamily::kAddition:
        return sum('+');
      case ProgramFamily::kSubtraction:
        return sum('-');
      case ProgramFamily::kIf:
        return conditional(depth, false);
      case ProgramFamily::kCombined:
        switch (random_.below(3)) {
          case 0:
            return sum('+');
          case 1:
            return sum('-');
          default:
            return conditional(depth, true);
        }
    }
    throw Error("programs: unknown family");
  }

  ProgramFamily family_;
  ProgramShape shape_;
  nalu::detail::SplitMix64 random_;
  std::vector<Variable> variables_;
};

// ---- evaluator ----

// A parsed piece of a program: its value and its text with conditionals written condition
// first.
struct Parsed {
  int64_t value = 0;
  std::string text;
};

class Evaluator {
 public:
  explicit Evaluator(const std::string& text) : text_(text) {}

  ProgramReading run() {
    check(!text_.empty(), "program: the program is empty");
    ProgramReading reading;
    while (!at("print(")) {
      const std::string name = read_name();
      check(variables_.count(name) == 0, where() + "'" + name + "' is assigned twice");
      expect("=");
      const Parsed value = expression();
      variables_[name] = value.value;
      expect(";");
      reading.condition_first += name + "=" + value.text + ";";
    }
    expect("print(");
    const Parsed printed = expression();
    expect(")");
    check(position_ == text_.size(), where() + "text after the print");
    reading.value = printed.value;
    reading.condition_first += "print(" + printed.text + ")";
    reading.variables = variables_;
    return reading;
  }

 private:
  std::string where() const {
    return "program: at character " + std::to_string(position_ + 1) + " of '" + text_ + "': ";
  }

  bool at(const std::string& token) const {
    return text_.compare(position_, token.size(), token) == 0;
  }

  void expect(const std::string& token) {
    check(at(token), where() + "expected '" + token + "'");
    position_ += token.size();
  }

  std::string read_name() {
    const size_t start = position_;
    while (position_ < text_.size() && std::islower(static_cast<unsigned char>(text_[position_])))
      ++position_;
    check(position_ > start, where() + "expected a variable name");
    return text_.substr(start, position_ - start);
  }

  Parsed atom() {
    check(position_ < text_.size(), where() + "unexpected end");
    const char c = text_[position_];
    if (c == '(') {
      ++position_;
      const Parsed inner = expression();
      expect(")");
      return {inner.value, "(" + inner.text + ")"};
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      const size_t start = position_;
      while (position_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[position_])))
        ++position_;
      check(position_ - start <= static_cast<size_t>(kMaxDigits),
            where() + "a literal of more than " + std::to_string(kMaxDigits) + " digits");
      const std::string digits = text_.substr(start, position_ - start);
      return {std::stoll(digits), digits};
    }
    const size_t start = position_;
    const std::string name = read_name();
    const auto found = variables_.find(name);
    if (found == variables_.end()) {
      position_ = start;
      throw Error(where() + "'" + name + "' is used before it is assigned");
    }
    return {found->second, name};
  }

  Parsed arith() {
    Parsed result = atom();
    while (position_ < text_.size() && (text_[position_] == '+' || text_[position_] == '-')) {
      const char op = text_[position_++];
      const Parsed right = atom();
      result.value = op == '+' ? result.value + right.value : result.value - right.value;
      result.text += op + right.text;
    }
    return result;
  }

  Parsed expression() {
    const Parsed then_branch = arith();
    if (!at(" if "))
      return then_branch;
    position_ += 4;
    const Parsed left = arith();
    check(position_ < text_.size() && (text_[position_] == '<' || text_[position_] == '>'),
          where() + "expected '<' or '>'");
    const char comparison = text_[position_++];
    const Parsed right = arith();
    expect(" else ");
    const Parsed else_branch = expression();
    const bool holds = comparison == '<' ? left.value < right.value : left.value > right.value;
    return {holds ? then_branch.value : else_branch.value,
            left.text + comparison + right.text + "?" + then_branch.text + ":" + else_branch.text};
  }

  const std::string& text_;
  size_t position_ = 0;
  std::map<std::string, int64_t> variables_;
};

}  // namespace

std::string program_family_name(ProgramFamily family) {
  return family_names()[static_cast<size_t>(family)];
}

ProgramFamily parse_program_family(const std::string& name) {
  return static_cast<ProgramFamily>(find_name(family_names(), name, "program family"));
}

const std::vector<ProgramFamily>& program_families() {
  static const std::vector<ProgramFamily> kFamilies = {
      ProgramFamily::kAddition, ProgramFamily::kSubtraction, ProgramFamily::kIf,
      ProgramFamily::kCombined};
  return kFamilies;
}

void ProgramShape::validate() const {
  check(min_digits >= 1 && min_digits <= max_digits && max_digits <= kMaxDigits,
        "programs: digits must satisfy 1 <= min <= max <= " + std::to_string(kMaxDigits) +
            ", got " + std::to_string(min_digits) + " to " + std::to_string(max_digits));
  check(statements >= 0 && statements <= kMaxStatements,
        "programs: statements must be in [0, " + std::to_string(kMaxStatements) + "], got " +
            std::to_string(statements));
  check(nesting >= 0 && nesting <= kMaxNesting, "programs: nesting must be in [0, " +
                                                    std::to_string(kMaxNesting) + "], got " +
                                                    std::to_string(nesting));
}

std::vector<Program> generate_programs(ProgramFamily family, const ProgramShape& shape,
                                       int64_t count, uint64_t seed) {
  shape.validate();
  check(count >= 0 && count <= kMaxPrograms, "programs: count must be in [0, " +
                                                 std::to_string(kMaxPrograms) + "], got " +
                                                 std::to_string(count));
  Generator generator(family, shape, seed);
  std::vector<Program> programs;
  programs.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    programs.push_back(generator.program());
  return programs;
}

ProgramReading read_program(const std::string& text) {
  return Evaluator(text).run();
}

int64_t evaluate_program(const std::string& text) {
  return read_program(text).value;
}

}  // namespace nalu::data

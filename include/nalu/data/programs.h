// Short programs in the style of Zaremba & Sutskever's "Learning to Execute" (2014), for the NALU
// paper's program-evaluation experiment: integer literals, variables assigned once, + and -,
// and Python's conditional expression, ending in one print. The printed value is the target.
// A seeded generator writes them and an independent evaluator (a parser of the grammar, which
// never sees the generator's own arithmetic) reads them back. LibTorch-free.
//
// Grammar (whitespace-free text, as generated):
//   program    := (name '=' expr ';')* 'print(' expr ')'
//   expr       := arith | arith 'if' comparison 'else' expr
//   comparison := arith ('<' | '>') arith
//   arith      := atom (('+' | '-') atom)*
//   atom       := literal | name | '(' expr ')'
// with `if` and `else` set off by single spaces, e.g. a=4123;b=a-58;print(b if a>3000 else a+b).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace nalu::data {

/// The task families of the paper's figure.
enum class ProgramFamily { kAddition, kSubtraction, kIf, kCombined };

/// "addition", "subtraction", "if", "combined".
std::string program_family_name(ProgramFamily family);
/// Throws nalu::Error "unknown program family 'x' (known: ...)".
ProgramFamily parse_program_family(const std::string& name);
/// The four families in figure order.
const std::vector<ProgramFamily>& program_families();

/// What a generated program looks like.
struct ProgramShape {
  /// Every literal has between min_digits and max_digits digits (uniform over the count, then
  /// over the numbers with that many digits; one digit means 0-9).
  int64_t min_digits = 1, max_digits = 2;
  /// Assignments before the print (variables a, b, c, ...; a later one may read earlier ones).
  int64_t statements = 0;
  /// Conditional expressions nested inside another's branches, at most (the if and combined
  /// families).
  int64_t nesting = 1;
  /// Throws nalu::Error unless 1 <= min_digits <= max_digits <= 9, 0 <= statements <= 8 and
  /// 0 <= nesting <= 3.
  void validate() const;
};

/// A program and the value it prints.
struct Program {
  std::string text;
  int64_t value = 0;
  /// The literals in the order they appear in the text.
  std::vector<int64_t> literals;
};

/// `count` programs of one family, seeded: the same seed and shape give the same programs on
/// every platform. The value is computed while generating; evaluate_program recomputes it from
/// the text.
///
/// Example:
/// ```
/// nalu::data::ProgramShape shape;
/// shape.statements = 2;
/// auto programs = nalu::data::generate_programs(nalu::data::ProgramFamily::kCombined, shape,
///                                               1000, 42);
/// ```
std::vector<Program> generate_programs(ProgramFamily family, const ProgramShape& shape,
                                       int64_t count, uint64_t seed);

/// The value `text` prints, by parsing it with the grammar above. Throws nalu::Error naming the
/// position for anything outside the grammar, a variable used before it is assigned or assigned
/// twice, a literal of more than 9 digits, or a missing or second print.
int64_t evaluate_program(const std::string& text);

/// What the evaluator reads from a program: the value it prints, the value of every variable,
/// and its text with every conditional expression written condition first, `L<R?T:E` for
/// `T if L<R else E` (for models that read left to right and must know the condition before
/// they take a branch's values).
struct ProgramReading {
  int64_t value = 0;
  std::map<std::string, int64_t> variables;
  std::string condition_first;
};
/// As evaluate_program, with the variables and the condition-first text.
///
/// Example:
/// ```
/// auto reading = nalu::data::read_program("a=7;print(a+1 if a<9 else 0)");
/// // reading.value == 8, reading.variables.at("a") == 7,
/// // reading.condition_first == "a=7;print(a<9?a+1:0)"
/// ```
ProgramReading read_program(const std::string& text);

}  // namespace nalu::data

// Strict numeric flags (see numbers.h).
#include "numbers.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace nalu::cli {

namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos)
    return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Empty when `text` is a decimal whole number within [INT64_MIN, INT64_MAX] (signed) or
// [0, UINT64_MAX] (unsigned); else the reason.
std::string check_whole(const std::string& raw, bool is_signed) {
  const std::string text = trimmed(raw);
  size_t digits = text.size() > 0 && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  if (digits == text.size() || text.find_first_not_of("0123456789", digits) != std::string::npos)
    return "'" + raw + "' is not a whole number";
  errno = 0;
  char* end = nullptr;
  if (is_signed) {
    (void)std::strtoll(text.c_str(), &end, 10);
    if (errno == ERANGE)
      return raw + " is outside [" + std::to_string(INT64_MIN) + ", " + std::to_string(INT64_MAX) +
             "]";
  } else {
    if (text[0] == '-')
      return raw + " is negative; the value must be in [0, " + std::to_string(UINT64_MAX) + "]";
    (void)std::strtoull(text.c_str(), &end, 10);
    if (errno == ERANGE)
      return raw + " is more than " + std::to_string(UINT64_MAX);
  }
  return "";
}

std::string check_finite(const std::string& raw) {
  const std::string text = trimmed(raw);
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    return "'" + raw + "' is not a number";
  if (!std::isfinite(value) || errno == ERANGE)
    return raw + " is not a finite number within the range of a double";
  return "";
}

}  // namespace

void add_number_checks(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();
    if (type == "INT" || type == "UINT") {
      const bool is_signed = type == "INT";
      option->check(CLI::Validator(
          [is_signed](std::string& text) { return check_whole(text, is_signed); }, "", ""));
    } else if (type == "FLOAT") {
      option->check(CLI::Validator([](std::string& text) { return check_finite(text); }, "", ""));
    }
  }
  for (CLI::App* sub : app.get_subcommands({}))
    add_number_checks(*sub);
}

}  // namespace nalu::cli

// Small string helpers shared by the library and the CLI (LibTorch-free).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nalu/error.h"

namespace nalu {

/// "a, b, c" for join({"a", "b", "c"}, ", ").
std::string join(const std::vector<std::string>& parts, std::string_view separator);
/// Splits on every `separator`: "a,,b" -> {"a", "", "b"}; "" -> {}.
std::vector<std::string> split(const std::string& text, char separator);
/// `value` as a stream prints it by default, for messages: "0.001", "1e+30", "nan", "-inf".
std::string format_number(double value);
/// The position of `name` in `names`; throws nalu::Error "unknown <what> '<name>' (known: ...)".
size_t find_name(const std::vector<std::string>& names, const std::string& name,
                 const std::string& what);

}  // namespace nalu

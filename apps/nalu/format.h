// Number formatting shared by the CLI's commands.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace nalu::cli {

/// Three significant digits ("0.000123", "4.56e+07"), "nan" for NaN.
inline std::string short_number(double value) {
  if (std::isnan(value))
    return "nan";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", value);
  return buffer;
}

}  // namespace nalu::cli

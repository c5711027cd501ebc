// Strict numeric flags. CLI11 converts an out-of-range integer by saturating it (2^63 becomes
// 2^63 - 1, and -1 becomes 2^64 - 1 for an unsigned seed) and accepts "nan" and "inf" for
// floating-point flags; these validators refuse such text before it is converted.
#pragma once

#include <CLI/CLI.hpp>

namespace nalu::cli {

/// Adds to every integer and floating-point option of `app` and its subcommands a check that
/// its text is a whole number in the option type's range (INT: int64, UINT: uint64) or a finite
/// number, so that a value is never silently narrowed, wrapped or made infinite.
void add_number_checks(CLI::App& app);

}  // namespace nalu::cli

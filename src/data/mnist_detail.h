// Pieces the MNIST readers share (internal to the library).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "nalu/error.h"

namespace nalu::data::detail {

/// Throws nalu::Error "mnist: <file>: <problem>".
[[noreturn]] inline void fail(const std::filesystem::path& file, const std::string& problem) {
  std::string message = "mnist: ";
  message += file.string();
  message += ": ";
  message += problem;
  throw Error(message);
}

/// The size of a regular file; throws nalu::Error when it is missing or not a regular file.
inline uint64_t regular_file_size(const std::filesystem::path& file) {
  std::error_code error;
  const auto status = std::filesystem::status(file, error);
  if (error || !std::filesystem::exists(status))
    fail(file, "no such file");
  if (!std::filesystem::is_regular_file(status))
    fail(file, "not a regular file");
  const auto size = std::filesystem::file_size(file, error);
  if (error)
    fail(file, "cannot read its size (" + error.message() + ")");
  return size;
}

}  // namespace nalu::data::detail

// Writing files safely: a record, a table or a model is replaced whole or not at all, and a
// long run checks before it starts that it will be able to write its output.
#pragma once

#include <string>

namespace nalu {

/// Writes `text` to `path` atomically: a temporary file in the same directory, flushed, then
/// renamed over `path`, so a reader never sees a partial file. Throws nalu::Error.
void write_file_atomically(const std::string& path, const std::string& text);
/// Throws nalu::Error now if `path` could not be written later (missing directory, no
/// permission), so that a long run does not fail at its end.
void check_writable(const std::string& path);
/// Throws nalu::Error now when the file system holding `path` has less than `bytes` free
/// ("cannot write '<path>': 3.1 KiB free on its file system, <what> needs about 40 KiB"), so
/// that a full disk is reported before hours of training rather than after.
void check_free_space(const std::string& path, double bytes, const std::string& what);

}  // namespace nalu

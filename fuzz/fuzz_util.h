// What the fuzz targets share: an archive checksum fix-up, so that mutated archives get past the
// checksum and reach the parser behind it, and a scratch directory for readers that take a path.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace nalu::fuzz {

/// The input as text.
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// `bytes` with its last 8 bytes replaced by the checksum nalu archives end with: FNV-1a 64 of
/// everything before it, little-endian (the layout in include/nalu/io/archive.h). Written out
/// here rather than taken from the library so that the fuzzer checks the reader against the
/// documented format, not against itself.
inline std::string with_archive_checksum(std::string bytes) {
  constexpr size_t kChecksumBytes = 8;
  if (bytes.size() < kChecksumBytes)
    return bytes;
  const size_t body = bytes.size() - kChecksumBytes;
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < body; ++i) {
    hash ^= static_cast<unsigned char>(bytes[i]);
    hash *= 0x100000001b3ULL;
  }
  for (size_t i = 0; i < kChecksumBytes; ++i)
    bytes[body + i] = static_cast<char>(hash >> (8 * i));
  return bytes;
}

/// A directory in the temporary directory, private to this process, whose files are rewritten
/// for every input: for readers that only take a path.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() /
              ("nalu-fuzz-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  /// Writes `bytes` to the file `name` in the directory and returns its path.
  std::string write(const std::string& name, std::string_view bytes) const {
    const auto file = path_ / name;
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace nalu::fuzz

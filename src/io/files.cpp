// Writing files safely: atomic replacement, and the checks a long run makes before it starts.
#include "nalu/io/files.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "nalu/error.h"
#include "nalu/limits.h"

namespace nalu {

void check_writable(const std::string& path) {
  namespace fs = std::filesystem;
  check(!path.empty(), "output path is empty");
  const fs::path target(path);
  std::error_code error;
  check(!fs::is_directory(target, error), "output '" + path + "' is a directory");
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  check(fs::is_directory(directory, error),
        "cannot write '" + path + "': directory '" + directory.string() + "' does not exist");
  check(::access(directory.c_str(), W_OK) == 0,
        "cannot write '" + path + "': directory '" + directory.string() + "' is not writable");
  if (fs::exists(target, error)) {
    check(::access(target.c_str(), W_OK) == 0, "cannot write '" + path + "': permission denied");
  }
}

void check_free_space(const std::string& path, double bytes, const std::string& what) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code error;
  fs::path directory = fs::is_directory(target, error) ? target : target.parent_path();
  if (directory.empty())
    directory = ".";
  const fs::space_info space = fs::space(directory, error);
  if (error)
    return;  // unknown: the write itself will report
  if (static_cast<double>(space.available) < bytes) {
    throw Error("cannot write '" + path + "': " +
                format_bytes(static_cast<double>(space.available)) + " free on its file system, " +
                what + " needs about " + format_bytes(static_cast<double>(bytes)));
  }
}

void write_file_atomically(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const fs::path directory = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::random_device random;
  // Appending piecewise avoids GCC 12's false -Wstringop-overflow on `"." + std::string`.
  std::string name(".");
  name += target.filename().string();
  name += ".tmp";
  name += std::to_string(random());
  const fs::path temporary = directory / name;
  FILE* file = std::fopen(temporary.c_str(), "wb");
  check(file != nullptr, "cannot write '" + temporary.string() + "': " + std::strerror(errno));
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size() &&
                       std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  const int saved_errno = errno;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw Error("cannot write '" + path + "': " + std::strerror(written ? errno : saved_errno));
  }
  std::error_code error;
  fs::rename(temporary, target, error);
  if (error) {
    fs::remove(temporary, error);
    throw Error("cannot write '" + path + "': " + error.message());
  }
}

}  // namespace nalu

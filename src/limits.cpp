// Machine memory, and the memory and setting checks of every configuration.
#include "nalu/limits.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "nalu/strings.h"

namespace nalu {

namespace {

std::atomic<uint64_t> limit_override{0};

// A cgroup limit in bytes, or 0 when there is none ("max") or the file is absent.
uint64_t read_cgroup_limit(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max")
    return 0;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return 0;
  }
}

uint64_t detect_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  uint64_t bytes = pages > 0 && page_size > 0
                       ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size)
                       : std::numeric_limits<uint64_t>::max();
  for (const char* path :
       {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    const uint64_t limit = read_cgroup_limit(path);
    if (limit > 0)
      bytes = std::min(bytes, limit);
  }
  return bytes;
}

}  // namespace

uint64_t machine_memory_bytes() {
  if (const uint64_t limit = limit_override.load(); limit > 0)
    return limit;
  static const uint64_t detected = detect_memory();
  return detected;
}

void set_memory_limit_bytes(uint64_t bytes) {
  limit_override.store(bytes);
}

std::string format_bytes(double bytes) {
  static const char* const kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  size_t unit = 0;
  while (bytes >= 1024.0 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof text,
                unit == 0     ? "%.0f %s"
                : bytes < 1e6 ? "%.1f %s"
                              : "%.3g %s",
                bytes, kUnits[unit]);
  return text;
}

void check_memory(const MemoryNeed& need) {
  const auto available = static_cast<double>(machine_memory_bytes());
  if (!(need.bytes <= available)) {
    throw Error(need.what + " (" + need.settings + ") needs about " + format_bytes(need.bytes) +
                "; this machine has " + format_bytes(available) + " of memory");
  }
}

void check_memory(const std::vector<MemoryNeed>& needs) {
  for (const auto& need : needs)
    check_memory(need);
}

void check_learning_rate(double rate, const std::string& name) {
  check(rate > 0 && rate <= kLargestSetting, name + " must be a positive number of at most " +
                                                 format_number(kLargestSetting) + ", got " +
                                                 format_number(rate));
}

void check_setting(double value, const std::string& name) {
  check(value >= 0 && value <= kLargestSetting, name + " must be a number in [0, " +
                                                    format_number(kLargestSetting) + "], got " +
                                                    format_number(value));
}

}  // namespace nalu

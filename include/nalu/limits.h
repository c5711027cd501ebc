// Limits on settings that size memory or are narrowed to a smaller integer type. Every
// configuration's validate() uses these, so that a program using nalu as a library is refused
// a setting the machine cannot hold as clearly as the command line is: one line naming the
// setting, the bytes it would need and the memory there is, before anything is allocated.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "nalu/error.h"

namespace nalu {

/// Bytes of memory this process may use: the machine's physical memory, or its control
/// group's limit (cgroup v2 memory.max, v1 memory.limit_in_bytes) when that is lower. Read
/// once per process.
uint64_t machine_memory_bytes();

/// Replaces machine_memory_bytes() for this process (0 restores it). For tests and for a
/// program that wants to keep nalu below a budget of its own.
void set_memory_limit_bytes(uint64_t bytes);

/// What one step, one evaluation or one plan would allocate, estimated from the settings.
/// Bytes are a double so that no product of settings can overflow.
struct MemoryNeed {
  std::string what;      // "training: one step"
  std::string settings;  // "batch size 100000000, layer sizes 100-2-1"
  double bytes = 0.0;
};

/// Throws Error when need.bytes exceeds machine_memory_bytes():
/// "training: one step (batch size 100000000, layer sizes 100-2-1) needs about 80.1 GiB; this
/// machine has 23.4 GiB of memory".
void check_memory(const MemoryNeed& need);
void check_memory(const std::vector<MemoryNeed>& needs);

/// "1.5 GiB", "870.0 MiB", "12 bytes" (powers of 1024, as the free-space checks).
std::string format_bytes(double bytes);

/// `value` as the narrower integer type To, or Error "<what> is V, outside the range [lo, hi]
/// of ...": sizes are int64_t end to end, and the few places that narrow them go through this.
template <class To>
To checked_narrow(int64_t value, const std::string& what) {
  static_assert(std::numeric_limits<To>::is_integer);
  using Limits = std::numeric_limits<To>;
  bool fits = value >= 0 || Limits::is_signed;
  if constexpr (Limits::digits < 63) {
    fits = fits && value >= static_cast<int64_t>(Limits::min()) &&
           value <= static_cast<int64_t>(Limits::max());
  }
  if (!fits) {
    throw Error(what + " is " + std::to_string(value) + ", outside the supported range [" +
                std::to_string(Limits::min()) + ", " + std::to_string(Limits::max()) + "]");
  }
  return static_cast<To>(value);
}

/// The largest learning rate or epsilon a run accepts. Training computes in 32-bit floats, and
/// LibTorch hands a rate (Adam: up to 10 times it) or an epsilon to its kernels as a float,
/// throwing std::runtime_error mid-run for one above FLT_MAX (3.4e38); no useful setting is near.
inline constexpr double kLargestSetting = 1e30;
/// Throws nalu::Error ("<name> must be a positive number of at most 1e+30, got <rate>") unless
/// 0 < rate <= kLargestSetting; `name` is e.g. "optimizer: learning rate".
void check_learning_rate(double rate, const std::string& name);
/// Throws nalu::Error ("<name> must be a number in [0, 1e+30], got <value>") unless
/// 0 <= value <= kLargestSetting (NaN and infinity fail); `name` is e.g. "model: epsilon".
void check_setting(double value, const std::string& name);

/// The most layers a static model may have (hidden sizes + 1).
inline constexpr int64_t kMaxLayers = 10'000;

}  // namespace nalu

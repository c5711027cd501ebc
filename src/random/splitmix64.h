// SplitMix64 (Steele, Lea & Flood 2014), internal to the library: a small generator whose
// output is fixed by its definition, so that a seeded split or program set is the same with
// every compiler and standard library (std::uniform_int_distribution is not).
#pragma once

#include <cstdint>

namespace nalu::detail {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, bound), bound > 0, without modulo bias (rejection of the short last block).
  uint64_t below(uint64_t bound) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t value = next();
    while (value >= limit)
      value = next();
    return value % bound;
  }
  /// The state, to resume the stream later with SplitMix64(state()).
  uint64_t state() const { return state_; }
  /// Uniform in [low, high].
  int64_t between(int64_t low, int64_t high) {
    return low + static_cast<int64_t>(below(static_cast<uint64_t>(high - low) + 1));
  }

 private:
  uint64_t state_;
};

}  // namespace nalu::detail

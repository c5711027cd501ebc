// The data stream of the reference code's static-function task, reproduced bit for bit: NumPy's
// legacy RandomState (MT19937; uniform draws through its 53-bit random_sample) and NumPy's
// pairwise summation, which its subset sums go through. Header-only, without LibTorch, so that
// the tests can check it against values NumPy printed.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nalu_tools {

/// NumPy's legacy MT19937 generator, started from a state that `RandomState.get_state()` gives
/// (624 key words and a position), or from an integer seed as `RandomState(seed)` seeds it.
class NumpyMt19937 {
 public:
  static constexpr int kStateSize = 624;

  NumpyMt19937(const std::vector<std::uint32_t>& key, int pos) {
    if (key.size() != kStateSize) {
      throw std::invalid_argument("an MT19937 state has 624 key words, not " +
                                  std::to_string(key.size()));
    }
    if (pos < 0 || pos > kStateSize) {
      throw std::invalid_argument("an MT19937 position lies in [0, 624], not " +
                                  std::to_string(pos));
    }
    for (std::size_t i = 0; i < kStateSize; ++i)
      key_[i] = key[i];
    pos_ = pos;
    temper_all();
  }

  static NumpyMt19937 from_seed(std::uint32_t seed) {
    std::vector<std::uint32_t> key(kStateSize);
    for (std::uint32_t i = 0; i < kStateSize; ++i) {
      key[i] = seed;
      seed = 1812433253U * (seed ^ (seed >> 30)) + i + 1;
    }
    return {key, kStateSize};
  }

  std::uint32_t next_uint32() {
    if (pos_ == kStateSize)
      twist();
    return out_[static_cast<std::size_t>(pos_++)];
  }

  /// `random_sample()`: 53 random bits in [0, 1).
  double next_double() {
    const std::uint32_t a = next_uint32();
    return res53(a, next_uint32());
  }

  /// `uniform(low, high)`: low + (high - low) * random_sample(), as NumPy computes it.
  double uniform(double low, double high) { return low + (high - low) * next_double(); }

  /// n draws of uniform(low, high) (NumPy's `uniform(low, high, size=n)`), the same values as n
  /// calls of uniform(), in loops the compiler can vectorize.
  void fill_uniform(double* out, std::size_t n, double low, double high) {
    const double range = high - low;
    while (n > 0) {
      if (pos_ >= kStateSize - 1) {  // a draw's two words straddle a twist
        *out++ = low + range * next_double();
        --n;
        continue;
      }
      const std::size_t pairs =
          std::min<std::size_t>(n, static_cast<std::size_t>(kStateSize - pos_) / 2);
      const std::uint32_t* w = out_.data() + pos_;
      for (std::size_t j = 0; j < pairs; ++j)
        out[j] = low + range * res53(w[2 * j], w[2 * j + 1]);
      pos_ += static_cast<int>(2 * pairs);
      out += pairs;
      n -= pairs;
    }
  }

 private:
  // Two words as one double in [0, 1): NumPy's genrand_res53.
  static double res53(std::uint32_t a, std::uint32_t b) {
    return ((a >> 5) * 67108864.0 + (b >> 6)) / 9007199254740992.0;
  }

  static std::uint32_t temper(std::uint32_t y) {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
  }

  void temper_all() {
    for (std::size_t i = 0; i < kStateSize; ++i)
      out_[i] = temper(key_[i]);
  }

  // The standard MT19937 recurrence, in three loops without a branch so that each vectorizes:
  // the first reads only words not yet rewritten, the second words 227 behind.
  void twist() {
    constexpr std::size_t n = kStateSize;
    constexpr std::size_t m = 397;
    auto next = [](std::uint32_t cur, std::uint32_t nxt, std::uint32_t far) {
      const std::uint32_t y = (cur & 0x80000000U) | (nxt & 0x7fffffffU);
      return far ^ (y >> 1) ^ ((0U - (y & 1U)) & 0x9908b0dfU);
    };
    for (std::size_t i = 0; i < n - m; ++i)
      key_[i] = next(key_[i], key_[i + 1], key_[i + m]);
    for (std::size_t i = n - m; i < n - 1; ++i)
      key_[i] = next(key_[i], key_[i + 1], key_[i + m - n]);
    key_[n - 1] = next(key_[n - 1], key_[0], key_[m - 1]);
    temper_all();
    pos_ = 0;
  }

  std::array<std::uint32_t, kStateSize> key_{};
  std::array<std::uint32_t, kStateSize> out_{};  // key_ tempered: the words drawn next
  int pos_ = kStateSize;
};

/// NumPy's pairwise summation of n doubles `stride` apart (its add.reduce inner loop: eight
/// partial sums up to 128 values, halves above).
inline double numpy_pairwise_sum(const double* a, std::ptrdiff_t n, std::ptrdiff_t stride) {
  if (n < 8) {
    double res = 0.0;
    for (std::ptrdiff_t i = 0; i < n; ++i)
      res += a[i * stride];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j)
      r[j] = a[j * stride];
    std::ptrdiff_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (int j = 0; j < 8; ++j)
        r[j] += a[(i + j) * stride];
    }
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i)
      res += a[i * stride];
    return res;
  }
  std::ptrdiff_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2, stride) + numpy_pairwise_sum(a + n2 * stride, n - n2, stride);
}

/// `np.sum(row[start:end])` of a C-contiguous row: the reduction starts from 0.
inline double numpy_row_sum(const double* row, std::ptrdiff_t start, std::ptrdiff_t end) {
  return 0.0 + numpy_pairwise_sum(row + start, end - start, 1);
}

}  // namespace nalu_tools

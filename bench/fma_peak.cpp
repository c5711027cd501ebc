// See fma_peak.h. The functions carry their instruction set as a target attribute, so this file
// needs no special flags and runs on any x86-64 CPU (the widths it lacks report 0).
#include "fma_peak.h"

#include "cpu_clock.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace nalu_bench {

namespace {

constexpr int kChains = 24;

#if defined(__x86_64__) || defined(__i386__)
// `rounds` rounds of kChains independent FMAs (acc = acc * a + b) on vectors of 8 or 16 floats;
// returns a sum of the results so that the compiler keeps the work. The inputs come through
// volatile reads (lanes_per_ns) so that nothing is folded at compile time.
__attribute__((target("avx2,fma"), noinline)) float fma_rounds_8(int64_t rounds, float a_in,
                                                                 float b_in) {
  const __m256 a = _mm256_set1_ps(a_in), b = _mm256_set1_ps(b_in);
  __m256 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm256_set1_ps(static_cast<float>(c));
  for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 24
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm256_fmadd_ps(acc[c], a, b);
  }
  float lanes[8];
  float sum = 0.0f;
  for (int c = 0; c < kChains; ++c) {
    _mm256_storeu_ps(lanes, acc[c]);
    for (const float v : lanes)
      sum += v;
  }
  return sum;
}

__attribute__((target("avx512f"), noinline)) float fma_rounds_16(int64_t rounds, float a_in,
                                                                 float b_in) {
  const __m512 a = _mm512_set1_ps(a_in), b = _mm512_set1_ps(b_in);
  __m512 acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = _mm512_set1_ps(static_cast<float>(c));
  for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 24
    for (int c = 0; c < kChains; ++c)
      acc[c] = _mm512_fmadd_ps(acc[c], a, b);
  }
  float lanes[16];
  float sum = 0.0f;
  for (int c = 0; c < kChains; ++c) {
    _mm512_storeu_ps(lanes, acc[c]);
    for (const float v : lanes)
      sum += v;
  }
  return sum;
}

template <class F>
double lanes_per_ns(int64_t rounds, int lanes, F&& f) {
  volatile float a = 0.999f, b = 1e-3f, sink = 0.0f;
  const double start = thread_cpu_seconds();
  sink = sink + f(rounds, a, b);
  const double seconds = thread_cpu_seconds() - start;
  (void)sink;
  return seconds > 0.0 ? static_cast<double>(rounds) * kChains * lanes / (seconds * 1e9) : 0.0;
}
#endif

}  // namespace

FmaPeak measure_fma_peak(int64_t rounds) {
  FmaPeak peak;
#if defined(__x86_64__) || defined(__i386__)
  if (rounds < 1)
    return peak;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    peak.lanes8_per_ns = lanes_per_ns(rounds, 8, fma_rounds_8);
  if (__builtin_cpu_supports("avx512f"))
    peak.lanes16_per_ns = lanes_per_ns(rounds, 16, fma_rounds_16);
#else
  (void)rounds;
#endif
  return peak;
}

}  // namespace nalu_bench

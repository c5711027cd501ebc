// See fma_peak.h. The functions carry their instruction set as a target attribute, so this file
// needs no special flags and runs on any x86-64 CPU (the widths it lacks report 0).
#include "fma_peak.h"

#include "cpu_clock.h"

namespace nalu_bench {

namespace {

constexpr int kChains = 24;

#if defined(__x86_64__) || defined(__i386__)
// `rounds` rounds of kChains independent multiply-adds (acc = acc * a + b) on vectors of W floats;
// returns a sum of the results so that the compiler keeps the work. The inputs come through
// volatile reads (lanes_per_ns) so that nothing is folded at compile time. Written once with
// GCC/Clang vector types and inlined (flatten) into the two functions below, which give it its
// instruction set: there each multiply-add contracts to one FMA instruction (GCC outside ISO
// mode and Clang contract by default; objdump shows vfmadd...ps on ymm and zmm registers).
template <int W>
struct Floats;  // a vector of W floats
template <>
struct Floats<8> {
  typedef float type __attribute__((vector_size(8 * sizeof(float))));
};
template <>
struct Floats<16> {
  typedef float type __attribute__((vector_size(16 * sizeof(float))));
};

template <int W>
inline float fma_rounds(int64_t rounds, float a_in, float b_in) {
  typedef typename Floats<W>::type Vec;
  const Vec a = Vec{} + a_in, b = Vec{} + b_in;
  Vec acc[kChains];
  for (int c = 0; c < kChains; ++c)
    acc[c] = Vec{} + static_cast<float>(c);
  for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 24
    for (int c = 0; c < kChains; ++c)
      acc[c] = acc[c] * a + b;
  }
  float sum = 0.0f;
  for (int c = 0; c < kChains; ++c)
    for (int k = 0; k < W; ++k)
      sum += acc[c][k];
  return sum;
}

__attribute__((target("avx2,fma"), flatten, noinline)) float fma_rounds_8(int64_t rounds, float a,
                                                                          float b) {
  return fma_rounds<8>(rounds, a, b);
}

__attribute__((target("avx512f,fma"), flatten, noinline)) float fma_rounds_16(int64_t rounds,
                                                                              float a, float b) {
  return fma_rounds<16>(rounds, a, b);
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

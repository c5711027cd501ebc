// The rate at which one core of this CPU sustains fused multiply-adds on 8-lane (AVX2) and
// 16-lane (AVX-512F) vectors: the floor under the fused engine's matrix products
// (nalu_bench_engines --parts). Kept apart from the engine's kernels: it measures the CPU, not
// nalu.
#pragma once

#include <cstdint>

namespace nalu_bench {

struct FmaPeak {
  /// Single-precision multiply-adds per ns of the thread's CPU time, summed over the lanes;
  /// 0 where the CPU lacks the instructions (AVX2 and FMA; AVX-512F).
  double lanes8_per_ns = 0.0;
  double lanes16_per_ns = 0.0;
};

/// Runs `rounds` rounds of 24 independent chains of vector FMAs (enough to hide any current
/// core's FMA latency) per width and times them by the thread's CPU clock.
FmaPeak measure_fma_peak(int64_t rounds);

}  // namespace nalu_bench

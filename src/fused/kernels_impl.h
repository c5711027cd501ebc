// The kernels' bodies, included by kernels_avx2.cpp and kernels_generic.cpp, each compiled with
// its own instruction set. NALU_KERNEL_NAMESPACE names the copy. Loops are written so that GCC
// vectorises them (omp simd reductions, no aliasing); log() comes from SLEEF's vector
// functions where the instruction set has them.
#include <cmath>
#include <cstdint>

#include "kernels.h"

#if defined(__AVX2__)
#include <immintrin.h>
#include <sleef.h>
#define NALU_KERNEL_WIDTH 8
#elif defined(__SSE2__)
#include <emmintrin.h>
#include <sleef.h>
#define NALU_KERNEL_WIDTH 4
#else
#define NALU_KERNEL_WIDTH 1
#endif

namespace nalu::fused::kernels::NALU_KERNEL_NAMESPACE {

namespace {

void matmul_nt(int B, int O, int I, const float* __restrict x, const float* __restrict w,
               float* __restrict y) {
  for (int b = 0; b < B; ++b) {
    const float* xb = x + static_cast<int64_t>(b) * I;
    for (int j = 0; j < O; ++j) {
      const float* wj = w + static_cast<int64_t>(j) * I;
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int i = 0; i < I; ++i)
        sum += xb[i] * wj[i];
      y[static_cast<int64_t>(b) * O + j] = sum;
    }
  }
}

void matmul_tn_acc(int B, int O, int I, const float* __restrict dy, const float* __restrict x,
                   float* __restrict dw) {
  for (int j = 0; j < O; ++j) {
    float* dwj = dw + static_cast<int64_t>(j) * I;
    for (int b = 0; b < B; ++b) {
      const float d = dy[static_cast<int64_t>(b) * O + j];
      const float* xb = x + static_cast<int64_t>(b) * I;
#pragma omp simd
      for (int i = 0; i < I; ++i)
        dwj[i] += d * xb[i];
    }
  }
}

void matmul_nn_acc(int B, int O, int I, const float* __restrict dy, const float* __restrict w,
                   float* __restrict dx) {
  for (int b = 0; b < B; ++b) {
    float* dxb = dx + static_cast<int64_t>(b) * I;
    for (int j = 0; j < O; ++j) {
      const float d = dy[static_cast<int64_t>(b) * O + j];
      const float* wj = w + static_cast<int64_t>(j) * I;
#pragma omp simd
      for (int i = 0; i < I; ++i)
        dxb[i] += d * wj[i];
    }
  }
}

void log_abs_eps(int n, const float* __restrict x, float eps, float* __restrict out) {
  int k = 0;
#if NALU_KERNEL_WIDTH == 8
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 e = _mm256_set1_ps(eps);
  for (; k + 8 <= n; k += 8) {
    const __m256 a = _mm256_add_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)), e);
    _mm256_storeu_ps(out + k, Sleef_logf8_u10avx2(a));
  }
#elif NALU_KERNEL_WIDTH == 4
  const __m128 sign = _mm_set1_ps(-0.0f);
  const __m128 e = _mm_set1_ps(eps);
  for (; k + 4 <= n; k += 4) {
    const __m128 a = _mm_add_ps(_mm_andnot_ps(sign, _mm_loadu_ps(x + k)), e);
    _mm_storeu_ps(out + k, Sleef_logf4_u10sse2(a));
  }
#endif
  for (; k < n; ++k)
    out[k] = std::log(std::fabs(x[k]) + eps);
}

void uniform(uint32_t k1, uint32_t k2, int n, const UniformMap& map, float* __restrict out) {
  constexpr float kUnit = 1.0f / 16777216.0f;  // 2^-24: 24 random bits -> [0, 1)
  const float length = map.length;
  if (map.count == 1) {
    const float low = map.low[0];
    const float high = map.high_last;
#pragma omp simd
    for (int c = 0; c < n; ++c) {
      const float u = static_cast<float>(mix32(static_cast<uint32_t>(c), k1, k2) >> 8) * kUnit;
      float value = low + u * length;
      value = value < high ? value : high;
      out[c] = map.integers ? std::floor(value) : value;
    }
    return;
  }
#pragma omp simd
  for (int c = 0; c < n; ++c) {
    const float position =
        static_cast<float>(mix32(static_cast<uint32_t>(c), k1, k2) >> 8) * kUnit * length;
    float value = map.low[0] + position;
    for (int k = 1; k < map.count; ++k)
      value = position >= map.offset[k] ? map.low[k] + (position - map.offset[k]) : value;
    value = value < map.high_last ? value : map.high_last;
    out[c] = map.integers ? std::floor(value) : value;
  }
}

void row_sums(int B, int I, const float* __restrict x, int begin, int end,
              float* __restrict out) {
  for (int b = 0; b < B; ++b) {
    const float* xb = x + static_cast<int64_t>(b) * I;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int i = begin; i < end; ++i)
      sum += xb[i];
    out[b] = sum;
  }
}

void adam(int n, float* __restrict p, const float* __restrict g, float* __restrict m,
          float* __restrict v, float beta1, float beta2, float step_size, float correction2_sqrt,
          float eps) {
  const float one_minus_beta1 = 1.0f - beta1;
  const float one_minus_beta2 = 1.0f - beta2;
#pragma omp simd
  for (int k = 0; k < n; ++k) {
    m[k] = m[k] * beta1 + g[k] * one_minus_beta1;
    v[k] = v[k] * beta2 + g[k] * g[k] * one_minus_beta2;
    const float denom = std::sqrt(v[k]) / correction2_sqrt + eps;
    p[k] -= step_size * (m[k] / denom);
  }
}

}  // namespace

const Table& table() {
  static const Table kTable{NALU_KERNEL_NAME, matmul_nt, matmul_tn_acc, matmul_nn_acc,
                            log_abs_eps,      uniform,   row_sums,      adam};
  return kTable;
}

}  // namespace nalu::fused::kernels::NALU_KERNEL_NAMESPACE

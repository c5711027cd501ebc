// The AVX2 copy's exp(), sigmoid() and nac_weight() (kernels.h), eight values at a time. Each
// gives the portable copy's values (elementwise.h: glibc's expf and tanhf, one value at a time)
// bit for bit, so the fused engine's records do not depend on which copy ran: the eight-lane
// expf and tanhf reproduce glibc 2.36's algorithms operation for operation, checked on every
// float (tests/fused/elementwise_test.cpp). This file is compiled with -mavx2 -mfma
// -ffp-contract=off: a product and a sum are fused only where an explicit _mm256_fmadd_pd says so
// (as glibc's FMA build of expf fuses them), and nowhere else.
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "elementwise.h"

namespace nalu::fused::kernels::elementwise_avx2 {

namespace {
#include "expf_avx2.h"
#include "tanhf_avx2.h"

inline __m256 sigmoid8(__m256 v) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = glibc_expf8(_mm256_xor_ps(v, _mm256_set1_ps(-0.0f)));
  return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

// out[k] = f(x[k]): eight lanes at a time by f8, the last n mod 8 values by f1.
template <class Lanes, class One>
inline void each_value(int n, const float* x, float* out, Lanes f8, One f1) {
  int k = 0;
  for (; k + 8 <= n; k += 8)
    _mm256_storeu_ps(out + k, f8(_mm256_loadu_ps(x + k)));
  for (; k < n; ++k)
    out[k] = f1(x[k]);
}

}  // namespace

void exp(int n, const float* x, float* out) {
  each_value(
      n, x, out, [](__m256 v) { return glibc_expf8(v); }, [](float v) { return std::exp(v); });
}

void sigmoid(int n, const float* x, float* out) {
  each_value(
      n, x, out, [](__m256 v) { return sigmoid8(v); }, [](float v) { return scalar::sigmoid(v); });
}

void nac_weight(int n, const float* w_hat, const float* m_hat, float* w, float* d_w_hat,
                float* d_m_hat) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 t = glibc_tanhf8(_mm256_loadu_ps(w_hat + k));
    const __m256 s = sigmoid8(_mm256_loadu_ps(m_hat + k));
    _mm256_storeu_ps(w + k, _mm256_mul_ps(t, s));
    _mm256_storeu_ps(d_w_hat + k, _mm256_mul_ps(s, _mm256_sub_ps(one, _mm256_mul_ps(t, t))));
    _mm256_storeu_ps(d_m_hat + k, _mm256_mul_ps(t, _mm256_mul_ps(_mm256_sub_ps(one, s), s)));
  }
  for (; k < n; ++k)
    scalar::nac_weight(w_hat[k], m_hat[k], w[k], d_w_hat[k], d_m_hat[k]);
}

}  // namespace nalu::fused::kernels::elementwise_avx2

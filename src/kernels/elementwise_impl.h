// The vector copies' exp(), sigmoid() and nac_weight() (kernels.h), NALU_ELEMENTWISE_LANES values
// at a time: included by kernels_elementwise_avx2.cpp (8 lanes) and kernels_elementwise_avx512.cpp
// (16 lanes), each compiled for its instruction set with -ffp-contract=off. Each gives the portable
// copy's values (elementwise.h: glibc's expf and tanhf, one value at a time) bit for bit, so the
// fused engine's records do not depend on which copy ran: glibc_simd.h reproduces glibc 2.36's
// algorithms operation for operation, checked on every float (tests/fused/elementwise_test.cpp).
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "elementwise.h"

namespace nalu::fused::kernels::NALU_ELEMENTWISE_NAMESPACE {

namespace {
#include "glibc_simd.h"

constexpr int kLanes = NALU_ELEMENTWISE_LANES;
using S = Simd<kLanes>;
using F = S::F;

inline F sigmoid_lanes(F v) {
  return 1.0f / (1.0f + glibc_expf<kLanes>(-v));
}

// out[k] = f(x[k]): kLanes values at a time by `lanes`, the last n mod kLanes by `one`.
template <class Lanes, class One>
inline void each_value(int n, const float* x, float* out, Lanes lanes, One one) {
  int k = 0;
  for (; k + kLanes <= n; k += kLanes)
    S::store(out + k, lanes(S::load(x + k)));
  for (; k < n; ++k)
    out[k] = one(x[k]);
}

}  // namespace

void exp(int n, const float* x, float* out) {
  each_value(
      n, x, out, [](F v) { return glibc_expf<kLanes>(v); }, [](float v) { return std::exp(v); });
}

void sigmoid(int n, const float* x, float* out) {
  each_value(
      n, x, out, [](F v) { return sigmoid_lanes(v); }, [](float v) { return scalar::sigmoid(v); });
}

void nac_weight(int n, const float* w_hat, const float* m_hat, float* w, float* d_w_hat,
                float* d_m_hat) {
  int k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    const F t = glibc_tanhf<kLanes>(S::load(w_hat + k));
    const F s = sigmoid_lanes(S::load(m_hat + k));
    S::store(w + k, t * s);
    S::store(d_w_hat + k, s * (1.0f - t * t));
    S::store(d_m_hat + k, t * ((1.0f - s) * s));
  }
  for (; k < n; ++k)
    scalar::nac_weight(w_hat[k], m_hat[k], w[k], d_w_hat[k], d_m_hat[k]);
}

}  // namespace nalu::fused::kernels::NALU_ELEMENTWISE_NAMESPACE

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

// Runs `lanes` on the floats [0, n) of each of the `inputs` and stores its results into [0, n) of
// each of the `outputs`: whole vectors, then the last n mod kLanes values in one vector padded
// with zeros (masked loads and stores). Each lane's result depends on its own input only and
// equals the C library's for every float, so the padded vector gives the values one call per
// value would, at the cost of one vector instead of up to kLanes - 1 library calls (a layer of
// 202 weights has 10 left over at sixteen lanes).
template <size_t In, size_t Out, class Lanes>
inline void each_vector(int n, const float* const (&inputs)[In], float* const (&outputs)[Out],
                        Lanes lanes) {
  F in[In], out[Out];
  int k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    for (size_t a = 0; a < In; ++a)
      in[a] = S::load(inputs[a] + k);
    lanes(in, out);
    for (size_t a = 0; a < Out; ++a)
      S::store(outputs[a] + k, out[a]);
  }
  if (const int rest = n - k; rest > 0) {
    for (size_t a = 0; a < In; ++a)
      in[a] = S::load_first(inputs[a] + k, rest);
    lanes(in, out);
    for (size_t a = 0; a < Out; ++a)
      S::store_first(outputs[a] + k, out[a], rest);
  }
}

}  // namespace

void exp(int n, const float* x, float* out) {
  each_vector(n, {x}, {out}, [](const F* v, F* y) { y[0] = glibc_expf<kLanes>(v[0]); });
}

void sigmoid(int n, const float* x, float* out) {
  each_vector(n, {x}, {out}, [](const F* v, F* y) { y[0] = sigmoid_lanes(v[0]); });
}

void nac_weight(int n, const float* w_hat, const float* m_hat, float* w, float* d_w_hat,
                float* d_m_hat) {
  each_vector(n, {w_hat, m_hat}, {w, d_w_hat, d_m_hat}, [](const F* v, F* y) {
    const F t = glibc_tanhf<kLanes>(v[0]);
    const F s = sigmoid_lanes(v[1]);
    y[0] = t * s;
    y[1] = s * (1.0f - t * t);
    y[2] = t * ((1.0f - s) * s);
  });
}

}  // namespace nalu::fused::kernels::NALU_ELEMENTWISE_NAMESPACE

// The fused engine's elementwise functions (kernels.h: exp, sigmoid, nac_weight) one value at a
// time, with the C library's expf and tanhf: the portable kernels use them, and the vector copies
// (elementwise_impl.h) give the same values lane by lane. Each operation is rounded to float in
// the order written (on x86-64 the portable copy has no FMA to contract into; the vector copies'
// elementwise files are compiled with -ffp-contract=off).
#pragma once

#include <cmath>

namespace nalu::fused::kernels::scalar {

/// LibTorch's sigmoid: 1 / (1 + exp(-v)).
inline float sigmoid(float v) {
  return 1.0f / (1.0f + std::exp(-v));
}

/// W = tanh(W_hat) sigmoid(M_hat) and its derivatives (kernels.h, Table::nac_weight).
inline void nac_weight(float w_hat, float m_hat, float& w, float& d_w_hat, float& d_m_hat) {
  const float t = std::tanh(w_hat);
  const float s = sigmoid(m_hat);
  w = t * s;
  d_w_hat = s * (1.0f - t * t);
  d_m_hat = t * ((1.0f - s) * s);
}

}  // namespace nalu::fused::kernels::scalar

// The vector copies' eight-lane (AVX2) and sixteen-lane (AVX-512F) versions
// (kernels_elementwise_avx2.cpp, kernels_elementwise_avx512.cpp), declared for their Tables.
namespace nalu::fused::kernels::elementwise_avx2 {
void exp(int n, const float* x, float* out);
void sigmoid(int n, const float* x, float* out);
void nac_weight(int n, const float* w_hat, const float* m_hat, float* w, float* d_w_hat,
                float* d_m_hat);
}  // namespace nalu::fused::kernels::elementwise_avx2
namespace nalu::fused::kernels::elementwise_avx512 {
void exp(int n, const float* x, float* out);
void sigmoid(int n, const float* x, float* out);
void nac_weight(int n, const float* w_hat, const float* m_hat, float* w, float* d_w_hat,
                float* d_m_hat);
}  // namespace nalu::fused::kernels::elementwise_avx512

// The fused engine's inner loops over raw float buffers. Each is compiled twice: once for
// AVX2+FMA and once for the x86-64 baseline (or the host's own baseline elsewhere); table()
// picks the best one the running CPU supports, so one binary runs everywhere.
//
// Layouts are row-major: x [B, I], w [O, I], y [B, O].
#pragma once

#include <cstdint>

namespace nalu::fused::kernels {

/// Uniform sampling over a union of up to kMaxIntervals half-open intervals, by length.
struct UniformMap {
  static constexpr int kMaxIntervals = 8;
  int count = 0;
  float low[kMaxIntervals] = {};
  float offset[kMaxIntervals] = {};  // position along the union where interval k starts
  float high_last = 0.0f;            // top of the last interval (where rounding may land)
  float length = 0.0f;               // total length
  bool integers = false;             // floor the value
};

/// The counter-based generator: value c of stream (k1, k2) is lowbias32(c + k1) ^ k2, a
/// bijective 32-bit mix (C. Wellons' "lowbias32"), so no two counters of one key collide.
inline uint32_t mix32(uint32_t c, uint32_t k1, uint32_t k2) {
  uint32_t x = c + k1;
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x ^ k2;
}

struct Table {
  const char* name;  // "avx2+fma", "avx2+fma, avx512f uniform, log, products and adam", ...
  /// y[b,j] = sum_i x[b,i] w[j,i]
  void (*matmul_nt)(int B, int O, int I, const float* x, const float* w, float* y);
  /// dw[j,i] += sum_b dy[b,j] x[b,i]
  void (*matmul_tn_acc)(int B, int O, int I, const float* dy, const float* x, float* dw);
  /// dx[b,i] += sum_j dy[b,j] w[j,i]
  void (*matmul_nn_acc)(int B, int O, int I, const float* dy, const float* w, float* dx);
  /// out[k] = log(|x[k]| + eps)
  void (*log_abs_eps)(int n, const float* x, float eps, float* out);
  /// out[k] = uniform value number first + k of the stream keyed (k1, k2), mapped through `map`.
  void (*uniform)(uint32_t k1, uint32_t k2, uint32_t first, int n, const UniformMap& map,
                  float* out);
  /// out[b] = sum of x[b, i] for i in [begin, end)
  void (*row_sums)(int B, int I, const float* x, int begin, int end, float* out);
  /// out[k] = exp(x[k]) as std::exp(float) gives it. x and out may be the same buffer.
  void (*exp)(int n, const float* x, float* out);
  /// out[k] = 1 / (1 + exp(-x[k])), LibTorch's sigmoid as the layers write it. May alias.
  void (*sigmoid)(int n, const float* x, float* out);
  /// The NAC weight W = tanh(W_hat) sigmoid(M_hat) and its derivatives as LibTorch's backward
  /// forms them: d_w_hat = s (1 - t^2), d_m_hat = t ((1 - s) s), with t = tanh(W_hat) and
  /// s = sigmoid(M_hat), each operation rounded to float in this order.
  void (*nac_weight)(int n, const float* w_hat, const float* m_hat, float* w, float* d_w_hat,
                     float* d_m_hat);
  /// One step of LibTorch's Adam on n parameters (step_size = lr / (1 - beta1^t),
  /// correction2_sqrt = sqrt(1 - beta2^t)).
  void (*adam)(int n, float* p, const float* g, float* m, float* v, float beta1, float beta2,
               float step_size, float correction2_sqrt, float eps);
};

/// The kernels for the running CPU: the AVX2+FMA copy when it has both, else the portable one;
/// on CPUs with AVX-512F, uniform(), log_abs_eps(), matmul_nt() and matmul_tn_acc() (the forward
/// product and the weight gradient), adam() and the elementwise functions come from copies
/// compiled for it (the same values, twice as many per instruction).
/// Every copy's exp(), sigmoid() and nac_weight() give the portable copy's values bit for bit: the
/// vector copies' are eight- and sixteen-lane replicas of glibc's expf and tanhf
/// (src/kernels/glibc_simd.h), checked on every float.
const Table& table();
/// The portable kernels, whatever the CPU.
const Table& generic();
/// The AVX2+FMA copy alone, or nullptr where the build or the CPU has none (for tests).
const Table* avx2_only();

}  // namespace nalu::fused::kernels

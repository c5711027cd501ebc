// Compiled with -ffp-contract=off (tools/CMakeLists.txt): a fused multiply-add would round once
// where the reference BLAS rounds twice.
#include "sequential.h"

#include <vector>

namespace nalu_tools {

__attribute__((target_clones("avx512f", "avx2", "default"))) void sequential_linear(
    const float* x, const float* w, float* z, std::int64_t batch, std::int64_t inner,
    std::int64_t outputs) {
  // x transposed, so that the sums of 16 or 8 rows advance together.
  thread_local std::vector<float> xt;
  xt.resize(static_cast<std::size_t>(batch * inner));
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t k = 0; k < inner; ++k)
      xt[static_cast<std::size_t>(k * batch + b)] = x[b * inner + k];
  }
  thread_local std::vector<float> acc;
  acc.resize(static_cast<std::size_t>(batch));
  for (std::int64_t h = 0; h < outputs; ++h) {
    float* a = acc.data();
    for (std::int64_t b = 0; b < batch; ++b)
      a[b] = 0.0F;
    for (std::int64_t k = 0; k < inner; ++k) {
      const float wk = w[h * inner + k];
      const float* col = xt.data() + k * batch;
      for (std::int64_t b = 0; b < batch; ++b)
        a[b] = a[b] + wk * col[b];
    }
    for (std::int64_t b = 0; b < batch; ++b)
      z[b * outputs + h] = a[b];
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void sequential_linear_weight_grad(
    const float* g, const float* x, float* gw, std::int64_t batch, std::int64_t inner,
    std::int64_t outputs) {
  for (std::int64_t h = 0; h < outputs; ++h) {
    float* a = gw + h * inner;
    for (std::int64_t k = 0; k < inner; ++k)
      a[k] = 0.0F;
    for (std::int64_t b = 0; b < batch; ++b) {
      const float gb = g[b * outputs + h];
      const float* row = x + b * inner;
      for (std::int64_t k = 0; k < inner; ++k)
        a[k] = a[k] + gb * row[k];
    }
  }
}

}  // namespace nalu_tools

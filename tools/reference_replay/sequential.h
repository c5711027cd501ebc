// Matrix products summed in the reference BLAS's order. The reference's F.linear reaches, through
// LibTorch, the BLAS the system provides; on Debian that is the reference implementation
// (libblas3), whose sgemm forms each output as one sum in order of the inner index, from 0, with
// one rounding per product and per addition. These loops take that order and those roundings
// (compiled without contraction into fused multiply-adds) and vectorize across outputs instead
// of along a sum, so they give the same floats, several times faster.
#pragma once

#include <cstdint>

namespace nalu_tools {

/// z[b][h] = Σ_k x[b][k]·w[h][k], k ascending; x is batch × inner, w outputs × inner, z batch ×
/// outputs.
void sequential_linear(const float* x, const float* w, float* z, std::int64_t batch,
                       std::int64_t inner, std::int64_t outputs);

/// gw[h][k] = Σ_b g[b][h]·x[b][k], b ascending: the weight gradient of the product above.
void sequential_linear_weight_grad(const float* g, const float* x, float* gw, std::int64_t batch,
                                   std::int64_t inner, std::int64_t outputs);

}  // namespace nalu_tools

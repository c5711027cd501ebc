// The AVX-512F copy's exp(), sigmoid() and nac_weight(), sixteen values at a time (compiled with
// -mavx512f -mavx2 -mfma -ffp-contract=off); src/kernels/kernels.cpp takes them on CPUs with
// AVX-512F.
#define NALU_ELEMENTWISE_NAMESPACE elementwise_avx512
#define NALU_ELEMENTWISE_LANES 16
#include "elementwise_impl.h"

// The kernels for CPUs with AVX2 and FMA (compiled with -mavx2 -mfma).
#define NALU_KERNEL_NAMESPACE avx2
#define NALU_KERNEL_NAME "avx2+fma"
// exp(), sigmoid() and nac_weight() come from kernels_elementwise_avx2.cpp.
#define NALU_KERNEL_ELEMENTWISE_AVX2
#include "kernels_impl.h"

// The kernels for CPUs with AVX2 and FMA (compiled with -mavx2 -mfma).
#define NALU_KERNEL_NAMESPACE avx2
#define NALU_KERNEL_NAME "avx2+fma"
#include "kernels_impl.h"

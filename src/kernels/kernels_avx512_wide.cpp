// The kernels at 16 floats per vector, for CPUs with AVX-512F (compiled with -mavx512f -mavx2
// -mfma). Only matmul_tn_acc() is taken from this copy (src/kernels/kernels.cpp): each element of
// its weight gradient is one lane that adds its rows' products in row order, with one fused
// multiply-add per row, whatever the vector width, so its values are the AVX2 copy's bit for bit.
#define NALU_KERNEL_NAMESPACE avx512_wide
#define NALU_KERNEL_NAME "avx512f, 16 lanes"
#define NALU_KERNEL_WIDTH_16
#include "kernels_impl.h"

// The kernels compiled for CPUs with AVX-512F (with -mavx512f -mavx2 -mfma). Only uniform() is
// taken from this copy (src/fused/kernels.cpp): its loop runs 16 hashes per instruction, and
// being integer arithmetic and one fused multiply-add per value, it gives the AVX2 copy's values
// bit for bit. The other kernels keep the AVX2 copy, whose summation order is the recorded one.
#define NALU_KERNEL_NAMESPACE avx512
#define NALU_KERNEL_NAME "avx512f"
#include "kernels_impl.h"

// The kernels compiled for CPUs with AVX-512F (with -mavx512f -mavx2 -mfma). Only uniform() and
// log_abs_eps() are taken from this copy (src/kernels/kernels.cpp), and both give the AVX2 copy's
// values bit for bit: uniform() runs 16 hashes per instruction, being integer arithmetic and one
// fused multiply-add per value; log_abs_eps() calls SLEEF's 16-wide logf, whose results are its
// 8-wide logf's. The other kernels keep the AVX2 copy, whose summation order is the recorded one.
#define NALU_KERNEL_NAMESPACE avx512
#define NALU_KERNEL_NAME "avx512f"
#include "kernels_impl.h"

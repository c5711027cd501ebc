// The kernels compiled for CPUs with AVX-512F (with -mavx512f -mavx2 -mfma). Only uniform(),
// log_abs_eps(), matmul_nt(), matmul_tn_acc() and adam() are taken from this copy
// (src/kernels/kernels.cpp), and all five give the AVX2 copy's values bit for bit: uniform() runs
// 16 hashes per instruction, being integer arithmetic and one fused multiply-add per value;
// log_abs_eps() calls SLEEF's 16-wide logf, whose results are its 8-wide logf's; matmul_nt() is
// the 16-lane forward product (matmul_nt_16 in kernels_impl.h), whose vectors hold two outputs'
// 8-lane accumulators side by side and end in the 8-lane copy's tree of adds; matmul_tn_acc() is
// the 16-lane weight gradient (matmul_tn_acc_16), in which each element is one lane adding its
// rows in order, as at 8 lanes; adam() is the same loop vectorised 16 wide, each element the same
// operations with the same contractions (FusedKernels.AdamIsTheSameOnEveryVectorWidth). The other
// kernels keep the AVX2 copy, whose summation order is the recorded one; the sixteen-lane
// elementwise functions are kernels_elementwise_avx512.cpp.
#define NALU_KERNEL_NAMESPACE avx512
#define NALU_KERNEL_NAME "avx512f"
#include "kernels_impl.h"

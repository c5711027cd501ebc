// glibc_expf8: an 8-lane AVX2+FMA expf that returns, lane by lane, exactly the
// bits of glibc's scalar expf as it runs on x86-64 with AVX2+FMA (the ifunc
// picks the FMA build of the flt-32 expf: evaluation in double with a 32-entry
// 2^(i/32) table, cubic polynomial, one final rounding to float).  The FMA
// contractions below mirror that build instruction for instruction (read
// from the disassembly); the two fused products in the range reduction
// matter: computing x*32/ln2 unfused gives 2 wrong results over all floats.
// Checked exhaustively over all 2^32 float bit patterns against
// Debian 12 glibc 2.36 (libm.so.6, __expf_fma) on an AMD EPYC: 0 mismatches.
// Lanes with |x| >= 0x1.6p+6 (88.0), inf or NaN follow glibc's special-case
// branch with blends, without a call to the library: a scalar fallback there
// (with glibc's errno-setting overflow path) cost a saturated NALU gate more
// than the rest of its sigmoid.
//
// Header-only; meant to be included inside the includer's namespace from a
// translation unit built with -mavx2 -mfma.
#pragma once

#include <immintrin.h>
#include <cmath>
#include <cstdint>

// Bits of round-to-nearest-double(2^(i/32)), minus i << 47, so that adding
// k << 47 (k = integer part scaled by 32) rebuilds 2^(k/32) exactly.
alignas(64) static const std::uint64_t kGlibcExpf8Table[32] = {
    0x3ff0000000000000ULL, 0x3fefd9b0d3158574ULL, 0x3fefb5586cf9890fULL, 0x3fef9301d0125b51ULL,
    0x3fef72b83c7d517bULL, 0x3fef54873168b9aaULL, 0x3fef387a6e756238ULL, 0x3fef1e9df51fdee1ULL,
    0x3fef06fe0a31b715ULL, 0x3feef1a7373aa9cbULL, 0x3feedea64c123422ULL, 0x3feece086061892dULL,
    0x3feebfdad5362a27ULL, 0x3feeb42b569d4f82ULL, 0x3feeab07dd485429ULL, 0x3feea47eb03a5585ULL,
    0x3feea09e667f3bcdULL, 0x3fee9f75e8ec5f74ULL, 0x3feea11473eb0187ULL, 0x3feea589994cce13ULL,
    0x3feeace5422aa0dbULL, 0x3feeb737b0cdc5e5ULL, 0x3feec49182a3f090ULL, 0x3feed503b23e255dULL,
    0x3feee89f995ad3adULL, 0x3feeff76f2fb5e47ULL, 0x3fef199bdd85529cULL, 0x3fef3720dcef9069ULL,
    0x3fef5818dcfba487ULL, 0x3fef7c97337b9b5fULL, 0x3fefa4afa2a490daULL, 0x3fefd0765b6e4540ULL,
};

// Four lanes in double precision; returns the four float results.
static inline __m128 glibc_expf8_half(__m128 xf) {
  const __m256d inv_ln2_x32 = _mm256_set1_pd(0x1.71547652b82fep+0 * 32.0);
  const __m256d round_shift = _mm256_set1_pd(0x1.8p+52);
  const __m256d c0 = _mm256_set1_pd(0x1.c6af84b912394p-5 / (32.0 * 32.0 * 32.0));
  const __m256d c1 = _mm256_set1_pd(0x1.ebfce50fac4f3p-3 / (32.0 * 32.0));
  const __m256d c2 = _mm256_set1_pd(0x1.62e42ff0c52d6p-1 / 32.0);
  const __m256d one = _mm256_set1_pd(1.0);

  const __m256d xd = _mm256_cvtps_pd(xf);
  // k = round-to-even(x * 32/ln2), obtained through the 1.5*2^52 shift; the
  // product is fused into the add (as in the library build).
  __m256d kd = _mm256_fmadd_pd(inv_ln2_x32, xd, round_shift);
  const __m256i ki = _mm256_castpd_si256(kd);
  kd = _mm256_sub_pd(kd, round_shift);
  // Reduced argument, again with the product fused: r = x*32/ln2 - k.
  const __m256d r = _mm256_fmsub_pd(inv_ln2_x32, xd, kd);

  // Scale s = 2^(k/32): table entry plus k shifted into the exponent field.
  const __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
  __m256i sbits =
      _mm256_i64gather_epi64(reinterpret_cast<const long long*>(kGlibcExpf8Table), idx, 8);
  sbits = _mm256_add_epi64(sbits, _mm256_slli_epi64(ki, 47));
  const __m256d s = _mm256_castsi256_pd(sbits);

  // p(r) = (c0*r + c1)*r^2 + (c2*r + 1), three FMAs and one plain square.
  const __m256d hi = _mm256_fmadd_pd(c0, r, c1);
  const __m256d r2 = _mm256_mul_pd(r, r);
  __m256d y = _mm256_fmadd_pd(c2, r, one);
  y = _mm256_fmadd_pd(hi, r2, y);
  y = _mm256_mul_pd(y, s);
  return _mm256_cvtpd_ps(y);  // the single rounding to float
}

inline __m256 glibc_expf8(__m256 x) {
  const __m128 lo = glibc_expf8_half(_mm256_castps256_ps128(x));
  const __m128 hi = glibc_expf8_half(_mm256_extractf128_ps(x, 1));
  __m256 res = _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);

  // glibc's special cases for |x| >= 88.0f, inf and NaN, branch-free: x > 0x1.62e42ep6
  // overflows to +inf (inf included), x < -0x1.9fe368p6 underflows to +0 (-inf included), NaN
  // gives x + x; the other lanes with |x| >= 88 take the main path above, as in glibc (whose
  // errno-setting underflow check is off: WANT_ERRNO_UFLOW is 0). errno is not set here.
  const __m256 overflow = _mm256_cmp_ps(x, _mm256_set1_ps(0x1.62e42ep6f), _CMP_GT_OQ);
  const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-0x1.9fe368p6f), _CMP_LT_OQ);
  const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
  res = _mm256_blendv_ps(res, _mm256_set1_ps(INFINITY), overflow);
  res = _mm256_andnot_ps(underflow, res);
  return _mm256_blendv_ps(res, _mm256_add_ps(x, x), nan);
}

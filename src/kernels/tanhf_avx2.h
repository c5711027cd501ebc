// glibc_tanhf8: an 8-lane AVX2 tanhf whose every lane is bit-identical to the scalar tanhf of
// glibc 2.36 on x86-64 (Debian 12), i.e. the old fdlibm float tanhf built on fdlibm's float
// expm1f (degree-5 Q polynomial), evaluated in plain SSE single precision without FMA.
// The same float operations are done in the same order, branch-free with blends, for every
// input (zero, subnormal, tiny, |x| >= 22, inf and NaN included); no scalar fallback is needed.
// Checked exhaustively: all 2^32 float bit patterns compared with std::tanh(float) from
// Debian glibc 2.36-9+deb12u14, 0 mismatches (NaN payloads identical too), when built with
// g++ 12 -O2 and with -O3 -ffp-contract=fast -mavx2 -mfma.
//
// Contraction guard: GCC implements _mm256_mul_ps etc. with vector operators, so under
// -ffp-contract=fast a product feeding an add/sub could still be fused into an FMA (which
// would change the rounding). Every product is therefore passed through an empty asm
// statement (tanhf8_detail_mul) that hides it from the contraction pass.
#pragma once

#include <immintrin.h>

#include <cstdint>

// Product that the compiler can neither fuse into an FMA nor otherwise re-associate.
inline __m256 tanhf8_detail_mul(__m256 a, __m256 b) {
  __m256 p = _mm256_mul_ps(a, b);
  __asm__("" : "+x"(p));
  return p;
}

inline __m256 tanhf8_detail_f(std::uint32_t bits) {
  return _mm256_castsi256_ps(_mm256_set1_epi32(static_cast<int>(bits)));
}

// expm1f for arguments a with 2^-54 <= |a| < 44, a > 0 only when a >= 2 (these are the
// arguments tanhf passes: 2|x| for |x| >= 1, -2|x| for |x| < 1). Within that domain the
// branches glibc can take are: |a| < 2^-25 (returns a); no reduction (k = 0); k = -1;
// k <= -2 or k > 56 (exponent added to 1-(e-x), then 1 subtracted); 2 <= k <= 22;
// 23 <= k <= 56. The k = 1 branch and the overflow / saturation filters cannot occur.
inline __m256 tanhf8_detail_expm1f(__m256 a) {
  const __m256i abits = _mm256_and_si256(_mm256_castps_si256(a), _mm256_set1_epi32(0x7fffffff));
  const __m256 negative = _mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_LT_OQ);

  // Reduction multiple k. |a| <= 0.5 ln2: k = 0; 0.5 ln2 < |a| < 1.5 ln2: k = +-1;
  // otherwise k = (int)(a / ln2 +- 0.5) with the product and sum rounded in float.
  const __m256i no_reduction = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3eb17219), abits);
  const __m256i near_one = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x3f851592), abits);
  const __m256 half_signed =
      _mm256_blendv_ps(tanhf8_detail_f(0x3f000000u), tanhf8_detail_f(0xbf000000u), negative);
  __m256i k = _mm256_cvttps_epi32(
      _mm256_add_ps(tanhf8_detail_mul(tanhf8_detail_f(0x3fb8aa3bu), a), half_signed));
  const __m256i one_signed =
      _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(_mm256_set1_epi32(1)),
                                           _mm256_castsi256_ps(_mm256_set1_epi32(-1)), negative));
  k = _mm256_blendv_epi8(k, one_signed, near_one);
  k = _mm256_andnot_si256(no_reduction, k);

  // hi = a - k*ln2_hi, lo = k*ln2_lo. For k = +-1 this gives exactly a -+ ln2_hi and +-ln2_lo,
  // and for k = 0 it gives hi = a, lo = +0, hence r = a and c = 0 (the unreduced case).
  const __m256 kf = _mm256_cvtepi32_ps(k);
  const __m256 hi = _mm256_sub_ps(a, tanhf8_detail_mul(kf, tanhf8_detail_f(0x3f317180u)));
  const __m256 lo = tanhf8_detail_mul(kf, tanhf8_detail_f(0x3717f7d1u));
  const __m256 r = _mm256_sub_ps(hi, lo);
  const __m256 c = _mm256_sub_ps(_mm256_sub_ps(hi, r), lo);

  // Rational approximation on the reduced argument r.
  const __m256 one = tanhf8_detail_f(0x3f800000u);
  const __m256 hfx = tanhf8_detail_mul(r, tanhf8_detail_f(0x3f000000u));
  const __m256 hxs = tanhf8_detail_mul(r, hfx);
  __m256 p = tanhf8_detail_mul(hxs, tanhf8_detail_f(0xb457edbbu));             // Q5
  p = tanhf8_detail_mul(hxs, _mm256_add_ps(tanhf8_detail_f(0x36867e54u), p));  // Q4
  p = tanhf8_detail_mul(hxs, _mm256_add_ps(tanhf8_detail_f(0xb8a670cdu), p));  // Q3
  p = tanhf8_detail_mul(hxs, _mm256_add_ps(tanhf8_detail_f(0x3ad00d01u), p));  // Q2
  p = tanhf8_detail_mul(hxs, _mm256_add_ps(tanhf8_detail_f(0xbd088889u), p));  // Q1
  const __m256 r1 = _mm256_add_ps(one, p);
  const __m256 t3 = _mm256_sub_ps(tanhf8_detail_f(0x40400000u), tanhf8_detail_mul(r1, hfx));
  const __m256 ratio = _mm256_div_ps(
      _mm256_sub_ps(r1, t3), _mm256_sub_ps(tanhf8_detail_f(0x40c00000u), tanhf8_detail_mul(r, t3)));
  __m256 e = tanhf8_detail_mul(hxs, ratio);
  // Correction term; with c = 0 this is r*e - hxs, the quantity the k = 0 branch uses.
  e = _mm256_sub_ps(_mm256_sub_ps(tanhf8_detail_mul(r, _mm256_sub_ps(e, c)), c), hxs);

  // k = 0: r - e.   k = -1: 0.5*(r - e) - 0.5.
  const __m256 u = _mm256_sub_ps(r, e);
  const __m256 res_km1 = _mm256_sub_ps(tanhf8_detail_mul(tanhf8_detail_f(0x3f000000u), u),
                                       tanhf8_detail_f(0x3f000000u));

  // Scaled branches. d = e - r.
  //   k <= -2 or k > 56:  y = 1 - d,                       result (y * 2^k) - 1
  //   2 <= k <= 22:       y = (1 - 2^-k) - d,             result  y * 2^k
  //   23 <= k <= 56:      y = (r - (e + 2^-k)) + 1,        result  y * 2^k
  // (scaling by 2^k is an integer add of k to the exponent field, as glibc does).
  const __m256 d = _mm256_sub_ps(e, r);
  const __m256i far = _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(-1), k),
                                      _mm256_cmpgt_epi32(k, _mm256_set1_epi32(56)));
  const __m256i high = _mm256_andnot_si256(far, _mm256_cmpgt_epi32(k, _mm256_set1_epi32(22)));
  const __m256i kshift = _mm256_slli_epi32(k, 23);
  // 1 - 2^-k as bits (meaningful for 2 <= k <= 22), or 1.0 for the far branch.
  __m256i tbits = _mm256_sub_epi32(_mm256_set1_epi32(0x3f800000),
                                   _mm256_srlv_epi32(_mm256_set1_epi32(0x1000000), k));
  tbits = _mm256_blendv_epi8(tbits, _mm256_set1_epi32(0x3f800000), far);
  const __m256 y_low = _mm256_sub_ps(_mm256_castsi256_ps(tbits), d);
  const __m256 two_mk =
      _mm256_castsi256_ps(_mm256_sub_epi32(_mm256_set1_epi32(0x3f800000), kshift));
  const __m256 y_high = _mm256_add_ps(_mm256_sub_ps(r, _mm256_add_ps(e, two_mk)), one);
  const __m256 y = _mm256_blendv_ps(y_low, y_high, _mm256_castsi256_ps(high));
  const __m256 scaled = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(y), kshift));
  const __m256 res_scaled =
      _mm256_blendv_ps(scaled, _mm256_sub_ps(scaled, one), _mm256_castsi256_ps(far));

  __m256 res = _mm256_blendv_ps(res_scaled, res_km1,
                                _mm256_castsi256_ps(_mm256_cmpeq_epi32(k, _mm256_set1_epi32(-1))));
  res = _mm256_blendv_ps(res, u, _mm256_castsi256_ps(no_reduction));
  // |a| < 2^-25: expm1f(a) = a.
  res = _mm256_blendv_ps(
      res, a, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(0x33000000), abits)));
  return res;
}

// Lane-wise glibc 2.36 tanhf, bit for bit, for every float input.
inline __m256 glibc_tanhf8(__m256 x) {
  const __m256i sign = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i xbits = _mm256_castps_si256(x);
  const __m256i abits = _mm256_andnot_si256(sign, xbits);
  const __m256 ax = _mm256_castsi256_ps(abits);
  const __m256 one = tanhf8_detail_f(0x3f800000u);
  const __m256 two = tanhf8_detail_f(0x40000000u);

  // |x| >= 1: t = expm1f(|x| + |x|), z = 1 - 2/(t + 2).
  // |x| <  1: t = expm1f(-2 * |x|),  z = -t/(t + 2).
  const __m256i big = _mm256_cmpgt_epi32(abits, _mm256_set1_epi32(0x3f7fffff));
  const __m256 bigf = _mm256_castsi256_ps(big);
  const __m256 arg = _mm256_blendv_ps(tanhf8_detail_mul(ax, tanhf8_detail_f(0xc0000000u)),
                                      _mm256_add_ps(ax, ax), bigf);
  const __m256 t = tanhf8_detail_expm1f(arg);
  const __m256 num = _mm256_blendv_ps(_mm256_xor_ps(t, _mm256_castsi256_ps(sign)), two, bigf);
  const __m256 q = _mm256_div_ps(num, _mm256_add_ps(t, two));
  __m256 z = _mm256_blendv_ps(q, _mm256_sub_ps(one, q), bigf);

  // |x| >= 22 (inf included): 1 - tiny rounds to 1.
  z = _mm256_blendv_ps(
      z, one, _mm256_castsi256_ps(_mm256_cmpgt_epi32(abits, _mm256_set1_epi32(0x41afffff))));
  z = _mm256_xor_ps(z, _mm256_castsi256_ps(_mm256_and_si256(xbits, sign)));  // restore the sign
  // |x| < 2^-55 (zero and subnormals included): x*(1 + x) == x exactly.
  z = _mm256_blendv_ps(
      z, x, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(0x24000000), abits)));
  // NaN: glibc returns 1/x +- 1, i.e. the input NaN quieted; x + x yields the same bits.
  z = _mm256_blendv_ps(
      z, _mm256_add_ps(x, x),
      _mm256_castsi256_ps(_mm256_cmpgt_epi32(abits, _mm256_set1_epi32(0x7f800000))));
  return z;
}

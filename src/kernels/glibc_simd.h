// glibc 2.36's expf and tanhf (Debian 12, x86-64), N lanes at a time: N = 8 with AVX2+FMA,
// N = 16 with AVX-512F. Every lane returns exactly the bits of the scalar function, for every
// float input (zero, subnormals, |x| >= 88, inf and NaN included), with no scalar fallback.
// Checked on all 2^32 float bit patterns against the C library (tests/fused/elementwise_test.cpp,
// NALU_ELEMENTWISE_STRIDE=1).
//
// The algorithms are written once over GCC vector extensions, whose operators are the plain IEEE
// operations; Simd<N> supplies the few instructions they do not express (fused multiply-adds,
// conversions, variable shifts, the table lookup). The includer is compiled with
// -ffp-contract=off, so a product and a sum are fused only where fmadd/fmsub say so.
//
//   expf: glibc's FMA build of the flt-32 expf, evaluated in double with a 32-entry table of
//   2^(i/32), a cubic polynomial and one final rounding to float; the contractions mirror that
//   build instruction for instruction (read from its disassembly): computing x*32/ln2 unfused
//   gives 2 wrong results over all floats.
//
//   tanhf: the old fdlibm float tanhf on fdlibm's float expm1f (degree-5 Q polynomial), in plain
//   single precision without FMA; each branch glibc can take is computed and the lane's own is
//   selected.
//
// Header-only; include it inside the includer's namespace from a translation unit built for the
// instruction set of the Simd<N> it uses.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

// Bits of round-to-nearest-double(2^(i/32)), minus i << 47, so that adding k << 47 (k = integer
// part scaled by 32) rebuilds 2^(k/32) exactly.
alignas(64) static const std::uint64_t kGlibcExpfTable[32] = {
    0x3ff0000000000000ULL, 0x3fefd9b0d3158574ULL, 0x3fefb5586cf9890fULL, 0x3fef9301d0125b51ULL,
    0x3fef72b83c7d517bULL, 0x3fef54873168b9aaULL, 0x3fef387a6e756238ULL, 0x3fef1e9df51fdee1ULL,
    0x3fef06fe0a31b715ULL, 0x3feef1a7373aa9cbULL, 0x3feedea64c123422ULL, 0x3feece086061892dULL,
    0x3feebfdad5362a27ULL, 0x3feeb42b569d4f82ULL, 0x3feeab07dd485429ULL, 0x3feea47eb03a5585ULL,
    0x3feea09e667f3bcdULL, 0x3fee9f75e8ec5f74ULL, 0x3feea11473eb0187ULL, 0x3feea589994cce13ULL,
    0x3feeace5422aa0dbULL, 0x3feeb737b0cdc5e5ULL, 0x3feec49182a3f090ULL, 0x3feed503b23e255dULL,
    0x3feee89f995ad3adULL, 0x3feeff76f2fb5e47ULL, 0x3fef199bdd85529cULL, 0x3fef3720dcef9069ULL,
    0x3fef5818dcfba487ULL, 0x3fef7c97337b9b5fULL, 0x3fefa4afa2a490daULL, 0x3fefd0765b6e4540ULL,
};

template <int N>
struct Simd;

// The vector types of N lanes: F floats, I int32 (also the masks of comparisons: -1 or 0 per
// lane), U uint32 (for shifts and sums that may wrap), and for the halves of a float vector H
// floats, D doubles and L uint64.
template <int N>
struct SimdTypes {
  typedef float F __attribute__((vector_size(4 * N)));
  typedef std::int32_t I __attribute__((vector_size(4 * N)));
  typedef std::uint32_t U __attribute__((vector_size(4 * N)));
  typedef float H __attribute__((vector_size(2 * N)));
  typedef double D __attribute__((vector_size(4 * N)));
  typedef std::uint64_t L __attribute__((vector_size(4 * N)));

  static F load(const float* p) {
    F v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(float* p, F v) { std::memcpy(p, &v, sizeof v); }
  static F splat(float v) { return F{} + v; }
  static F from_bits(std::uint32_t bits) { return (F)(I{} + static_cast<std::int32_t>(bits)); }
};

#if defined(__AVX2__) && defined(__FMA__)
template <>
struct Simd<8> : SimdTypes<8> {
  static D fmadd(D a, D b, D c) { return (D)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c); }
  static D fmsub(D a, D b, D c) { return (D)_mm256_fmsub_pd((__m256d)a, (__m256d)b, (__m256d)c); }
  static I truncate(F v) { return (I)_mm256_cvttps_epi32((__m256)v); }
  static I shift_right(I v, I count) { return (I)_mm256_srlv_epi32((__m256i)v, (__m256i)count); }
  static H low(F v) { return (H)_mm256_castps256_ps128((__m256)v); }
  static H high(F v) { return (H)_mm256_extractf128_ps((__m256)v, 1); }
  static F join(H low, H high) {
    return (F)_mm256_insertf128_ps(_mm256_castps128_ps256((__m128)low), (__m128)high, 1);
  }
  // The first n (0 < n < 8) floats at p with zeros after them, and their store back: masked
  // loads and stores, which do not touch the memory of the lanes left out.
  static __m256i first_lanes(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static F load_first(const float* p, int n) { return (F)_mm256_maskload_ps(p, first_lanes(n)); }
  static void store_first(float* p, F v, int n) {
    _mm256_maskstore_ps(p, first_lanes(n), (__m256)v);
  }
  static D widen(H v) { return (D)_mm256_cvtps_pd((__m128)v); }
  static H narrow(D v) { return (H)_mm256_cvtpd_ps((__m256d)v); }
  // kGlibcExpfTable[i] for each lane's i in [0, 32).
  static L exp_table(L i) {
    return (L)_mm256_i64gather_epi64(reinterpret_cast<const long long*>(kGlibcExpfTable),
                                     (__m256i)i, 8);
  }
};
#endif

#if defined(__AVX512F__)
template <>
struct Simd<16> : SimdTypes<16> {
  static D fmadd(D a, D b, D c) { return (D)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c); }
  static D fmsub(D a, D b, D c) { return (D)_mm512_fmsub_pd((__m512d)a, (__m512d)b, (__m512d)c); }
  // (The zero-masking forms with every lane set are the plain instructions; the plain intrinsics
  // start from an undefined vector that GCC 12 warns about.)
  static I truncate(F v) { return (I)_mm512_maskz_cvttps_epi32(0xffff, (__m512)v); }
  static I shift_right(I v, I count) {
    return (I)_mm512_maskz_srlv_epi32(0xffff, (__m512i)v, (__m512i)count);
  }
  static H low(F v) { return __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7); }
  static H high(F v) { return __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15); }
  static F join(H low, H high) {
    return __builtin_shufflevector(low, high, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  }
  static F load_first(const float* p, int n) {
    return (F)_mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
  }
  static void store_first(float* p, F v, int n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), (__m512)v);
  }
  static D widen(H v) { return (D)_mm512_maskz_cvtps_pd(0xff, (__m256)v); }
  static H narrow(D v) { return (H)_mm512_maskz_cvtpd_ps(0xff, (__m512d)v); }
  // The table is four registers of eight entries: two two-register permutes and a blend.
  static L exp_table(L i) {
    const auto part = [](int k) { return _mm512_load_si512(kGlibcExpfTable + 8 * k); };
    const __m512i index = (__m512i)i;
    const __m512i first = _mm512_permutex2var_epi64(part(0), index, part(1));
    const __m512i second = _mm512_permutex2var_epi64(part(2), index, part(3));
    return (L)_mm512_mask_blend_epi64(_mm512_test_epi64_mask(index, _mm512_set1_epi64(16)), first,
                                      second);
  }
};
#endif

// expf of half a vector, in double precision; returns the floats.
template <int N>
inline typename Simd<N>::H glibc_expf_half(typename Simd<N>::H xf) {
  using S = Simd<N>;
  using D = typename S::D;
  using L = typename S::L;
  const D inv_ln2_x32 = D{} + 0x1.71547652b82fep+0 * 32.0;
  const D round_shift = D{} + 0x1.8p+52;
  const D c0 = D{} + 0x1.c6af84b912394p-5 / (32.0 * 32.0 * 32.0);
  const D c1 = D{} + 0x1.ebfce50fac4f3p-3 / (32.0 * 32.0);
  const D c2 = D{} + 0x1.62e42ff0c52d6p-1 / 32.0;
  const D one = D{} + 1.0;

  const D xd = S::widen(xf);
  // k = round-to-even(x * 32/ln2), obtained through the 1.5*2^52 shift; the product is fused
  // into the add (as in the library build).
  D kd = S::fmadd(inv_ln2_x32, xd, round_shift);
  const L ki = (L)kd;
  kd = kd - round_shift;
  // Reduced argument, again with the product fused: r = x*32/ln2 - k.
  const D r = S::fmsub(inv_ln2_x32, xd, kd);

  // Scale s = 2^(k/32): table entry plus k shifted into the exponent field.
  const D s = (D)(S::exp_table(ki & 31) + (ki << 47));

  // p(r) = (c0*r + c1)*r^2 + (c2*r + 1), three FMAs and one plain square.
  const D hi = S::fmadd(c0, r, c1);
  const D r2 = r * r;
  D y = S::fmadd(c2, r, one);
  y = S::fmadd(hi, r2, y);
  y = y * s;
  return S::narrow(y);  // the single rounding to float
}

template <int N>
inline typename Simd<N>::F glibc_expf(typename Simd<N>::F x) {
  using S = Simd<N>;
  using F = typename S::F;
  F res = S::join(glibc_expf_half<N>(S::low(x)), glibc_expf_half<N>(S::high(x)));
  // glibc's special cases for |x| >= 88.0f, inf and NaN, branch-free: x > 0x1.62e42ep6
  // overflows to +inf (inf included), x < -0x1.9fe368p6 underflows to +0 (-inf included), NaN
  // gives x + x; the other lanes with |x| >= 88 take the main path above, as in glibc (whose
  // errno-setting underflow check is off: WANT_ERRNO_UFLOW is 0). errno is not set here. A
  // scalar fallback there (with glibc's errno-setting overflow path) cost a saturated NALU gate
  // more than the rest of its sigmoid.
  res = x > 0x1.62e42ep6f ? S::splat(INFINITY) : res;
  res = x < -0x1.9fe368p6f ? F{} : res;
  return x != x ? x + x : res;
}

// A product that the compiler can neither fuse into an FMA nor otherwise re-associate (a guard
// besides -ffp-contract=off: tanhf's products are all rounded on their own in glibc's build).
template <class F>
inline F tanhf_detail_mul(F a, F b) {
  F p = a * b;
  __asm__("" : "+v"(p));
  return p;
}

// expm1f for arguments a with 2^-54 <= |a| < 44, a > 0 only when a >= 2 (these are the arguments
// tanhf passes: 2|x| for |x| >= 1, -2|x| for |x| < 1). Within that domain the branches glibc can
// take are: |a| < 2^-25 (returns a); no reduction (k = 0); k = -1; k <= -2 or k > 56 (exponent
// added to 1-(e-x), then 1 subtracted); 2 <= k <= 22; 23 <= k <= 56. The k = 1 branch and the
// overflow / saturation filters cannot occur.
template <int N>
inline typename Simd<N>::F glibc_tanhf_expm1f(typename Simd<N>::F a) {
  using S = Simd<N>;
  using F = typename S::F;
  using I = typename S::I;
  using U = typename S::U;
  const auto f = S::from_bits;
  const auto mul = tanhf_detail_mul<F>;
  const I abits = (I)a & 0x7fffffff;
  const I negative = a < 0.0f;

  // Reduction multiple k. |a| <= 0.5 ln2: k = 0; 0.5 ln2 < |a| < 1.5 ln2: k = +-1; otherwise
  // k = (int)(a / ln2 +- 0.5) with the product and sum rounded in float.
  const I no_reduction = 0x3eb17219 > abits;
  const I near_one = 0x3f851592 > abits;
  const F half_signed = negative ? f(0xbf000000u) : f(0x3f000000u);
  I k = S::truncate(mul(f(0x3fb8aa3bu), a) + half_signed);
  k = near_one ? (negative ? I{} - 1 : I{} + 1) : k;
  k = no_reduction ? I{} : k;

  // hi = a - k*ln2_hi, lo = k*ln2_lo. For k = +-1 this gives exactly a -+ ln2_hi and +-ln2_lo,
  // and for k = 0 it gives hi = a, lo = +0, hence r = a and c = 0 (the unreduced case).
  const F kf = __builtin_convertvector(k, F);
  const F hi = a - mul(kf, f(0x3f317180u));
  const F lo = mul(kf, f(0x3717f7d1u));
  const F r = hi - lo;
  const F c = (hi - r) - lo;

  // Rational approximation on the reduced argument r.
  const F one = f(0x3f800000u);
  const F hfx = mul(r, f(0x3f000000u));
  const F hxs = mul(r, hfx);
  F p = mul(hxs, f(0xb457edbbu));    // Q5
  p = mul(hxs, f(0x36867e54u) + p);  // Q4
  p = mul(hxs, f(0xb8a670cdu) + p);  // Q3
  p = mul(hxs, f(0x3ad00d01u) + p);  // Q2
  p = mul(hxs, f(0xbd088889u) + p);  // Q1
  const F r1 = one + p;
  const F t3 = f(0x40400000u) - mul(r1, hfx);
  const F ratio = (r1 - t3) / (f(0x40c00000u) - mul(r, t3));
  F e = mul(hxs, ratio);
  // Correction term; with c = 0 this is r*e - hxs, the quantity the k = 0 branch uses.
  e = (mul(r, e - c) - c) - hxs;

  // k = 0: r - e.   k = -1: 0.5*(r - e) - 0.5.
  const F u = r - e;
  const F res_km1 = mul(f(0x3f000000u), u) - f(0x3f000000u);

  // Scaled branches. d = e - r.
  //   k <= -2 or k > 56:  y = 1 - d,                       result (y * 2^k) - 1
  //   2 <= k <= 22:       y = (1 - 2^-k) - d,             result  y * 2^k
  //   23 <= k <= 56:      y = (r - (e + 2^-k)) + 1,        result  y * 2^k
  // (scaling by 2^k is an integer add of k to the exponent field, as glibc does).
  const F d = e - r;
  const I far = (-1 > k) | (k > 56);
  const I high = ~far & (k > 22);
  const U kshift = (U)k << 23;
  // 1 - 2^-k as bits (meaningful for 2 <= k <= 22), or 1.0 for the far branch.
  I tbits = 0x3f800000 - S::shift_right(I{} + 0x1000000, k);
  tbits = far ? I{} + 0x3f800000 : tbits;
  const F y_low = (F)tbits - d;
  const F two_mk = (F)(0x3f800000u - kshift);
  const F y_high = (r - (e + two_mk)) + one;
  const F y = high ? y_high : y_low;
  const F scaled = (F)((U)y + kshift);
  const F res_scaled = far ? scaled - one : scaled;

  F res = k == -1 ? res_km1 : res_scaled;
  res = no_reduction ? u : res;
  // |a| < 2^-25: expm1f(a) = a.
  return 0x33000000 > abits ? a : res;
}

template <int N>
inline typename Simd<N>::F glibc_tanhf(typename Simd<N>::F x) {
  using S = Simd<N>;
  using F = typename S::F;
  using I = typename S::I;
  const auto f = S::from_bits;
  const I sign = I{} + static_cast<std::int32_t>(0x80000000u);
  const I xbits = (I)x;
  const I abits = ~sign & xbits;
  const F ax = (F)abits;
  const F one = f(0x3f800000u);
  const F two = f(0x40000000u);

  // |x| >= 1: t = expm1f(|x| + |x|), z = 1 - 2/(t + 2).
  // |x| <  1: t = expm1f(-2 * |x|),  z = -t/(t + 2).
  const I big = abits > 0x3f7fffff;
  const F arg = big ? ax + ax : tanhf_detail_mul<F>(ax, f(0xc0000000u));
  const F t = glibc_tanhf_expm1f<N>(arg);
  const F num = big ? two : (F)((I)t ^ sign);
  const F q = num / (t + two);
  F z = big ? one - q : q;

  // |x| >= 22 (inf included): 1 - tiny rounds to 1.
  z = abits > 0x41afffff ? one : z;
  z = (F)((I)z ^ (xbits & sign));  // restore the sign
  // |x| < 2^-55 (zero and subnormals included): x*(1 + x) == x exactly.
  z = 0x24000000 > abits ? x : z;
  // NaN: glibc returns 1/x +- 1, i.e. the input NaN quieted; x + x yields the same bits.
  return abits > 0x7f800000 ? x + x : z;
}

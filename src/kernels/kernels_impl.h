// The kernels' bodies, included by kernels_avx2.cpp and kernels_generic.cpp, each compiled with
// its own instruction set. NALU_KERNEL_NAMESPACE names the copy. Loops are written so that GCC
// vectorises them (omp simd reductions, no aliasing); log() comes from SLEEF's vector
// functions where the instruction set has them.
#include <cmath>
#include <cstdint>

#include "elementwise.h"
#include "kernels.h"

#if defined(__AVX2__)
#include <immintrin.h>
#include <sleef.h>
#define NALU_KERNEL_WIDTH 8
#elif defined(__SSE2__)
#include <emmintrin.h>
#include <sleef.h>
#define NALU_KERNEL_WIDTH 4
#else
#define NALU_KERNEL_WIDTH 1
#endif

namespace nalu::fused::kernels::NALU_KERNEL_NAMESPACE {

namespace {

// GCC/Clang vector extensions: NALU_KERNEL_WIDTH floats, compiled to the unit's instruction set.
#if NALU_KERNEL_WIDTH > 1
constexpr int kWidth = NALU_KERNEL_WIDTH;
#else
constexpr int kWidth = 4;  // plain scalar code underneath
#endif
typedef float Vec __attribute__((vector_size(kWidth * sizeof(float))));

inline Vec load(const float* p) {
  Vec v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}
inline void store(float* p, Vec v) {
  __builtin_memcpy(p, &v, sizeof(v));
}
// The first n (0 < n < kWidth) floats at p, zeros after them; and their store back. With AVX2
// these are masked loads and stores (one instruction each) and never touch memory past p + n, so
// a row whose length is not a multiple of kWidth ends in one more vector step, not a scalar loop.
#if NALU_KERNEL_WIDTH == 8
inline __m256i tail_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline Vec load_partial(const float* p, int n) {
  return reinterpret_cast<Vec>(_mm256_maskload_ps(p, tail_mask(n)));
}
inline void store_partial(float* p, Vec v, int n) {
  _mm256_maskstore_ps(p, tail_mask(n), reinterpret_cast<__m256>(v));
}
#else
inline Vec load_partial(const float* p, int n) {
  Vec v = {};
  for (int k = 0; k < n; ++k)
    v[k] = p[k];
  return v;
}
inline void store_partial(float* p, Vec v, int n) {
  for (int k = 0; k < n; ++k)
    p[k] = v[k];
}
#endif
// v, held in a register: the products below use each loaded vector in two or more FMAs, and GCC
// otherwise folds the load into every one of them (vfmadd231ps with a memory operand), loading the
// same vector once per use; the loops were then bound by their loads, not their FMAs. The empty
// asm changes which instructions load, never a value.
inline Vec in_register(Vec v) {
#if NALU_KERNEL_WIDTH == 8
  __asm__("" : "+x"(v));
#endif
  return v;
}

inline float horizontal_sum(Vec v) {
  // Fold halves together (a few vector adds) before the last scalar adds.
  typedef float Half __attribute__((vector_size(kWidth * sizeof(float) / 2)));
  Half low, high;
  __builtin_memcpy(&low, &v, sizeof(low));
  __builtin_memcpy(&high, reinterpret_cast<const char*>(&v) + sizeof(low), sizeof(high));
  const Half folded = low + high;
  float sum = 0.0f;
  for (int k = 0; k < kWidth / 2; ++k)
    sum += folded[k];
  return sum;
}

// y[b0..b0+R, j0..j0+J): R rows times J outputs at once, so that each load of x or w feeds
// several FMAs and the R*J accumulators are independent chains (hiding the FMA latency).
template <int R, int J>
inline void dot_block(int I, int O, const float* __restrict x, const float* __restrict w,
                      float* __restrict y) {
  Vec acc[R][J] = {};
  int i = 0;
  for (; i + kWidth <= I; i += kWidth) {
    Vec wv[J];
    for (int j = 0; j < J; ++j)
      wv[j] = load(w + static_cast<int64_t>(j) * I + i);
    for (int r = 0; r < R; ++r) {
      const Vec xv = in_register(load(x + static_cast<int64_t>(r) * I + i));
      for (int j = 0; j < J; ++j)
        acc[r][j] += xv * wv[j];
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int j = 0; j < J; ++j) {
      float sum = horizontal_sum(acc[r][j]);
      for (int t = i; t < I; ++t)
        sum += x[static_cast<int64_t>(r) * I + t] * w[static_cast<int64_t>(j) * I + t];
      y[static_cast<int64_t>(r) * O + j] = sum;
    }
  }
}

// The common case, written out so that the eight accumulators stay in registers: four rows
// against two outputs.
inline void dot_block_4x2(int I, int O, const float* __restrict x, const float* __restrict w,
                          float* __restrict y) {
  const float* x0 = x;
  const float* x1 = x + I;
  const float* x2 = x + 2 * static_cast<int64_t>(I);
  const float* x3 = x + 3 * static_cast<int64_t>(I);
  const float* w0 = w;
  const float* w1 = w + I;
  Vec a00 = {}, a01 = {}, a10 = {}, a11 = {}, a20 = {}, a21 = {}, a30 = {}, a31 = {};
  // One block of columns into the eight accumulators; `get(p)` loads the block's floats of row p
  // (kWidth of them, or the last I mod kWidth with zeros after them).
  const auto step = [&](auto get) {
    const Vec v0 = get(w0), v1 = get(w1);
    const Vec u0 = in_register(get(x0)), u1 = in_register(get(x1)), u2 = in_register(get(x2)),
              u3 = in_register(get(x3));
    a00 += u0 * v0;
    a01 += u0 * v1;
    a10 += u1 * v0;
    a11 += u1 * v1;
    a20 += u2 * v0;
    a21 += u2 * v1;
    a30 += u3 * v0;
    a31 += u3 * v1;
  };
  int i = 0;
  for (; i + kWidth <= I; i += kWidth)
    step([i](const float* p) { return load(p + i); });
  if (const int rest = I - i; rest > 0)
    step([i, rest](const float* p) { return load_partial(p + i, rest); });
#if NALU_KERNEL_WIDTH == 8
  // The eight horizontal sums at once, by a tree of pairwise adds: s = [a00, a01, a10, ..., a31].
  const auto m = [](Vec v) { return reinterpret_cast<__m256>(v); };
  const __m256 t0 = _mm256_hadd_ps(m(a00), m(a01)), t1 = _mm256_hadd_ps(m(a10), m(a11));
  const __m256 t2 = _mm256_hadd_ps(m(a20), m(a21)), t3 = _mm256_hadd_ps(m(a30), m(a31));
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  const __m256 sums =
      _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
  if (O == 2) {  // the four rows' two outputs are adjacent
    _mm256_storeu_ps(y, sums);
    return;
  }
  float s[8];
  _mm256_storeu_ps(s, sums);
#else
  const float s[8] = {horizontal_sum(a00), horizontal_sum(a01), horizontal_sum(a10),
                      horizontal_sum(a11), horizontal_sum(a20), horizontal_sum(a21),
                      horizontal_sum(a30), horizontal_sum(a31)};
#endif
  for (int r = 0; r < 4; ++r) {
    y[static_cast<int64_t>(r) * O] = s[2 * r];
    y[static_cast<int64_t>(r) * O + 1] = s[2 * r + 1];
  }
}

template <int R>
inline void dot_rows(int I, int O, const float* __restrict x, const float* __restrict w,
                     float* __restrict y) {
  int j = 0;
  for (; j + 2 <= O; j += 2) {
    if constexpr (R == 4)
      dot_block_4x2(I, O, x, w + static_cast<int64_t>(j) * I, y + j);
    else
      dot_block<R, 2>(I, O, x, w + static_cast<int64_t>(j) * I, y + j);
  }
  if (j < O)
    dot_block<R, 1>(I, O, x, w + static_cast<int64_t>(j) * I, y + j);
}

[[maybe_unused]] void matmul_nt(int B, int O, int I, const float* __restrict x,
                                const float* __restrict w, float* __restrict y) {
  if (O == 1 && I < kWidth) {
    // One output from fewer inputs than a vector holds (a last layer on two hidden units): what
    // dot_block<R, 1> computes then, its zero accumulators' sum (+0) and the scalar tail, without
    // the vector work around them.
    if (I == 2) {
      const float w0 = w[0], w1 = w[1];
      for (int b = 0; b < B; ++b) {
        float sum = 0.0f;
        sum += x[2 * b] * w0;
        sum += x[2 * b + 1] * w1;
        y[b] = sum;
      }
      return;
    }
    for (int b = 0; b < B; ++b) {
      const float* xb = x + static_cast<int64_t>(b) * I;
      float sum = 0.0f;
      for (int t = 0; t < I; ++t)
        sum += xb[t] * w[t];
      y[b] = sum;
    }
    return;
  }
  int b = 0;
  for (; b + 4 <= B; b += 4)
    dot_rows<4>(I, O, x + static_cast<int64_t>(b) * I, w, y + static_cast<int64_t>(b) * O);
  for (; b < B; ++b)
    dot_rows<1>(I, O, x + static_cast<int64_t>(b) * I, w, y + static_cast<int64_t>(b) * O);
}

// dw[j0..j0+J, i0..i0+C*kWidth) += sum_b dy[b, j] x[b, i]: the block of dw stays in registers
// while the batch streams past.
template <int J, int C>
inline void outer_block(int B, int O, int I, const float* __restrict dy, const float* __restrict x,
                        float* __restrict dw, int j0, int i0) {
  Vec acc[J][C] = {};
  for (int b = 0; b < B; ++b) {
    const float* xb = x + static_cast<int64_t>(b) * I + i0;
    Vec xv[C];
    for (int c = 0; c < C; ++c)
      xv[c] = in_register(load(xb + c * kWidth));
    for (int j = 0; j < J; ++j) {
      const float d = dy[static_cast<int64_t>(b) * O + j0 + j];
      for (int c = 0; c < C; ++c)
        acc[j][c] += d * xv[c];
    }
  }
  for (int j = 0; j < J; ++j) {
    float* row = dw + static_cast<int64_t>(j0 + j) * I + i0;
    for (int c = 0; c < C; ++c)
      store(row + c * kWidth, load(row + c * kWidth) + acc[j][c]);
  }
}

// outer_block<2, 4> written out so that the eight accumulators stay in registers.
inline void outer_block_2x4(int B, int O, int I, const float* __restrict dy,
                            const float* __restrict x, float* __restrict dw, int j0, int i0) {
  Vec a00 = {}, a01 = {}, a02 = {}, a03 = {}, a10 = {}, a11 = {}, a12 = {}, a13 = {};
  for (int b = 0; b < B; ++b) {
    const float* xb = x + static_cast<int64_t>(b) * I + i0;
    const Vec u0 = in_register(load(xb)), u1 = in_register(load(xb + kWidth)),
              u2 = in_register(load(xb + 2 * kWidth)), u3 = in_register(load(xb + 3 * kWidth));
    const float d0 = dy[static_cast<int64_t>(b) * O + j0];
    const float d1 = dy[static_cast<int64_t>(b) * O + j0 + 1];
    a00 += d0 * u0;
    a01 += d0 * u1;
    a02 += d0 * u2;
    a03 += d0 * u3;
    a10 += d1 * u0;
    a11 += d1 * u1;
    a12 += d1 * u2;
    a13 += d1 * u3;
  }
  float* r0 = dw + static_cast<int64_t>(j0) * I + i0;
  float* r1 = r0 + I;
  store(r0, load(r0) + a00);
  store(r0 + kWidth, load(r0 + kWidth) + a01);
  store(r0 + 2 * kWidth, load(r0 + 2 * kWidth) + a02);
  store(r0 + 3 * kWidth, load(r0 + 3 * kWidth) + a03);
  store(r1, load(r1) + a10);
  store(r1 + kWidth, load(r1 + kWidth) + a11);
  store(r1 + 2 * kWidth, load(r1 + 2 * kWidth) + a12);
  store(r1 + 3 * kWidth, load(r1 + 3 * kWidth) + a13);
}

// outer_block<J, 1> for the last rest (< kWidth) columns of dw.
template <int J>
inline void outer_block_partial(int B, int O, int I, const float* __restrict dy,
                                const float* __restrict x, float* __restrict dw, int j0, int i0,
                                int rest) {
  Vec acc[J] = {};
  for (int b = 0; b < B; ++b) {
    const Vec xv = in_register(load_partial(x + static_cast<int64_t>(b) * I + i0, rest));
    for (int j = 0; j < J; ++j)
      acc[j] += dy[static_cast<int64_t>(b) * O + j0 + j] * xv;
  }
  for (int j = 0; j < J; ++j) {
    float* row = dw + static_cast<int64_t>(j0 + j) * I + i0;
    store_partial(row, load_partial(row, rest) + acc[j], rest);
  }
}

[[maybe_unused]] void matmul_tn_acc(int B, int O, int I, const float* __restrict dy,
                                    const float* __restrict x, float* __restrict dw) {
  constexpr int kChunk = 4 * kWidth;  // 4 vectors x 2 outputs = 8 accumulators
  int j = 0;
  for (; j + 2 <= O; j += 2) {
    int i = 0;
    for (; i + kChunk <= I; i += kChunk)
      outer_block_2x4(B, O, I, dy, x, dw, j, i);
    for (; i + kWidth <= I; i += kWidth)
      outer_block<2, 1>(B, O, I, dy, x, dw, j, i);
    if (const int rest = I - i; rest > 0)
      outer_block_partial<2>(B, O, I, dy, x, dw, j, i, rest);
  }
  for (; j < O; ++j) {
    int i = 0;
    for (; i + kChunk <= I; i += kChunk)
      outer_block<1, 4>(B, O, I, dy, x, dw, j, i);
    for (; i + kWidth <= I; i += kWidth)
      outer_block<1, 1>(B, O, I, dy, x, dw, j, i);
    if (const int rest = I - i; rest > 0)
      outer_block_partial<1>(B, O, I, dy, x, dw, j, i, rest);
  }
}

#if defined(__AVX512F__)
// The 8-lane kernels for the shapes the 16-lane kernels below leave to them: the AVX2
// copy's, set by kernels.cpp before it hands these out. This copy's own 8-lane code is not relied
// on: compiled for AVX-512F, its forward product rounded some short rows differently in a trial.
const Table* eight_lanes = nullptr;

// The weight gradient at 16 lanes, for the AVX-512F copy (src/kernels/kernels.cpp takes it on
// CPUs that have AVX-512F). Every element of dw is still one lane adding its rows' products in row
// order, one fused multiply-add per row, then added to dw once, so the values are the 8-lane
// copy's bit for bit. A pass keeps J outputs times N vectors of columns in registers (up to 7
// vectors: 14 accumulators) while the batch streams past, so that each loaded vector feeds J FMAs
// and the chains are many enough to hide the FMA latency. A row's last I mod 16 columns come from
// an unmasked load of its last 16 columns, whose other lanes are computed and dropped: with a
// masked 512-bit load (vmovups with a zeroing mask) in its loop, the same pass ran far slower in
// a trial on an AMD Zen 5 core (docs/performance.md).
template <int J, int N>
inline void outer_pass_16(int B, int O, int I, const float* __restrict dy,
                          const float* __restrict x, float* __restrict dw, int j0, int i0,
                          bool tail) {
  __m512 acc[J][N];
  for (int j = 0; j < J; ++j)
    for (int c = 0; c < N; ++c)
      acc[j][c] = _mm512_setzero_ps();
  // Column of vector c: the tail vector (the last one, when `tail`) ends at column I.
  const auto column = [&](int c) { return tail && c == N - 1 ? I - 16 : i0 + 16 * c; };
  for (int b = 0; b < B; ++b) {
    const float* xb = x + static_cast<int64_t>(b) * I;
    __m512 d[J];
    for (int j = 0; j < J; ++j)
      d[j] = _mm512_set1_ps(dy[static_cast<int64_t>(b) * O + j0 + j]);
    for (int c = 0; c < N; ++c) {
      __m512 u = _mm512_loadu_ps(xb + column(c));
      __asm__("" : "+v"(u));  // one load for the J FMAs (see in_register)
      for (int j = 0; j < J; ++j)
        acc[j][c] = _mm512_fmadd_ps(d[j], u, acc[j][c]);
    }
  }
  for (int j = 0; j < J; ++j) {
    float* row = dw + static_cast<int64_t>(j0 + j) * I;
    for (int c = 0; c < N; ++c) {
      float* p = row + column(c);
      if (tail && c == N - 1) {
        // Only the lanes of the last I mod 16 columns: the others belong to the vector before.
        const auto keep = static_cast<__mmask16>(0xFFFFu << (16 - (I % 16)));
        _mm512_mask_storeu_ps(p, keep, _mm512_add_ps(_mm512_maskz_loadu_ps(keep, p), acc[j][c]));
      } else {
        _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[j][c]));
      }
    }
  }
}

template <int J>
inline void outer_passes_16(int B, int O, int I, const float* __restrict dy,
                            const float* __restrict x, float* __restrict dw, int j0) {
  // The pass for n vectors of columns, n = 1 .. 7.
  using Pass = void (*)(int, int, int, const float*, const float*, float*, int, int, bool);
  static constexpr Pass kPasses[] = {outer_pass_16<J, 1>, outer_pass_16<J, 2>, outer_pass_16<J, 3>,
                                     outer_pass_16<J, 4>, outer_pass_16<J, 5>, outer_pass_16<J, 6>,
                                     outer_pass_16<J, 7>};
  const int vectors = (I + 15) / 16;
  const bool ragged = I % 16 != 0;
  for (int v0 = 0; v0 < vectors; v0 += 7) {
    const int n = vectors - v0 < 7 ? vectors - v0 : 7;
    const bool tail = ragged && v0 + n == vectors;
    const int i0 = 16 * v0;
    kPasses[n - 1](B, O, I, dy, x, dw, j0, i0, tail);
  }
}

void matmul_tn_acc_16(int B, int O, int I, const float* __restrict dy, const float* __restrict x,
                      float* __restrict dw) {
  if (I < 16) {  // rows shorter than one 16-lane vector: the 8-lane code
    eight_lanes->matmul_tn_acc(B, O, I, dy, x, dw);
    return;
  }
  int j = 0;
  for (; j + 2 <= O; j += 2)
    outer_passes_16<2>(B, O, I, dy, x, dw, j);
  if (j < O)
    outer_passes_16<1>(B, O, I, dy, x, dw, j);
}
#define NALU_KERNEL_TN_ACC matmul_tn_acc_16

// The forward product at 16 lanes, for the AVX-512F copy: one 512-bit accumulator per row holds
// that row's two 8-lane accumulators of dot_block_4x2, output j in the low half and output j + 1
// in the high half. Each lane therefore adds the same products in the same order, one fused
// multiply-add per block of 8 columns (the last I mod 8 columns with zeros after them), with half
// as many FMAs. Eight rows at a time, for eight independent chains as in dot_block_4x2.
//
// The horizontal sums then follow dot_block_4x2's tree, ((l0 + l1) + (l2 + l3)) + ((l4 + l5) +
// (l6 + l7)) for each accumulator of 8 lanes l0..l7, so the values are the 8-lane copy's bit for
// bit; they are formed in 512-bit vectors, where _mm256_hadd_ps has no counterpart:
// pairwise_sums does per 128-bit lane what it does.
inline __m512 pairwise_sums(__m512 a, __m512 b) {  // per 128-bit lane: a0+a1, a2+a3, b0+b1, b2+b3
  return _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
}
// [v | v] (vbroadcastf64x4, from memory; the zero-masked form with every lane kept, as GCC 12
// warns that the plain one reads an undefined vector).
inline __m512 both_halves(__m256 v) {
  return _mm512_castpd_ps(_mm512_maskz_broadcast_f64x4(0xFF, _mm256_castps_pd(v)));
}
// (GCC vector shuffles below: the intrinsics' unmasked forms make GCC 12 warn, as above.)
typedef float Lanes8 __attribute__((vector_size(32)));
typedef float Lanes16 __attribute__((vector_size(64)));
// [low | high]
inline __m512 halves(__m256 low, __m256 high) {
  return reinterpret_cast<__m512>(
      __builtin_shufflevector(reinterpret_cast<Lanes8>(low), reinterpret_cast<Lanes8>(high), 0, 1,
                              2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
}

// y[r, j] and y[r, j + 1] for the eight rows r at x, the two outputs at w.
inline void dot_block_16(int I, int O, const float* __restrict x, const float* __restrict w,
                         float* __restrict y) {
  const float* w0 = w;
  const float* w1 = w + I;
  // Eight named accumulators (an array of them lived on the stack).
  __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  // One block of 8 columns; `get(p)` loads the block's floats of row p.
  const auto step = [&](auto get) {
    const __m512 v = halves(get(w0), get(w1));
    const auto row = [&](int r) { return both_halves(get(x + static_cast<int64_t>(r) * I)); };
    a0 = _mm512_fmadd_ps(row(0), v, a0);
    a1 = _mm512_fmadd_ps(row(1), v, a1);
    a2 = _mm512_fmadd_ps(row(2), v, a2);
    a3 = _mm512_fmadd_ps(row(3), v, a3);
    a4 = _mm512_fmadd_ps(row(4), v, a4);
    a5 = _mm512_fmadd_ps(row(5), v, a5);
    a6 = _mm512_fmadd_ps(row(6), v, a6);
    a7 = _mm512_fmadd_ps(row(7), v, a7);
  };
  int i = 0;
  for (; i + 8 <= I; i += 8)
    step([i](const float* p) { return _mm256_loadu_ps(p + i); });
  if (const int rest = I - i; rest > 0) {  // the last I mod 8 columns, zeros after them
    const __m256i mask = tail_mask(rest);
    step([i, mask](const float* p) { return _mm256_maskload_ps(p + i, mask); });
  }
  // Per 128-bit lane of u, rows 0-3: lane 0 holds (l0 + l1) + (l2 + l3) of output j, lane 1
  // (l4 + l5) + (l6 + l7) of output j, lanes 2 and 3 the same for output j + 1; v, rows 4-7.
  const __m512 u = pairwise_sums(pairwise_sums(a0, a1), pairwise_sums(a2, a3));
  const __m512 v = pairwise_sums(pairwise_sums(a4, a5), pairwise_sums(a6, a7));
  // [rows 0-3 of j, rows 0-3 of j + 1, rows 4-7 of j, rows 4-7 of j + 1]
  const auto f = [](__m512 a) { return reinterpret_cast<Lanes16>(a); };
  const __m512 sums =
      _mm512_add_ps(reinterpret_cast<__m512>(__builtin_shufflevector(
                        f(u), f(v), 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27)),
                    reinterpret_cast<__m512>(__builtin_shufflevector(
                        f(u), f(v), 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31)));
  // [y(0, j), y(0, j + 1), y(1, j), ...]
  const __m512 rows = reinterpret_cast<__m512>(__builtin_shufflevector(
      f(sums), f(sums), 0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15));
  if (O == 2) {  // the eight rows' two outputs are adjacent
    _mm512_storeu_ps(y, rows);
    return;
  }
  alignas(64) float s[16];
  _mm512_store_ps(s, rows);
  for (int r = 0; r < 8; ++r) {
    y[static_cast<int64_t>(r) * O] = s[2 * r];
    y[static_cast<int64_t>(r) * O + 1] = s[2 * r + 1];
  }
}

void matmul_nt_16(int B, int O, int I, const float* __restrict x, const float* __restrict w,
                  float* __restrict y) {
  // An odd number of outputs: the 8-lane code, whose last output sums its lanes in another order.
  if (O % 2 != 0) {
    eight_lanes->matmul_nt(B, O, I, x, w, y);
    return;
  }
  int b = 0;
  for (; b + 8 <= B; b += 8) {
    for (int j = 0; j < O; j += 2) {
      dot_block_16(I, O, x + static_cast<int64_t>(b) * I, w + static_cast<int64_t>(j) * I,
                   y + static_cast<int64_t>(b) * O + j);
    }
  }
  // The last B mod 8 rows: the 8-lane code takes four (dot_block_4x2), then one at a time, as
  // it would have taken them in a call for the whole batch.
  if (b < B)
    eight_lanes->matmul_nt(B - b, O, I, x + static_cast<int64_t>(b) * I, w,
                           y + static_cast<int64_t>(b) * O);
}
#define NALU_KERNEL_NT matmul_nt_16

#else
#define NALU_KERNEL_NT matmul_nt
#define NALU_KERNEL_TN_ACC matmul_tn_acc
#endif

void matmul_nn_acc(int B, int O, int I, const float* __restrict dy, const float* __restrict w,
                   float* __restrict dx) {
  if (I == 2 && O == 1) {
    // The gradient into two hidden units from one output: each element the same dx + d * w.
    const float w0 = w[0], w1 = w[1];
    for (int b = 0; b < B; ++b) {
      dx[2 * b] += dy[b] * w0;
      dx[2 * b + 1] += dy[b] * w1;
    }
    return;
  }
  if (I < kWidth) {
    // Rows shorter than a vector: the loop below without its vector set-up; each element is the
    // same dx + d * w.
    for (int b = 0; b < B; ++b) {
      float* dxb = dx + static_cast<int64_t>(b) * I;
      for (int j = 0; j < O; ++j) {
        const float d = dy[static_cast<int64_t>(b) * O + j];
        const float* wj = w + static_cast<int64_t>(j) * I;
        for (int i = 0; i < I; ++i)
          dxb[i] += d * wj[i];
      }
    }
    return;
  }
  for (int b = 0; b < B; ++b) {
    float* dxb = dx + static_cast<int64_t>(b) * I;
    for (int j = 0; j < O; ++j) {
      const float d = dy[static_cast<int64_t>(b) * O + j];
      const float* wj = w + static_cast<int64_t>(j) * I;
#pragma omp simd
      for (int i = 0; i < I; ++i)
        dxb[i] += d * wj[i];
    }
  }
}

void log_abs_eps(int n, const float* __restrict x, float eps, float* __restrict out) {
  int k = 0;
#if defined(__AVX512F__)
  // SLEEF's AVX-512F logf gives its AVX2 logf's results bit for bit (checked on every non-negative
  // float; only NaN payloads differ), and the 8-wide loop below then takes the same elements as
  // in the AVX2 copy, so the elements left to std::log are the same ones too.
  const __m512 e16 = _mm512_set1_ps(eps);
  for (; k + 16 <= n; k += 16) {
    const __m512 a = _mm512_add_ps(_mm512_abs_ps(_mm512_loadu_ps(x + k)), e16);
    _mm512_storeu_ps(out + k, Sleef_logf16_u10avx512f(a));
  }
#endif
#if NALU_KERNEL_WIDTH == 8
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 e = _mm256_set1_ps(eps);
  for (; k + 8 <= n; k += 8) {
    const __m256 a = _mm256_add_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)), e);
    _mm256_storeu_ps(out + k, Sleef_logf8_u10avx2(a));
  }
#elif NALU_KERNEL_WIDTH == 4
  const __m128 sign = _mm_set1_ps(-0.0f);
  const __m128 e = _mm_set1_ps(eps);
  for (; k + 4 <= n; k += 4) {
    const __m128 a = _mm_add_ps(_mm_andnot_ps(sign, _mm_loadu_ps(x + k)), e);
    _mm_storeu_ps(out + k, Sleef_logf4_u10sse2(a));
  }
#endif
  for (; k < n; ++k)
    out[k] = std::log(std::fabs(x[k]) + eps);
}

void uniform(uint32_t k1, uint32_t k2, uint32_t first, int n, const UniformMap& map,
             float* __restrict out) {
  // The signed 32-bit hash h converts to float (rounding to 24 bits) and maps affinely:
  // u = h / 2^32 + 1/2 lies in [0, 1], and the clamp keeps the top at high_last.
  // The affine map is one fused multiply-add, rounded once, in every copy: the AVX2 and AVX-512F
  // copies compile std::fma to an FMA instruction, and the portable copy calls fmaf, so a CPU
  // without FMA draws the same batches (a multiply and an add, rounded twice, changed about one
  // value in five on a range of length 5).
  // mix32(c, k1, k2) begins with c + k1: adding k1 to the first counter once saves an add per
  // value (unsigned arithmetic wraps the same way either way).
  const uint32_t base = first + k1;
  const float scale = map.length * (1.0f / 4294967296.0f);
  const float length = map.length;
  if (map.count == 1) {
    const float offset = map.low[0] + 0.5f * length;
    const float high = map.high_last;
    // The counter as the loop's own induction variable: one vector add per 16 values, where
    // base + c took two.
    uint32_t counter = base;
#pragma omp simd linear(counter)
    for (int c = 0; c < n; ++c) {
      const auto h = static_cast<int32_t>(mix32(counter++, 0, k2));
      float value = std::fma(static_cast<float>(h), scale, offset);
      value = value < high ? value : high;
      out[c] = map.integers ? std::floor(value) : value;
    }
    return;
  }
  const float half = 0.5f * length;
  uint32_t counter = base;
#pragma omp simd linear(counter)
  for (int c = 0; c < n; ++c) {
    const auto h = static_cast<int32_t>(mix32(counter++, 0, k2));
    const float position = std::fma(static_cast<float>(h), scale, half);
    float value = map.low[0] + position;
    for (int k = 1; k < map.count; ++k)
      value = position >= map.offset[k] ? map.low[k] + (position - map.offset[k]) : value;
    value = value < map.high_last ? value : map.high_last;
    out[c] = map.integers ? std::floor(value) : value;
  }
}

#if NALU_KERNEL_WIDTH == 8
// out[r] = horizontal_sum(a_r) for four vectors at once, in horizontal_sum's own order for each
// (fold the halves, then ((0 + f0) + f1) + f2) + f3), so the sums are the same bit for bit.
inline void horizontal_sums_4(Vec a0, Vec a1, Vec a2, Vec a3, float* __restrict out) {
  const auto m = [](Vec v) { return reinterpret_cast<__m256>(v); };
  // [f(a0) | f(a2)] and [f(a1) | f(a3)], f = low half + high half.
  const __m256 f02 = _mm256_add_ps(_mm256_permute2f128_ps(m(a0), m(a2), 0x20),
                                   _mm256_permute2f128_ps(m(a0), m(a2), 0x31));
  const __m256 f13 = _mm256_add_ps(_mm256_permute2f128_ps(m(a1), m(a3), 0x20),
                                   _mm256_permute2f128_ps(m(a1), m(a3), 0x31));
  // In each 128-bit half, for its rows r and r': lo = [r.f0, r'.f0, r.f1, r'.f1] and
  // hi = [r.f2, r'.f2, r.f3, r'.f3]; the sums build up in lanes 0 and 1.
  const __m256 lo = _mm256_unpacklo_ps(f02, f13);
  const __m256 hi = _mm256_unpackhi_ps(f02, f13);
  __m256 s = _mm256_add_ps(_mm256_setzero_ps(), lo);
  s = _mm256_add_ps(s, _mm256_permute_ps(lo, 0xEE));
  s = _mm256_add_ps(s, hi);
  s = _mm256_add_ps(s, _mm256_permute_ps(hi, 0xEE));
  _mm_storel_pi(reinterpret_cast<__m64*>(out), _mm256_castps256_ps128(s));
  _mm_storel_pi(reinterpret_cast<__m64*>(out + 2), _mm256_extractf128_ps(s, 1));
}
#else
inline void horizontal_sums_4(Vec a0, Vec a1, Vec a2, Vec a3, float* __restrict out) {
  out[0] = horizontal_sum(a0);
  out[1] = horizontal_sum(a1);
  out[2] = horizontal_sum(a2);
  out[3] = horizontal_sum(a3);
}
#endif

void row_sums(int B, int I, const float* __restrict x, int begin, int end, float* __restrict out) {
  // Four rows at a time: four independent chains of vector adds.
  int b = 0;
  for (; b + 4 <= B; b += 4) {
    const float* x0 = x + static_cast<int64_t>(b) * I;
    const float* x1 = x0 + I;
    const float* x2 = x1 + I;
    const float* x3 = x2 + I;
    Vec a0 = {}, a1 = {}, a2 = {}, a3 = {};
    int i = begin;
    for (; i + kWidth <= end; i += kWidth) {
      a0 += load(x0 + i);
      a1 += load(x1 + i);
      a2 += load(x2 + i);
      a3 += load(x3 + i);
    }
    if (const int rest = end - i; rest > 0) {
      a0 += load_partial(x0 + i, rest);
      a1 += load_partial(x1 + i, rest);
      a2 += load_partial(x2 + i, rest);
      a3 += load_partial(x3 + i, rest);
    }
    horizontal_sums_4(a0, a1, a2, a3, out + b);
  }
  for (; b < B; ++b) {
    const float* xb = x + static_cast<int64_t>(b) * I;
    Vec acc = {};
    int i = begin;
    for (; i + kWidth <= end; i += kWidth)
      acc += load(xb + i);
    float sum = horizontal_sum(acc);
    for (; i < end; ++i)
      sum += xb[i];
    out[b] = sum;
  }
}

void adam(int n, float* __restrict p, const float* __restrict g, float* __restrict m,
          float* __restrict v, float beta1, float beta2, float step_size, float correction2_sqrt,
          float eps) {
  const float one_minus_beta1 = 1.0f - beta1;
  const float one_minus_beta2 = 1.0f - beta2;
#pragma omp simd
  for (int k = 0; k < n; ++k) {
    m[k] = m[k] * beta1 + g[k] * one_minus_beta1;
    v[k] = v[k] * beta2 + g[k] * g[k] * one_minus_beta2;
    const float denom = std::sqrt(v[k]) / correction2_sqrt + eps;
    p[k] -= step_size * (m[k] / denom);
  }
}

#if !defined(NALU_KERNEL_ELEMENTWISE_AVX2)
// The elementwise functions one value at a time. The AVX2 copy takes eight-lane versions with the
// same values from kernels_elementwise_avx2.cpp.
void exp_values(int n, const float* x, float* out) {
  for (int k = 0; k < n; ++k)
    out[k] = std::exp(x[k]);
}

void sigmoid_values(int n, const float* x, float* out) {
  for (int k = 0; k < n; ++k)
    out[k] = scalar::sigmoid(x[k]);
}

void nac_weight(int n, const float* w_hat, const float* m_hat, float* w, float* d_w_hat,
                float* d_m_hat) {
  for (int k = 0; k < n; ++k)
    scalar::nac_weight(w_hat[k], m_hat[k], w[k], d_w_hat[k], d_m_hat[k]);
}
#endif

}  // namespace

#if defined(__AVX512F__)
void use_eight_lanes(const Table& kernels) {
  eight_lanes = &kernels;
}
#endif

#if defined(NALU_KERNEL_ELEMENTWISE_AVX2)
namespace elementwise_avx2 = ::nalu::fused::kernels::elementwise_avx2;
const Table& table() {
  static const Table kTable{NALU_KERNEL_NAME,
                            matmul_nt,
                            matmul_tn_acc,
                            matmul_nn_acc,
                            log_abs_eps,
                            uniform,
                            row_sums,
                            elementwise_avx2::exp,
                            elementwise_avx2::sigmoid,
                            elementwise_avx2::nac_weight,
                            adam};
  return kTable;
}
#else
const Table& table() {
  static const Table kTable{
      NALU_KERNEL_NAME, NALU_KERNEL_NT, NALU_KERNEL_TN_ACC, matmul_nn_acc, log_abs_eps, uniform,
      row_sums,         exp_values,     sigmoid_values,     nac_weight,    adam};
  return kTable;
}
#endif

}  // namespace nalu::fused::kernels::NALU_KERNEL_NAMESPACE

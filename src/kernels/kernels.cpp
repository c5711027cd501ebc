// Picks the kernels for the running CPU.
#include "kernels.h"

#include <cstring>
#include <vector>

#include "elementwise.h"

namespace nalu::fused::kernels {

namespace baseline {
const Table& table();
}
#if defined(NALU_HAVE_AVX2_KERNELS)
namespace avx2 {
const Table& table();
}
namespace avx512 {
const Table& table();
/// The 8-lane kernels this copy's 16-lane weight gradient hands rows shorter than 16 to.
void use_eight_lanes(const Table& kernels);
}  // namespace avx512
#endif

const Table& generic() {
  return baseline::table();
}

namespace {

// The AVX2 copy's exp(), sigmoid() and nac_weight() replicate glibc 2.36's expf and tanhf, which
// the portable copy calls; another C library, or another version of it, may round some values
// differently. So they are used only when they agree with the C library on a probe of 4,096
// values over the range the engine meets (and beyond); otherwise the portable ones are.
bool elementwise_agrees_with_libm(const Table& copy) {
  const Table& portable = baseline::table();
  constexpr int n = 4096;
  std::vector<float> x(n), m_hat(n);
  for (int k = 0; k < n; ++k) {
    x[k] = static_cast<float>(k - n / 2) * 0.0517f;  // [-105.9, 105.8]
    m_hat[k] = x[n - 1 - k] * 0.25f;
  }
  const auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
    return std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  };
  std::vector<float> a(n), b(n), da(n), db(n), ma(n), mb(n);
  copy.exp(n, x.data(), a.data());
  portable.exp(n, x.data(), b.data());
  if (!same(a, b))
    return false;
  copy.sigmoid(n, x.data(), a.data());
  portable.sigmoid(n, x.data(), b.data());
  if (!same(a, b))
    return false;
  copy.nac_weight(n, x.data(), m_hat.data(), a.data(), da.data(), ma.data());
  portable.nac_weight(n, x.data(), m_hat.data(), b.data(), db.data(), mb.data());
  return same(a, b) && same(da, db) && same(ma, mb);
}

}  // namespace

const Table* avx2_only() {
#if defined(NALU_HAVE_AVX2_KERNELS)
  static const Table* const chosen = []() -> const Table* {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
      return nullptr;
    static Table copy = avx2::table();
    if (!elementwise_agrees_with_libm(copy)) {
      const Table& portable = baseline::table();
      copy.name = "avx2+fma, portable exp and tanh";
      copy.exp = portable.exp;
      copy.sigmoid = portable.sigmoid;
      copy.nac_weight = portable.nac_weight;
    }
    return &copy;
  }();
  return chosen;
#else
  return nullptr;
#endif
}

const Table& table() {
  static const Table chosen = [] {
    const Table* avx2 = avx2_only();
    if (avx2 == nullptr)
      return baseline::table();
    Table best = *avx2;
#if defined(NALU_HAVE_AVX2_KERNELS)
    if (__builtin_cpu_supports("avx512f")) {
      avx512::use_eight_lanes(*avx2);
      const Table& wide = avx512::table();
      best.uniform = wide.uniform;
      best.log_abs_eps = wide.log_abs_eps;
      best.matmul_nt = wide.matmul_nt;
      best.matmul_tn_acc = wide.matmul_tn_acc;
      best.adam = wide.adam;
      // The sixteen-lane exp, sigmoid and NAC weight run the eight-lane ones' algorithm, so they
      // are taken when those are (the C library is the one they replicate) and agree with it too.
      const bool replicas = avx2->exp != baseline::table().exp;
      if (replicas) {
        Table sixteen = best;
        sixteen.exp = elementwise_avx512::exp;
        sixteen.sigmoid = elementwise_avx512::sigmoid;
        sixteen.nac_weight = elementwise_avx512::nac_weight;
        if (elementwise_agrees_with_libm(sixteen))
          best = sixteen;
      }
      best.name = best.exp == elementwise_avx512::exp
                      ? "avx2+fma, avx512f uniform, log, products, adam and elementwise"
                  : replicas ? "avx2+fma, avx512f uniform, log, products and adam"
                             : "avx2+fma, avx512f uniform, log, products and adam, "
                               "portable exp and tanh";
    }
#endif
    return best;
  }();
  return chosen;
}

}  // namespace nalu::fused::kernels

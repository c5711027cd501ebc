// Picks the kernels for the running CPU.
#include "kernels.h"

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
}
#endif

const Table& generic() {
  return baseline::table();
}

const Table* avx2_only() {
#if defined(NALU_HAVE_AVX2_KERNELS)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return &avx2::table();
#endif
  return nullptr;
}

const Table& table() {
  static const Table chosen = [] {
    const Table* avx2 = avx2_only();
    if (avx2 == nullptr)
      return baseline::table();
    Table best = *avx2;
#if defined(NALU_HAVE_AVX2_KERNELS)
    if (__builtin_cpu_supports("avx512f")) {
      const Table& wide = avx512::table();
      best.name = "avx2+fma, avx512f uniform and log";
      best.uniform = wide.uniform;
      best.log_abs_eps = wide.log_abs_eps;
    }
#endif
    return best;
  }();
  return chosen;
}

}  // namespace nalu::fused::kernels

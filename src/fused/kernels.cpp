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
#endif

const Table& generic() {
  return baseline::table();
}

const Table& table() {
#if defined(NALU_HAVE_AVX2_KERNELS)
  static const Table& chosen = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                                   ? avx2::table()
                                   : baseline::table();
  return chosen;
#else
  return baseline::table();
#endif
}

}  // namespace nalu::fused::kernels

// Seeds and generators (nalu/random.h) and the lock around LibTorch's global generator
// (random/seeded.h).
#include "nalu/random.h"

#include <ATen/CPUGeneratorImpl.h>

#include "random/seeded.h"

namespace nalu {

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

at::Generator make_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

namespace detail {

std::mutex& global_generator_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace detail
}  // namespace nalu

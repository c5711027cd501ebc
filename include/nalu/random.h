// Seeds and generators: the one place a run's seed becomes its random streams. Every stream a
// run draws from (the task's sets, its batches, the model's start, iNALU's re-initialisations)
// is derive_seed(seed, stream) for a fixed stream number, so that the streams are independent
// of each other and of the order in which they are used.
#pragma once

#include <ATen/core/Generator.h>

#include <cstdint>

namespace nalu {

/// A CPU generator seeded with `seed`.
at::Generator make_generator(uint64_t seed);
/// A well-mixed seed for stream `stream` of a run seeded `seed` (SplitMix64's output function).
uint64_t derive_seed(uint64_t seed, uint64_t stream);

}  // namespace nalu

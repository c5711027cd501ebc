// Building models whose LibTorch initialisers draw from the global generator, on several threads
// at once, with the weights they would get alone. Internal to the library.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <mutex>

namespace nalu::detail {

/// The lock around LibTorch's global generator, which its initialisers draw from.
std::mutex& global_generator_mutex();

/// Seeds the global generator with `seed` and calls `build` under one lock, so that models
/// built on parallel threads get the same weights as built alone.
template <typename Build>
auto build_seeded(uint64_t seed, Build&& build) {
  std::lock_guard<std::mutex> lock(global_generator_mutex());
  torch::manual_seed(seed);
  return build();
}

}  // namespace nalu::detail

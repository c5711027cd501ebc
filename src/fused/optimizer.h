// Adam, RMSprop and SGD over a flat float vector, step for step as LibTorch 1.13 computes them
// (default betas, alpha and eps; no weight decay).
#pragma once

#include <cstdint>
#include <vector>

#include "nalu/train/config.h"

namespace nalu::fused {

class Optimizer {
 public:
  Optimizer(const OptimizerConfig& config, size_t size);
  void step(std::vector<float>& params, const std::vector<float>& grads);
  /// Forgets all state, as a freshly built LibTorch optimiser.
  void reset();

 private:
  OptimizerConfig config_;
  int64_t steps_ = 0;
  std::vector<float> first_, second_;  // Adam's moments; RMSprop's square average and buffer
};

}  // namespace nalu::fused

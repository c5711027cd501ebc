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

  // The state a checkpoint keeps: the step count and two buffers (Adam's moments; RMSprop's
  // square average and momentum buffer; SGD's momentum buffer in `first`).
  int64_t steps() const { return steps_; }
  const std::vector<float>& first() const { return first_; }
  const std::vector<float>& second() const { return second_; }
  /// Throws nalu::Error when the buffers' sizes differ from this optimiser's.
  void restore(int64_t steps, std::vector<float> first, std::vector<float> second);
  double learning_rate() const { return config_.learning_rate; }
  void set_learning_rate(double learning_rate) { config_.learning_rate = learning_rate; }

 private:
  OptimizerConfig config_;
  int64_t steps_ = 0;
  std::vector<float> first_, second_;  // Adam's moments; RMSprop's square average and buffer
};

}  // namespace nalu::fused

// The fused optimisers.
#include "optimizer.h"

#include <algorithm>
#include <cmath>

#include "kernels/kernels.h"
#include "nalu/error.h"

namespace nalu::fused {

namespace {
constexpr double kAdamBeta1 = 0.9, kAdamBeta2 = 0.999, kAdamEps = 1e-8;
constexpr float kRmsAlpha = 0.99f, kRmsEps = 1e-8f;
}  // namespace

Optimizer::Optimizer(const OptimizerConfig& config, size_t size)
    : config_(config), first_(size, 0.0f), second_(size, 0.0f) {
  check(config.name == "adam" || config.name == "rmsprop" || config.name == "sgd",
        "unknown optimizer '" + config.name + "'");
}

void Optimizer::reset() {
  steps_ = 0;
  std::fill(first_.begin(), first_.end(), 0.0f);
  std::fill(second_.begin(), second_.end(), 0.0f);
}

void Optimizer::restore(int64_t steps, std::vector<float> first, std::vector<float> second) {
  check(steps >= 0 && first.size() == first_.size() && second.size() == second_.size(),
        "optimizer state of " + std::to_string(first.size()) + " values for " +
            std::to_string(first_.size()) + " parameters");
  steps_ = steps;
  first_ = std::move(first);
  second_ = std::move(second);
}

void Optimizer::step(std::vector<float>& params, const std::vector<float>& grads) {
  ++steps_;
  const int n = static_cast<int>(params.size());
  float* p = params.data();
  const float* g = grads.data();
  const auto lr = static_cast<float>(config_.learning_rate);
  const auto momentum = static_cast<float>(config_.momentum);
  if (config_.name == "adam") {
    const double t = static_cast<double>(steps_);
    const double correction1 = 1.0 - std::pow(kAdamBeta1, t);
    const double correction2 = 1.0 - std::pow(kAdamBeta2, t);
    kernels::table().adam(n, p, g, first_.data(), second_.data(), static_cast<float>(kAdamBeta1),
                          static_cast<float>(kAdamBeta2),
                          static_cast<float>(config_.learning_rate / correction1),
                          static_cast<float>(std::sqrt(correction2)), static_cast<float>(kAdamEps));
  } else if (config_.name == "rmsprop") {
    float* square = second_.data();
    float* buffer = first_.data();
    for (int k = 0; k < n; ++k) {
      square[k] = square[k] * kRmsAlpha + g[k] * g[k] * (1.0f - kRmsAlpha);
      const float average = std::sqrt(square[k]) + kRmsEps;
      if (momentum > 0.0f) {
        buffer[k] = buffer[k] * momentum + g[k] / average;
        p[k] -= lr * buffer[k];
      } else {
        p[k] -= lr * (g[k] / average);
      }
    }
  } else {
    float* buffer = first_.data();
    for (int k = 0; k < n; ++k) {
      if (momentum > 0.0f) {
        // LibTorch starts the buffer at the first gradient, then buffer = momentum * buffer + g.
        buffer[k] = steps_ == 1 ? g[k] : buffer[k] * momentum + g[k];
        p[k] -= lr * buffer[k];
      } else {
        p[k] -= lr * g[k];
      }
    }
  }
}

}  // namespace nalu::fused

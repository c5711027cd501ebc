// Internal helpers shared by the static trainer (trainer.cpp) and the recurrent one
// (recurrent.cpp): the optimiser, the divergence diagnosis, seeded model construction and the
// validation of settings both configs carry. Not installed; not part of the public API.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "nalu/train/config.h"
#include "nalu/train/trainer.h"

namespace nalu::detail {

/// Adam, RMSprop or SGD over `parameters` as `config` says; throws nalu::Error for other names.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerConfig& config,
                                                        std::vector<torch::Tensor> parameters);

/// Throws NumericalError naming `step` and the first non-finite parameter of `model`, or "loss"
/// when every parameter is finite.
[[noreturn]] void throw_diverged(const torch::nn::Module& model, int64_t step,
                                 const torch::Tensor& loss);

/// Throws (as throw_diverged) when a parameter of `model` is not finite after `step`.
void check_parameters_finite(const torch::nn::Module& model, int64_t step);

/// Closes a finished run's result: the last evaluation becomes `final`, and the step count and
/// timing are filled in.
void finish_result(TrainResult& result, int64_t iterations, double wall_seconds);

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

/// Throws nalu::Error ("optimizer: ...") for an unknown name, a learning rate <= 0 or a momentum
/// outside [0, 1).
void check_optimizer(const OptimizerConfig& optimizer);
/// Throws nalu::Error ("model: ...") for an unknown MLP activation or a bad epsilon.
void check_unit_settings(const UnitSettings& settings);

}  // namespace nalu::detail

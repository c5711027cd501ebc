// LibTorch's optimisers for the torch engine's loops (static and recurrent): building one from a
// config, its state in a checkpoint, its learning rate, and the diagnosis of a run whose loss or
// parameters stopped being finite. Internal to the library.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "nalu/io/archive.h"
#include "nalu/train/config.h"

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

/// A LibTorch optimiser's state (Adam, RMSprop, SGD) into / out of `state`, per parameter.
void store_optimizer(io::Archive& state, torch::optim::Optimizer& optimizer);
void restore_optimizer(const io::Archive& state, torch::optim::Optimizer& optimizer);
/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate);

}  // namespace nalu::detail

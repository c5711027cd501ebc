// Many small independent models trained as one: M copies of the same architecture with their
// own weights, packed into parameters with a leading model dimension [M, ...] and evaluated
// with batched matrix products. With a loss that is a sum of per-model losses and an
// element-wise optimiser (Adam, SGD), every model follows exactly the trajectory it would
// follow alone, at a fraction of the cost of M separate LibTorch loops. The packed models are
// ordinary nalu stacks (same initialisation as make_stack), and unpack() turns any packed
// model back into one, which is what the batched computation is tested against.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "nalu/units/baselines.h"
#include "nalu/units/stack.h"

namespace nalu {

/// M independent stacks evaluated together: x:[M,B,in] -> y:[M,B,out], y[m] = model_m(x[m]).
/// Supported architectures: every layer a NAC or a nalu Linear (with or without bias), or one
/// MLP (any activation; PReLU slopes are per model; RReLU draws its training-mode slopes from
/// the module's own generator, seeded at construction, so threads do not share LibTorch's
/// global one).
///
/// Example:
/// ```
/// std::vector<nalu::Stack> models;
/// for (int m = 0; m < 100; ++m) {
///   torch::manual_seed(m);
///   models.push_back(nalu::make_stack({"nac"}, {1, 8, 8, 8, 1}));
/// }
/// nalu::BatchedStack batch(models);
/// torch::Tensor y = batch(torch::rand({100, 64, 1}));  // [100, 64, 1]
/// batch->unpack(7, *models[7]);                       // model 7's current weights
/// ```
class BatchedStackImpl : public torch::nn::Module {
 public:
  /// Packs copies of `models`' current weights. Throws nalu::Error for no models, models of
  /// different architectures, or a layer kind the batched form does not implement.
  explicit BatchedStackImpl(const std::vector<Stack>& models, uint64_t seed = 0);

  /// x:[M,B,in] -> [M,B,out].
  torch::Tensor forward(const torch::Tensor& inputs);
  /// Copies packed model m's current weights into `model` (an architecture like the packed
  /// ones); throws nalu::Error otherwise.
  void unpack(int64_t m, StackImpl& model) const;

  int64_t models() const { return models_; }
  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

 private:
  // One operation of the forward pass, reading packed parameters by index.
  struct Step {
    enum class Kind { kNac, kAffine, kActivation };
    Kind kind = Kind::kAffine;
    int64_t weight = -1;  // NAC: W_hat; affine: W; activation: PReLU slope (or -1)
    int64_t other = -1;   // NAC: M_hat; affine: bias (or -1)
    Activation activation = Activation::kNone;
    torch::nn::AnyModule module;  // the activation (stateless ones only)
  };

  int64_t models_ = 0, in_features_ = 0, out_features_ = 0;
  std::vector<Step> steps_;
  std::vector<torch::Tensor> packed_;  // in the order of the models' parameters()
  torch::Generator generator_;
};
TORCH_MODULE(BatchedStack);

}  // namespace nalu

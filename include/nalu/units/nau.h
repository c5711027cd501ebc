// Neural Addition Unit (Madsen & Johansen, ICLR 2020): y = W x with W clamped to [-1, 1] after
// each optimiser step and a regulariser mean(min(|W|, 1 - |W|)) that pushes W to {-1, 0, 1}.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "nalu/units/unit.h"

namespace nalu {

/// Options for NAU.
///
/// Example:
/// ```
/// nalu::NAU nau(nalu::NAUOptions(100, 2));
/// ```
struct NAUOptions {
  NAUOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
};

namespace functional {
/// x:[B,I] W:[O,I] -> y:[B,O], y = x W^T.
torch::Tensor nau(const torch::Tensor& input, const torch::Tensor& weight);
/// mean(min(|W|, 1 - |W|)).
torch::Tensor nau_regularizer(const torch::Tensor& weight);
}  // namespace functional

/// NAU. Initialised U[-r, r], r = min(0.5, sqrt(3 * 2 / (in + out))).
/// Source: Madsen & Johansen, "Neural Arithmetic Units", ICLR 2020.
class NAUImpl : public torch::nn::Cloneable<NAUImpl>, public ArithmeticUnit {
 public:
  NAUImpl(int64_t in_features, int64_t out_features)
      : NAUImpl(NAUOptions(in_features, out_features)) {}
  explicit NAUImpl(const NAUOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;

  torch::Tensor regularization_loss(double scale) const override;
  double sparsity_error() const override;
  Formula formula() const override;
  void after_optimizer_step() override;
  RegularizerSchedule default_regularizer() const override { return kNauSchedule; }
  std::string unit_name() const override { return "nau"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  NAUOptions options;
  torch::Tensor weight;
};
TORCH_MODULE(NAU);

}  // namespace nalu

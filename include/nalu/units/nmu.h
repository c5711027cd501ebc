// Neural Multiplication Unit (Madsen & Johansen, ICLR 2020):
// y_j = prod_i (W_ji x_i + 1 - W_ji), W clamped to [0, 1]; W_ji = 1 selects x_i, 0 ignores it.
// Handles negative inputs and zeros, but cannot divide.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "nalu/units/unit.h"

namespace nalu {

/// Options for NMU.
///
/// Example:
/// ```
/// nalu::NMU nmu(nalu::NMUOptions(2, 1));
/// ```
struct NMUOptions {
  NMUOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
};

namespace functional {
/// x:[B,I] W:[O,I] -> y:[B,O], y_j = prod_i (W_ji x_i + 1 - W_ji).
torch::Tensor nmu(const torch::Tensor& input, const torch::Tensor& weight);
/// mean(min(W, 1 - W)).
torch::Tensor nmu_regularizer(const torch::Tensor& weight);
}  // namespace functional

/// NMU. Initialised U[0.25, 0.75]. Source: Madsen & Johansen, "Neural Arithmetic Units",
/// ICLR 2020.
class NMUImpl : public torch::nn::Cloneable<NMUImpl>, public ArithmeticUnit {
 public:
  NMUImpl(int64_t in_features, int64_t out_features)
      : NMUImpl(NMUOptions(in_features, out_features)) {}
  explicit NMUImpl(const NMUOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;

  torch::Tensor regularization_loss(double scale) const override;
  double sparsity_error() const override;
  Formula formula() const override;
  void after_optimizer_step() override;
  RegularizerSchedule default_regularizer() const override { return kNmuSchedule; }
  std::string unit_name() const override { return "nmu"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  NMUOptions options;
  torch::Tensor weight;
};
TORCH_MODULE(NMU);

}  // namespace nalu

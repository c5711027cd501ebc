// Neural Arithmetic Logic Unit (Trask et al. 2018): a gated mix of an additive NAC path and a
// multiplicative log-space path, y = g * (W x) + (1 - g) * exp(W log(|x| + eps)), g = sigmoid(G x).
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "nalu/units/unit.h"

namespace nalu {

/// Options for NALU. The defaults are the paper's form: one NAC weight shared by both paths
/// and an input-dependent gate without bias.
///
/// Example:
/// ```
/// nalu::NALU unit(nalu::NALUOptions(10, 2).shared_weights(false).gate_bias(true));
/// ```
struct NALUOptions {
  NALUOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  /// true: the paper's single W for both paths; false: a separate W for the log-space path.
  TORCH_ARG(bool, shared_weights) = true;
  /// Adds a bias to the gate, g = sigmoid(G x + b).
  TORCH_ARG(bool, gate_bias) = false;
  /// Epsilon in log(|x| + epsilon).
  TORCH_ARG(double, epsilon) = 1e-7;
  /// The seeds' truncated normal (stddev 0.02) or Xavier uniform.
  TORCH_ARG(Init, init) = Init::kXavierUniform;
};

namespace functional {
/// x:[B,I] W_add,W_mul,G:[O,I] gate_bias:[O] or undefined -> y:[B,O].
/// Pass the same tensor as W_add and W_mul for the paper's shared weights.
torch::Tensor nalu(const torch::Tensor& input, const torch::Tensor& w_add,
                   const torch::Tensor& w_mul, const torch::Tensor& gate_weight,
                   const torch::Tensor& gate_bias, double epsilon);
}  // namespace functional

/// NALU. Source: Trask et al., "Neural Arithmetic Logic Units", NeurIPS 2018.
///
/// Example:
/// ```
/// nalu::NALU unit(2, 1);
/// torch::Tensor y = unit(torch::rand({10, 2}));  // [10, 1]
/// ```
class NALUImpl : public torch::nn::Cloneable<NALUImpl>, public ArithmeticUnit {
 public:
  NALUImpl(int64_t in_features, int64_t out_features)
      : NALUImpl(NALUOptions(in_features, out_features)) {}
  explicit NALUImpl(const NALUOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;
  torch::Tensor additive_weight() const;
  torch::Tensor multiplicative_weight() const;
  /// The gate g for a batch of inputs, [B, O].
  torch::Tensor gate(const torch::Tensor& input) const;

  double sparsity_error() const override;
  Formula formula() const override;
  std::string unit_name() const override { return "nalu"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  NALUOptions options;
  torch::Tensor w_hat, m_hat;          // additive path (and shared path)
  torch::Tensor w_hat_mul, m_hat_mul;  // log-space path when !shared_weights
  torch::Tensor gate_weight, gate_bias;
};
TORCH_MODULE(NALU);

}  // namespace nalu

// Neural Accumulator (Trask et al. 2018): W = tanh(W_hat) * sigmoid(M_hat), y = x W^T.
// Its weights are pushed towards {-1, 0, 1}, so a trained NAC adds and subtracts inputs.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "nalu/units/unit.h"

namespace nalu {

// ---- options ----------------------------------------------------------------------------------

/// Options for NAC and NAC-mul.
///
/// Example:
/// ```
/// nalu::NAC nac(nalu::NACOptions(10, 2).init(nalu::Init::kXavierUniform));
/// ```
struct NACOptions {
  NACOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  /// Initialisation of W_hat and M_hat.
  TORCH_ARG(Init, init) = Init::kXavierUniform;
  /// NAC-mul only: epsilon in log(|x| + epsilon).
  TORCH_ARG(double, epsilon) = 1e-7;
};

// ---- functional -------------------------------------------------------------------------------

namespace functional {
/// W = tanh(W_hat) * sigmoid(M_hat); shapes [out, in].
torch::Tensor nac_weight(const torch::Tensor& w_hat, const torch::Tensor& m_hat);
/// x:[B,I] W_hat,M_hat:[O,I] -> y:[B,O], y = x W^T.
torch::Tensor nac(const torch::Tensor& input, const torch::Tensor& w_hat,
                  const torch::Tensor& m_hat);
}  // namespace functional

// ---- module -----------------------------------------------------------------------------------

/// Neural Accumulator. Source: Trask et al., "Neural Arithmetic Logic Units", NeurIPS 2018.
///
/// Example:
/// ```
/// nalu::NAC nac(10, 1);
/// torch::Tensor y = nac(torch::rand({64, 10}));  // [64, 1]
/// ```
class NACImpl : public torch::nn::Cloneable<NACImpl>, public ArithmeticUnit {
 public:
  NACImpl(int64_t in_features, int64_t out_features)
      : NACImpl(NACOptions(in_features, out_features)) {}
  explicit NACImpl(const NACOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;
  /// The effective weight tanh(W_hat) * sigmoid(M_hat).
  torch::Tensor weight() const;

  double sparsity_error() const override;
  Formula formula() const override;
  std::string unit_name() const override { return "nac"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  NACOptions options;
  torch::Tensor w_hat;
  torch::Tensor m_hat;
};
TORCH_MODULE(NAC);

}  // namespace nalu

// Multiplicative NAC (Trask et al. 2018): y = exp(log(|x| + eps) W^T) with the NAC weight, so a
// trained unit multiplies (W = 1) and divides (W = -1) positive inputs.
#pragma once

#include "nalu/units/nac.h"

namespace nalu {

namespace functional {
/// x:[B,I] W:[O,I] -> y:[B,O], y = exp(log(|x| + epsilon) W^T).
torch::Tensor nac_mul(const torch::Tensor& input, const torch::Tensor& weight, double epsilon);
}  // namespace functional

/// NAC-mul: the NAC in log space. Loses the sign of its inputs.
///
/// Example:
/// ```
/// nalu::NACMul mul(nalu::NACOptions(2, 1).epsilon(1e-8));
/// ```
class NACMulImpl : public torch::nn::Cloneable<NACMulImpl>, public ArithmeticUnit {
 public:
  NACMulImpl(int64_t in_features, int64_t out_features)
      : NACMulImpl(NACOptions(in_features, out_features)) {}
  explicit NACMulImpl(const NACOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;
  torch::Tensor weight() const;

  double sparsity_error() const override;
  Formula formula() const override;
  std::string unit_name() const override { return "nac-mul"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  NACOptions options;
  torch::Tensor w_hat;
  torch::Tensor m_hat;
};
TORCH_MODULE(NACMul);

}  // namespace nalu

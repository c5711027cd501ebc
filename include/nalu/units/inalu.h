// Improved NALU (Schlor, Ring & Hotho 2020): separate additive and multiplicative NAC weights,
// a gate independent of the input, a clipped log-space path and the sign of the product
// recovered from the inputs' signs:
//   a = W_a x;  m = exp(min(W_m log(max(|x|, eps)), omega));  s_j = prod_i (sign(x_i)|W_m,ji| + 1 -
//   |W_m,ji|) y = sigmoid(g) * a + (1 - sigmoid(g)) * m * s
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "nalu/units/unit.h"

namespace nalu {

/// Options for iNALU.
///
/// Example:
/// ```
/// nalu::INALU unit(nalu::INALUOptions(2, 1).omega(20));
/// ```
struct INALUOptions {
  INALUOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  /// Lower clip of |x| before the logarithm.
  TORCH_ARG(double, epsilon) = 1e-7;
  /// Upper clip of the log-space exponent.
  TORCH_ARG(double, omega) = 20.0;
  /// Threshold t of the regulariser mean(max(t - |w|, 0) / t).
  TORCH_ARG(double, regularizer_threshold) = 20.0;
};

namespace functional {
/// x:[B,I] W_a,W_m:[O,I] gate:[O] -> y:[B,O] (W_a, W_m already tanh * sigmoid).
torch::Tensor inalu(const torch::Tensor& input, const torch::Tensor& w_add,
                    const torch::Tensor& w_mul, const torch::Tensor& gate, double epsilon,
                    double omega);
}  // namespace functional

/// iNALU. Initialisation (the authors' code): W_hat ~ N(0.88, 0.2), M_hat ~ N(0.5, 0.2),
/// gate ~ N(0, 0.2). reinitialize() draws them again (the trainer calls it on stagnation).
/// Source: Schlor, Ring & Hotho, "iNALU: Improved Neural Arithmetic Logic Unit", 2020.
class INALUImpl : public torch::nn::Cloneable<INALUImpl>, public ArithmeticUnit {
 public:
  INALUImpl(int64_t in_features, int64_t out_features)
      : INALUImpl(INALUOptions(in_features, out_features)) {}
  explicit INALUImpl(const INALUOptions& options);

  void reset() override;
  /// Draws the weights again, from `generator` when given (the trainer passes the run's own,
  /// so a re-initialised run is reproducible beside other runs), else LibTorch's global one.
  void reinitialize(c10::optional<torch::Generator> generator = c10::nullopt);
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;
  torch::Tensor additive_weight() const;
  torch::Tensor multiplicative_weight() const;

  torch::Tensor regularization_loss(double scale) const override;
  double sparsity_error() const override;
  Formula formula() const override;
  /// Regularisation from step 10,000 on: the authors switch it on after 10 epochs of 1,000
  /// batches.
  RegularizerSchedule default_regularizer() const override { return {1.0, 10'000, 10'000}; }
  std::string unit_name() const override { return "inalu"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  INALUOptions options;
  torch::Tensor w_hat_add, m_hat_add, w_hat_mul, m_hat_mul;
  torch::Tensor gate;  // [O], the gate is sigmoid(gate)
};
TORCH_MODULE(INALU);

}  // namespace nalu

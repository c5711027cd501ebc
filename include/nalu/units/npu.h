// Neural Power Units (Heim, van Gerven & Kruijt, NeurIPS 2020). With a relevance gate g in
// [0, 1] per input, r = g * (|x| + eps) + (1 - g) and k = g * pi * [x < 0]:
//   NPU:     y = exp(W_re log r - W_im k) * cos(W_im log r + W_re k)
//   RealNPU: y = exp(W_re log r) * cos(W_re k)            (W_im = 0)
// so y = prod_i x_i ^ W_re,ji also for negative x, with real exponents.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "nalu/units/unit.h"

namespace nalu {

/// Options for NPU and RealNPU.
///
/// Example:
/// ```
/// nalu::RealNPU npu(nalu::NPUOptions(2, 1).epsilon(1e-7));
/// ```
struct NPUOptions {
  NPUOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(double, epsilon) = 1e-7;
  /// RealNPU only: Mistry, Hare & Farrahi's improved Real NPU (docs/design.md §2). W_re starts
  /// U[-r, r], r = min(0.5, sqrt(6 / (in + out))), and is clamped to [-1, 1] with the gate;
  /// the regulariser is mean|1 - |W_re|| + mean(min(|g|, |1 - g|)), towards exponents ±1 and
  /// gates 0 or 1, ramped in over steps 50,000-75,000 of 10^5 (default_regularizer()).
  TORCH_ARG(bool, improved) = false;
};

namespace functional {
/// x:[B,I] W_re,W_im:[O,I] gate:[I] -> y:[B,O]. Pass an undefined W_im for RealNPU.
torch::Tensor npu(const torch::Tensor& input, const torch::Tensor& w_real,
                  const torch::Tensor& w_imag, const torch::Tensor& gate, double epsilon);
}  // namespace functional

/// Shared by NPU and RealNPU: W_re Xavier uniform, W_im zeros, gate 0.5, clamped into [0, 1] in
/// the forward pass (no gradient outside); regulariser mean |parameters| (L1), by default
/// growing tenfold every 10% of the run to 10^-7 per parameter summed (default_regularizer()).
/// Source: Heim et al., "Neural Power Units", NeurIPS 2020.
/// The improved Real NPU (NPUOptions::improved) changes the start, clamping and regulariser.
class NPUImpl : public torch::nn::Cloneable<NPUImpl>, public ArithmeticUnit {
 public:
  NPUImpl(int64_t in_features, int64_t out_features, bool real = false)
      : NPUImpl(NPUOptions(in_features, out_features), real) {}
  explicit NPUImpl(const NPUOptions& options, bool real = false);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;

  torch::Tensor regularization_loss(double scale) const override;
  double sparsity_error() const override;
  Formula formula() const override;
  void after_optimizer_step() override;
  RegularizerSchedule default_regularizer() const override;
  std::string unit_name() const override { return real ? "real-npu" : "npu"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  NPUOptions options;
  bool real;
  torch::Tensor w_real, w_imag, gate;  // w_imag undefined when real
};
TORCH_MODULE(NPU);

/// RealNPU: an NPU without imaginary weights.
class RealNPUImpl : public NPUImpl {
 public:
  RealNPUImpl(int64_t in_features, int64_t out_features)
      : NPUImpl(NPUOptions(in_features, out_features), true) {}
  explicit RealNPUImpl(const NPUOptions& options) : NPUImpl(options, true) {}

  /// Cloneable<NPUImpl> would return an NPUImpl; containers (Sequential, AnyModule) cast a
  /// clone back to the holder's type, so the clone must stay a RealNPUImpl.
  std::shared_ptr<torch::nn::Module> clone(
      const torch::optional<torch::Device>& device = torch::nullopt) const override;

 private:
  // Module is a virtual base: copy it here too, or it would be default-constructed empty.
  explicit RealNPUImpl(const NPUImpl& copy) : torch::nn::Module(copy), NPUImpl(copy) {}
};
TORCH_MODULE(RealNPU);

}  // namespace nalu

// Units that divide (Mistry, Hare & Farrahi, "Learning Division with Neural Arithmetic Logic
// Modules", 2021; docs/design.md §2):
//
//   NRU   y_j = prod_i (sign(x_i) |x_i|^W_ji A(W_ji) + 1 - A(W_ji)),  W in [-1, 1]
//         A(w) = |w| in evaluation, tanh(1000 w)^2 (a smooth |w|) in training. W_ji = 1 takes
//         x_i as a factor, -1 takes 1 / x_i, 0 leaves it out. No epsilon: x_i = 0 with a
//         negative weight gives an infinite factor, as in the authors' code.
//   NMRU  x' = [x, 1 / x] (1 / (x + eps) in training, eps = 2^-23),
//         y_j = prod_k (|x'_k| W_jk + 1 - W_jk) * cos(pi sum_k W_jk [x'_k < 0]),  W in [0, 1]:
//         an NMU over the inputs and their reciprocals, with the Real NPU's cosine giving the
//         product its sign (the authors' "sign retrieval" NMRU, their headline model).
//
// Both are regularised towards their discrete weights as the NAU and NMU are, with the
// authors' schedule for their division runs (lambda 10 over steps 50,000-75,000 of 100,000).
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include "nalu/units/unit.h"

namespace nalu {

/// Options for NRU and NMRU.
///
/// Example:
/// ```
/// nalu::NMRU nmru(nalu::DivisionUnitOptions(2, 1));  // learns x0 / x1 (or x0 * x1, ...)
/// ```
struct DivisionUnitOptions {
  DivisionUnitOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
};

namespace functional {
/// x:[B,I] W:[O,I] -> y:[B,O], the NRU with A(w) = |w| (training = false) or tanh(1000 w)^2.
torch::Tensor nru(const torch::Tensor& input, const torch::Tensor& weight, bool training);
/// x:[B,I] W:[O,2I] -> y:[B,O], the sign-retrieving NMRU; 1 / (x + 2^-23) when training.
torch::Tensor nmru(const torch::Tensor& input, const torch::Tensor& weight, bool training);
}  // namespace functional

/// NRU, the Neural Reciprocal Unit. W [out, in] starts U[-r, r], r = min(0.5, sqrt(6 /
/// (in + out))), and is clamped to [-1, 1] after each optimiser step; R = mean(min(|W|,
/// |1 - |W||)).
class NRUImpl : public torch::nn::Cloneable<NRUImpl>, public ArithmeticUnit {
 public:
  NRUImpl(int64_t in_features, int64_t out_features)
      : NRUImpl(DivisionUnitOptions(in_features, out_features)) {}
  explicit NRUImpl(const DivisionUnitOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;

  torch::Tensor regularization_loss(double scale) const override;
  double sparsity_error() const override;
  Formula formula() const override;
  void after_optimizer_step() override;
  RegularizerSchedule default_regularizer() const override { return kDivisionSchedule; }
  std::string unit_name() const override { return "nru"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  DivisionUnitOptions options;
  torch::Tensor weight;
};
TORCH_MODULE(NRU);

/// NMRU, the Neural Multiplicative Reciprocal Unit (sign-retrieving). W [out, 2 in] (the
/// inputs' weights, then their reciprocals') starts U[0.25, 0.75] and is clamped to [0, 1]
/// after each optimiser step; R = mean(min(W, 1 - W)). Its authors train it with Adam at
/// 10^-2 and the gradient's norm clipped to 1.
class NMRUImpl : public torch::nn::Cloneable<NMRUImpl>, public ArithmeticUnit {
 public:
  NMRUImpl(int64_t in_features, int64_t out_features)
      : NMRUImpl(DivisionUnitOptions(in_features, out_features)) {}
  explicit NMRUImpl(const DivisionUnitOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;

  torch::Tensor regularization_loss(double scale) const override;
  double sparsity_error() const override;
  Formula formula() const override;
  void after_optimizer_step() override;
  RegularizerSchedule default_regularizer() const override { return kDivisionSchedule; }
  std::string unit_name() const override { return "nmru"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  DivisionUnitOptions options;
  torch::Tensor weight;
};
TORCH_MODULE(NMRU);

}  // namespace nalu

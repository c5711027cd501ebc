// NAU and NMU (Madsen & Johansen, ICLR 2020).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "nalu/units/nau.h"
#include "nalu/units/nmu.h"

namespace nalu {

namespace functional {

torch::Tensor nau(const torch::Tensor& input, const torch::Tensor& weight) {
  return torch::matmul(input, weight.t());
}

torch::Tensor nau_regularizer(const torch::Tensor& weight) {
  const auto magnitude = weight.abs();
  return torch::min(magnitude, 1 - magnitude).mean();
}

torch::Tensor nmu(const torch::Tensor& input, const torch::Tensor& weight) {
  // [B,1,I] * [1,O,I] -> [B,O,I]; each factor is W x + 1 - W; the product runs over I.
  const auto factors = input.unsqueeze(1) * weight.unsqueeze(0) + 1 - weight.unsqueeze(0);
  return factors.prod(2);
}

torch::Tensor nmu_regularizer(const torch::Tensor& weight) {
  return torch::min(weight, 1 - weight).mean();
}

}  // namespace functional

// ---- NAU ----

NAUImpl::NAUImpl(const NAUOptions& options_) : options(options_) {
  detail::check_sizes(options.in_features(), options.out_features(), "nau");
  reset();
}

void NAUImpl::reset() {
  const auto in = options.in_features();
  const auto out = options.out_features();
  weight = register_parameter("weight", torch::empty({out, in}));
  // Madsen & Johansen: U[-r, r] with r = min(0.5, sqrt(3) * sqrt(2 / (in + out))).
  const double r = std::min(0.5, std::sqrt(3.0 * 2.0 / static_cast<double>(in + out)));
  torch::NoGradGuard no_grad;
  weight.uniform_(-r, r);
}

void NAUImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::NAU(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ")";
}

torch::Tensor NAUImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "nau");
  return functional::nau(input, weight);
}

torch::Tensor NAUImpl::regularization_loss(double scale) const {
  return scale * functional::nau_regularizer(weight);
}

double NAUImpl::sparsity_error() const {
  return detail::sparsity_error_signed(weight);
}

Formula NAUImpl::formula() const {
  Formula formula;
  formula.outputs = read_additive(detail::to_vector(weight), options.out_features(),
                                  options.in_features(), formula.max_rounding_error);
  return formula;
}

void NAUImpl::after_optimizer_step() {
  torch::NoGradGuard no_grad;
  weight.clamp_(-1.0, 1.0);
}

// ---- NMU ----

NMUImpl::NMUImpl(const NMUOptions& options_) : options(options_) {
  detail::check_sizes(options.in_features(), options.out_features(), "nmu");
  reset();
}

void NMUImpl::reset() {
  weight =
      register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  torch::NoGradGuard no_grad;
  weight.uniform_(0.25, 0.75);
}

void NMUImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::NMU(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ")";
}

torch::Tensor NMUImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "nmu");
  return functional::nmu(input, weight);
}

torch::Tensor NMUImpl::regularization_loss(double scale) const {
  return scale * functional::nmu_regularizer(weight);
}

double NMUImpl::sparsity_error() const {
  torch::NoGradGuard no_grad;
  return torch::min(weight, 1 - weight).abs().max().item<double>();
}

Formula NMUImpl::formula() const {
  // W_ji rounds to 1 (x_i is a factor) or 0 (ignored): exactly a product with 0/1 exponents.
  Formula formula;
  formula.outputs = read_multiplicative(detail::to_vector(weight), options.out_features(),
                                        options.in_features(), formula.max_rounding_error);
  return formula;
}

void NMUImpl::after_optimizer_step() {
  torch::NoGradGuard no_grad;
  weight.clamp_(0.0, 1.0);
}

}  // namespace nalu

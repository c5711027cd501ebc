// NRU and NMRU (Mistry, Hare & Farrahi, 2021): units that divide.
#include "nalu/units/division.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "nalu/units/nau.h"
#include "nalu/units/nmu.h"

namespace nalu {

namespace {

// The reciprocal's offset while training: float's machine epsilon, as the authors' code adds.
constexpr double kReciprocalEpsilon = 1.1920928955078125e-07;

}  // namespace

namespace functional {

torch::Tensor nru(const torch::Tensor& input, const torch::Tensor& weight, bool training) {
  // [B,1,I] with [1,O,I] -> [B,O,I]; the product runs over I.
  const auto x = input.unsqueeze(1);
  const auto w = weight.unsqueeze(0);
  const auto selected = training ? torch::tanh(1000.0 * w).square() : w.abs();
  const auto power = torch::sign(x) * torch::pow(x.abs(), w);
  return (power * selected + 1 - selected).prod(2);
}

torch::Tensor nmru(const torch::Tensor& input, const torch::Tensor& weight, bool training) {
  const auto reciprocal = training ? 1.0 / (input + kReciprocalEpsilon) : 1.0 / input;
  const auto extended = torch::cat({input, reciprocal}, 1).unsqueeze(1);  // [B,1,2I]
  const auto w = weight.unsqueeze(0);                                     // [1,O,2I]
  const auto magnitude = (extended.abs() * w + 1 - w).prod(2);
  const auto negative = extended.lt(0).to(weight.scalar_type());
  const auto phase = (negative * w).sum(2) * M_PI;
  return magnitude * torch::cos(phase);
}

}  // namespace functional

// ---- NRU ----

NRUImpl::NRUImpl(const DivisionUnitOptions& options_) : options(options_) {
  detail::check_sizes(options.in_features(), options.out_features(), "nru");
  reset();
}

void NRUImpl::reset() {
  weight =
      register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  const double r = std::min(
      0.5, std::sqrt(6.0 / static_cast<double>(options.in_features() + options.out_features())));
  torch::NoGradGuard no_grad;
  weight.uniform_(-r, r);
}

void NRUImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::NRU(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ")";
}

torch::Tensor NRUImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "nru");
  return functional::nru(input, weight, is_training());
}

torch::Tensor NRUImpl::regularization_loss(double scale) const {
  return scale * functional::nau_regularizer(weight);
}

double NRUImpl::sparsity_error() const {
  return detail::sparsity_error_signed(weight);
}

Formula NRUImpl::formula() const {
  // With W_ji rounded to -1, 0 or 1 and A(w) = |w| (evaluation), a factor is sign(x) |x|^-1 =
  // 1 / x, 1 or sign(x) |x| = x: exactly a product with exponents -1, 0 and 1.
  Formula formula;
  formula.outputs = read_multiplicative(detail::to_vector(weight), options.out_features(),
                                        options.in_features(), formula.max_rounding_error);
  return formula;
}

void NRUImpl::after_optimizer_step() {
  torch::NoGradGuard no_grad;
  weight.clamp_(-1.0, 1.0);
}

// ---- NMRU ----

NMRUImpl::NMRUImpl(const DivisionUnitOptions& options_) : options(options_) {
  detail::check_sizes(options.in_features(), options.out_features(), "nmru");
  reset();
}

void NMRUImpl::reset() {
  weight = register_parameter("weight",
                              torch::empty({options.out_features(), 2 * options.in_features()}));
  torch::NoGradGuard no_grad;
  weight.uniform_(0.25, 0.75);
}

void NMRUImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::NMRU(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ")";
}

torch::Tensor NMRUImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "nmru");
  return functional::nmru(input, weight, is_training());
}

torch::Tensor NMRUImpl::regularization_loss(double scale) const {
  return scale * functional::nmu_regularizer(weight);
}

double NMRUImpl::sparsity_error() const {
  torch::NoGradGuard no_grad;
  return torch::min(weight, 1 - weight).abs().max().item<double>();
}

Formula NMRUImpl::formula() const {
  // With W rounded to 0 or 1 (evaluation: x' = [x, 1 / x]), a factor |x'_k| cos(pi [x'_k < 0])
  // is x'_k itself, so output j is prod_i x_i ^ (round(W_ji) - round(W_j,in+i)). (Where both
  // are 1 the unit computes x_i / x_i: 1, except NaN at x_i = 0.)
  const auto in = options.in_features();
  const auto out = options.out_features();
  const auto w = detail::to_vector(weight);
  Formula formula;
  std::vector<float> exponents(static_cast<size_t>(out * in));
  for (int64_t j = 0; j < out; ++j) {
    for (int64_t i = 0; i < in; ++i) {
      const double direct = w[static_cast<size_t>(j * 2 * in + i)];
      const double inverse = w[static_cast<size_t>(j * 2 * in + in + i)];
      add_rounding_error(formula.max_rounding_error, std::abs(direct - std::round(direct)));
      add_rounding_error(formula.max_rounding_error, std::abs(inverse - std::round(inverse)));
      exponents[static_cast<size_t>(j * in + i)] =
          static_cast<float>(std::round(direct) - std::round(inverse));
    }
  }
  double exact = 0.0;  // the exponents are integers already
  formula.outputs =
      read_multiplicative(exponents, static_cast<int>(out), static_cast<int>(in), exact);
  return formula;
}

void NMRUImpl::after_optimizer_step() {
  torch::NoGradGuard no_grad;
  weight.clamp_(0.0, 1.0);
}

}  // namespace nalu

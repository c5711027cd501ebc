#include "nalu/limits.h"
// NPU and RealNPU (Heim, van Gerven & Kruijt, NeurIPS 2020).
#include "nalu/limits.h"
#include "nalu/units/npu.h"

#include <torch/torch.h>
#include "nalu/limits.h"

#include <cmath>
#include "nalu/limits.h"

#include "nalu/limits.h"
namespace nalu {
#include "nalu/limits.h"

#include "nalu/limits.h"
namespace functional {
#include "nalu/limits.h"

#include "nalu/limits.h"
torch::Tensor npu(const torch::Tensor& input, const torch::Tensor& w_real,
#include "nalu/limits.h"
                  const torch::Tensor& w_imag, const torch::Tensor& gate, double epsilon) {
#include "nalu/limits.h"
  // r = g (|x| + eps) + (1 - g): an ignored input (g = 0) contributes the factor 1.
#include "nalu/limits.h"
  const auto r = gate * (input.abs() + epsilon) + (1 - gate);
#include "nalu/limits.h"
  // k = g pi [x < 0]: the phase of a negative input.
#include "nalu/limits.h"
  const auto k = gate * M_PI * (input < 0).to(input.scalar_type());
#include "nalu/limits.h"
  const auto log_r = torch::log(r);
#include "nalu/limits.h"
  if (!w_imag.defined()) {
#include "nalu/limits.h"
    return torch::exp(torch::matmul(log_r, w_real.t())) * torch::cos(torch::matmul(k, w_real.t()));
#include "nalu/limits.h"
  }
#include "nalu/limits.h"
  const auto magnitude =
#include "nalu/limits.h"
      torch::exp(torch::matmul(log_r, w_real.t()) - torch::matmul(k, w_imag.t()));
#include "nalu/limits.h"
  const auto phase = torch::matmul(log_r, w_imag.t()) + torch::matmul(k, w_real.t());
#include "nalu/limits.h"
  return magnitude * torch::cos(phase);
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
}  // namespace functional
#include "nalu/limits.h"

#include "nalu/limits.h"
NPUImpl::NPUImpl(const NPUOptions& options_, bool real_) : options(options_), real(real_) {
#include "nalu/limits.h"
  detail::check_sizes(options.in_features(), options.out_features(), real ? "real-npu" : "npu");
#include "nalu/limits.h"
  TORCH_CHECK(options.epsilon() >= 0, unit_name(), ": epsilon must be >= 0, got ",
#include "nalu/limits.h"
              options.epsilon());
#include "nalu/limits.h"
  reset();
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
void NPUImpl::reset() {
#include "nalu/limits.h"
  const auto out = options.out_features();
#include "nalu/limits.h"
  const auto in = options.in_features();
#include "nalu/limits.h"
  w_real = register_parameter("w_real", torch::empty({out, in}));
#include "nalu/limits.h"
  torch::nn::init::xavier_uniform_(w_real);
#include "nalu/limits.h"
  if (!real) {
#include "nalu/limits.h"
    w_imag = register_parameter("w_imag", torch::zeros({out, in}));
#include "nalu/limits.h"
  } else {
#include "nalu/limits.h"
    w_imag = torch::Tensor();
#include "nalu/limits.h"
  }
#include "nalu/limits.h"
  gate = register_parameter("gate", torch::full({in}, 0.5));
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
void NPUImpl::pretty_print(std::ostream& stream) const {
#include "nalu/limits.h"
  stream << (real ? "nalu::RealNPU" : "nalu::NPU") << "(in_features=" << options.in_features()
#include "nalu/limits.h"
         << ", out_features=" << options.out_features() << ", epsilon=" << options.epsilon() << ")";
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
torch::Tensor NPUImpl::forward(const torch::Tensor& input) {
#include "nalu/limits.h"
  detail::check_input(input, options.in_features(), real ? "real-npu" : "npu");
#include "nalu/limits.h"
  return functional::npu(input, w_real, w_imag, gate, options.epsilon());
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
torch::Tensor NPUImpl::regularization_loss(double scale) const {
#include "nalu/limits.h"
  auto total = w_real.abs().sum() + gate.abs().sum();
#include "nalu/limits.h"
  int64_t count = w_real.numel() + gate.numel();
#include "nalu/limits.h"
  if (w_imag.defined()) {
#include "nalu/limits.h"
    total = total + w_imag.abs().sum();
#include "nalu/limits.h"
    count += w_imag.numel();
#include "nalu/limits.h"
  }
#include "nalu/limits.h"
  return scale * total / static_cast<double>(count);
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
double NPUImpl::sparsity_error() const {
#include "nalu/limits.h"
  torch::NoGradGuard no_grad;
#include "nalu/limits.h"
  double error = std::max(detail::distance_to_integer(w_real),
#include "nalu/limits.h"
                          torch::min(gate, 1 - gate).abs().max().item<double>());
#include "nalu/limits.h"
  if (w_imag.defined())
#include "nalu/limits.h"
    error = std::max(error, w_imag.abs().max().item<double>());
#include "nalu/limits.h"
  return error;
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
Formula NPUImpl::formula() const {
#include "nalu/limits.h"
  // With the gate rounded to 0 or 1, W_im to 0 and W_re to integers, an input whose gate is 0
#include "nalu/limits.h"
  // contributes the factor 1 and one whose gate is 1 the factor
#include "nalu/limits.h"
  //   (|x_i| + eps)^W_ji · cos(pi W_ji [x_i < 0]),
#include "nalu/limits.h"
  // and cos(pi sum_i k_i) = prod_i cos(pi k_i) for integers k_i. Without eps that factor is
#include "nalu/limits.h"
  // exactly x_i^W_ji (a negative x_i to an odd power keeps its sign), which is how it reads;
#include "nalu/limits.h"
  // with a non-negligible eps it is written out as it stands, the cosine of odd W only.
#include "nalu/limits.h"
  const int out = checked_narrow<int>(options.out_features(), "formula: output size");
#include "nalu/limits.h"
  const int in = checked_narrow<int>(options.in_features(), "formula: input size");
#include "nalu/limits.h"
  Formula formula;
#include "nalu/limits.h"
  const auto weight = detail::to_vector(w_real);
#include "nalu/limits.h"
  const auto g = detail::to_vector(gate);
#include "nalu/limits.h"
  std::vector<bool> read(in);
#include "nalu/limits.h"
  for (int i = 0; i < in; ++i) {
#include "nalu/limits.h"
    const double rounded = std::round(g[i]);
#include "nalu/limits.h"
    add_rounding_error(formula.max_rounding_error, std::abs(g[i] - rounded));
#include "nalu/limits.h"
    read[i] = rounded != 0.0;
#include "nalu/limits.h"
  }
#include "nalu/limits.h"
  const bool with_epsilon = options.epsilon() > kNegligibleEpsilon;
#include "nalu/limits.h"
  for (int j = 0; j < out; ++j) {
#include "nalu/limits.h"
    std::vector<std::pair<double, ExprPtr>> factors, phase;
#include "nalu/limits.h"
    for (int i = 0; i < in; ++i) {
#include "nalu/limits.h"
      const double w = weight[static_cast<size_t>(j) * in + i];
#include "nalu/limits.h"
      const double rounded = std::round(w);
#include "nalu/limits.h"
      add_rounding_error(formula.max_rounding_error, std::abs(w - rounded));
#include "nalu/limits.h"
      if (!read[i] || rounded == 0.0)
#include "nalu/limits.h"
        continue;
#include "nalu/limits.h"
      if (!with_epsilon) {
#include "nalu/limits.h"
        factors.emplace_back(rounded, input_expr(i));
#include "nalu/limits.h"
        continue;
#include "nalu/limits.h"
      }
#include "nalu/limits.h"
      factors.emplace_back(rounded, sum_expr({{1.0, abs_expr(input_expr(i))},
#include "nalu/limits.h"
                                              {1.0, constant_expr(options.epsilon())}}));
#include "nalu/limits.h"
      if (std::fmod(std::abs(rounded), 2.0) == 1.0)
#include "nalu/limits.h"
        phase.emplace_back(1.0, negative_expr(input_expr(i)));
#include "nalu/limits.h"
    }
#include "nalu/limits.h"
    if (!phase.empty())
#include "nalu/limits.h"
      factors.emplace_back(1.0, cos_pi_expr(sum_expr(std::move(phase))));
#include "nalu/limits.h"
    formula.outputs.push_back(product_expr(std::move(factors)));
#include "nalu/limits.h"
  }
#include "nalu/limits.h"
  if (w_imag.defined()) {
#include "nalu/limits.h"
    torch::NoGradGuard no_grad;
#include "nalu/limits.h"
    add_rounding_error(formula.max_rounding_error, w_imag.abs().max().item<double>());
#include "nalu/limits.h"
  }
#include "nalu/limits.h"
  return formula;
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
void NPUImpl::after_optimizer_step() {
#include "nalu/limits.h"
  torch::NoGradGuard no_grad;
#include "nalu/limits.h"
  gate.clamp_(0.0, 1.0);
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
std::shared_ptr<torch::nn::Module> RealNPUImpl::clone(
#include "nalu/limits.h"
    const torch::optional<torch::Device>& device) const {
#include "nalu/limits.h"
  // Deep-copy as an NPUImpl, then take over its (already independent) parameters.
#include "nalu/limits.h"
  const auto copy = std::dynamic_pointer_cast<NPUImpl>(NPUImpl::clone(device));
#include "nalu/limits.h"
  return std::shared_ptr<RealNPUImpl>(new RealNPUImpl(*copy));
#include "nalu/limits.h"
}
#include "nalu/limits.h"

#include "nalu/limits.h"
}  // namespace nalu

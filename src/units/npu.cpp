// NPU and RealNPU (Heim, van Gerven & Kruijt, NeurIPS 2020).
#include "nalu/units/npu.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "nalu/limits.h"

namespace nalu {

namespace functional {

torch::Tensor npu(const torch::Tensor& input, const torch::Tensor& w_real,
                  const torch::Tensor& w_imag, const torch::Tensor& gate, double epsilon) {
  // r = g (|x| + eps) + (1 - g): an ignored input (g = 0) contributes the factor 1.
  const auto r = gate * (input.abs() + epsilon) + (1 - gate);
  // k = g pi [x < 0]: the phase of a negative input.
  const auto k = gate * M_PI * (input < 0).to(input.scalar_type());
  const auto log_r = torch::log(r);
  if (!w_imag.defined()) {
    return torch::exp(torch::matmul(log_r, w_real.t())) * torch::cos(torch::matmul(k, w_real.t()));
  }
  const auto magnitude =
      torch::exp(torch::matmul(log_r, w_real.t()) - torch::matmul(k, w_imag.t()));
  const auto phase = torch::matmul(log_r, w_imag.t()) + torch::matmul(k, w_real.t());
  return magnitude * torch::cos(phase);
}

}  // namespace functional

NPUImpl::NPUImpl(const NPUOptions& options_, bool real_) : options(options_), real(real_) {
  detail::check_sizes(options.in_features(), options.out_features(), real ? "real-npu" : "npu");
  TORCH_CHECK(options.epsilon() >= 0, unit_name(), ": epsilon must be >= 0, got ",
              options.epsilon());
  TORCH_CHECK(real || !options.improved(),
              "npu: the improved form is the Real NPU's (use real-npu)");
  reset();
}

void NPUImpl::reset() {
  const auto out = options.out_features();
  const auto in = options.in_features();
  w_real = register_parameter("w_real", torch::empty({out, in}));
  if (options.improved()) {
    // The NAU's start: Xavier uniform's bound, at most 0.5.
    const double r = std::min(0.5, std::sqrt(6.0 / static_cast<double>(in + out)));
    torch::NoGradGuard no_grad;
    w_real.uniform_(-r, r);
  } else {
    torch::nn::init::xavier_uniform_(w_real);
  }
  if (!real) {
    w_imag = register_parameter("w_imag", torch::zeros({out, in}));
  } else {
    w_imag = torch::Tensor();
  }
  gate = register_parameter("gate", torch::full({in}, 0.5));
}

void NPUImpl::pretty_print(std::ostream& stream) const {
  stream << (real ? "nalu::RealNPU" : "nalu::NPU") << "(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ", epsilon=" << options.epsilon()
         << (options.improved() ? ", improved" : "") << ")";
}

torch::Tensor NPUImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), real ? "real-npu" : "npu");
  // Heim et al.'s gate is the parameter clamped into [0, 1] in the forward pass; out there it
  // passes no gradient, so a gate pushed past 0 or 1 stays shut or open.
  return functional::npu(input, w_real, w_imag, gate.clamp(0.0, 1.0), options.epsilon());
}

torch::Tensor NPUImpl::regularization_loss(double scale) const {
  if (options.improved()) {
    // Towards exponents -1 and 1 (0 is left to the gate) and gates 0 and 1.
    const auto towards_one = (1 - w_real.abs()).abs().mean();
    const auto gate_term = torch::min(gate.abs(), (1 - gate).abs()).mean();
    return scale * (towards_one + gate_term);
  }
  auto total = w_real.abs().sum() + gate.abs().sum();
  int64_t count = w_real.numel() + gate.numel();
  if (w_imag.defined()) {
    total = total + w_imag.abs().sum();
    count += w_imag.numel();
  }
  return scale * total / static_cast<double>(count);
}

double NPUImpl::sparsity_error() const {
  torch::NoGradGuard no_grad;
  const auto g = gate.clamp(0.0, 1.0);
  double error = std::max(detail::distance_to_integer(w_real),
                          torch::min(g, 1 - g).abs().max().item<double>());
  if (w_imag.defined())
    error = std::max(error, w_imag.abs().max().item<double>());
  return error;
}

Formula NPUImpl::formula() const {
  // With the gate rounded to 0 or 1, W_im to 0 and W_re to integers, an input whose gate is 0
  // contributes the factor 1 and one whose gate is 1 the factor
  //   (|x_i| + eps)^W_ji · cos(pi W_ji [x_i < 0]),
  // and cos(pi sum_i k_i) = prod_i cos(pi k_i) for integers k_i. Without eps that factor is
  // exactly x_i^W_ji (a negative x_i to an odd power keeps its sign), which is how it reads;
  // with a non-negligible eps it is written out as it stands, the cosine of odd W only.
  const int out = checked_narrow<int>(options.out_features(), "formula: output size");
  const int in = checked_narrow<int>(options.in_features(), "formula: input size");
  Formula formula;
  const auto weight = detail::to_vector(w_real);
  const auto g = detail::to_vector(gate.clamp(0.0, 1.0));
  std::vector<bool> read(in);
  for (int i = 0; i < in; ++i) {
    const double rounded = std::round(g[i]);
    add_rounding_error(formula.max_rounding_error, std::abs(g[i] - rounded));
    read[i] = rounded != 0.0;
  }
  const bool with_epsilon = options.epsilon() > kNegligibleEpsilon;
  for (int j = 0; j < out; ++j) {
    std::vector<std::pair<double, ExprPtr>> factors, phase;
    for (int i = 0; i < in; ++i) {
      const double w = weight[static_cast<size_t>(j) * in + i];
      const double rounded = std::round(w);
      add_rounding_error(formula.max_rounding_error, std::abs(w - rounded));
      if (!read[i] || rounded == 0.0)
        continue;
      if (!with_epsilon) {
        factors.emplace_back(rounded, input_expr(i));
        continue;
      }
      factors.emplace_back(rounded, sum_expr({{1.0, abs_expr(input_expr(i))},
                                              {1.0, constant_expr(options.epsilon())}}));
      if (std::fmod(std::abs(rounded), 2.0) == 1.0)
        phase.emplace_back(1.0, negative_expr(input_expr(i)));
    }
    if (!phase.empty())
      factors.emplace_back(1.0, cos_pi_expr(sum_expr(std::move(phase))));
    formula.outputs.push_back(product_expr(std::move(factors)));
  }
  if (w_imag.defined()) {
    torch::NoGradGuard no_grad;
    add_rounding_error(formula.max_rounding_error, w_imag.abs().max().item<double>());
  }
  return formula;
}

void NPUImpl::after_optimizer_step() {
  // The improved Real NPU clamps the parameters themselves (its authors' --npu-clip wg).
  if (!options.improved())
    return;
  torch::NoGradGuard no_grad;
  gate.clamp_(0.0, 1.0);
  w_real.clamp_(-1.0, 1.0);
}

RegularizerSchedule NPUImpl::default_regularizer() const {
  // The improved Real NPU's ramp: weight 1 over steps 50,000-75,000 of its authors' 10^5-step
  // runs, written for kReferenceIterations like every default.
  if (options.improved())
    return {1.0, 2'500'000, 3'750'000};
  // The plain NPUs' L1 term, beta * sum|p| with beta 10^-9 at the start, tenfold every 10^4
  // steps, 10^-7 from step 2 * 10^4 of 10^5 on (Mistry, Hare & Farrahi's runs of Heim et al.'s
  // units); regularization_loss takes the mean, so the sum's beta is scaled by the count.
  double count = static_cast<double>(w_real.numel() + gate.numel());
  if (w_imag.defined())
    count += static_cast<double>(w_imag.numel());
  RegularizerSchedule schedule{1e-7 * count, 0, 1'000'000};
  schedule.tenfold_every = 500'000;
  return schedule;
}

std::shared_ptr<torch::nn::Module> RealNPUImpl::clone(
    const torch::optional<torch::Device>& device) const {
  // Deep-copy as an NPUImpl, then take over its (already independent) parameters.
  const auto copy = std::dynamic_pointer_cast<NPUImpl>(NPUImpl::clone(device));
  return std::shared_ptr<RealNPUImpl>(new RealNPUImpl(*copy));
}

}  // namespace nalu

// iNALU (Schlor, Ring & Hotho 2020).
#include "nalu/units/inalu.h"

#include <torch/torch.h>

#include <cmath>

#include "nalu/limits.h"
#include "nalu/units/nac.h"
#include "nalu/units/nmu.h"

namespace nalu {

namespace functional {

torch::Tensor inalu(const torch::Tensor& input, const torch::Tensor& w_add,
                    const torch::Tensor& w_mul, const torch::Tensor& gate, double epsilon,
                    double omega) {
  const auto additive = torch::matmul(input, w_add.t());
  // Clip |x| from below before the log and the exponent from above before exp.
  const auto log_input = torch::log(torch::clamp_min(input.abs(), epsilon));
  const auto magnitude = torch::exp(torch::clamp_max(torch::matmul(log_input, w_mul.t()), omega));
  // Sign of the product: an NMU over sign(x) with weights |W_m|, so inputs the path ignores
  // (W ~ 0) do not flip it.
  const auto sign = nmu(torch::sign(input), w_mul.abs());
  const auto g = torch::sigmoid(gate);
  return g * additive + (1 - g) * magnitude * sign;
}

}  // namespace functional

INALUImpl::INALUImpl(const INALUOptions& options_) : options(options_) {
  detail::check_sizes(options.in_features(), options.out_features(), "inalu");
  TORCH_CHECK(options.epsilon() > 0, "inalu: epsilon must be > 0, got ", options.epsilon());
  TORCH_CHECK(options.regularizer_threshold() > 0, "inalu: regularizer_threshold must be > 0, got ",
              options.regularizer_threshold());
  reset();
}

void INALUImpl::reset() {
  const auto out = options.out_features();
  const auto in = options.in_features();
  w_hat_add = register_parameter("w_hat_add", torch::empty({out, in}));
  m_hat_add = register_parameter("m_hat_add", torch::empty({out, in}));
  w_hat_mul = register_parameter("w_hat_mul", torch::empty({out, in}));
  m_hat_mul = register_parameter("m_hat_mul", torch::empty({out, in}));
  gate = register_parameter("gate", torch::empty({out}));
  reinitialize();
}

void INALUImpl::reinitialize(c10::optional<torch::Generator> generator) {
  // The authors' values: means 0.88 (W_hat), 0.5 (M_hat), 0 (gate); stddev 0.2.
  torch::NoGradGuard no_grad;
  w_hat_add.normal_(0.88, 0.2, generator);
  m_hat_add.normal_(0.5, 0.2, generator);
  w_hat_mul.normal_(0.88, 0.2, generator);
  m_hat_mul.normal_(0.5, 0.2, generator);
  gate.normal_(0.0, 0.2, generator);
}

void INALUImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::INALU(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ", epsilon=" << options.epsilon()
         << ", omega=" << options.omega()
         << ", regularizer_threshold=" << options.regularizer_threshold() << ")";
}

torch::Tensor INALUImpl::additive_weight() const {
  return functional::nac_weight(w_hat_add, m_hat_add);
}

torch::Tensor INALUImpl::multiplicative_weight() const {
  return functional::nac_weight(w_hat_mul, m_hat_mul);
}

torch::Tensor INALUImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "inalu");
  return functional::inalu(input, additive_weight(), multiplicative_weight(), gate,
                           options.epsilon(), options.omega());
}

torch::Tensor INALUImpl::regularization_loss(double scale) const {
  // mean over all parameters of max(t - |w|, 0) / t: pushes weights to saturate.
  const double t = options.regularizer_threshold();
  torch::Tensor total = torch::zeros({});
  int64_t count = 0;
  for (const auto& p : {w_hat_add, m_hat_add, w_hat_mul, m_hat_mul, gate}) {
    total = total + torch::clamp_min(t - p.abs(), 0.0).sum() / t;
    count += p.numel();
  }
  return scale * total / static_cast<double>(count);
}

double INALUImpl::sparsity_error() const {
  torch::NoGradGuard no_grad;
  const auto g = torch::sigmoid(gate);
  const double gate_error = torch::min(g, 1 - g).max().item<double>();
  return std::max({detail::sparsity_error_signed(additive_weight()),
                   detail::sparsity_error_signed(multiplicative_weight()), gate_error});
}

Formula INALUImpl::formula() const {
  const int out = checked_narrow<int>(options.out_features(), "formula: output size");
  const int in = checked_narrow<int>(options.in_features(), "formula: input size");
  Formula formula;
  const auto additive =
      read_additive(detail::to_vector(additive_weight()), out, in, formula.max_rounding_error);
  // The multiplicative path as computed: exp(min(W log(max(|x|, eps)), omega)) =
  // min(prod_i max(|x_i|, eps)^W_ji, exp(omega)), times the NMU over sign(x) with weights |W|,
  // which for |W| rounded to 0 or 1 is the product of sign(x_i) over the inputs the path reads.
  const auto w_mul = detail::to_vector(multiplicative_weight());
  const auto g = detail::to_vector(torch::sigmoid(gate));
  for (int j = 0; j < out; ++j) {
    std::vector<std::pair<double, ExprPtr>> magnitude, sign;
    for (int i = 0; i < in; ++i) {
      const double w = w_mul[static_cast<size_t>(j) * in + i];
      const double rounded = std::round(w);
      add_rounding_error(formula.max_rounding_error, std::abs(w - rounded));
      if (rounded == 0.0)
        continue;
      ExprPtr clipped = abs_expr(input_expr(i));
      if (options.epsilon() > kNegligibleEpsilon)
        clipped = max_expr(clipped, constant_expr(options.epsilon()));
      magnitude.emplace_back(rounded, clipped);
      sign.emplace_back(1.0, sign_expr(input_expr(i)));
    }
    std::vector<std::pair<double, ExprPtr>> factors = {
        {1.0,
         min_expr(product_expr(std::move(magnitude)), exp_expr(constant_expr(options.omega())))}};
    factors.insert(factors.end(), sign.begin(), sign.end());
    // The gate does not depend on the input: a weight, rounded to 0 or 1 like the others.
    const double rounded = std::round(g[j]);
    add_rounding_error(formula.max_rounding_error, std::abs(g[j] - rounded));
    formula.outputs.push_back(
        gate_expr(constant_expr(rounded), additive[j], product_expr(std::move(factors))));
  }
  return formula;
}

}  // namespace nalu

// NALU: gated additive and log-space NAC paths.
#include "nalu/units/nalu.h"

#include <torch/torch.h>

#include "nalu/limits.h"
#include "nalu/units/nac_mul.h"

namespace nalu {

namespace functional {

torch::Tensor nalu(const torch::Tensor& input, const torch::Tensor& w_add,
                   const torch::Tensor& w_mul, const torch::Tensor& gate_weight,
                   const torch::Tensor& gate_bias, double epsilon) {
  // a = W_add x;  m = exp(W_mul log(|x| + eps));  g = sigmoid(G x [+ b])
  const auto additive = torch::matmul(input, w_add.t());
  const auto multiplicative = nac_mul(input, w_mul, epsilon);
  auto gate_logits = torch::matmul(input, gate_weight.t());
  if (gate_bias.defined())
    gate_logits = gate_logits + gate_bias;
  const auto gate = torch::sigmoid(gate_logits);
  return gate * additive + (1 - gate) * multiplicative;
}

}  // namespace functional

NALUImpl::NALUImpl(const NALUOptions& options_) : options(options_) {
  detail::check_sizes(options.in_features(), options.out_features(), "nalu");
  TORCH_CHECK(options.epsilon() >= 0, "nalu: epsilon must be >= 0, got ", options.epsilon());
  reset();
}

void NALUImpl::reset() {
  const auto out = options.out_features();
  const auto in = options.in_features();
  w_hat = register_parameter("w_hat", torch::empty({out, in}));
  m_hat = register_parameter("m_hat", torch::empty({out, in}));
  detail::initialize(w_hat, options.init());
  detail::initialize(m_hat, options.init());
  if (!options.shared_weights()) {
    w_hat_mul = register_parameter("w_hat_mul", torch::empty({out, in}));
    m_hat_mul = register_parameter("m_hat_mul", torch::empty({out, in}));
    detail::initialize(w_hat_mul, options.init());
    detail::initialize(m_hat_mul, options.init());
  } else {
    w_hat_mul = m_hat_mul = torch::Tensor();
  }
  gate_weight = register_parameter("gate_weight", torch::empty({out, in}));
  // Madsen & Johansen start the gate Glorot uniform (gain 1, sigmoid's) beside the NAC's start.
  detail::initialize(gate_weight,
                     options.init() == Init::kReference ? Init::kXavierUniform : options.init());
  if (options.gate_bias()) {
    gate_bias = register_parameter("gate_bias", torch::zeros({out}));
  } else {
    gate_bias = torch::Tensor();
  }
}

void NALUImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::NALU(in_features=" << options.in_features()
         << ", out_features=" << options.out_features()
         << ", shared_weights=" << (options.shared_weights() ? "true" : "false")
         << ", gate_bias=" << (options.gate_bias() ? "true" : "false")
         << ", epsilon=" << options.epsilon() << ", init=" << init_name(options.init()) << ")";
}

torch::Tensor NALUImpl::additive_weight() const {
  return functional::nac_weight(w_hat, m_hat);
}

torch::Tensor NALUImpl::multiplicative_weight() const {
  return options.shared_weights() ? additive_weight()
                                  : functional::nac_weight(w_hat_mul, m_hat_mul);
}

torch::Tensor NALUImpl::gate(const torch::Tensor& input) const {
  auto logits = torch::matmul(input, gate_weight.t());
  if (gate_bias.defined())
    logits = logits + gate_bias;
  return torch::sigmoid(logits);
}

torch::Tensor NALUImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "nalu");
  const auto w_add = additive_weight();
  const auto w_mul = options.shared_weights() ? w_add : multiplicative_weight();
  return functional::nalu(input, w_add, w_mul, gate_weight, gate_bias, options.epsilon());
}

double NALUImpl::sparsity_error() const {
  double error = detail::sparsity_error_signed(additive_weight());
  if (!options.shared_weights()) {
    error = std::max(error, detail::sparsity_error_signed(multiplicative_weight()));
  }
  return error;
}

Formula NALUImpl::formula() const {
  // The gate depends on the input, so it is written out with its (unrounded) weights.
  const int out = checked_narrow<int>(options.out_features(), "formula: output size");
  const int in = checked_narrow<int>(options.in_features(), "formula: input size");
  Formula formula;
  const auto additive =
      read_additive(detail::to_vector(additive_weight()), out, in, formula.max_rounding_error);
  const auto multiplicative = read_log_space(detail::to_vector(multiplicative_weight()), out, in,
                                             formula.max_rounding_error, options.epsilon());
  const auto gate_w = detail::to_vector(gate_weight);
  const auto gate_b = gate_bias.defined() ? detail::to_vector(gate_bias) : std::vector<float>();
  for (int j = 0; j < out; ++j) {
    std::vector<std::pair<double, ExprPtr>> logits;
    for (int i = 0; i < in; ++i)
      logits.emplace_back(gate_w[j * in + i], input_expr(i));
    if (!gate_b.empty())
      logits.emplace_back(1.0, constant_expr(gate_b[j]));
    formula.outputs.push_back(
        gate_expr(sigmoid_expr(sum_expr(std::move(logits))), additive[j], multiplicative[j]));
  }
  return formula;
}

}  // namespace nalu

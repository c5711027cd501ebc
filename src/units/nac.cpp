// NAC and NAC-mul.
#include "nalu/units/nac.h"

#include <torch/torch.h>

#include "nalu/units/nac_mul.h"

namespace nalu {

namespace functional {

torch::Tensor nac_weight(const torch::Tensor& w_hat, const torch::Tensor& m_hat) {
  return torch::tanh(w_hat) * torch::sigmoid(m_hat);
}

torch::Tensor nac(const torch::Tensor& input, const torch::Tensor& w_hat,
                  const torch::Tensor& m_hat) {
  return torch::matmul(input, nac_weight(w_hat, m_hat).t());
}

torch::Tensor nac_mul(const torch::Tensor& input, const torch::Tensor& weight, double epsilon) {
  // Multiply in log space: exp(sum_i W_ji log(|x_i| + eps)).
  return torch::exp(torch::matmul(torch::log(input.abs() + epsilon), weight.t()));
}

}  // namespace functional

namespace {

void check_nac_options(const NACOptions& options, const char* unit) {
  detail::check_sizes(options.in_features(), options.out_features(), unit);
  TORCH_CHECK(options.epsilon() >= 0, unit, ": epsilon must be >= 0, got ", options.epsilon());
}

// Registers W_hat and M_hat [out, in] on `module` and initialises them.
void reset_nac_parameters(torch::nn::Module& module, const NACOptions& options,
                          torch::Tensor& w_hat, torch::Tensor& m_hat) {
  w_hat = module.register_parameter("w_hat",
                                    torch::empty({options.out_features(), options.in_features()}));
  m_hat = module.register_parameter("m_hat",
                                    torch::empty({options.out_features(), options.in_features()}));
  detail::initialize(w_hat, options.init());
  detail::initialize(m_hat, options.init());
}

void print_nac(std::ostream& stream, const char* name, const NACOptions& options) {
  stream << name << "(in_features=" << options.in_features()
         << ", out_features=" << options.out_features() << ", init=" << init_name(options.init());
}

}  // namespace

// ---- NAC ----

NACImpl::NACImpl(const NACOptions& options_) : options(options_) {
  check_nac_options(options, "nac");
  reset();
}

void NACImpl::reset() {
  reset_nac_parameters(*this, options, w_hat, m_hat);
}

void NACImpl::pretty_print(std::ostream& stream) const {
  print_nac(stream, "nalu::NAC", options);
  stream << ")";
}

torch::Tensor NACImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "nac");
  return functional::nac(input, w_hat, m_hat);
}

torch::Tensor NACImpl::weight() const {
  return functional::nac_weight(w_hat, m_hat);
}

double NACImpl::sparsity_error() const {
  return detail::sparsity_error_signed(weight());
}

Formula NACImpl::formula() const {
  Formula formula;
  formula.outputs = read_additive(detail::to_vector(weight()), options.out_features(),
                                  options.in_features(), formula.max_rounding_error);
  return formula;
}

// ---- NAC-mul ----

NACMulImpl::NACMulImpl(const NACOptions& options_) : options(options_) {
  check_nac_options(options, "nac-mul");
  reset();
}

void NACMulImpl::reset() {
  reset_nac_parameters(*this, options, w_hat, m_hat);
}

void NACMulImpl::pretty_print(std::ostream& stream) const {
  print_nac(stream, "nalu::NACMul", options);
  stream << ", epsilon=" << options.epsilon() << ")";
}

torch::Tensor NACMulImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "nac-mul");
  return functional::nac_mul(input, weight(), options.epsilon());
}

torch::Tensor NACMulImpl::weight() const {
  return functional::nac_weight(w_hat, m_hat);
}

double NACMulImpl::sparsity_error() const {
  return detail::sparsity_error_signed(weight());
}

Formula NACMulImpl::formula() const {
  // exp(W log(|x| + eps)) = prod_i (|x_i| + eps)^W_ji: the sign of x is lost, and so it reads.
  Formula formula;
  formula.outputs =
      read_log_space(detail::to_vector(weight()), options.out_features(), options.in_features(),
                     formula.max_rounding_error, options.epsilon());
  return formula;
}

}  // namespace nalu

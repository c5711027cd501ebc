// Linear and MLP baselines, and the activation functions the MLPs use.
#include "nalu/units/baselines.h"

#include <torch/torch.h>

#include <limits>

#include "nalu/error.h"
#include "nalu/strings.h"

namespace nalu {

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> kNames = {
      "none",       "elu",      "hardtanh", "leaky-relu", "log-sigmoid", "prelu",
      "relu",       "relu6",    "rrelu",    "selu",       "sigmoid",     "softplus",
      "softshrink", "softsign", "tanh",     "tanhshrink", "gelu",        "silu"};
  return kNames;
}

Activation parse_activation(const std::string& name) {
  return static_cast<Activation>(find_name(activation_names(), name, "activation"));
}

std::string activation_name(Activation activation) {
  return activation_names().at(static_cast<size_t>(activation));
}

torch::nn::AnyModule make_activation(Activation activation) {
  namespace nn = torch::nn;
  switch (activation) {
    case Activation::kNone:
      return nn::AnyModule(nn::Identity());
    case Activation::kELU:
      return nn::AnyModule(nn::ELU());
    case Activation::kHardtanh:
      return nn::AnyModule(nn::Hardtanh());
    case Activation::kLeakyReLU:
      return nn::AnyModule(nn::LeakyReLU());
    case Activation::kLogSigmoid:
      return nn::AnyModule(nn::LogSigmoid());
    case Activation::kPReLU:
      return nn::AnyModule(nn::PReLU());
    case Activation::kReLU:
      return nn::AnyModule(nn::ReLU());
    case Activation::kReLU6:
      return nn::AnyModule(nn::ReLU6());
    case Activation::kRReLU:
      return nn::AnyModule(nn::RReLU());
    case Activation::kSELU:
      return nn::AnyModule(nn::SELU());
    case Activation::kSigmoid:
      return nn::AnyModule(nn::Sigmoid());
    case Activation::kSoftplus:
      return nn::AnyModule(nn::Softplus());
    case Activation::kSoftshrink:
      return nn::AnyModule(nn::Softshrink());
    case Activation::kSoftsign:
      return nn::AnyModule(nn::Softsign());
    case Activation::kTanh:
      return nn::AnyModule(nn::Tanh());
    case Activation::kTanhshrink:
      return nn::AnyModule(nn::Tanhshrink());
    case Activation::kGELU:
      return nn::AnyModule(nn::GELU());
    case Activation::kSiLU:
      return nn::AnyModule(nn::SiLU());
  }
  throw Error("unknown activation");
}

// ---- Linear ----

LinearImpl::LinearImpl(const LinearOptions& options_) : options(options_) {
  detail::check_sizes(options.in_features(), options.out_features(), "linear");
  reset();
}

void LinearImpl::reset() {
  const bool reference = options.init() == LinearInit::kReference;
  weight =
      register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  if (reference)
    torch::nn::init::xavier_uniform_(weight);
  else
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (options.bias()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
    bias = register_parameter("bias", torch::empty({options.out_features()}));
    torch::NoGradGuard no_grad;
    if (reference)
      bias.zero_();
    else
      bias.uniform_(-bound, bound);
  } else {
    bias = torch::Tensor();
  }
}

void LinearImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::Linear(in_features=" << options.in_features()
         << ", out_features=" << options.out_features()
         << ", bias=" << (options.bias() ? "true" : "false")
         << ", init=" << (options.init() == LinearInit::kReference ? "reference" : "torch") << ")";
}

torch::Tensor LinearImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "linear");
  return torch::nn::functional::linear(input, weight, bias);
}

double LinearImpl::sparsity_error() const {
  return detail::sparsity_error_signed(weight);
}

Formula LinearImpl::formula() const {
  Formula formula;
  const auto bias_values = bias.defined() ? detail::to_vector(bias) : std::vector<float>();
  formula.outputs =
      read_additive(detail::to_vector(weight), options.out_features(), options.in_features(),
                    formula.max_rounding_error, bias.defined() ? &bias_values : nullptr);
  return formula;
}

// ---- MLP ----

MLPImpl::MLPImpl(const MLPOptions& options_) : options(options_) {
  detail::check_sizes(options.in_features(), options.out_features(), "mlp");
  for (auto size : options.hidden()) {
    TORCH_CHECK(size > 0, "mlp: hidden sizes must be positive, got ", size);
  }
  reset();
}

void MLPImpl::reset() {
  layers = torch::nn::Sequential();
  int64_t in = options.in_features();
  for (auto size : options.hidden()) {
    layers->push_back(torch::nn::Linear(torch::nn::LinearOptions(in, size).bias(options.bias())));
    layers->push_back(make_activation(options.activation()));
    in = size;
  }
  layers->push_back(
      torch::nn::Linear(torch::nn::LinearOptions(in, options.out_features()).bias(options.bias())));
  layers = register_module("layers", layers);
}

void MLPImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::MLP(in_features=" << options.in_features() << ", hidden=[";
  for (size_t i = 0; i < options.hidden().size(); ++i) {
    stream << (i ? ", " : "") << options.hidden()[i];
  }
  stream << "], out_features=" << options.out_features()
         << ", activation=" << activation_name(options.activation())
         << ", bias=" << (options.bias() ? "true" : "false") << ")";
}

torch::Tensor MLPImpl::forward(const torch::Tensor& input) {
  detail::check_input(input, options.in_features(), "mlp");
  return layers->forward(input);
}

double MLPImpl::sparsity_error() const {
  return std::numeric_limits<double>::quiet_NaN();
}

Formula MLPImpl::formula() const {
  Formula formula;
  for (int64_t j = 0; j < options.out_features(); ++j) {
    formula.outputs.push_back(opaque_expr("mlp_" + std::to_string(j) + "(x)"));
  }
  formula.max_rounding_error = std::numeric_limits<double>::infinity();
  return formula;
}

}  // namespace nalu

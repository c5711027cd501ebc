// Many small stacks packed into one module (nalu/models/batched.h).
#include "nalu/models/batched.h"

#include <torch/torch.h>

#include <sstream>

#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/units/baselines.h"
#include "nalu/units/nac.h"

namespace nalu {

namespace {

// What must agree between models for them to be packed: layer kinds, activations and
// parameter shapes.
std::string architecture(const StackImpl& model) {
  std::ostringstream text;
  for (const auto& layer : model.layers()) {
    text << layer->unit_name();
    if (const auto* mlp = dynamic_cast<const MLPImpl*>(&layer->as_module()))
      text << "(" << activation_name(mlp->options.activation()) << ")";
    text << ";";
  }
  for (const auto& parameter : model.parameters())
    text << parameter.sizes() << ";";
  return text.str();
}

}  // namespace

BatchedStackImpl::BatchedStackImpl(const std::vector<Stack>& models, uint64_t seed)
    : generator_(make_generator(seed)) {
  check(!models.empty(), "batched stack: needs at least one model");
  const StackImpl& first = *models.front();
  const std::string signature = architecture(first);
  for (size_t m = 1; m < models.size(); ++m) {
    check(architecture(*models[m]) == signature,
          "batched stack: model " + std::to_string(m) + " differs in architecture from model 0");
  }
  models_ = static_cast<int64_t>(models.size());
  in_features_ = first.in_features();
  out_features_ = first.out_features();

  const auto reference = first.parameters();
  auto index_of = [&](const torch::Tensor& parameter) {
    for (size_t i = 0; i < reference.size(); ++i) {
      if (reference[i].unsafeGetTensorImpl() == parameter.unsafeGetTensorImpl())
        return static_cast<int64_t>(i);
    }
    throw Error("batched stack: a layer's parameter is not among the model's parameters");
  };
  auto affine = [&](const torch::Tensor& weight, const torch::Tensor& bias) {
    Step step;
    step.kind = Step::Kind::kAffine;
    step.weight = index_of(weight);
    step.other = bias.defined() ? index_of(bias) : -1;
    steps_.push_back(step);
  };
  for (const auto& layer : first.layers()) {
    const auto& module = layer->as_module();
    if (const auto* nac = dynamic_cast<const NACImpl*>(&module)) {
      Step step;
      step.kind = Step::Kind::kNac;
      step.weight = index_of(nac->w_hat);
      step.other = index_of(nac->m_hat);
      steps_.push_back(step);
    } else if (const auto* linear = dynamic_cast<const LinearImpl*>(&module)) {
      affine(linear->weight, linear->bias);
    } else if (const auto* mlp = dynamic_cast<const MLPImpl*>(&module)) {
      for (const auto& child : mlp->layers->children()) {
        if (const auto* dense = dynamic_cast<const torch::nn::LinearImpl*>(child.get())) {
          affine(dense->weight, dense->bias);
          continue;
        }
        Step step;
        step.kind = Step::Kind::kActivation;
        step.activation = mlp->options.activation();
        if (const auto* prelu = dynamic_cast<const torch::nn::PReLUImpl*>(child.get())) {
          step.weight = index_of(prelu->weight);
        } else {
          // A fresh copy of the MLP's own activation, in evaluation mode (RReLU's fixed slope;
          // its training-mode noise is drawn in forward from generator_).
          step.module = make_activation(step.activation);
          step.module.ptr()->eval();
        }
        steps_.push_back(step);
      }
    } else {
      throw Error("batched stack: no batched form of layer '" + layer->unit_name() +
                  "' (supported: nac, linear, mlp)");
    }
  }

  // Packed parameters [M, ...], registered in the models' parameters() order.
  for (size_t i = 0; i < reference.size(); ++i) {
    std::vector<torch::Tensor> copies;
    for (const auto& model : models)
      copies.push_back(model->parameters()[i].detach());
    packed_.push_back(register_parameter("p" + std::to_string(i), torch::stack(copies).clone()));
  }
}

torch::Tensor BatchedStackImpl::forward(const torch::Tensor& inputs) {
  TORCH_CHECK(inputs.defined() && inputs.dim() == 3 && inputs.size(0) == models_ &&
                  inputs.size(2) == in_features_,
              "batched stack: expected inputs [", models_, ", batch, ", in_features_, "], got ",
              inputs.defined() ? inputs.sizes() : at::IntArrayRef{});
  torch::Tensor x = inputs;
  for (auto& step : steps_) {
    switch (step.kind) {
      case Step::Kind::kNac:
        x = torch::bmm(
            x, functional::nac_weight(packed_[step.weight], packed_[step.other]).transpose(1, 2));
        break;
      case Step::Kind::kAffine:
        x = step.other >= 0 ? torch::baddbmm(packed_[step.other].unsqueeze(1), x,
                                             packed_[step.weight].transpose(1, 2))
                            : torch::bmm(x, packed_[step.weight].transpose(1, 2));
        break;
      case Step::Kind::kActivation:
        if (step.weight >= 0) {  // PReLU: one slope per model
          const auto slope = packed_[step.weight].reshape({models_, 1, 1});
          x = torch::where(x > 0, x, slope * x);
        } else if (step.activation == Activation::kRReLU && is_training()) {
          // As torch::rrelu in training: a slope drawn from U[lower, upper] per element.
          const auto& options = step.module.get<torch::nn::RReLU>()->options;
          const auto slopes =
              torch::empty_like(x).uniform_(options.lower(), options.upper(), generator_);
          x = torch::where(x > 0, x, x * slopes);
        } else {
          x = step.module.forward(x);
        }
        break;
    }
  }
  return x;
}

void BatchedStackImpl::unpack(int64_t m, StackImpl& model) const {
  check(m >= 0 && m < models_, "batched stack: model " + std::to_string(m) + " is not in [0, " +
                                   std::to_string(models_) + ")");
  auto parameters = model.parameters();
  check(parameters.size() == packed_.size(),
        "batched stack: the target model has " + std::to_string(parameters.size()) +
            " parameters, the packed ones " + std::to_string(packed_.size()));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < packed_.size(); ++i) {
    check(parameters[i].sizes() == packed_[i][m].sizes(),
          "batched stack: the target model's parameter " + std::to_string(i) +
              " has another shape than the packed one");
    parameters[i].copy_(packed_[i][m]);
  }
}

}  // namespace nalu

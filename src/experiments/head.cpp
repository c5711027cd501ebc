// Arithmetic heads on any backbone (nalu/models/head.h). Kept with the experiments' sources,
// which are their first users; the layers themselves come from make_stack.
#include "nalu/models/head.h"

#include <torch/torch.h>

#include "nalu/error.h"
#include "nalu/strings.h"
#include "tensor_text.h"

namespace nalu {

using detail::shape_text;

// ---- ArithmeticHead ----

ArithmeticHeadImpl::ArithmeticHeadImpl(ArithmeticHeadOptions options_)
    : options(std::move(options_)) {
  reset();
}

void ArithmeticHeadImpl::reset() {
  const auto& o = options;
  check(o.in_features() > 0,
        "head: in_features must be positive, got " + std::to_string(o.in_features()));
  check(o.outputs() > 0, "head: outputs must be positive, got " + std::to_string(o.outputs()));
  check(o.task() != HeadTask::kClassification || o.outputs() >= 2,
        "head: classification needs at least 2 classes, got " + std::to_string(o.outputs()));
  std::vector<int64_t> sizes{o.in_features()};
  sizes.insert(sizes.end(), o.hidden().begin(), o.hidden().end());
  sizes.push_back(o.outputs());
  // make_stack checks the sizes, the unit names and their number; the head registers the
  // stack's layers itself so that clone() copies them as it copies any Cloneable child.
  const Stack stack = make_stack(o.units(), sizes, o.settings());
  layers_ = stack->layers();
  for (size_t l = 0; l < layers_.size(); ++l) {
    register_module("layer" + std::to_string(l),
                    std::shared_ptr<torch::nn::Module>(layers_[l], &layers_[l]->as_module()));
  }
}

void ArithmeticHeadImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::ArithmeticHead(in_features=" << options.in_features() << ", hidden=[";
  for (size_t i = 0; i < options.hidden().size(); ++i)
    stream << (i ? ", " : "") << options.hidden()[i];
  stream << "], outputs=" << options.outputs() << ", units=" << join(options.units(), ",")
         << ", task="
         << (options.task() == HeadTask::kClassification ? "classification" : "regression") << ")";
}

torch::Tensor ArithmeticHeadImpl::forward(const torch::Tensor& features) {
  check(features.defined() && features.dim() == 2 && features.size(1) == options.in_features(),
        "head: expected features [batch, " + std::to_string(options.in_features()) + "], got " +
            shape_text(features));
  torch::Tensor x = features;
  for (auto& layer : layers_)
    x = layer->forward(x);
  return x;
}

torch::Tensor ArithmeticHeadImpl::loss(const torch::Tensor& output,
                                       const torch::Tensor& target) const {
  check(output.defined() && output.dim() == 2 && output.size(1) == options.outputs(),
        "head: expected outputs [batch, " + std::to_string(options.outputs()) + "], got " +
            shape_text(output));
  if (options.task() == HeadTask::kRegression) {
    check(target.defined() && target.sizes() == output.sizes() && target.is_floating_point(),
          "head: regression needs a float target shaped as the output " + shape_text(output) +
              ", got " + shape_text(target));
    return torch::mse_loss(output, target);
  }
  check(target.defined() && target.dim() == 1 && target.size(0) == output.size(0) &&
            target.scalar_type() == torch::kLong,
        "head: classification needs int64 class indices [" + std::to_string(output.size(0)) +
            "], got " + shape_text(target));
  if (target.numel() > 0) {
    const auto low = target.min().item<int64_t>();
    const auto high = target.max().item<int64_t>();
    check(low >= 0 && high < options.outputs(), "head: class indices must be in [0, " +
                                                    std::to_string(options.outputs()) + "), got " +
                                                    std::to_string(low < 0 ? low : high));
  }
  return torch::cross_entropy_loss(output, target);
}

torch::Tensor ArithmeticHeadImpl::predict(const torch::Tensor& output) const {
  if (options.task() == HeadTask::kRegression)
    return output;
  return output.argmax(1);
}

// ---- HeadedModel ----

HeadedModelImpl::HeadedModelImpl(torch::nn::Sequential backbone, ArithmeticHeadOptions options)
    : HeadedModelImpl(std::move(backbone), ArithmeticHead(std::move(options))) {}

HeadedModelImpl::HeadedModelImpl(torch::nn::AnyModule backbone, ArithmeticHeadOptions options)
    : HeadedModelImpl(std::move(backbone), ArithmeticHead(std::move(options))) {}

HeadedModelImpl::HeadedModelImpl(torch::nn::Sequential backbone, ArithmeticHead head_)
    : sequential_(std::move(backbone)) {
  check(!sequential_.is_empty(), "head: the backbone is empty");
  attach(sequential_.ptr(), std::move(head_));
}

HeadedModelImpl::HeadedModelImpl(torch::nn::AnyModule backbone, ArithmeticHead head_)
    : any_(std::move(backbone)) {
  check(!any_.is_empty(), "head: the backbone is empty");
  attach(any_.ptr(), std::move(head_));
}

void HeadedModelImpl::attach(std::shared_ptr<torch::nn::Module> backbone, ArithmeticHead head_) {
  check(!head_.is_empty(), "head: the head is empty");
  register_module("backbone", std::move(backbone));
  head = register_module("head", std::move(head_));
}

std::shared_ptr<torch::nn::Module> HeadedModelImpl::backbone() const {
  return sequential_ ? sequential_.ptr() : any_.ptr();
}

torch::Tensor HeadedModelImpl::features(const torch::Tensor& input) {
  torch::Tensor output = sequential_ ? sequential_->forward(input) : any_.forward(input);
  check(output.defined() && output.dim() >= 1,
        "head: the backbone returned " + shape_text(output) + ", expected [batch, features]");
  if (output.dim() != 2)
    output = output.dim() == 1 ? output.unsqueeze(1) : output.flatten(1);
  check(output.size(1) == head->options.in_features(),
        "head: the backbone gives " + std::to_string(output.size(1)) +
            " features per example but the head takes " +
            std::to_string(head->options.in_features()));
  return output;
}

torch::Tensor HeadedModelImpl::forward(const torch::Tensor& input) {
  return head->forward(features(input));
}

std::shared_ptr<torch::nn::Module> HeadedModelImpl::clone(
    const torch::optional<torch::Device>& device) const {
  ArithmeticHead head_copy(std::dynamic_pointer_cast<ArithmeticHeadImpl>(head->clone(device)));
  if (sequential_) {
    torch::nn::Sequential backbone_copy(
        std::dynamic_pointer_cast<torch::nn::SequentialImpl>(sequential_->clone(device)));
    return std::make_shared<HeadedModelImpl>(backbone_copy, head_copy);
  }
  return std::make_shared<HeadedModelImpl>(any_.clone(device), head_copy);
}

void HeadedModelImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::HeadedModel";
}

}  // namespace nalu

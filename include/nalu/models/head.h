// Arithmetic heads on any backbone: what `BuildHead(backbone, ...)` does in the PyTorch
// libraries. A backbone (a CNN, an MLP, any module from a tensor to features) feeds a head of
// hidden sizes of the user's choice built from nalu units (NAC, NALU, NAU, ..., or a plain
// Linear) that regresses n outputs or gives logits over n classes. The head's units stay
// reachable through UnitOwner, so a training loop regularises and clamps them as any unit.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

#include "nalu/units/stack.h"
#include "nalu/units/unit_owner.h"

namespace nalu {

/// What a head's outputs mean: n regressed values (loss MSE) or logits over n classes (loss
/// cross-entropy, prediction the arg max).
enum class HeadTask { kRegression, kClassification };

/// Options for ArithmeticHead and HeadedModel.
///
/// Example:
/// ```
/// // 128 backbone features -> NAC 128->16 -> NAC 16->1: one regressed value.
/// auto options = nalu::ArithmeticHeadOptions(128, 1).hidden({16}).units({"nac"});
/// // 64 features -> Linear 64->32 -> NALU 32->10: logits over 10 classes.
/// auto classes = nalu::ArithmeticHeadOptions(64, 10)
///                    .hidden({32})
///                    .units({"linear", "nalu"})
///                    .task(nalu::HeadTask::kClassification);
/// ```
struct ArithmeticHeadOptions {
  ArithmeticHeadOptions(int64_t in_features, int64_t outputs)
      : in_features_(in_features), outputs_(outputs) {}
  /// Features per example the head reads (the backbone's feature size).
  TORCH_ARG(int64_t, in_features);
  /// Regressed values, or classes (one logit each).
  TORCH_ARG(int64_t, outputs);
  /// Sizes of the hidden layers; empty: one layer in_features -> outputs.
  TORCH_ARG(std::vector<int64_t>, hidden) = {};
  /// Registry unit of every layer (one name) or of each layer (one name per layer), as
  /// make_stack takes them: "nac", "nalu", "nau", "nmu", ..., "linear" (a plain affine layer);
  /// "mlp" alone builds one MLP whose hidden sizes are `hidden`.
  TORCH_ARG(std::vector<std::string>, units) = std::vector<std::string>{"nac"};
  TORCH_ARG(HeadTask, task) = HeadTask::kRegression;
  /// Passed to make_unit (initialisation, epsilon, bias of linear layers, MLP activation).
  TORCH_ARG(UnitSettings, settings);
};

/// A stack of units features:[B,F] -> [B,outputs], with the loss and prediction of its task.
/// Its layers are registered as "layer0", "layer1", ...; units() lists them.
///
/// Example:
/// ```
/// nalu::ArithmeticHead head(nalu::ArithmeticHeadOptions(32, 1).hidden({8}).units({"nau"}));
/// torch::Tensor y = head(torch::rand({4, 32}));  // [4, 1]
/// ```
class ArithmeticHeadImpl : public torch::nn::Cloneable<ArithmeticHeadImpl>, public UnitOwner {
 public:
  explicit ArithmeticHeadImpl(ArithmeticHeadOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// features:[B,in_features] -> [B,outputs] (values or logits).
  torch::Tensor forward(const torch::Tensor& features);
  /// Regression: MSE against a float target shaped as `output`. Classification: cross-entropy
  /// against class indices [B] (int64, in [0, outputs)). Throws nalu::Error for a target that
  /// does not fit.
  torch::Tensor loss(const torch::Tensor& output, const torch::Tensor& target) const;
  /// Regression: `output` itself. Classification: the arg max class [B] (int64).
  torch::Tensor predict(const torch::Tensor& output) const;

  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override { return layers_; }

  ArithmeticHeadOptions options;

 private:
  std::vector<std::shared_ptr<ArithmeticUnit>> layers_;
};
TORCH_MODULE(ArithmeticHead);

/// A backbone followed by an ArithmeticHead: x -> head(flatten(backbone(x))). The backbone is a
/// torch::nn::Sequential or any module an AnyModule holds (one tensor in, one out; AnyModule
/// cannot hold a Sequential, whose forward is a template, hence the two overloads). Outputs
/// with more than two dimensions are flattened from dimension 1 and must have
/// head.in_features values per example. Gradients flow through the head into the backbone;
/// units() are the head's.
///
/// Example:
/// ```
/// torch::nn::Sequential cnn(torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 5)),
///                           torch::nn::ReLU(), torch::nn::MaxPool2d(4));  // 28x28 -> 8x6x6
/// nalu::HeadedModel model(cnn, nalu::ArithmeticHeadOptions(8 * 6 * 6, 10)
///                                  .hidden({32})
///                                  .units({"linear", "nac"})
///                                  .task(nalu::HeadTask::kClassification));
/// torch::Tensor logits = model(images);               // [B, 10]
/// torch::Tensor loss = model->loss(logits, labels);   // cross-entropy
/// loss.backward(); optimizer.step();
/// model->after_optimizer_step();                      // projections of the head's units
/// ```
class HeadedModelImpl : public torch::nn::Module, public UnitOwner {
 public:
  /// Puts a new head built from `head_options` on `backbone` (registered as "backbone").
  HeadedModelImpl(torch::nn::Sequential backbone, ArithmeticHeadOptions head_options);
  HeadedModelImpl(torch::nn::AnyModule backbone, ArithmeticHeadOptions head_options);
  /// Puts an existing `head` on `backbone`.
  HeadedModelImpl(torch::nn::Sequential backbone, ArithmeticHead head);
  HeadedModelImpl(torch::nn::AnyModule backbone, ArithmeticHead head);

  /// x -> [B, outputs].
  torch::Tensor forward(const torch::Tensor& input);
  /// The backbone's output as [B, head.in_features]; throws nalu::Error when its size does not
  /// match the head.
  torch::Tensor features(const torch::Tensor& input);
  torch::Tensor loss(const torch::Tensor& output, const torch::Tensor& target) const {
    return head->loss(output, target);
  }
  torch::Tensor predict(const torch::Tensor& output) const { return head->predict(output); }
  /// The backbone module.
  std::shared_ptr<torch::nn::Module> backbone() const;

  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override { return head->units(); }
  /// A deep copy: backbone and head with their current weights.
  std::shared_ptr<torch::nn::Module> clone(
      const torch::optional<torch::Device>& device = torch::nullopt) const override;
  void pretty_print(std::ostream& stream) const override;

  ArithmeticHead head{nullptr};

 private:
  void attach(std::shared_ptr<torch::nn::Module> backbone, ArithmeticHead head);

  torch::nn::Sequential sequential_{nullptr};  // the backbone, when a Sequential
  torch::nn::AnyModule any_;                   // the backbone, otherwise
};
TORCH_MODULE(HeadedModel);

}  // namespace nalu

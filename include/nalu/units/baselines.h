// Baselines the arithmetic units are compared with: an affine layer (with or without bias) and
// an MLP with a chosen activation between its layers (none after the output).
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

#include "nalu/units/unit.h"

namespace nalu {

/// Activation functions for MLP baselines: the fifteen of the NALU paper's Figure 1 plus none,
/// GELU and SiLU.
enum class Activation {
  kNone,
  kELU,
  kHardtanh,
  kLeakyReLU,
  kLogSigmoid,
  kPReLU,
  kReLU,
  kReLU6,
  kRReLU,
  kSELU,
  kSigmoid,
  kSoftplus,
  kSoftshrink,
  kSoftsign,
  kTanh,
  kTanhshrink,
  kGELU,
  kSiLU
};

/// Lower-case names ("relu6", "leaky-relu", ...), in the order of the enum.
const std::vector<std::string>& activation_names();
/// Throws nalu::Error naming the known activations when `name` is not one of them.
Activation parse_activation(const std::string& name);
std::string activation_name(Activation activation);
/// A fresh module computing `activation` (PReLU has a learned slope).
torch::nn::AnyModule make_activation(Activation activation);

// ---- Linear ------------------------------------------------------------------------------------

struct LinearOptions {
  LinearOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
  /// kReference is the Linear baseline of the NAU paper's tables (Xavier-uniform weight, zero
  /// bias); kTorch is torch::nn::Linear's start.
  TORCH_ARG(LinearInit, init) = LinearInit::kTorch;
};

/// y = x W^T + b, read back as a formula by rounding W and b to integers.
///
/// Example:
/// ```
/// nalu::Linear layer(nalu::LinearOptions(100, 2).bias(false));
/// nalu::Linear baseline(nalu::LinearOptions(100, 2).init(nalu::LinearInit::kReference));
/// ```
class LinearImpl : public torch::nn::Cloneable<LinearImpl>, public ArithmeticUnit {
 public:
  LinearImpl(int64_t in_features, int64_t out_features)
      : LinearImpl(LinearOptions(in_features, out_features)) {}
  explicit LinearImpl(const LinearOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;

  double sparsity_error() const override;
  Formula formula() const override;
  std::string unit_name() const override { return "linear"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  LinearOptions options;
  torch::Tensor weight, bias;
};
TORCH_MODULE(Linear);

// ---- MLP ---------------------------------------------------------------------------------------

struct MLPOptions {
  MLPOptions(int64_t in_features, int64_t out_features)
      : in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  /// Sizes of the hidden layers; empty makes a single affine layer.
  TORCH_ARG(std::vector<int64_t>, hidden) = {};
  TORCH_ARG(Activation, activation) = Activation::kReLU6;
  TORCH_ARG(bool, bias) = true;
};

/// Affine layers with `activation` between them. Has no closed-form read-back: its formula is
/// opaque and its sparsity error NaN.
///
/// Example:
/// ```
/// nalu::MLP mlp(nalu::MLPOptions(100, 1).hidden({2}).activation(nalu::Activation::kReLU6));
/// ```
class MLPImpl : public torch::nn::Cloneable<MLPImpl>, public ArithmeticUnit {
 public:
  explicit MLPImpl(const MLPOptions& options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& input) override;

  double sparsity_error() const override;
  Formula formula() const override;
  std::string unit_name() const override { return "mlp"; }
  int64_t in_features() const override { return options.in_features(); }
  int64_t out_features() const override { return options.out_features(); }
  NALU_UNIT_MODULE_ACCESS

  MLPOptions options;
  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(MLP);

}  // namespace nalu

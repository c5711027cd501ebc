// The MNIST parity ablation (NALU paper, Table 4): each final layer's shape, gradients, weight
// constraint and bias; the network around it; the parity targets recomputed from the labels;
// bad settings; the `--quick` run itself and a short reproducibility run on the real digits.
#include "nalu/experiments/mnist_parity.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "nalu/data/mnist.h"
#include "nalu/error.h"
#include "nalu/experiments/experiment.h"
#include "nalu/units/nac.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::close_to;

bool has_parameter(const torch::nn::Module& module, const std::string& suffix) {
  for (const auto& item : module.named_parameters()) {
    const auto& key = item.key();
    if (key.size() >= suffix.size() &&
        key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

TEST(ParityOutputLayer, TheFiveVariantsAreTheTableRows) {
  struct Row {
    std::string name, unit;
    bool bias;
    Activation activation;
  };
  const std::vector<Row> expected = {{"affine", "linear", true, Activation::kNone},
                                     {"affine-no-bias", "linear", false, Activation::kNone},
                                     {"nac-weights-bias", "nac", true, Activation::kNone},
                                     {"nac", "nac", false, Activation::kNone},
                                     {"nac-sigmoid", "nac", false, Activation::kSigmoid}};
  const auto& variants = mnist_parity_variants();
  ASSERT_EQ(variants.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(variants[i].name, expected[i].name);
    EXPECT_EQ(variants[i].unit, expected[i].unit);
    EXPECT_EQ(variants[i].bias, expected[i].bias);
    EXPECT_EQ(variants[i].activation, expected[i].activation);
    EXPECT_EQ(find_parity_variant(expected[i].name).name, expected[i].name);
  }
  EXPECT_THROW_WITH(find_parity_variant("softmax"),
                    "unknown parity variant 'softmax' (known: affine, affine-no-bias");
}

TEST(ParityOutputLayer, ComputesItsFormulaWithBiasOnlyWhereTheVariantHasOne) {
  torch::manual_seed(3);
  const auto hidden = torch::randn({5, 16});
  for (const auto& variant : mnist_parity_variants()) {
    SCOPED_TRACE(variant.name);
    ParityOutputLayer layer(16, 2, variant);
    ASSERT_EQ(layer->units().size(), 1u);
    EXPECT_EQ(layer->units()[0]->unit_name(), variant.unit);
    // The bias is the layer's own (named "bias" at its top level), never the unit's.
    EXPECT_EQ(layer->bias.defined(), variant.bias);
    EXPECT_EQ(layer->named_parameters(/*recurse=*/false).contains("bias"), variant.bias);
    EXPECT_FALSE(has_parameter(*layer->head, "bias"));

    const auto logits = layer(hidden);
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{5, 2}));
    // Recomputed from the layer's own parameters.
    auto expected = torch::matmul(hidden, layer->weight().t());
    if (variant.bias)
      expected = expected + layer->bias;
    if (variant.activation == Activation::kSigmoid)
      expected = torch::sigmoid(expected);
    EXPECT_TRUE(close_to(logits, expected, 1e-6));
    // Zero input: exactly zero without a bias (sigmoid(0) = 0.5 after the sigmoid).
    const auto at_zero = layer(torch::zeros({1, 16}));
    if (variant.bias) {
      EXPECT_TRUE(close_to(at_zero[0], layer->bias, 1e-7));
    } else {
      EXPECT_TRUE(close_to(
          at_zero, torch::full({1, 2}, variant.activation == Activation::kSigmoid ? 0.5 : 0.0),
          0.0));
    }
  }
}

TEST(ParityOutputLayer, NacWeightsStayInMinusOneToOneAffineWeightsDoNot) {
  for (const auto& variant : mnist_parity_variants()) {
    SCOPED_TRACE(variant.name);
    ParityOutputLayer layer(8, 2, variant);
    auto parameters = layer->head->named_parameters();
    if (variant.unit == "nac") {
      auto& nac = dynamic_cast<NACImpl&>(layer->units()[0]->as_module());
      // However large the raw parameters, the effective weight is tanh * sigmoid.
      testing::assign(nac.w_hat, torch::linspace(-40, 40, 16).reshape({2, 8}));
      testing::assign(nac.m_hat, torch::full({2, 8}, 30.0));
      const auto w = layer->weight();
      EXPECT_LE(w.abs().max().item<double>(), 1.0);
      EXPECT_TRUE(close_to(w, torch::tanh(nac.w_hat) * torch::sigmoid(nac.m_hat), 1e-7));
      EXPECT_NEAR(w.max().item<double>(), 1.0, 1e-6);  // saturated, not clipped below 1
    } else {
      auto& linear = dynamic_cast<LinearImpl&>(layer->units()[0]->as_module());
      testing::assign(linear.weight, torch::full({2, 8}, 3.0));
      EXPECT_EQ(layer->weight().max().item<double>(), 3.0);
    }
  }
}

TEST(ParityOutputLayer, GradientsReachEveryParameterAndThroughToTheInput) {
  torch::manual_seed(4);
  const auto target = torch::tensor({0, 1, 1, 0, 1, 0}, torch::kLong);
  for (const auto& variant : mnist_parity_variants()) {
    SCOPED_TRACE(variant.name);
    ParityOutputLayer layer(12, 2, variant);
    const auto hidden = torch::randn({6, 12}, torch::requires_grad());
    const auto loss = layer->loss(layer(hidden), target);
    EXPECT_NEAR(loss.item<double>(),
                torch::cross_entropy_loss(layer(hidden), target).item<double>(), 1e-6);
    loss.backward();
    int64_t count = 0;
    for (const auto& item : layer->named_parameters()) {
      ++count;
      ASSERT_TRUE(item.value().grad().defined()) << item.key();
      EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
    }
    // linear: W (+ b); nac: W^, M^ (+ b).
    EXPECT_EQ(count, (variant.unit == "nac" ? 2 : 1) + (variant.bias ? 1 : 0));
    EXPECT_GT(hidden.grad().abs().sum().item<double>(), 0.0);
    EXPECT_TRUE(torch::equal(layer->predict(layer(hidden)), layer(hidden).argmax(1)));
  }
}

TEST(MnistParityNetwork, ShapesGradientsAndASharedStartAcrossVariants) {
  torch::manual_seed(5);
  const auto images = torch::rand({4, 3, 1, 28, 28});
  torch::manual_seed(6);
  MnistParityNetwork affine(MnistParityNetworkOptions(3, find_parity_variant("affine")));
  torch::manual_seed(6);
  MnistParityNetwork nac(MnistParityNetworkOptions(3, find_parity_variant("nac-sigmoid")));
  // Same seed: the same CNN and hidden layer, whatever the final layer.
  EXPECT_TRUE(torch::equal(affine->hidden(images), nac->hidden(images)));
  EXPECT_EQ(affine->hidden(images).sizes(), (std::vector<int64_t>{4, 64}));

  const auto logits = nac(images);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{4, 2}));
  nac->output->loss(logits, torch::tensor({1, 0, 0, 1}, torch::kLong)).backward();
  for (const auto& item : nac->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key();
  }
  ASSERT_EQ(nac->units().size(), 1u);
  EXPECT_EQ(nac->units()[0]->unit_name(), "nac");

  // The digits of a row are read by one shared CNN: swapping two digits changes only which
  // slice of the hidden layer's input they fill, so the per-digit features swap.
  const auto swapped = images.index_select(1, torch::tensor({1, 0, 2}, torch::kLong));
  torch::NoGradGuard no_grad;
  const auto features =
      affine->digit_encoder->forward(images.reshape({12, 1, 28, 28})).reshape({4, 3, -1});
  const auto swapped_features =
      affine->digit_encoder->forward(swapped.reshape({12, 1, 28, 28})).reshape({4, 3, -1});
  EXPECT_TRUE(close_to(swapped_features.select(1, 0), features.select(1, 1), 1e-6));

  EXPECT_THROW_WITH(affine(torch::rand({4, 2, 1, 28, 28})),
                    "parity network: expected images [batch, 3, 1, 28, 28], got [4, 2, 1, 28, 28]");
  EXPECT_THROW_WITH(MnistParityNetwork(MnistParityNetworkOptions(0, find_parity_variant("nac"))),
                    "digits must be in [1, 64], got 0");
}

TEST(MnistParityTargets, AreTheParityOfTheDigitSumRecomputedFromTheLabels) {
  torch::manual_seed(7);
  const auto labels = torch::randint(0, 10, {50}, torch::kLong);
  const auto indices = torch::randint(0, 50, {40, 3}, torch::kLong);
  const auto targets = mnist_parity_targets(labels, indices);
  ASSERT_EQ(targets.sizes(), (std::vector<int64_t>{40}));
  ASSERT_EQ(targets.scalar_type(), torch::kLong);
  int64_t odd = 0;
  for (int64_t r = 0; r < 40; ++r) {
    int64_t sum = 0;
    for (int64_t t = 0; t < 3; ++t)
      sum += labels[indices[r][t].item<int64_t>()].item<int64_t>();
    EXPECT_EQ(targets[r].item<int64_t>(), sum % 2) << "row " << r;
    odd += sum % 2;
  }
  EXPECT_GT(odd, 5);  // both classes occur
  EXPECT_LT(odd, 35);
  // A hand-made case: 1 + 2 + 4 is odd, 1 + 1 + 2 even.
  const auto hand = mnist_parity_targets(torch::tensor({1, 2, 4}, torch::kLong),
                                         torch::tensor({{0, 1, 2}, {0, 0, 1}}, torch::kLong));
  EXPECT_TRUE(torch::equal(hand, torch::tensor({1, 0}, torch::kLong)));
  EXPECT_THROW_WITH(mnist_parity_targets(labels, torch::tensor({{0, 50, 1}}, torch::kLong)),
                    "index 50 outside the pool [0, 50)");
}

TEST(MnistParityConfig, RefusesBadSettings) {
  auto with = [](auto change) {
    MnistParityConfig config = MnistParityConfig::quick();
    change(config);
    return config;
  };
  EXPECT_NO_THROW(MnistParityConfig::full().validate());
  EXPECT_THROW_WITH(with([](auto& c) { c.variants = {}; }).validate(), "at least one variant");
  EXPECT_THROW_WITH(with([](auto& c) {
                      c.variants = {"nac", "nac"};
                    }).validate(),
                    "variant 'nac' is listed twice");
  EXPECT_THROW_WITH(with([](auto& c) { c.variants = {"tanh"}; }).validate(),
                    "unknown parity variant 'tanh'");
  EXPECT_THROW_WITH(with([](auto& c) { c.digits = 0; }).validate(), "digits must be in [1, 64]");
  EXPECT_THROW_WITH(with([](auto& c) { c.replicates = 0; }).validate(), "replicates must be in");
  EXPECT_THROW_WITH(with([](auto& c) { c.steps = 0; }).validate(), "steps must be positive");
  EXPECT_THROW_WITH(with([](auto& c) { c.batch_size = 1'000'000; }).validate(),
                    "batch size must be in [1, 4096]");
  EXPECT_THROW_WITH(with([](auto& c) { c.learning_rate = std::nan(""); }).validate(),
                    "learning rate must be a positive number of at most 1e+30");
  EXPECT_THROW_WITH(with([](auto& c) { c.test_fraction = 1.0; }).validate(),
                    "test fraction must be in (0, 1)");
  EXPECT_THROW_WITH(with([](auto& c) { c.threads = -1; }).validate(), "threads must be >= 0");
}

TEST(MnistParityExperiment, IsInTheCatalogue) {
  EXPECT_EQ(find_experiment("mnist-parity").run, &run_mnist_parity_experiment);
}

// ---- the real digits ----------------------------------------------------------------------

void require_digits() {
  const auto dir = data::default_mnist_dir();
  if (!std::filesystem::exists(dir / "0.json") &&
      !std::filesystem::exists(dir / "train-images-idx3-ubyte")) {
    ADD_FAILURE() << "no MNIST digits in " << dir
                  << ": run scripts/fetch-mnist.sh (or set NALU_MNIST_DIR to a directory holding "
                     "them)";
  }
}

// A reduced run for the checks that need the experiment's code path but not its results.
MnistParityConfig short_run() {
  require_digits();
  MnistParityConfig config = MnistParityConfig::quick();
  config.variants = {"affine"};
  config.replicates = 1;
  config.test_examples = 1'000;
  config.threads = 1;
  return config;
}

// One network per final layer, 600 steps (--quick trains 3 for 1,000): under a minute on 2
// cores. Measured at this size: test accuracies 0.947-0.954 for all five.
TEST(MnistParityExperiment, QuickRunTrainsEveryFinalLayerWellAboveChance) {
  require_digits();
  MnistParityConfig config = MnistParityConfig::quick();
  config.replicates = 1;
  config.steps = 600;
  config.threads = 2;
  const MnistParityResult result = run_mnist_parity(config);
  ASSERT_EQ(result.variants.size(), mnist_parity_variants().size());
  // Chance is the share of the more common parity (about a half).
  const double chance = std::max(result.test_odd_share, 1.0 - result.test_odd_share);
  EXPECT_GT(chance, 0.45);
  EXPECT_LT(chance, 0.56);
  EXPECT_GT(result.train_digits, result.test_digits);
  EXPECT_GT(result.test_digits, 0);
  for (const auto& variant : result.variants) {
    SCOPED_TRACE(variant.variant.name);
    EXPECT_EQ(variant.diverged, 0);
    ASSERT_EQ(variant.test_accuracy.size(), 1u);
    // Every final layer can learn parity: far above chance.
    EXPECT_GT(variant.test_accuracy[0], 0.9) << "chance " << chance;
  }
}

TEST(MnistParityExperiment, SameSeedSameNumbers) {
  MnistParityConfig config = short_run();
  config.variants = {"nac", "affine-no-bias"};
  config.steps = 30;
  config.threads = 2;
  const auto first = run_mnist_parity(config);
  const auto second = run_mnist_parity(config);
  for (size_t v = 0; v < 2; ++v) {
    EXPECT_EQ(first.variants[v].test_accuracy, second.variants[v].test_accuracy);
    EXPECT_EQ(first.variants[v].final_train_loss, second.variants[v].final_train_loss);
  }
  config.seed = 1;
  const auto other = run_mnist_parity(config);
  EXPECT_NE(first.variants[0].final_train_loss, other.variants[0].final_train_loss);
}

}  // namespace
}  // namespace nalu

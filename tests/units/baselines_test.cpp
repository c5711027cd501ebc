// Baselines: Linear computes and reads back an affine map with or without bias; an MLP has no
// closed-form read-back; activations parse by name.
#include "nalu/units/baselines.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "nalu/error.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::assign;
using testing::close_to;
using testing::contains;
using testing::matrix;
using testing::message_of;

TEST(LinearTest, HandSetWeightsSubtractExactly) {
  torch::manual_seed(0);
  Linear linear(2, 1);
  assign(linear->weight, matrix({{1, -1}}));
  assign(linear->bias, torch::zeros({1}));
  const auto x = matrix({{1.5, -2.25}, {-3, 7}, {0, 0}});
  EXPECT_TRUE(close_to(linear(x), matrix({{3.75}, {-10}, {0}}), 1e-6));
  EXPECT_EQ(linear->formula().str(), "y0 = x0 − x1");
  EXPECT_TRUE(linear->formula().exact());

  assign(linear->bias, torch::tensor({3.0f}));
  EXPECT_TRUE(close_to(linear(x), matrix({{6.75}, {-7}, {3}}), 1e-6));
  EXPECT_EQ(linear->formula().str(), "y0 = x0 − x1 + 3");
  assign(linear->bias, torch::tensor({-2.9f}));
  EXPECT_EQ(linear->formula().str(), "y0 = x0 − x1 − 3");
  EXPECT_NEAR(linear->formula().max_rounding_error, 0.1, 1e-6);
}

TEST(LinearTest, WithoutBiasHasOnlyAWeight) {
  torch::manual_seed(1);
  Linear linear(LinearOptions(3, 2).bias(false));
  EXPECT_FALSE(linear->bias.defined());
  EXPECT_EQ(linear->parameters().size(), 1u);
  const auto x = torch::randn({4, 3});
  EXPECT_TRUE(close_to(linear(x), torch::matmul(x, linear->weight.t()), 1e-6));
  EXPECT_EQ(linear->unit_name(), "linear");
}

TEST(LinearTest, MatchesTorchLinearAndItsInitialisationBounds) {
  torch::manual_seed(2);
  Linear linear(16, 4);
  const auto x = torch::randn({5, 16});
  EXPECT_TRUE(close_to(linear(x), torch::matmul(x, linear->weight.t()) + linear->bias, 1e-5));
  // Kaiming uniform with a = sqrt(5) and the bias both give bound 1 / sqrt(in).
  EXPECT_LE(linear->weight.abs().max().item<double>(), 0.25 + 1e-6);
  EXPECT_LE(linear->bias.abs().max().item<double>(), 0.25 + 1e-6);
  EXPECT_TRUE(contains(message_of<c10::Error>([] { Linear(3, 0); }),
                       "linear: out_features must be positive, got 0"));
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         linear(torch::ones({2, 3}));
                       }),
                       "linear: expected 16 input features, got 3"));
}

// The NAU paper's Linear baseline: zero bias, Xavier-uniform weight (bound sqrt(6 / (in + out))
// = 0.5 for 16 -> 8, twice torch's 0.25, so a torch start would rarely come near it).
TEST(LinearTest, ReferenceInitialisationHasZeroBiasAndXavierBounds) {
  torch::manual_seed(4);
  Linear linear(LinearOptions(16, 8).init(LinearInit::kReference));
  EXPECT_TRUE(torch::equal(linear->bias, torch::zeros({8})));
  const double bound = std::sqrt(6.0 / (16 + 8));
  EXPECT_LE(linear->weight.abs().max().item<double>(), bound + 1e-6);
  EXPECT_GT(linear->weight.abs().max().item<double>(), 0.9 * bound);
  // The torch start has a non-zero bias.
  Linear torch_start(LinearOptions(16, 8));
  EXPECT_GT(torch_start->bias.abs().max().item<double>(), 0.0);
  EXPECT_LE(torch_start->weight.abs().max().item<double>(), 0.25 + 1e-6);
}

TEST(MlpTest, FormulaIsOpaqueWithInfiniteRoundingError) {
  torch::manual_seed(3);
  MLP mlp(MLPOptions(3, 2).hidden({4}));
  const auto formula = mlp->formula();
  EXPECT_EQ(formula.str(), "y0 = mlp_0(x); y1 = mlp_1(x)");
  EXPECT_TRUE(std::isinf(formula.max_rounding_error));
  EXPECT_FALSE(formula.exact());
  EXPECT_TRUE(std::isnan(mlp->sparsity_error()));
}

TEST(MlpTest, ComputesAffineActivationAffine) {
  torch::manual_seed(4);
  MLP mlp(MLPOptions(3, 2).hidden({4, 5}).activation(Activation::kTanh));
  ASSERT_EQ(mlp->layers->size(), 5u);
  const auto x = torch::randn({6, 3});
  auto h = x;
  for (size_t l = 0; l < 3; ++l) {
    auto layer = mlp->layers->ptr<torch::nn::LinearImpl>(2 * l);
    h = torch::matmul(h, layer->weight.t()) + layer->bias;
    if (l < 2)
      h = torch::tanh(h);
  }
  EXPECT_TRUE(close_to(mlp(x), h, 1e-5));

  MLP no_bias(MLPOptions(3, 2).hidden({4}).bias(false));
  EXPECT_EQ(no_bias->parameters().size(), 2u);
  MLP single(MLPOptions(3, 2));
  EXPECT_EQ(single->layers->size(), 1u);
}

TEST(MlpTest, RejectsBadHiddenSizes) {
  EXPECT_TRUE(contains(message_of<c10::Error>([] {
                         MLP(MLPOptions(3, 1).hidden({2, 0}));
                       }),
                       "mlp: hidden sizes must be positive, got 0"));
  EXPECT_TRUE(contains(message_of<c10::Error>([] { MLP(MLPOptions(0, 1)); }),
                       "mlp: in_features must be positive, got 0"));
}

TEST(ActivationTest, NamesRoundTripAndEveryActivationRuns) {
  torch::manual_seed(5);
  const auto& names = activation_names();
  ASSERT_EQ(names.size(), static_cast<size_t>(Activation::kSiLU) + 1);
  const auto x = torch::linspace(-3, 3, 13).reshape({13, 1});
  for (const auto& name : names) {
    const auto activation = parse_activation(name);
    EXPECT_EQ(activation_name(activation), name);
    auto module = make_activation(activation);
    const auto y = module.forward(x);
    EXPECT_EQ(y.sizes(), x.sizes()) << name;
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>()) << name;
  }
  EXPECT_TRUE(close_to(make_activation(Activation::kReLU6).forward(x), x.clamp(0, 6), 0.0));
  EXPECT_TRUE(close_to(make_activation(Activation::kTanh).forward(x), x.tanh(), 1e-6));
  EXPECT_TRUE(close_to(make_activation(Activation::kNone).forward(x), x, 0.0));
}

TEST(ActivationTest, UnknownNameListsTheKnownOnes) {
  const auto message = message_of<Error>([] { parse_activation("swish"); });
  EXPECT_TRUE(contains(message, "unknown activation 'swish'"));
  for (const auto& name : activation_names())
    EXPECT_TRUE(contains(message, name));
}

}  // namespace
}  // namespace nalu

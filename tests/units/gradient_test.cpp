// Every unit's autograd gradients agree with central finite differences in double precision
// (dlib's "one numerical gradient test every layer passes"). Units are built through the
// registry, so a unit added to the catalogue cannot skip this check.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nalu/units/baselines.h"
#include "nalu/units/registry.h"
#include "nalu/units/stack.h"
#include "units/gradcheck.h"

namespace nalu {
namespace {

using testing::away_from_zero;
using testing::expect_gradients_match;

constexpr int64_t kBatch = 5;
constexpr int64_t kIn = 4;
constexpr int64_t kOut = 3;

// Moves every parameter off its initial value (NPU's zero imaginary weights and constant gate,
// a NALU gate bias of zero) so that every path of the unit carries gradient.
void jitter_parameters(ArithmeticUnit& unit, double stddev) {
  torch::NoGradGuard no_grad;
  for (auto& parameter : unit.as_module().parameters()) {
    parameter.add_(torch::randn_like(parameter) * stddev);
  }
}

void check_unit(ArithmeticUnit& unit, uint64_t seed) {
  SCOPED_TRACE(unit.unit_name());
  torch::manual_seed(seed);
  jitter_parameters(unit, 0.1);
  // |x| in [0.5, 2] with random signs: away from the kinks of |x|, sign(x) and [x < 0]; the
  // iNALU exponent stays far below omega = 20.
  expect_gradients_match(unit, away_from_zero(kBatch, unit.in_features(), true));
}

TEST(GradientTest, EveryCatalogUnitMatchesFiniteDifferences) {
  ASSERT_FALSE(unit_catalog().empty());
  uint64_t seed = 1;
  for (const auto& info : unit_catalog()) {
    torch::manual_seed(seed);
    auto unit = make_unit(info.name, kIn, kOut);
    ASSERT_EQ(unit->unit_name(), info.name);
    check_unit(*unit, seed++);
  }
}

TEST(GradientTest, NaluVariantsMatchFiniteDifferences) {
  for (bool shared : {true, false}) {
    for (bool gate_bias : {false, true}) {
      SCOPED_TRACE(::testing::Message() << "shared=" << shared << " gate_bias=" << gate_bias);
      torch::manual_seed(11);
      UnitSettings settings;
      settings.nalu_shared_weights = shared;
      settings.nalu_gate_bias = gate_bias;
      auto unit = make_unit("nalu", kIn, kOut, settings);
      EXPECT_EQ(unit->as_module().parameters().size(),
                3u + (shared ? 0u : 2u) + (gate_bias ? 1u : 0u));
      check_unit(*unit, 12);
    }
  }
}

TEST(GradientTest, TruncatedNormalInitMatchesFiniteDifferences) {
  torch::manual_seed(13);
  UnitSettings settings;
  settings.init = Init::kTruncatedNormal;
  for (const char* name : {"nac", "nac-mul", "nalu"}) {
    auto unit = make_unit(name, kIn, kOut, settings);
    check_unit(*unit, 14);
  }
}

TEST(GradientTest, LinearWithoutBiasMatchesFiniteDifferences) {
  torch::manual_seed(21);
  UnitSettings settings;
  settings.linear_bias = false;
  auto unit = make_unit("linear", kIn, kOut, settings);
  ASSERT_EQ(unit->as_module().parameters().size(), 1u);
  check_unit(*unit, 22);
}

TEST(GradientTest, SmoothMlpMatchesFiniteDifferences) {
  torch::manual_seed(31);
  MLP tanh_mlp(MLPOptions(kIn, kOut).hidden({5, 4}).activation(Activation::kTanh));
  check_unit(*tanh_mlp, 32);

  UnitSettings settings;
  settings.mlp_activation = "softplus";
  auto softplus_mlp = make_stack({"mlp"}, {kIn, 6, kOut}, settings);
  check_unit(*softplus_mlp, 33);
}

TEST(GradientTest, Relu6MlpAwayFromKinksMatchesFiniteDifferences) {
  torch::manual_seed(41);
  MLP mlp(MLPOptions(kIn, kOut).hidden({6}).activation(Activation::kReLU6));
  // Hidden pre-activations must stay away from 0 and 6, where ReLU6 has kinks: keep only
  // rows whose pre-activations are all at least 0.05 from both.
  auto x = away_from_zero(64, kIn, true).to(torch::kFloat);
  auto first = mlp->layers->ptr<torch::nn::LinearImpl>(0);
  torch::Tensor pre;
  {
    torch::NoGradGuard no_grad;
    pre = first->forward(x);
  }
  const auto margin = torch::min(pre.abs(), (pre - 6).abs()).amin(1);
  const auto rows = torch::nonzero(margin > 0.05).squeeze(1);
  ASSERT_GE(rows.numel(), 3);
  expect_gradients_match(*mlp, x.index_select(0, rows.slice(0, 0, 8)));
}

TEST(GradientTest, StackMatchesFiniteDifferences) {
  torch::manual_seed(51);
  auto stack = make_stack({"nau", "nmu"}, {6, 3, 1});
  ASSERT_EQ(stack->as_module().parameters().size(), 2u);
  check_unit(*stack, 52);

  torch::manual_seed(53);
  auto deep = make_stack({"nau", "nmu", "nau"}, {5, 3, 2, 2});
  check_unit(*deep, 54);
}

// The check itself must be able to fail: a unit whose weight gradient is half the true one
// (the input gradient is right) is caught, with the parameter named.
class WrongGradientImpl : public torch::nn::Module, public ArithmeticUnit {
 public:
  WrongGradientImpl() { weight = register_parameter("weight", torch::full({1, 2}, 0.7)); }
  torch::Tensor forward(const torch::Tensor& input) override {
    // Value 2 x W^T; d/dx is right (2 W), d/dW is x instead of 2 x.
    return torch::matmul(input, weight.t()) + torch::matmul(input, weight.detach().t());
  }
  double sparsity_error() const override { return 0.0; }
  Formula formula() const override { return {}; }
  std::string unit_name() const override { return "wrong"; }
  int64_t in_features() const override { return 2; }
  int64_t out_features() const override { return 1; }
  NALU_UNIT_MODULE_ACCESS
  torch::Tensor weight;
};

TEST(GradientTest, CheckDetectsAWrongGradient) {
  torch::manual_seed(61);
  WrongGradientImpl unit;
  EXPECT_NONFATAL_FAILURE(expect_gradients_match(unit, away_from_zero(3, 2, true)),
                          "gradient of weight is off");
}

}  // namespace
}  // namespace nalu

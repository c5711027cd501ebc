// The fused NPU, RealNPU, Linear and MLP layers against their LibTorch units.
//
// Tolerances (|fused - torch| <= atol + rtol |torch|, per quantity), and why. Both engines
// compute in float; they differ in summation order (matmul kernels vs BLAS) and in the
// vectorised exp/log/cos/erf LibTorch uses, so differences are float rounding, ~1e-7 relative
// per operation. Measured on AVX2: at most ~1e-6 relative everywhere.
//  - NPU / RealNPU, Linear, MLPs on random inputs: the harness default {1e-5, 1e-4}.
//    y = exp(A) cos(P) turns the absolute rounding of the sums A and P (~|A| 1e-7) into a
//    relative error of y, and the atol covers outputs near zero where cos(P) ~ 0.
//  - NPU / RealNPU on awkward inputs: {1e-4, 1e-5}. Outputs and gradients reach ~1e9 (r = eps
//    gives log r ~ -16, and dL/dr = dL/dlog r / r), where only a relative bound makes sense;
//    entries at exact zeros (zero input, closed gate) are exactly 0 on both sides.
//  - Linear / MLP on awkward inputs (1e6 next to 1e-6): {1e-3, 1e-5}: a 1e6-scale sum carries
//    rounding of ~1e6 * 2^-24 ~ 0.06 absolute, so the relative part governs.
//  - MLP activations at kinks and extremes: {1e-4, 1e-5}, as above (pre-activations up to 1e6).
//    A gradient on the wrong side of a kink is an O(1) relative error, far outside these.
#include <gtest/gtest.h>

#include "fused/layer_check.h"
#include "nalu/units/baselines.h"

namespace nalu::testing {
namespace {

constexpr LayerTolerance kPowerTolerance{1e-5, 1e-4};
constexpr LayerTolerance kPowerAwkwardTolerance{1e-4, 1e-5};
constexpr LayerTolerance kAwkwardAffineTolerance{1e-3, 1e-5};
constexpr LayerTolerance kKinkTolerance{1e-4, 1e-5};

// Zeros (both signs), negatives, very small and very large magnitudes.
torch::Tensor awkward_inputs() {
  return matrix({{0, -0.0, 1e-20, -1e6, 5}, {1e6, -1e-6, 0, 2, -3}, {-0.5, 1, -1, 1e-6, 1e-30}});
}

// Random NPU parameters: W_re and W_im ~ N(0, 0.5), gates in [-0.5, 1.5] with both ends of
// [0, 1] (the forward pass clamps the gate; outside [0, 1] it passes no gradient, on the ends
// it does), and some exact zeros (where |w|' = sgn(w) = 0).
void randomise_npu(torch::nn::Module& unit, uint64_t seed) {
  torch::manual_seed(seed);
  auto parameters = unit.named_parameters();
  auto w_real = parameters["w_real"];
  auto values = torch::randn(w_real.sizes()) * 0.5;
  values.index_put_({0, 0}, 0.0);
  assign(w_real, values);
  if (parameters.contains("w_imag")) {
    auto w_imag = parameters["w_imag"];
    auto imag = torch::randn(w_imag.sizes()) * 0.5;
    imag.index_put_({0, 1}, 0.0);
    assign(w_imag, imag);
  }
  auto gate = parameters["gate"];
  auto g = torch::rand(gate.sizes()) * 2 - 0.5;
  g.index_put_({0}, 0.0);
  g.index_put_({1}, 1.0);
  if (g.numel() > 3) {
    g.index_put_({2}, -0.25);
    g.index_put_({3}, 1.25);
  }
  assign(gate, g);
}

// ---- NPU and RealNPU -----------------------------------------------------------------------

TEST(FusedLayers, NpuMatchesTorchOnRandomInputs) {
  torch::manual_seed(11);
  // The unit's own initialisation (W_im = 0, gate = 0.5), then random parameters.
  expect_layer_matches("npu", 3, torch::randn({7, 5}) * 2, {}, kPowerTolerance);
  expect_layer_matches("npu", 3, torch::randn({9, 5}) * 2, {}, kPowerTolerance, 0.5,
                       [](torch::nn::Module& m) { randomise_npu(m, 12); });
}

TEST(FusedLayers, NpuMatchesTorchOnAwkwardInputs) {
  expect_layer_matches("npu", 2, awkward_inputs(), {}, kPowerAwkwardTolerance, 1.0,
                       [](torch::nn::Module& m) { randomise_npu(m, 13); });
  // Every gate fully open: a zero input makes r = eps, log r ~ -16.
  expect_layer_matches("npu", 2, awkward_inputs(), {}, kPowerAwkwardTolerance, 1.0,
                       [](torch::nn::Module& m) {
                         randomise_npu(m, 14);
                         auto gate = m.named_parameters()["gate"];
                         assign(gate, torch::ones(gate.sizes()));
                       });
}

TEST(FusedLayers, RealNpuMatchesTorchOnRandomAndAwkwardInputs) {
  torch::manual_seed(15);
  expect_layer_matches("real-npu", 3, torch::randn({7, 5}) * 2, {}, kPowerTolerance);
  expect_layer_matches("real-npu", 2, torch::randn({8, 5}) * 2, {}, kPowerTolerance, 3.0,
                       [](torch::nn::Module& m) { randomise_npu(m, 16); });
  expect_layer_matches("real-npu", 2, awkward_inputs(), {}, kPowerAwkwardTolerance, 1.0,
                       [](torch::nn::Module& m) { randomise_npu(m, 17); });
}

TEST(FusedLayers, NpuUsesTheEpsilonSetting) {
  UnitSettings settings;
  settings.epsilon = 1e-2;
  for (const char* name : {"npu", "real-npu"}) {
    expect_layer_matches(name, 2, matrix({{0, 0, -2, 0.5}, {0, -0.0, 3, -1e-6}}), settings,
                         kPowerTolerance, 1.0, [](torch::nn::Module& m) {
                           randomise_npu(m, 18);
                           auto gate = m.named_parameters()["gate"];
                           assign(gate, torch::ones(gate.sizes()));
                         });
  }
}

TEST(FusedLayers, NpuRegulariserAndClampAtBoundaries) {
  // All parameters at 0 (sgn(0) = 0 in |p|'), then gates on both clamp boundaries.
  for (const char* name : {"npu", "real-npu"}) {
    expect_layer_matches(name, 2, torch::randn({3, 4}), {}, kPowerTolerance, 2.0,
                         [](torch::nn::Module& m) {
                           torch::NoGradGuard no_grad;
                           for (auto& p : m.parameters())
                             p.zero_();
                         });
    expect_layer_matches(name, 2, torch::randn({3, 4}), {}, kPowerTolerance, 2.0,
                         [](torch::nn::Module& m) {
                           auto gate = m.named_parameters()["gate"];
                           assign(gate, torch::tensor({0.0f, 1.0f, 1.0f, 0.0f}));
                         });
  }
}

// ---- Linear and MLP without hidden layers ----------------------------------------------------

TEST(FusedLayers, LinearMatchesTorchWithAndWithoutBias) {
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "with bias" : "without bias");
    UnitSettings settings;
    settings.linear_bias = bias;
    torch::manual_seed(21);
    expect_layer_matches("linear", 3, torch::randn({7, 5}) * 3, settings, {});
    expect_layer_matches("linear", 2, awkward_inputs(), settings, kAwkwardAffineTolerance);
  }
}

TEST(FusedLayers, MlpWithoutHiddenLayersMatchesTorch) {
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "with bias" : "without bias");
    UnitSettings settings;
    settings.linear_bias = bias;
    torch::manual_seed(22);
    expect_layer_matches("mlp", 3, torch::randn({7, 5}) * 3, settings, {});
    expect_layer_matches("mlp", 2, awkward_inputs(), settings, kAwkwardAffineTolerance);
  }
  // Without hidden layers no activation is built, so even RReLU's MLP is deterministic.
  UnitSettings rrelu;
  rrelu.mlp_activation = "rrelu";
  expect_layer_matches("mlp", 2, torch::randn({4, 3}), rrelu, {});
}

// ---- MLPs with hidden layers -----------------------------------------------------------------

// Compares make_stack({"mlp"}, sizes) with the fused MLP layer on x: forward, input gradient
// and every parameter's gradient of sum(y * dy). `prepare` may edit the model first.
void expect_mlp_matches(const std::vector<int64_t>& sizes, const torch::Tensor& x,
                        const UnitSettings& settings, LayerTolerance tolerance,
                        const std::function<void(torch::nn::Module&)>& prepare = {}) {
  SCOPED_TRACE("mlp, activation " + settings.mlp_activation +
               (settings.linear_bias ? ", with bias" : ", without bias"));
  const int B = static_cast<int>(x.size(0));
  const int in = static_cast<int>(sizes.front());
  const int out = static_cast<int>(sizes.back());
  torch::manual_seed(31);
  Stack model = make_stack({"mlp"}, sizes, settings);
  if (prepare)
    prepare(*model);
  const std::vector<int64_t> hidden(sizes.begin() + 1, sizes.end() - 1);
  std::string why;
  auto layer = fused::make_baseline_layer("mlp", in, out, hidden, settings, B, &why);
  ASSERT_NE(layer, nullptr) << why;
  LayerRun run;
  expect_forward_backward_match(
      *model, [&](const torch::Tensor& input) { return model->forward(input); }, *layer, x,
      tolerance, run);
  if (::testing::Test::HasFatalFailure())
    return;

  // Without dx (the first layer of a network) the parameter gradients are the same.
  std::vector<float> grads_only(run.params.size(), 0.0f);
  layer->forward(B, run.params.data(), run.x.data(), run.y.data());
  layer->backward(B, run.params.data(), run.x.data(), run.y.data(), run.dy.data(),
                  grads_only.data(), nullptr);
  EXPECT_EQ(grads_only, run.grads) << "gradients without dx";
}

// Every activation the fused engine supports: all but RReLU.
std::vector<std::string> supported_activations() {
  std::vector<std::string> names;
  for (const auto& name : activation_names()) {
    if (name != "rrelu")
      names.push_back(name);
  }
  return names;
}

TEST(FusedLayers, MlpWithHiddenLayersMatchesTorchForEveryActivation) {
  torch::manual_seed(33);
  const auto x = torch::randn({6, 4}) * 2;
  for (const auto& activation : supported_activations()) {
    for (bool bias : {true, false}) {
      UnitSettings settings;
      settings.mlp_activation = activation;
      settings.linear_bias = bias;
      expect_mlp_matches({4, 6, 5, 2}, x, settings, {});
      expect_mlp_matches({4, 3, 1}, x, settings, {});
    }
  }
}

TEST(FusedLayers, MlpActivationsMatchTorchAtKinksAndExtremes) {
  // The first layer is the identity without bias, so the activations see these values exactly:
  // 0 (relu, leaky-relu, prelu, elu, selu, softsign's sgn), +-0.5 (softshrink), +-1 (hardtanh),
  // 6 (relu6), 20 (softplus' threshold), tiny and huge magnitudes.
  const auto x = matrix({{0, -0.0, 0.5, -0.5, 1, -1, 6, -6},
                         {20, -20, 20.5, 1e-7, -1e-7, 1e-30, 3, -2.5},
                         {1e6, -1e6, 100, -100, 0, 6.5, -1.5, 0.25}});
  const auto identity_first_layer = [](torch::nn::Module& m) {
    torch::NoGradGuard no_grad;
    for (auto& item : m.named_parameters()) {
      if (item.key() == "layer0.layers.0.weight")
        item.value().copy_(torch::eye(8));
      if (item.key() == "layer0.layers.0.bias")
        item.value().zero_();
    }
  };
  for (const auto& activation : supported_activations()) {
    for (bool bias : {true, false}) {
      UnitSettings settings;
      settings.mlp_activation = activation;
      settings.linear_bias = bias;
      expect_mlp_matches({8, 8, 2}, x, settings, kKinkTolerance, identity_first_layer);
    }
  }
}

TEST(FusedLayers, MlpPReLUWeightGetsItsGradient) {
  // PReLU's learned slope sits between the affine layers' parameters; a negative slope and
  // inputs on both sides of 0.
  UnitSettings settings;
  settings.mlp_activation = "prelu";
  torch::manual_seed(34);
  expect_mlp_matches({3, 5, 4, 1}, torch::randn({7, 3}), settings, {}, [](torch::nn::Module& m) {
    torch::NoGradGuard no_grad;
    for (auto& item : m.named_parameters()) {
      if (item.key() == "layer0.layers.1.weight")
        item.value().fill_(-0.7);
    }
  });
}

TEST(FusedLayers, MlpNetworkMatchesTorchMseGradients) {
  // The fused Network builds one MLP layer for a lone "mlp", with the inner sizes as hidden
  // layers, and takes LibTorch's parameters in order.
  for (const char* activation : {"relu6", "prelu", "gelu", "none"}) {
    SCOPED_TRACE(activation);
    UnitSettings settings;
    settings.mlp_activation = activation;
    const std::vector<int64_t> sizes{3, 7, 4, 1};
    torch::manual_seed(35);
    Stack model = make_stack({"mlp"}, sizes, settings);
    const auto x = torch::randn({10, 3});
    const auto target = torch::randn({10});
    ASSERT_EQ(fused::Network::unsupported_reason({"mlp"}, sizes, settings), "");
    fused::Network net({"mlp"}, sizes, settings, 16);
    ASSERT_EQ(net.depth(), 1u);
    net.load(*model);
    const double loss = net.mse_gradients(10, x.data_ptr<float>(), target.data_ptr<float>());
    const auto expected = (model->forward(x).reshape({-1}) - target).pow(2).mean();
    expected.backward();
    EXPECT_NEAR(loss, expected.item<double>(), 1e-5 * (1 + expected.item<double>()));
    std::vector<float> expected_grads;
    for (const auto& p : model->parameters()) {
      const auto g = p.grad().contiguous();
      expected_grads.insert(expected_grads.end(), g.data_ptr<float>(),
                            g.data_ptr<float>() + g.numel());
    }
    EXPECT_TRUE(
        close_to(torch::tensor(net.gradients()), torch::tensor(expected_grads), 1e-5, 1e-4));
  }
}

TEST(FusedLayers, UnsupportedMlpActivationsSayWhy) {
  UnitSettings settings;
  settings.mlp_activation = "rrelu";
  std::string why;
  EXPECT_EQ(fused::make_baseline_layer("mlp", 3, 1, {4}, settings, 8, &why), nullptr);
  EXPECT_TRUE(contains(why, "'rrelu'"));
  EXPECT_TRUE(contains(why, "random in training"));
  const std::string reason = fused::Network::unsupported_reason({"mlp"}, {3, 4, 1}, settings);
  EXPECT_EQ(reason, why);
  EXPECT_THROW_WITH(fused::Network({"mlp"}, {3, 4, 1}, settings, 8), "rrelu");
  // Without hidden layers there is no RReLU module to be random.
  EXPECT_EQ(fused::Network::unsupported_reason({"mlp"}, {3, 1}, settings), "");
  // Unknown names fail as they do in make_unit, listing the known activations.
  settings.mlp_activation = "swish";
  EXPECT_THROW_WITH(fused::make_baseline_layer("mlp", 3, 1, {4}, settings, 8, &why), "swish");
}

TEST(FusedLayers, PowerAndBaselineFactoriesIgnoreOtherNames) {
  std::string why;
  EXPECT_EQ(fused::make_power_layer("nau", 2, 1, {}, 4, &why), nullptr);
  EXPECT_EQ(fused::make_baseline_layer("npu", 2, 1, {}, {}, 4, &why), nullptr);
  EXPECT_EQ(why, "");
}

}  // namespace
}  // namespace nalu::testing

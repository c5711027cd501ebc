// The fused NAC, NAC-mul, NALU and iNALU against their LibTorch units.
//
// Tolerances (|fused - torch| <= atol + rtol |torch|):
// - nac: linear in x, so only the summation order differs: the defaults (1e-5, 1e-4) hold on
//   random and extreme inputs alike (the error scales with |x|, and rtol covers it).
// - nac-mul, nalu, inalu: y = exp(z) turns an absolute error of z into a relative error of y.
//   z sums terms W log|x| whose logs differ by up to an ulp (SLEEF's vector log against
//   LibTorch's, tanh and sigmoid against LibTorch's vector ones), plus rounding in a different
//   summation order; at |x| ~ 1e20 (log|x| ~ 46, ulp ~ 4e-6) or 1e-20 with eps = 0 that is
//   ~1e-5 in z. Worse, an input gradient sums dz_j W_ji over outputs j of opposite signs,
//   where dz ~ e^z can be ~1e6 and the sum ~30: the relative error of the sum grows by the
//   cancellation. So rtol is 1e-4 on random inputs (all pass at 1e-5 today) and 1e-3 on
//   extreme ones (the worst case, an iNALU input gradient, needs 2e-4 today). atol covers
//   entries that cancel to ~0.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "fused/layer_check.h"

namespace nalu::testing {
namespace {

constexpr LayerTolerance kLinear{1e-5, 1e-4};    // nac
constexpr LayerTolerance kLogSpace{1e-5, 1e-4};  // nac-mul, nalu, inalu on random inputs
constexpr LayerTolerance kExtreme{1e-4, 1e-3};   // the same at |x| in 1e-20..1e20

// Sets the named parameter of `module` to `values` (same shape).
void set(torch::nn::Module& module, const std::string& name, const torch::Tensor& values) {
  auto parameter = module.named_parameters()[name];
  assign(parameter, values);
}

// Zeros (both signs), negatives, tiny and huge magnitudes, and ordinary values. Each column
// holds at most one huge value so that no gradient is a cancelling sum of ~1e20 terms.
torch::Tensor awkward_inputs() {
  return matrix({{0, -0.0, 1e-20, -2, 0.5},
                 {1e6, -1e-20, 0, 3, -1},
                 {-7, 1e-7, -1e20, 0, 1.5},
                 {2, -3e-3, 4, -1e12, 0},
                 {-1, 1, -1, 1, -1}});
}

UnitSettings nalu_settings(bool shared, bool bias, double epsilon = 1e-7) {
  UnitSettings settings;
  settings.nalu_shared_weights = shared;
  settings.nalu_gate_bias = bias;
  settings.epsilon = epsilon;
  return settings;
}

// ---- nac ----

TEST(FusedLayers, NacMatchesTorchOnRandomAndAwkwardInputs) {
  torch::manual_seed(11);
  expect_layer_matches("nac", 3, torch::randn({7, 5}) * 3, {}, kLinear);
  UnitSettings truncated;
  truncated.init = Init::kTruncatedNormal;
  expect_layer_matches("nac", 4, torch::randn({9, 6}), truncated, kLinear);
  expect_layer_matches("nac", 2, awkward_inputs(), {}, kLinear);
}

TEST(FusedLayers, NacAtSaturatedAndZeroWeights) {
  // tanh and sigmoid saturate to exactly +-1 and 1 (zero derivatives), W = 0 at W_hat = 0.
  expect_layer_matches("nac", 1, torch::randn({5, 4}), {}, kLinear, 1.0, [](torch::nn::Module& m) {
    set(m, "w_hat", matrix({{100, -100, 0, 0.3}}));
    set(m, "m_hat", matrix({{100, 0, -100, -0.2}}));
  });
}

// ---- nac-mul ----

TEST(FusedLayers, NacMulMatchesTorchOnRandomInputs) {
  torch::manual_seed(12);
  expect_layer_matches("nac-mul", 3, torch::randn({7, 5}) * 3, {}, kLogSpace);
  expect_layer_matches("nac-mul", 2, torch::rand({6, 4}) * 10 + 0.1, {}, kLogSpace);
}

TEST(FusedLayers, NacMulMatchesTorchOnAwkwardInputsAndEpsilons) {
  for (const double epsilon : {1e-7, 0.1, 1.0}) {
    SCOPED_TRACE("epsilon " + std::to_string(epsilon));
    UnitSettings settings;
    settings.epsilon = epsilon;
    expect_layer_matches("nac-mul", 3, awkward_inputs(), settings, kExtreme);
  }
  // eps = 0: log|x| itself, defined away from zero (at x = 0 both engines give -inf and NaN
  // gradients, which no tolerance compares).
  UnitSettings exact;
  exact.epsilon = 0.0;
  expect_layer_matches("nac-mul", 2, matrix({{1e-20, -2, 0.5}, {1e20, 3, -1e-3}, {-4, 1e6, 7e-9}}),
                       exact, kExtreme);
}

// ---- nalu ----

TEST(FusedLayers, NaluMatchesTorchForEveryWeightAndGateVariant) {
  for (const bool shared : {true, false}) {
    for (const bool bias : {false, true}) {
      SCOPED_TRACE(std::string(shared ? "shared" : "separate") + " weights, " +
                   (bias ? "with" : "without") + " gate bias");
      const auto settings = nalu_settings(shared, bias);
      torch::manual_seed(13);
      expect_layer_matches("nalu", 3, torch::randn({8, 5}) * 2, settings, kLogSpace, 1.0,
                           [&](torch::nn::Module& m) {
                             if (bias)  // random, as after training (it starts at zero)
                               set(m, "gate_bias", torch::randn({3}));
                           });
      expect_layer_matches("nalu", 2, awkward_inputs(), settings, kExtreme);
    }
  }
}

TEST(FusedLayers, NaluMatchesTorchForOtherEpsilonsAndInit) {
  for (const double epsilon : {0.0, 1e-3, 1.0}) {
    SCOPED_TRACE("epsilon " + std::to_string(epsilon));
    torch::manual_seed(14);
    auto x = torch::randn({6, 4}) * 3;
    if (epsilon == 0.0)
      x = x.sign() * (x.abs() + 1e-3);  // no zeros: log(0) = -inf
    expect_layer_matches("nalu", 2, x, nalu_settings(false, true, epsilon), kLogSpace);
  }
  auto settings = nalu_settings(true, false);
  settings.init = Init::kTruncatedNormal;
  torch::manual_seed(15);
  expect_layer_matches("nalu", 3, torch::randn({5, 6}), settings, kLogSpace);
}

TEST(FusedLayers, NaluWithSaturatedGate) {
  // Gate logits of +-1e6: g is exactly 0 or 1 and the sigmoid's derivative vanishes.
  for (const bool shared : {true, false}) {
    expect_layer_matches("nalu", 2, matrix({{1, 2, -3}, {-1, -2, 3}, {0, 1e3, 0}}),
                         nalu_settings(shared, true), kExtreme, 1.0, [](torch::nn::Module& m) {
                           set(m, "gate_weight", matrix({{1e6, 1e6, 0}, {0, -1e3, 1}}));
                         });
  }
}

// ---- inalu ----

TEST(FusedLayers, InaluMatchesTorchOnRandomInputs) {
  torch::manual_seed(16);
  expect_layer_matches("inalu", 3, torch::randn({8, 5}) * 2, {}, kLogSpace);
  expect_layer_matches("inalu", 1, torch::rand({6, 3}) * 4 + 0.5, {}, kLogSpace, 0.5);
}

TEST(FusedLayers, InaluMatchesTorchOnAwkwardInputsAndEpsilons) {
  // Huge inputs push the exponent past omega (clamped, no gradient); tiny ones below epsilon
  // (clamped, no gradient); zeros have sign 0.
  for (const double epsilon : {1e-7, 1e-3, 0.5}) {
    SCOPED_TRACE("epsilon " + std::to_string(epsilon));
    UnitSettings settings;
    settings.epsilon = epsilon;
    expect_layer_matches("inalu", 3, awkward_inputs(), settings, kExtreme);
  }
}

// Sets W_m = tanh(W_hat_mul) * sigmoid(M_hat_mul) to exact values: tanh(+-100) = +-1 and
// sigmoid(100) = 1 (saturated), tanh(0) = 0, sigmoid(0) = 0.5.
std::function<void(torch::nn::Module&)> exact_w_mul(std::vector<double> w_hat,
                                                    std::vector<double> m_hat) {
  return [=](torch::nn::Module& m) {
    set(m, "w_hat_mul", matrix({w_hat}));
    set(m, "m_hat_mul", matrix({m_hat}));
  };
}

TEST(FusedLayers, InaluClampTiesPassTheGradient) {
  // W_m = [1, 0, -0.5].
  // Row 0: the exponent is 1 * log|x_0| + 0 * log 2 - 0.5 * log 1 = 20 = omega exactly, where
  //        clamp_max still passes the gradient (to x_0, and to W_hat_mul through log 2).
  // Row 1: |x_0| = epsilon exactly (clamp_min passes), |x_1| below it (blocked).
  // Row 2: the exponent is past omega (blocked).
  const float at_omega = 485165184.0f;  // the float nearest exp(20)
  ASSERT_EQ(torch::log(torch::tensor({at_omega})).item<float>(), 20.0f);
  const auto x = matrix({{at_omega, 2, 1}, {1e-7, -1e-8, 1}, {1e10, -2, 0.5}});
  expect_layer_matches("inalu", 1, x, {}, kExtreme, 1.0,
                       exact_w_mul({100, 0, -100}, {100, 0.7, 0}));
}

TEST(FusedLayers, InaluSignPathAtZeroFactorsAndZeroWeights) {
  // W_m = [-0.5, 0, -0.5], so an input of -1 makes its sign factor -1 * 0.5 + 1 - 0.5 = 0.
  // Rows 0 and 3: one zero factor, whose gradient is the product of the others (no 0 / 0).
  // Row 4: two zero factors, so no factor gets a gradient.
  // Rows 1 and 2: sign(x_1) = -1 and 0 give |W_m| = 0 at column 1 a gradient, which reaches
  //        W_hat_mul only through abs'(0) = 0.
  // (Not in one batch with the rows of e^20 above: LibTorch sums the sign path's gradient as
  // sum(d * sign(x)) - sum(d), which loses a term of 3 beside terms of 2.4e8 that cancel, so
  // torch's own result there is off by more than any tolerance; the fused layer skips the
  // exactly-zero terms of positive inputs.)
  const auto x = matrix({{3, -2, -1}, {2, -3, 4}, {0.5, 0, 2}, {-1, 1, 3}, {-1, -2, -1}});
  expect_layer_matches("inalu", 1, x, {}, kLogSpace, 1.0,
                       exact_w_mul({-100, 0, -100}, {0, 0.7, 0}));
}

TEST(FusedLayers, InaluRegulariserAtTiesAndZeros) {
  // |p| = t = 20 (clamp_min(t - |p|, 0) passes the gradient at 0), |p| > t (none), p = 0
  // (abs'(0) = 0), and the scale.
  expect_layer_matches("inalu", 2, torch::randn({4, 3}), {}, kLogSpace, 3.0,
                       [](torch::nn::Module& m) {
                         set(m, "w_hat_add", matrix({{20, -20, 0}, {25, -0.5, 1}}));
                         set(m, "m_hat_add", matrix({{0, 19.5, -21}, {2, 0, -20}}));
                         set(m, "gate", torch::tensor({20.0f, 0.0f}));
                       });
}

// ---- all of them ----

TEST(FusedLayers, NacFamilyRejectsSettingsTheUnitsReject) {
  std::string why;
  UnitSettings settings;
  settings.epsilon = 0.0;
  EXPECT_EQ(fused::make_layer("inalu", 2, 1, settings, 4, &why), nullptr);
  EXPECT_TRUE(contains(why, "inalu")) << why;
  settings.epsilon = -1.0;
  why.clear();
  EXPECT_EQ(fused::make_layer("nac-mul", 2, 1, settings, 4, &why), nullptr);
  EXPECT_TRUE(contains(why, "epsilon")) << why;
  why.clear();
  EXPECT_EQ(fused::make_layer("nalu", 2, 1, settings, 4, &why), nullptr);
  EXPECT_TRUE(contains(why, "nalu")) << why;
}

TEST(FusedLayers, NacFamilyBackwardKeepsNoStateBetweenBatches) {
  // Smaller batches than max_batch, twice: the same outputs and input gradients, and the
  // parameter gradients accumulate (exactly doubled).
  const std::vector<std::pair<std::string, UnitSettings>> cases = {
      {"nac", {}},
      {"nac-mul", {}},
      {"nalu", nalu_settings(true, false)},
      {"nalu", nalu_settings(false, true)},
      {"inalu", {}}};
  for (const auto& [name, settings] : cases) {
    SCOPED_TRACE(name);
    const int in = 4, out = 3, B = 5;
    std::string why;
    auto layer = fused::make_layer(name, in, out, settings, 16, &why);
    ASSERT_NE(layer, nullptr) << why;
    torch::manual_seed(17);
    auto unit = make_unit(name, in, out, settings);
    auto params = flat_parameters(unit->as_module());
    layer->prepare(params.data());
    const auto x = torch::randn({B, in}) * 2;
    const std::vector<float> xs(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
    const auto dyt = torch::randn({B, out});
    const std::vector<float> dy(dyt.data_ptr<float>(), dyt.data_ptr<float>() + dyt.numel());
    std::vector<float> y1(B * out), y2(B * out), dx1(B * in), dx2(B * in);
    std::vector<float> once(params.size(), 0.0f), twice(params.size(), 0.0f);
    layer->forward(B, params.data(), xs.data(), y1.data());
    layer->backward(B, params.data(), xs.data(), y1.data(), dy.data(), once.data(), dx1.data());
    layer->backward(B, params.data(), xs.data(), y1.data(), dy.data(), twice.data(), nullptr);
    layer->forward(B, params.data(), xs.data(), y2.data());
    layer->backward(B, params.data(), xs.data(), y2.data(), dy.data(), twice.data(), dx2.data());
    EXPECT_EQ(y1, y2);
    EXPECT_EQ(dx1, dx2);
    // Twice the gradient, up to rounding: some gradients accumulate into grads term by term.
    for (auto& g : once)
      g *= 2.0f;
    EXPECT_TRUE(close_to(torch::tensor(twice), torch::tensor(once), 1e-6, 1e-6));
  }
}

}  // namespace
}  // namespace nalu::testing

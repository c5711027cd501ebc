// Checks a fused layer against the LibTorch unit of the same name: the unit is built with
// make_unit, its parameters are copied into the fused layer, and both compute the forward pass,
// the input and parameter gradients of sum(y * dy) for a random dy, the scaled regulariser and
// its gradient, and the projection after an optimiser step.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "fused/layer.h"
#include "fused/network.h"
#include "nalu/io/module_archive.h"
#include "nalu/units/stack.h"
#include "test_util.h"

namespace nalu::testing {

/// |fused - torch| <= atol + rtol * |torch| for each quantity.
struct LayerTolerance {
  double atol = 1e-5;
  double rtol = 1e-4;
};

using io::flat_parameters;

inline torch::Tensor as_tensor(const std::vector<float>& values, at::IntArrayRef sizes) {
  return torch::tensor(values).reshape(sizes);
}

/// Compares the gradients the fused layer wrote (flat, in registration order) with the `grad()`
/// of every parameter of `module` (an undefined grad counts as zero).
inline void expect_gradients_match(const torch::nn::Module& module, const std::vector<float>& grads,
                                   LayerTolerance tolerance, const std::string& what) {
  size_t offset = 0;
  for (const auto& item : module.named_parameters()) {
    const auto n = item.value().numel();
    const std::vector<float> slice(grads.begin() + static_cast<int64_t>(offset),
                                   grads.begin() + static_cast<int64_t>(offset) + n);
    const auto expected =
        item.value().grad().defined() ? item.value().grad() : torch::zeros_like(item.value());
    EXPECT_TRUE(
        close_to(as_tensor(slice, item.value().sizes()), expected, tolerance.atol, tolerance.rtol))
        << what << " of " << item.key();
    offset += static_cast<size_t>(n);
  }
}

/// What expect_forward_backward_match computed, for further checks by the caller.
struct LayerRun {
  std::vector<float> params, x, y, dy, grads;
};

/// Copies the parameters of `module` into `layer` and compares the forward pass (`forward` is
/// the module's), the input gradient and the parameter gradients of sum(y * dy) for a random
/// dy. Check HasFatalFailure() after it.
inline void expect_forward_backward_match(
    torch::nn::Module& module, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
    fused::Layer& layer, const torch::Tensor& x, LayerTolerance tolerance, LayerRun& run) {
  const int B = static_cast<int>(x.size(0));
  const int in = layer.in();
  const int out = layer.out();

  // Parameters: same count, copied one-to-one.
  run.params = flat_parameters(module);
  int64_t expected_count = 0;
  for (auto size : layer.parameter_sizes())
    expected_count += size;
  ASSERT_EQ(expected_count, static_cast<int64_t>(run.params.size()));
  layer.prepare(run.params.data());

  // Forward.
  const auto input = x.detach().clone().requires_grad_(true);
  const auto expected_y = forward(input);
  run.x.assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
  run.y.assign(static_cast<size_t>(B) * out, 0.0f);
  layer.forward(B, run.params.data(), run.x.data(), run.y.data());
  EXPECT_TRUE(close_to(as_tensor(run.y, {B, out}), expected_y, tolerance.atol, tolerance.rtol))
      << "forward";

  // Backward of sum(y * dy).
  torch::manual_seed(4);
  const auto dy = torch::randn({B, out});
  (expected_y * dy).sum().backward();
  run.dy.assign(dy.data_ptr<float>(), dy.data_ptr<float>() + dy.numel());
  run.grads.assign(run.params.size(), 0.0f);
  std::vector<float> dx(run.x.size(), 0.0f);
  layer.backward(B, run.params.data(), run.x.data(), run.y.data(), run.dy.data(), run.grads.data(),
                 dx.data());
  EXPECT_TRUE(close_to(as_tensor(dx, {B, in}), input.grad(), tolerance.atol, tolerance.rtol))
      << "input gradient";
  expect_gradients_match(module, run.grads, tolerance, "gradient");
}

/// Compares fused layer `name` with its LibTorch unit on input x [B, in]. `regularizer_scale`
/// is passed to both regularisers (0 skips that check). Optionally `prepare_unit` edits the
/// LibTorch unit's parameters first (e.g. to set awkward weights). With `training` false both
/// run in evaluation mode (module.eval(), layer.set_training(false)).
inline void expect_layer_matches(const std::string& name, int out, const torch::Tensor& x,
                                 const UnitSettings& settings, LayerTolerance tolerance,
                                 double regularizer_scale = 1.0,
                                 const std::function<void(torch::nn::Module&)>& prepare_unit = {},
                                 bool training = true) {
  SCOPED_TRACE("unit " + name);
  const int B = static_cast<int>(x.size(0));
  const int in = static_cast<int>(x.size(1));
  torch::manual_seed(3);
  auto unit = make_unit(name, in, out, settings);
  auto& module = unit->as_module();
  if (prepare_unit)
    prepare_unit(module);
  std::string why;
  auto layer = fused::make_layer(name, in, out, settings, B, &why);
  ASSERT_NE(layer, nullptr) << why;
  module.train(training);
  layer->set_training(training);
  LayerRun run;
  expect_forward_backward_match(
      module, [&](const torch::Tensor& input) { return unit->forward(input); }, *layer, x,
      tolerance, run);
  if (::testing::Test::HasFatalFailure())
    return;

  // Regulariser: value and gradient.
  if (regularizer_scale != 0.0) {
    for (auto& p : module.parameters())
      p.mutable_grad() = torch::Tensor();
    const auto expected_r = unit->regularization_loss(regularizer_scale);
    std::vector<float> reg_grads(run.params.size(), 0.0f);
    const double r = layer->regularize(run.params.data(), regularizer_scale, reg_grads.data());
    EXPECT_NEAR(r, expected_r.item<double>(),
                tolerance.atol + tolerance.rtol * std::fabs(expected_r.item<double>()))
        << "regulariser value";
    if (expected_r.requires_grad()) {
      expected_r.backward();
      expect_gradients_match(module, reg_grads, tolerance, "regulariser gradient");
    }
  }

  // Projection: push every parameter out of range, then clamp both ways.
  {
    torch::NoGradGuard no_grad;
    for (auto& p : module.parameters())
      p.mul_(3.0).add_(0.5);
  }
  std::vector<float> moved = flat_parameters(module);
  unit->after_optimizer_step();
  layer->project(moved.data());
  EXPECT_EQ(moved, flat_parameters(module)) << "projection";
}

}  // namespace nalu::testing

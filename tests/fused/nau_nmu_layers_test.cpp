// The fused NAU and NMU against their LibTorch units.
#include <gtest/gtest.h>

#include "fused/layer_check.h"

namespace nalu::testing {
namespace {

TEST(FusedLayers, NauMatchesTorchOnRandomAndAwkwardInputs) {
  torch::manual_seed(1);
  expect_layer_matches("nau", 3, torch::randn({7, 5}) * 3, {}, {});
  // Zeros, negatives, large and small magnitudes.
  const auto awkward = matrix({{0, -0.0, 1e-30, -1e30, 5}, {1e6, -1e-6, 0, 2, -3}});
  expect_layer_matches("nau", 2, awkward, {}, {1e-2, 1e-5});
}

TEST(FusedLayers, NauRegulariserAtTiesAndSaturation) {
  // Weights exactly at 0, +-0.5 and +-1, where min(|w|, 1-|w|) has kinks.
  expect_layer_matches("nau", 1, torch::randn({4, 5}), {}, {}, 2.0, [](torch::nn::Module& m) {
    auto w = m.named_parameters()["weight"];
    assign(w, matrix({{0, 0.5, -0.5, 1, -1}}));
  });
}

TEST(FusedLayers, NmuMatchesTorchOnRandomAndAwkwardInputs) {
  torch::manual_seed(2);
  expect_layer_matches("nmu", 2, torch::rand({6, 4}) * 4 - 2, {}, {});
  // A zero factor (w = 1, x = 0) must not break the gradient of the other factors.
  expect_layer_matches("nmu", 1, matrix({{0, 3, -2}, {1e-20, 1e10, 1}}), {}, {1e-3, 1e-4}, 1.0,
                       [](torch::nn::Module& m) {
                         auto w = m.named_parameters()["weight"];
                         assign(w, matrix({{1, 0.5, 0.25}}));
                       });
}

}  // namespace
}  // namespace nalu::testing

// Generic finite-difference gradient check shared by the unit tests: every unit's autograd
// gradients (w.r.t. its parameters and its input) must match central differences in double
// precision. The caller picks inputs away from the unit's non-smooth points.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "nalu/units/unit.h"

namespace nalu::testing {

struct GradCheckOptions {
  double step = 1e-6;       // central-difference step
  double tolerance = 1e-5;  // |analytic - numeric| <= tolerance * (1 + |numeric|)
};

/// Largest mismatch between the analytic and numeric gradient of one tensor; 0 when all agree.
/// `loss` must recompute the scalar objective from the current values of `tensor`.
template <typename Loss>
double gradient_mismatch(torch::Tensor& tensor, const torch::Tensor& analytic, Loss&& loss,
                         const GradCheckOptions& options, std::string& where) {
  torch::NoGradGuard no_grad;
  double worst = 0.0;
  auto flat = tensor.view({-1});
  auto grad = analytic.reshape({-1});
  for (int64_t k = 0; k < flat.numel(); ++k) {
    const double original = flat[k].item<double>();
    flat[k].fill_(original + options.step);
    const double plus = loss();
    flat[k].fill_(original - options.step);
    const double minus = loss();
    flat[k].fill_(original);
    const double numeric = (plus - minus) / (2 * options.step);
    const double computed = grad[k].item<double>();
    const double excess =
        std::abs(computed - numeric) - options.tolerance * (1.0 + std::abs(numeric));
    if (excess > worst) {
      worst = excess;
      where = "element " + std::to_string(k) + ": autograd " + std::to_string(computed) +
              ", finite difference " + std::to_string(numeric);
    }
  }
  return worst;
}

/// Converts `unit` to double and checks d(sum(forward(x) * R))/d(parameter) and d/d(x) against
/// central differences, for random fixed weights R. `input` is converted to double too.
inline void expect_gradients_match(ArithmeticUnit& unit, const torch::Tensor& input,
                                   const GradCheckOptions& options = {}) {
  auto& module = unit.as_module();
  module.to(torch::kDouble);
  auto x = input.to(torch::kDouble).clone();
  const auto output_weights =
      torch::randn({x.size(0), unit.out_features()}, torch::TensorOptions(torch::kDouble));
  auto loss = [&]() { return (unit.forward(x) * output_weights).sum().item<double>(); };

  // Analytic gradients.
  module.zero_grad();
  x.requires_grad_(true);
  (unit.forward(x) * output_weights).sum().backward();
  const auto input_grad = x.grad().clone();
  x = x.detach();

  const auto parameters = module.named_parameters(/*recurse=*/true);
  ASSERT_GT(parameters.size(), 0u) << unit.unit_name() << " has no parameters";
  for (const auto& item : parameters) {
    auto parameter = item.value();
    ASSERT_TRUE(parameter.grad().defined())
        << unit.unit_name() << ": no gradient reached " << item.key();
    std::string where;
    const double worst =
        gradient_mismatch(parameter, parameter.grad().clone(), loss, options, where);
    EXPECT_EQ(worst, 0.0) << unit.unit_name() << ": gradient of " << item.key() << " is off at "
                          << where;
  }
  std::string where;
  const double worst = gradient_mismatch(x, input_grad, loss, options, where);
  EXPECT_EQ(worst, 0.0) << unit.unit_name() << ": input gradient is off at " << where;
}

/// Inputs with magnitudes in [low, high] and random signs (or all positive): away from the
/// kinks of |x|, sign(x) and log(|x|).
inline torch::Tensor away_from_zero(int64_t batch, int64_t features, bool random_signs,
                                    double low = 0.5, double high = 2.0) {
  auto magnitude = torch::empty({batch, features}, torch::kDouble).uniform_(low, high);
  if (!random_signs)
    return magnitude;
  auto sign = torch::randint(0, 2, {batch, features}, torch::kDouble) * 2 - 1;
  return magnitude * sign;
}

}  // namespace nalu::testing

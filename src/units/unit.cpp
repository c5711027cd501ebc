// Helpers shared by every unit: input checks, sparsity measures, initialisation; and the
// UnitOwner mixin (nalu/units/unit_owner.h) of models that hold units.
#include "nalu/units/unit.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "nalu/error.h"
#include "nalu/units/unit_owner.h"

namespace nalu {

std::string init_name(Init init) {
  switch (init) {
    case Init::kTruncatedNormal:
      return "truncated-normal";
    case Init::kXavierUniform:
      return "xavier-uniform";
    case Init::kReference:
      return "reference";
  }
  return "?";
}

Init parse_init(const std::string& name) {
  if (name == "xavier" || name == "xavier-uniform")
    return Init::kXavierUniform;
  if (name == "truncated-normal")
    return Init::kTruncatedNormal;
  if (name == "reference")
    return Init::kReference;
  throw Error("unknown init '" + name + "' (known: xavier-uniform, truncated-normal, reference)");
}

torch::Tensor ArithmeticUnit::regularization_loss(double /*scale*/) const {
  return torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat));
}

namespace detail {

void check_input(const torch::Tensor& input, int64_t in_features, const char* unit) {
  TORCH_CHECK(input.defined(), unit, ": expected an input tensor, got an undefined one");
  TORCH_CHECK(input.dim() == 2, unit, ": expected a 2-D input [batch, ", in_features, "], got ",
              input.dim(), "-D");
  TORCH_CHECK(input.size(1) == in_features, unit, ": expected ", in_features,
              " input features, got ", input.size(1));
}

void check_sizes(int64_t in_features, int64_t out_features, const char* unit) {
  TORCH_CHECK(in_features > 0, unit, ": in_features must be positive, got ", in_features);
  TORCH_CHECK(out_features > 0, unit, ": out_features must be positive, got ", out_features);
}

double sparsity_error_signed(const torch::Tensor& weight) {
  torch::NoGradGuard no_grad;
  if (weight.numel() == 0)
    return 0.0;
  const auto magnitude = weight.abs();
  return torch::min(magnitude, (1 - magnitude).abs()).max().item<double>();
}

double distance_to_integer(const torch::Tensor& weight) {
  torch::NoGradGuard no_grad;
  if (weight.numel() == 0)
    return 0.0;
  return (weight - weight.round()).abs().max().item<double>();
}

std::vector<float> to_vector(const torch::Tensor& tensor) {
  torch::NoGradGuard no_grad;
  auto flat = tensor.detach().to(torch::kCPU, torch::kFloat).contiguous().view({-1});
  return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
}

void truncated_normal_(torch::Tensor& tensor, double stddev) {
  torch::NoGradGuard no_grad;
  // Redraw the values outside two standard deviations, as tf.truncated_normal does.
  tensor.normal_(0.0, stddev);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto outside = tensor.abs() > 2 * stddev;
    if (!outside.any().item<bool>())
      return;
    tensor.masked_scatter_(outside, torch::empty_like(tensor).normal_(0.0, stddev));
  }
  tensor.clamp_(-2 * stddev, 2 * stddev);
}

double nac_reference_range(int64_t fan_in, int64_t fan_out) {
  // Var(tanh(a) * sigmoid(b)) for a, b ~ U[-r, r] independent: E[tanh^2] * E[sigmoid^2], with
  // E[tanh^2] = 1 - tanh(r) / r and E[sigmoid^2] = (r - tanh(r / 2)) / (2r). It rises from 0
  // at r = 0 to 0.405 at r = 10, so fan * Var = 2 has one root in (0, 10] for every fan >= 5.
  const auto variance = [](double r) {
    return (1 - std::tanh(r) / r) * (r - std::tanh(r / 2)) / (2 * r);
  };
  const double fan = static_cast<double>(std::max<int64_t>(fan_in + fan_out, 5));
  double low = 0.0;
  double high = 10.0;
  while (high - low > 1e-12) {
    const double mid = 0.5 * (low + high);
    (fan * variance(mid) < 2.0 ? low : high) = mid;
  }
  return 0.5 * (low + high);
}

void initialize(torch::Tensor& tensor, Init init, double truncated_stddev) {
  torch::NoGradGuard no_grad;
  switch (init) {
    case Init::kTruncatedNormal:
      truncated_normal_(tensor, truncated_stddev);
      break;
    case Init::kXavierUniform:
      torch::nn::init::xavier_uniform_(tensor);
      break;
    case Init::kReference: {
      TORCH_CHECK(tensor.dim() == 2, "reference init: expected a 2-D [out, in] weight, got ",
                  tensor.dim(), "-D");
      const double r = nac_reference_range(tensor.size(1), tensor.size(0));
      tensor.uniform_(-r, r);
      break;
    }
  }
}

}  // namespace detail

// ---- UnitOwner ----

std::vector<RegularizerSchedule> UnitOwner::unit_schedules(
    int64_t iterations, const std::optional<RegularizerSchedule>& override) const {
  std::vector<RegularizerSchedule> schedules;
  for (const auto& unit : units())
    schedules.push_back(override ? *override
                                 : scaled_to_run(unit->default_regularizer(), iterations));
  return schedules;
}

torch::Tensor UnitOwner::scheduled_regularization_loss(
    int64_t step, const std::vector<RegularizerSchedule>& schedules) const {
  const auto all = units();
  check(schedules.size() == all.size(), std::to_string(all.size()) +
                                            " arithmetic units need as many schedules, got " +
                                            std::to_string(schedules.size()));
  torch::Tensor total = torch::zeros({});
  for (size_t u = 0; u < all.size(); ++u) {
    const double lambda = schedules[u].at(step);
    if (lambda != 0.0)
      total = total + all[u]->regularization_loss(lambda);
  }
  return total;
}

void UnitOwner::after_optimizer_step() {
  for (const auto& unit : units())
    unit->after_optimizer_step();
}

double UnitOwner::sparsity_error() const {
  double worst = 0.0;
  for (const auto& unit : units()) {
    const double error = unit->sparsity_error();
    if (!std::isnan(error))
      worst = std::max(worst, error);
  }
  return worst;
}

}  // namespace nalu

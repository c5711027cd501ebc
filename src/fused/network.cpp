// The fused network: layers, buffers, loss and parameter exchange with LibTorch.
#include "network.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>

#include "nalu/error.h"
#include "nalu/io/module_archive.h"
#include "nalu/limits.h"
#include "nalu/units/registry.h"

namespace nalu::fused {

std::unique_ptr<Layer> make_layer(const std::string& name, int in, int out,
                                  const UnitSettings& settings, int max_batch, std::string* why) {
  // Only the units the registry flags for the fused engine (find_unit throws for unknown names).
  if (find_unit(name).fused) {
    if (auto layer = make_additive_layer(name, in, out, settings, max_batch, why))
      return layer;
    if (auto layer = make_nac_layer(name, in, out, settings, max_batch, why))
      return layer;
    if (auto layer = make_power_layer(name, in, out, settings, max_batch, why))
      return layer;
    if (auto layer = make_division_layer(name, in, out, settings, max_batch, why))
      return layer;
    if (auto layer = make_baseline_layer(name, in, out, {}, settings, max_batch, why))
      return layer;
  }
  if (why != nullptr && why->empty())
    *why = "the fused engine has no '" + name + "' layer";
  return nullptr;
}

namespace {

struct Plan {
  std::vector<std::unique_ptr<Layer>> layers;
  std::string why;  // empty when every layer was built
};

// The layers make_stack builds for these arguments: one MLP for a lone "mlp", else one unit
// per consecutive pair of sizes.
Plan plan_layers(const std::vector<std::string>& units, const std::vector<int64_t>& sizes,
                 const UnitSettings& settings, int max_batch) {
  check(sizes.size() >= 2, "fused: needs at least two sizes");
  check(units.size() == 1 || units.size() == sizes.size() - 1,
        "fused: " + std::to_string(sizes.size() - 1) + " layers need 1 or as many unit names");
  Plan plan;
  if (units.size() == 1 && units.front() == "mlp") {
    std::vector<int64_t> hidden(sizes.begin() + 1, sizes.end() - 1);
    auto layer =
        make_baseline_layer("mlp", checked_narrow<int>(sizes.front(), "fused engine: input size"),
                            checked_narrow<int>(sizes.back(), "fused engine: output size"), hidden,
                            settings, max_batch, &plan.why);
    if (layer == nullptr && plan.why.empty())
      plan.why = "the fused engine has no 'mlp' layer";
    plan.layers.push_back(std::move(layer));
    return plan;
  }
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    const auto& name = units.size() == 1 ? units.front() : units[l];
    auto layer = make_layer(name, checked_narrow<int>(sizes[l], "fused engine: layer size"),
                            checked_narrow<int>(sizes[l + 1], "fused engine: layer size"), settings,
                            max_batch, &plan.why);
    if (layer == nullptr)
      return plan;
    plan.layers.push_back(std::move(layer));
  }
  return plan;
}

// Floats per training block: 32 rows of 100 inputs.
constexpr int64_t kTrainingBlockValues = 3200;

}  // namespace

int training_block_rows(int64_t input_size, int64_t batch_size) {
  return static_cast<int>(
      std::clamp<int64_t>(kTrainingBlockValues / std::max<int64_t>(input_size, 1), 1, batch_size));
}

std::string Network::unsupported_reason(const std::vector<std::string>& units,
                                        const std::vector<int64_t>& sizes,
                                        const UnitSettings& settings) {
  return plan_layers(units, sizes, settings, 1).why;
}

Network::Network(const std::vector<std::string>& units, const std::vector<int64_t>& sizes,
                 const UnitSettings& settings, int max_batch)
    : max_batch_(max_batch) {
  check(max_batch > 0, "fused: the batch size must be positive");
  auto plan = plan_layers(units, sizes, settings, max_batch);
  if (!plan.why.empty())
    throw Error(plan.why);
  layers_ = std::move(plan.layers);
  size_t total = 0;
  for (const auto& layer : layers_) {
    offsets_.push_back(total);
    for (auto size : layer->parameter_sizes())
      total += static_cast<size_t>(size);
    activations_.emplace_back(static_cast<size_t>(max_batch) * layer->out());
    deltas_.emplace_back(static_cast<size_t>(max_batch) * layer->in());
  }
  check(layers_.back()->out() == 1, "fused: the network must have one output");
  params_.assign(total, 0.0f);
  grads_.assign(total, 0.0f);
  output_delta_.assign(static_cast<size_t>(max_batch), 0.0f);
}

void Network::load(const torch::nn::Module& model) {
  const std::vector<float> values = io::flat_parameters(model);
  check(values.size() == params_.size(), "fused: the model has " + std::to_string(values.size()) +
                                             " parameters but the network " +
                                             std::to_string(params_.size()));
  // Copied into the existing buffer: the layers point into it.
  std::copy(values.begin(), values.end(), params_.begin());
  prepare();
}

void Network::store(torch::nn::Module& model) const {
  io::load_flat_parameters(model, params_);
}

void Network::prepare() {
  for (size_t l = 0; l < layers_.size(); ++l)
    layers_[l]->prepare(params_.data() + offsets_[l]);
}

const float* Network::forward(int B, const float* x) {
  if (B <= 0 || B > max_batch_) {  // (no message built on the hot path)
    throw Error("fused: batch of " + std::to_string(B) + " rows, at most " +
                std::to_string(max_batch_));
  }
  const float* input = x;
  for (size_t l = 0; l < layers_.size(); ++l) {
    layers_[l]->forward(B, params_.data() + offsets_[l], input, activations_[l].data());
    input = activations_[l].data();
  }
  return input;
}

double Network::mse_gradients(int B, const float* x, const float* target) {
  zero_gradients();
  return accumulate_mse_gradients(B, B, x, target) / B;
}

void Network::zero_gradients() {
  std::fill(grads_.begin(), grads_.end(), 0.0f);
}

double Network::accumulate_mse_gradients(int rows, int batch_size, const float* x,
                                         const float* target) {
  const float* y = forward(rows, x);
  double sum = 0.0;
  const float scale = 2.0f / static_cast<float>(batch_size);
  for (int b = 0; b < rows; ++b) {
    const float error = y[b] - target[b];
    sum += static_cast<double>(error) * error;
    output_delta_[b] = scale * error;
  }
  const float* dy = output_delta_.data();
  for (size_t l = layers_.size(); l-- > 0;) {
    const float* input = l == 0 ? x : activations_[l - 1].data();
    float* dx = l == 0 ? nullptr : deltas_[l].data();
    layers_[l]->backward(rows, params_.data() + offsets_[l], input, activations_[l].data(), dy,
                         grads_.data() + offsets_[l], dx);
    dy = dx;
  }
  return sum;
}

double Network::regularize(const std::vector<double>& lambdas) {
  if (lambdas.size() != layers_.size())
    throw Error("fused: one regulariser scale per layer");
  double total = 0.0;
  for (size_t l = 0; l < layers_.size(); ++l) {
    if (lambdas[l] != 0.0) {
      total += layers_[l]->regularize(params_.data() + offsets_[l], lambdas[l],
                                      grads_.data() + offsets_[l]);
    }
  }
  return total;
}

void Network::project() {
  for (size_t l = 0; l < layers_.size(); ++l)
    layers_[l]->project(params_.data() + offsets_[l]);
}

void Network::set_training(bool training) {
  for (auto& layer : layers_)
    layer->set_training(training);
}

}  // namespace nalu::fused

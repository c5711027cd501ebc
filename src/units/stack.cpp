// Stacks of units and building units by registry name.
#include "nalu/units/stack.h"

#include <torch/torch.h>

#include <cmath>

#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/units/baselines.h"
#include "nalu/units/registry.h"

namespace nalu {

StackImpl::StackImpl(std::vector<std::shared_ptr<ArithmeticUnit>> layers)
    : layers_(std::move(layers)) {
  check(!layers_.empty(), "stack: needs at least one layer");
  for (size_t l = 0; l < layers_.size(); ++l) {
    check(layers_[l] != nullptr, "stack: layer " + std::to_string(l) + " is null");
    if (l > 0) {
      check(layers_[l - 1]->out_features() == layers_[l]->in_features(),
            "stack: layer " + std::to_string(l - 1) + " has " +
                std::to_string(layers_[l - 1]->out_features()) + " outputs but layer " +
                std::to_string(l) + " takes " + std::to_string(layers_[l]->in_features()));
    }
    // Register through an aliasing pointer: the unit object is both the interface and the module.
    std::shared_ptr<torch::nn::Module> module(layers_[l], &layers_[l]->as_module());
    register_module("layer" + std::to_string(l), module);
  }
}

torch::Tensor StackImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = input;
  for (auto& layer : layers_)
    x = layer->forward(x);
  return x;
}

torch::Tensor StackImpl::regularization_loss(double scale) const {
  torch::Tensor total = torch::zeros({});
  for (const auto& layer : layers_)
    total = total + layer->regularization_loss(scale);
  return total;
}

torch::Tensor StackImpl::scheduled_regularization_loss(
    int64_t step, const std::vector<RegularizerSchedule>& schedules) const {
  check(schedules.size() == layers_.size(), "stack: " + std::to_string(layers_.size()) +
                                                " layers need as many schedules, got " +
                                                std::to_string(schedules.size()));
  torch::Tensor total = torch::zeros({});
  for (size_t l = 0; l < layers_.size(); ++l) {
    const double lambda = schedules[l].at(step);
    if (lambda != 0.0)
      total = total + layers_[l]->regularization_loss(lambda);
  }
  return total;
}

double StackImpl::sparsity_error() const {
  double error = 0.0;
  for (const auto& layer : layers_) {
    const double e = layer->sparsity_error();
    if (std::isnan(e))
      return e;
    error = std::max(error, e);
  }
  return error;
}

Formula StackImpl::formula() const {
  Formula formula = layers_.front()->formula();
  for (size_t l = 1; l < layers_.size(); ++l)
    formula = compose(formula, layers_[l]->formula());
  return formula;
}

void StackImpl::after_optimizer_step() {
  for (auto& layer : layers_)
    layer->after_optimizer_step();
}

std::string StackImpl::unit_name() const {
  std::vector<std::string> names;
  for (const auto& layer : layers_)
    names.push_back(layer->unit_name());
  return join(names, ",");
}

int64_t StackImpl::in_features() const {
  return layers_.front()->in_features();
}
int64_t StackImpl::out_features() const {
  return layers_.back()->out_features();
}

void StackImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::Stack(" << unit_name() << ")";
}

std::shared_ptr<ArithmeticUnit> make_unit(const std::string& name, int64_t in, int64_t out,
                                          const UnitSettings& settings) {
  return find_unit(name).make(in, out, settings);  // find_unit throws for unknown names
}

Stack make_stack(const std::vector<std::string>& units, const std::vector<int64_t>& sizes,
                 const UnitSettings& settings) {
  check(sizes.size() >= 2, "stack: needs at least two sizes (inputs and outputs), got " +
                               std::to_string(sizes.size()));
  for (auto size : sizes)
    check(size > 0, "stack: sizes must be positive, got " + std::to_string(size));
  const size_t depth = sizes.size() - 1;
  check(units.size() == 1 || units.size() == depth,
        "stack: " + std::to_string(depth) + " layers need 1 or " + std::to_string(depth) +
            " unit names, got " + std::to_string(units.size()));
  for (const auto& name : units)
    find_unit(name);

  if (units.size() == 1 && units.front() == "mlp") {
    std::vector<int64_t> hidden(sizes.begin() + 1, sizes.end() - 1);
    auto mlp = std::make_shared<MLPImpl>(MLPOptions(sizes.front(), sizes.back())
                                             .hidden(hidden)
                                             .activation(parse_activation(settings.mlp_activation))
                                             .bias(settings.linear_bias));
    return Stack(std::vector<std::shared_ptr<ArithmeticUnit>>{mlp});
  }
  std::vector<std::shared_ptr<ArithmeticUnit>> layers;
  for (size_t l = 0; l < depth; ++l) {
    const auto& name = units.size() == 1 ? units.front() : units[l];
    check(name != "mlp" || depth == 1,
          "stack: 'mlp' is a whole network; give it alone, its hidden sizes are the inner sizes");
    layers.push_back(make_unit(name, sizes[l], sizes[l + 1], settings));
  }
  return Stack(std::move(layers));
}

}  // namespace nalu

// Units as recurrent cells, and the sequence model of the recurrent arithmetic task.
#include "nalu/units/recurrent.h"

#include <torch/torch.h>

#include <algorithm>

#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/units/registry.h"

namespace nalu {

namespace functional {

torch::Tensor recurrent_cell(ArithmeticUnit& unit, const torch::Tensor& input,
                             const torch::Tensor& hidden) {
  return unit.forward(torch::cat({input, hidden}, 1));
}

}  // namespace functional

namespace {

bool is_registry_unit(const std::string& name) {
  const auto& units = unit_catalog();
  return std::any_of(units.begin(), units.end(),
                     [&](const UnitInfo& unit) { return unit.name == name; });
}

}  // namespace

// ---- RecurrentCell ----

RecurrentCellImpl::RecurrentCellImpl(RecurrentCellOptions options_) : options(std::move(options_)) {
  reset();
}

void RecurrentCellImpl::reset() {
  TORCH_CHECK(options.input_size() > 0, "recurrent cell: input size must be positive, got ",
              options.input_size());
  TORCH_CHECK(options.hidden_size() > 0, "recurrent cell: hidden size must be positive, got ",
              options.hidden_size());
  unit_ = make_unit(options.unit(), options.input_size() + options.hidden_size(),
                    options.hidden_size(), options.settings());
  // Register through an aliasing pointer, as Stack does: the unit is interface and module.
  register_module("unit", std::shared_ptr<torch::nn::Module>(unit_, &unit_->as_module()));
}

void RecurrentCellImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::RecurrentCell(unit=" << options.unit() << ", input_size=" << options.input_size()
         << ", hidden_size=" << options.hidden_size() << ")";
}

torch::Tensor RecurrentCellImpl::forward(const torch::Tensor& input, const torch::Tensor& hidden) {
  TORCH_CHECK(input.defined() && input.dim() == 2 && input.size(1) == options.input_size(),
              "recurrent cell: expected an input [batch, ", options.input_size(), "], got ",
              input.defined() ? input.sizes() : at::IntArrayRef{});
  if (!hidden.defined()) {
    return functional::recurrent_cell(
        *unit_, input, torch::zeros({input.size(0), options.hidden_size()}, input.options()));
  }
  TORCH_CHECK(hidden.dim() == 2 && hidden.size(0) == input.size(0) &&
                  hidden.size(1) == options.hidden_size(),
              "recurrent cell: expected a hidden state [", input.size(0), ", ",
              options.hidden_size(), "], got ", hidden.sizes());
  return functional::recurrent_cell(*unit_, input, hidden);
}

torch::Tensor RecurrentCellImpl::forward_sequence(const torch::Tensor& inputs,
                                                  const torch::Tensor& initial) {
  TORCH_CHECK(inputs.defined() && inputs.dim() == 3 && inputs.size(2) == options.input_size(),
              "recurrent cell: expected a sequence [batch, steps, ", options.input_size(),
              "], got ", inputs.defined() ? inputs.sizes() : at::IntArrayRef{});
  TORCH_CHECK(inputs.size(1) > 0, "recurrent cell: expected at least one step");
  torch::Tensor hidden = initial;
  std::vector<torch::Tensor> states;
  states.reserve(static_cast<size_t>(inputs.size(1)));
  for (int64_t t = 0; t < inputs.size(1); ++t) {
    hidden = forward(inputs.select(1, t), hidden);
    states.push_back(hidden);
  }
  return torch::stack(states, 1);
}

// ---- core names ----

const std::vector<std::string>& recurrent_baseline_names() {
  static const std::vector<std::string> kNames = {"lstm", "gru", "rnn-relu", "rnn-tanh"};
  return kNames;
}

std::vector<std::string> recurrent_core_names() {
  std::vector<std::string> names;
  for (const auto& unit : unit_catalog())
    names.push_back(unit.name);
  for (const auto& name : recurrent_baseline_names())
    names.push_back(name);
  return names;
}

void check_recurrent_core(const std::string& core) {
  find_name(recurrent_core_names(), core, "recurrent core");
}

// ---- RecurrentArithmeticModel ----

RecurrentArithmeticModelImpl::RecurrentArithmeticModelImpl(RecurrentArithmeticModelOptions options_)
    : options(std::move(options_)) {
  reset();
}

void RecurrentArithmeticModelImpl::reset() {
  const auto& o = options;
  check_recurrent_core(o.core());
  if (!o.head_unit().empty())
    find_unit(o.head_unit());
  check(o.input_size() > 0,
        "recurrent model: input size must be positive, got " + std::to_string(o.input_size()));
  check(o.hidden_size() > 0,
        "recurrent model: hidden size must be positive, got " + std::to_string(o.hidden_size()));
  const bool unit_core = is_registry_unit(o.core());
  cell = nullptr;
  lstm = nullptr;
  gru = nullptr;
  rnn = nullptr;
  linear = nullptr;
  head_ = nullptr;

  if (unit_core) {
    cell = register_module(
        "cell", RecurrentCell(RecurrentCellOptions(o.core(), o.input_size(), o.hidden_size())
                                  .settings(o.settings())));
  } else if (o.core() == "lstm") {
    lstm = register_module(
        "lstm",
        torch::nn::LSTM(torch::nn::LSTMOptions(o.input_size(), o.hidden_size()).batch_first(true)));
  } else if (o.core() == "gru") {
    gru = register_module(
        "gru",
        torch::nn::GRU(torch::nn::GRUOptions(o.input_size(), o.hidden_size()).batch_first(true)));
  } else {
    auto rnn_options = torch::nn::RNNOptions(o.input_size(), o.hidden_size()).batch_first(true);
    if (o.core() == "rnn-relu")
      rnn_options.nonlinearity(torch::kReLU);
    else
      rnn_options.nonlinearity(torch::kTanh);
    rnn = register_module("rnn", torch::nn::RNN(rnn_options));
  }

  const std::string head = o.head_unit().empty() && unit_core ? o.core() : o.head_unit();
  if (head.empty()) {
    linear = register_module("head", torch::nn::Linear(o.hidden_size(), 1));
  } else {
    head_ = make_unit(head, o.hidden_size(), 1, o.settings());
    register_module("head", std::shared_ptr<torch::nn::Module>(head_, &head_->as_module()));
  }
}

void RecurrentArithmeticModelImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::RecurrentArithmeticModel(core=" << options.core()
         << ", input_size=" << options.input_size() << ", hidden_size=" << options.hidden_size()
         << ", head=" << head_name() << ")";
}

torch::Tensor RecurrentArithmeticModelImpl::forward(const torch::Tensor& inputs) {
  TORCH_CHECK(inputs.defined() && inputs.dim() == 3 && inputs.size(2) == options.input_size() &&
                  inputs.size(1) > 0,
              "recurrent model: expected sequences [batch, steps > 0, ", options.input_size(),
              "], got ", inputs.defined() ? inputs.sizes() : at::IntArrayRef{});
  torch::Tensor last;
  if (cell) {
    // Only the last state is needed: no need to keep every step's state around.
    torch::Tensor hidden;
    for (int64_t t = 0; t < inputs.size(1); ++t)
      hidden = cell->forward(inputs.select(1, t), hidden);
    last = hidden;
  } else if (lstm) {
    last = std::get<0>(lstm->forward(inputs)).select(1, -1);
  } else if (gru) {
    last = std::get<0>(gru->forward(inputs)).select(1, -1);
  } else {
    last = std::get<0>(rnn->forward(inputs)).select(1, -1);
  }
  return head_ ? head_->forward(last) : linear->forward(last);
}

std::vector<std::shared_ptr<ArithmeticUnit>> RecurrentArithmeticModelImpl::units() const {
  std::vector<std::shared_ptr<ArithmeticUnit>> result;
  if (cell)
    result.push_back(cell->unit_ptr());
  if (head_)
    result.push_back(head_);
  return result;
}

torch::Tensor RecurrentArithmeticModelImpl::scheduled_regularization_loss(
    int64_t step, const std::vector<RegularizerSchedule>& schedules) const {
  const auto all = units();
  check(schedules.size() == all.size(), "recurrent model: " + std::to_string(all.size()) +
                                            " units need as many schedules, got " +
                                            std::to_string(schedules.size()));
  torch::Tensor total = torch::zeros({});
  for (size_t u = 0; u < all.size(); ++u) {
    const double lambda = schedules[u].at(step);
    if (lambda != 0.0)
      total = total + all[u]->regularization_loss(lambda);
  }
  return total;
}

void RecurrentArithmeticModelImpl::after_optimizer_step() {
  for (const auto& unit : units())
    unit->after_optimizer_step();
}

double RecurrentArithmeticModelImpl::sparsity_error() const {
  double worst = 0.0;
  for (const auto& unit : units())
    worst = std::max(worst, unit->sparsity_error());
  return worst;
}

std::string RecurrentArithmeticModelImpl::head_name() const {
  return head_ ? head_->unit_name() : "linear";
}

}  // namespace nalu

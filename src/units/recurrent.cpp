// Units as recurrent cells, and the sequence model of the recurrent arithmetic task.
#include "nalu/units/recurrent.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/units/nac.h"
#include "nalu/units/nalu.h"
#include "nalu/units/nau.h"
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
  const double v = options.identity_recurrence();
  check(std::isfinite(v) && v >= 0,
        "recurrent cell: identity recurrence must be >= 0 and finite, got " + std::to_string(v));
  if (v == 0)
    return;
  torch::NoGradGuard no_grad;
  const int64_t inputs = options.input_size();
  auto set_identity = [&](torch::Tensor& parameter, double diagonal) {
    auto block = parameter.slice(1, inputs);  // [hidden, hidden]: the weights that read h_{t-1}
    block.zero_();
    block.diagonal().fill_(diagonal);
  };
  if (auto* nac = dynamic_cast<NACImpl*>(unit_.get())) {
    set_identity(nac->w_hat, v);
    set_identity(nac->m_hat, v);
  } else if (auto* nalu_unit = dynamic_cast<NALUImpl*>(unit_.get())) {
    set_identity(nalu_unit->w_hat, v);
    set_identity(nalu_unit->m_hat, v);
  } else if (auto* nau_unit = dynamic_cast<NAUImpl*>(unit_.get())) {
    set_identity(nau_unit->weight, 1.0);
  } else {
    throw Error("recurrent cell: identity recurrence is for nac, nalu and nau cells, not '" +
                options.unit() + "'");
  }
}

torch::Tensor recurrent_cell_weight(const ArithmeticUnit& unit) {
  if (const auto* nac = dynamic_cast<const NACImpl*>(&unit))
    return nac->weight();
  if (const auto* nalu_unit = dynamic_cast<const NALUImpl*>(&unit))
    return nalu_unit->additive_weight();
  if (const auto* nau_unit = dynamic_cast<const NAUImpl*>(&unit))
    return nau_unit->weight;
  return {};
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

// ---- SequenceCore ----

SequenceCoreImpl::SequenceCoreImpl(SequenceCoreOptions options_) : options(std::move(options_)) {
  reset();
}

void SequenceCoreImpl::reset() {
  const auto& o = options;
  check_recurrent_core(o.core());
  check(o.input_size() > 0,
        "sequence core: input size must be positive, got " + std::to_string(o.input_size()));
  check(o.hidden_size() > 0,
        "sequence core: hidden size must be positive, got " + std::to_string(o.hidden_size()));
  check(o.identity_recurrence() == 0 || is_registry_unit(o.core()),
        "sequence core: identity recurrence is for unit cores, not '" + o.core() + "'");
  cell = nullptr;
  lstm = nullptr;
  gru = nullptr;
  rnn = nullptr;
  if (is_registry_unit(o.core())) {
    cell = register_module(
        "cell", RecurrentCell(RecurrentCellOptions(o.core(), o.input_size(), o.hidden_size())
                                  .settings(o.settings())
                                  .identity_recurrence(o.identity_recurrence())));
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
}

void SequenceCoreImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::SequenceCore(core=" << options.core() << ", input_size=" << options.input_size()
         << ", hidden_size=" << options.hidden_size() << ")";
}

namespace {

void check_sequences(const torch::Tensor& inputs, int64_t input_size, const char* who) {
  TORCH_CHECK(
      inputs.defined() && inputs.dim() == 3 && inputs.size(2) == input_size && inputs.size(1) > 0,
      who, ": expected sequences [batch, steps > 0, ", input_size, "], got ",
      inputs.defined() ? inputs.sizes() : at::IntArrayRef{});
}

}  // namespace

torch::Tensor SequenceCoreImpl::forward(const torch::Tensor& inputs) {
  check_sequences(inputs, options.input_size(), "sequence core");
  if (cell)
    return cell->forward_sequence(inputs);
  if (lstm)
    return std::get<0>(lstm->forward(inputs));
  if (gru)
    return std::get<0>(gru->forward(inputs));
  return std::get<0>(rnn->forward(inputs));
}

torch::Tensor SequenceCoreImpl::forward_last(const torch::Tensor& inputs) {
  check_sequences(inputs, options.input_size(), "sequence core");
  if (!cell)
    return forward(inputs).select(1, -1);
  torch::Tensor hidden;
  for (int64_t t = 0; t < inputs.size(1); ++t)
    hidden = cell->forward(inputs.select(1, t), hidden);
  return hidden;
}

std::vector<std::shared_ptr<ArithmeticUnit>> SequenceCoreImpl::units() const {
  if (cell)
    return {cell->unit_ptr()};
  return {};
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
  linear = nullptr;
  head_ = nullptr;
  core = register_module(
      "core",
      SequenceCore(
          SequenceCoreOptions(o.core(), o.input_size(), o.hidden_size()).settings(o.settings())));

  const std::string head = o.head_unit().empty() && core->is_unit_core() ? o.core() : o.head_unit();
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
  check_sequences(inputs, options.input_size(), "recurrent model");
  const torch::Tensor last = core->forward_last(inputs);
  return head_ ? head_->forward(last) : linear->forward(last);
}

std::vector<std::shared_ptr<ArithmeticUnit>> RecurrentArithmeticModelImpl::units() const {
  auto result = core->units();
  if (head_)
    result.push_back(head_);
  return result;
}

std::string RecurrentArithmeticModelImpl::head_name() const {
  return head_ ? head_->unit_name() : "linear";
}

}  // namespace nalu

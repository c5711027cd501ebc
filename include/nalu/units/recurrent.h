// Arithmetic units as recurrent cells (Trask et al. 2018, recurrent arithmetic and MNIST
// counting): h_t = Unit([x_t, h_{t-1}]), so a NAC cell with weights [I | identity] keeps a
// running sum. Any registry unit can serve as the cell. SequenceCore picks such a cell or an
// LSTM / GRU / plain RNN baseline by name, so a model can swap one for the other;
// RecurrentArithmeticModel puts a core in front of a head that reads the last state.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <memory>
#include <string>
#include <vector>

#include "nalu/units/stack.h"
#include "nalu/units/unit_owner.h"

namespace nalu {

// ---- options ----------------------------------------------------------------------------------

/// Options for RecurrentCell.
///
/// Example:
/// ```
/// nalu::RecurrentCell cell(nalu::RecurrentCellOptions("nalu", 10, 2).settings(settings));
/// ```
struct RecurrentCellOptions {
  RecurrentCellOptions(std::string unit, int64_t input_size, int64_t hidden_size)
      : unit_(std::move(unit)), input_size_(input_size), hidden_size_(hidden_size) {}
  /// Registry name of the unit that computes h_t ("nac", "nalu", "nau", ...).
  TORCH_ARG(std::string, unit);
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, hidden_size);
  /// Passed to make_unit.
  TORCH_ARG(UnitSettings, settings);
  /// 0: the unit's own initialisation. v > 0: the recurrent block (the weights that read
  /// h_{t-1}) starts as the identity, so the cell starts as an accumulator
  /// h_t = W_x x_t + h_{t-1}: a NAC or NALU cell gets W_hat = M_hat = v on that block's diagonal
  /// and 0 off it (weights tanh(v) sigmoid(v) on the diagonal, exactly 0 elsewhere), an NAU cell
  /// W = I there. Other units throw nalu::Error. Learning the identity from a random start
  /// through a few time steps is slow, and any error in it grows or fades with the length.
  TORCH_ARG(double, identity_recurrence) = 0.0;
};

/// The additive weight [out, in] of a NAC, NALU or NAU used as a recurrent cell (W, the NAC's
/// tanh(W_hat) sigmoid(M_hat), the NALU's additive path); undefined for other units.
/// Differentiable: a regulariser can use it.
torch::Tensor recurrent_cell_weight(const ArithmeticUnit& unit);

// ---- functional -------------------------------------------------------------------------------

namespace functional {
/// One step of a unit used as a cell: x:[B,I] h_prev:[B,H] -> h:[B,H] = unit([x, h_prev]).
/// `unit` maps I + H inputs to H outputs.
torch::Tensor recurrent_cell(ArithmeticUnit& unit, const torch::Tensor& input,
                             const torch::Tensor& hidden);
}  // namespace functional

// ---- cell -------------------------------------------------------------------------------------

/// A registry unit of I + H inputs and H outputs used in place of an RNN cell, with h_0 = 0.
/// Its unit is registered as the submodule "unit"; regularise and clamp it as any unit.
///
/// Example:
/// ```
/// nalu::RecurrentCell cell("nac", 10, 2);
/// torch::Tensor h = cell(torch::rand({64, 10}), torch::Tensor());  // h_1: [64, 2]
/// h = cell(torch::rand({64, 10}), h);                              // h_2
/// torch::Tensor states = cell->forward_sequence(torch::rand({64, 5, 10}));  // [64, 5, 2]
/// ```
class RecurrentCellImpl : public torch::nn::Cloneable<RecurrentCellImpl> {
 public:
  RecurrentCellImpl(std::string unit, int64_t input_size, int64_t hidden_size)
      : RecurrentCellImpl(RecurrentCellOptions(std::move(unit), input_size, hidden_size)) {}
  explicit RecurrentCellImpl(RecurrentCellOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x_t:[B,I] h_prev:[B,H] or undefined (h_0 = 0) -> h_t:[B,H].
  torch::Tensor forward(const torch::Tensor& input, const torch::Tensor& hidden = {});
  /// Runs the cell over a sequence x:[B,T,I] from `initial` (zeros when undefined) and returns
  /// every state h_1..h_T as [B,T,H].
  torch::Tensor forward_sequence(const torch::Tensor& inputs, const torch::Tensor& initial = {});

  ArithmeticUnit& unit() { return *unit_; }
  const ArithmeticUnit& unit() const { return *unit_; }
  std::shared_ptr<ArithmeticUnit> unit_ptr() const { return unit_; }

  RecurrentCellOptions options;

 private:
  std::shared_ptr<ArithmeticUnit> unit_;
};
TORCH_MODULE(RecurrentCell);

// ---- sequence core ----------------------------------------------------------------------------

/// Names of the torch baselines a SequenceCore accepts: lstm, gru, rnn-relu, rnn-tanh. Any
/// registry unit name is accepted too (as a RecurrentCell).
const std::vector<std::string>& recurrent_baseline_names();
/// Every accepted core name: the registry units, then the baselines.
std::vector<std::string> recurrent_core_names();
/// Throws nalu::Error listing the known cores unless `core` is one of them.
void check_recurrent_core(const std::string& core);

/// Options for SequenceCore.
///
/// Example:
/// ```
/// auto options = nalu::SequenceCoreOptions("nalu", 64, 16).settings(settings);
/// ```
struct SequenceCoreOptions {
  SequenceCoreOptions(std::string core, int64_t input_size, int64_t hidden_size)
      : core_(std::move(core)), input_size_(input_size), hidden_size_(hidden_size) {}
  /// A registry unit ("nac", "nalu", ...) used as a RecurrentCell, or "lstm", "gru",
  /// "rnn-relu", "rnn-tanh" (one layer, batch first).
  TORCH_ARG(std::string, core);
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, hidden_size);
  /// Passed to make_unit for a unit core.
  TORCH_ARG(UnitSettings, settings);
  /// RecurrentCellOptions::identity_recurrence of a unit core; must stay 0 for an LSTM / GRU /
  /// RNN core.
  TORCH_ARG(double, identity_recurrence) = 0.0;
};

/// The recurrent part of a sequence model, chosen by name: x:[B,T,I] -> states [B,T,H] from
/// h_0 = 0. A unit core is a RecurrentCell; its unit is the core's only entry in units(), so a
/// training loop regularises and clamps it as any unit (LSTM / GRU / RNN cores have none).
///
/// Example:
/// ```
/// nalu::SequenceCore core("nac", 10, 4);          // or "lstm", "gru", "rnn-tanh", "nalu", ...
/// torch::Tensor states = core(torch::rand({8, 20, 10}));             // [8, 20, 4]
/// torch::Tensor last = core->forward_last(torch::rand({8, 20, 10}));  // [8, 4]
/// ```
class SequenceCoreImpl : public torch::nn::Cloneable<SequenceCoreImpl>, public UnitOwner {
 public:
  SequenceCoreImpl(std::string core, int64_t input_size, int64_t hidden_size)
      : SequenceCoreImpl(SequenceCoreOptions(std::move(core), input_size, hidden_size)) {}
  explicit SequenceCoreImpl(SequenceCoreOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// x:[B,T>0,I] -> every state h_1..h_T as [B,T,H].
  torch::Tensor forward(const torch::Tensor& inputs);
  /// x:[B,T>0,I] -> the last state h_T as [B,H]. A unit core keeps no earlier state (beyond
  /// what autograd needs), so long sequences evaluated under NoGradGuard take little memory.
  torch::Tensor forward_last(const torch::Tensor& inputs);

  /// The cell's unit for a unit core; empty for an LSTM / GRU / RNN core.
  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override;
  /// Whether the core is a registry unit used as a cell (else a torch baseline).
  bool is_unit_core() const { return !cell.is_empty(); }

  SequenceCoreOptions options;
  RecurrentCell cell{nullptr};    // unit cores
  torch::nn::LSTM lstm{nullptr};  // core "lstm"
  torch::nn::GRU gru{nullptr};    // core "gru"
  torch::nn::RNN rnn{nullptr};    // cores "rnn-relu", "rnn-tanh"
};
TORCH_MODULE(SequenceCore);

// ---- sequence model ---------------------------------------------------------------------------

/// Options for RecurrentArithmeticModel.
///
/// Example:
/// ```
/// auto options = nalu::RecurrentArithmeticModelOptions("lstm", 10).hidden_size(8);
/// ```
struct RecurrentArithmeticModelOptions {
  RecurrentArithmeticModelOptions(std::string core, int64_t input_size)
      : core_(std::move(core)), input_size_(input_size) {}
  /// A registry unit ("nac", "nalu", ...) used as a RecurrentCell, or "lstm", "gru",
  /// "rnn-relu", "rnn-tanh".
  TORCH_ARG(std::string, core);
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, hidden_size) = 2;
  /// Registry unit of the head (hidden -> 1). Empty: the core's own unit for a unit core, a
  /// torch::nn::Linear for an LSTM / GRU / RNN core.
  TORCH_ARG(std::string, head_unit);
  /// Passed to make_unit for the cell and the head.
  TORCH_ARG(UnitSettings, settings);
};

/// A SequenceCore followed by a head on its last hidden state: x:[B,T,I] -> y:[B,1]. Its
/// units() (the cell's unit, then the head unless it is a Linear) are the ones whose
/// regulariser and after_optimizer_step apply (see UnitOwner).
///
/// Example:
/// ```
/// nalu::RecurrentArithmeticModel model(nalu::RecurrentArithmeticModelOptions("nac", 10));
/// torch::Tensor y = model(torch::rand({64, 10, 10}));  // [64, 1]
/// ```
class RecurrentArithmeticModelImpl : public torch::nn::Cloneable<RecurrentArithmeticModelImpl>,
                                     public UnitOwner {
 public:
  explicit RecurrentArithmeticModelImpl(RecurrentArithmeticModelOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& inputs);

  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override;
  /// The head's unit name, after resolving the default ("linear" for a torch::nn::Linear).
  std::string head_name() const;

  RecurrentArithmeticModelOptions options;
  SequenceCore core{nullptr};
  torch::nn::Linear linear{nullptr};  // head of a baseline core without head_unit

 private:
  std::shared_ptr<ArithmeticUnit> head_;  // unit head, when not `linear`
};
TORCH_MODULE(RecurrentArithmeticModel);

}  // namespace nalu

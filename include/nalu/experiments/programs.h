// Models for the NALU paper's program-evaluation task (programs from nalu/data/programs.h):
// read a short program and output the value it prints. Two input forms:
//   characters - the paper's: every character is a token; an LSTM reads them and an output
//                layer (Linear, NAC, NALU, NAU) maps its last state, times a fixed scale, to the
//                value;
//   values     - every literal is one token whose numeric value travels on a separate channel:
//                the LSTM reads the tokens and, at each step, gates K copies of the step's value
//                (tanh of an affine map of its state), and an arithmetic cell accumulates them,
//                y_t = cell([g_t · v_t, y_{t-1}]), y_0 = 0. The LSTM decides which values are
//                combined and with which sign; only the cell carries them, so nothing bounds the
//                size of the numbers it can add.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nalu/data/programs.h"
#include "nalu/models/head.h"
#include "nalu/units/unit_owner.h"

namespace nalu {

/// How a program enters a model.
enum class ProgramInput { kCharacters, kValues };
/// "characters" or "values".
std::string program_input_name(ProgramInput input);
/// Throws nalu::Error "unknown program input 'x' (known: characters, values)".
ProgramInput parse_program_input(const std::string& name);

/// Token ids: printable ASCII ' ' ... '~' are 0-94 (character c is c - 32); a literal in the
/// values form is kProgramLiteralToken.
inline constexpr int64_t kProgramLiteralToken = 95;
inline constexpr int64_t kProgramVocabulary = 96;

/// A batch of programs as model input: tokens [B, T] (padded with spaces), values [B, T]
/// (a literal's value at its token in the values form, 0 elsewhere and in the characters
/// form), lengths [B] and the printed values [B] (float).
struct EncodedPrograms {
  torch::Tensor tokens, values, lengths, targets;
};
/// Encodes `programs` in `input`'s form. Throws nalu::Error for an empty list or a character
/// outside printable ASCII.
EncodedPrograms encode_programs(const std::vector<data::Program>& programs, ProgramInput input);

/// Options for ProgramModel.
///
/// Example:
/// ```
/// auto options = nalu::ProgramModelOptions(nalu::ProgramInput::kValues, "nau").hidden_size(64);
/// ```
struct ProgramModelOptions {
  ProgramModelOptions(ProgramInput input, std::string output)
      : input_(input), output_(std::move(output)) {}
  TORCH_ARG(ProgramInput, input);
  /// The output layer (characters form) or accumulating cell (values form): "linear", "nac",
  /// "nalu" or "nau".
  TORCH_ARG(std::string, output);
  TORCH_ARG(int64_t, embedding) = 32;
  TORCH_ARG(int64_t, hidden_size) = 64;
  /// Values form: gated copies of a step's value offered to the cell.
  TORCH_ARG(int64_t, channels) = 4;
  /// Characters form: the LSTM's last state is multiplied by this before the output layer, so
  /// that units with weights in [-1, 1] can reach the training values (sums of two-digit
  /// numbers).
  TORCH_ARG(double, input_scale) = 100.0;
  /// Passed to make_unit.
  TORCH_ARG(UnitSettings, settings);
};

/// The output layers a ProgramModel accepts: linear, nac, nalu, nau.
const std::vector<std::string>& program_output_names();

/// Embedding -> LSTM -> the form's output (see the file comment): tokens, values, lengths ->
/// the printed value [B]. units() are the output layer's or cell's units unless it is Linear.
///
/// Example:
/// ```
/// nalu::ProgramModel model(nalu::ProgramModelOptions(nalu::ProgramInput::kValues, "nau"));
/// auto batch = nalu::encode_programs(programs, nalu::ProgramInput::kValues);
/// torch::Tensor y = model(batch.tokens, batch.values, batch.lengths);  // [B]
/// ```
class ProgramModelImpl : public torch::nn::Cloneable<ProgramModelImpl>, public UnitOwner {
 public:
  explicit ProgramModelImpl(ProgramModelOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& values,
                        const torch::Tensor& lengths);
  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override;

  ProgramModelOptions options;
  torch::nn::Embedding embedding{nullptr};
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear control{nullptr};  // values form: the K gates
  ArithmeticHead output{nullptr};
};
TORCH_MODULE(ProgramModel);

}  // namespace nalu

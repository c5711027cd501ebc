// Models for the NALU paper's program-evaluation task (programs from nalu/data/programs.h):
// read a short program and output the value it prints. Two input forms:
//   characters - the paper's: every character is a token; an LSTM reads them and an output
//                layer (Linear, NAC, NALU, NAU) maps its last state, times a fixed scale, to the
//                value;
//   values     - the program is read with its conditionals written condition first
//                (data::read_program, so that a condition comes before the branches it
//                selects), and every literal, and every read of a variable, is one token whose
//                numeric value v travels on a separate channel. The LSTM reads the tokens
//                together with a bounded sign(v) log10(1 + |v|) (to compare numbers), and at each
//                step opens K gates g_t in [0, 1] on the step's value (hard sigmoids of an affine
//                map of its state: exactly 0 or 1 once saturated), and an arithmetic cell
//                accumulates them, y_t = cell([g_t · v_t, y_{t-1}]), y_0 = 0. The LSTM decides
//                which values are combined; the cell's weights give them their signs and carry
//                them, so nothing bounds the size of the numbers it can add.
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
#include "nalu/experiments/experiment.h"
#include "nalu/models/head.h"
#include "nalu/units/unit_owner.h"

namespace nalu {

/// How a program enters a model.
enum class ProgramInput { kCharacters, kValues };
/// "characters" or "values".
std::string program_input_name(ProgramInput input);
/// Throws nalu::Error "unknown program input 'x' (known: characters, values)".
ProgramInput parse_program_input(const std::string& name);

/// Token ids: printable ASCII ' ' ... '~' are 0-94 (character c is c - 32); in the values form a
/// literal is kProgramLiteralToken and a variable read (not its assignment) is
/// kProgramVariableToken.
inline constexpr int64_t kProgramLiteralToken = 95;
inline constexpr int64_t kProgramVariableToken = 96;
inline constexpr int64_t kProgramVocabulary = 97;

/// A batch of programs as model input: tokens [B, T] (padded with spaces), values [B, T]
/// (in the values form a literal's value at its token and a variable's value where it is read,
/// as the independent evaluator computes it; 0 elsewhere and in the characters form), lengths
/// [B] and the printed values [B] (float).
struct EncodedPrograms {
  torch::Tensor tokens, values, lengths, targets;
};
/// Encodes `programs` in `input`'s form. Throws nalu::Error for an empty list, a character
/// outside printable ASCII, or (values form) a program outside the grammar.
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
  /// Throws nalu::Error with a one-line message for an unknown output layer or a size or scale
  /// out of range (ProgramModel checks this when it is built).
  void validate() const;
  TORCH_ARG(ProgramInput, input);
  /// The output layer (characters form) or accumulating cell (values form): "linear", "nac",
  /// "nalu" or "nau".
  TORCH_ARG(std::string, output);
  TORCH_ARG(int64_t, embedding) = 32;
  TORCH_ARG(int64_t, hidden_size) = 64;
  /// Values form: gated copies of a step's value offered to the cell (K).
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
/// the printed value [B]. units() are the output layer's or cell's units unless Linear.
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
  torch::nn::LSTMCell lstm{nullptr};
  torch::nn::Linear control{nullptr};  // values form: the K gates
  ArithmeticHead output{nullptr};
};
TORCH_MODULE(ProgramModel);

/// A model of the experiment: an input form and an output layer (or cell).
struct ProgramVariant {
  ProgramInput input = ProgramInput::kCharacters;
  std::string output;
  /// "characters/linear", "values/nau", ...
  std::string name() const;
};
/// The eight variants, characters form first: linear (the LSTM baseline), nac, nalu, nau.
std::vector<ProgramVariant> program_variants();

/// The programs a family is trained and tested on (digits aside): addition and subtraction are
/// one operation on two operands, print(12+34); if-statements are one conditional expression,
/// print(5 if 12<34 else 44); combined has one assignment before the print and any of the three
/// at each expression, with sums in the branches, a=12+34;print(a-5 if a<40 else 17+a).
data::ProgramShape program_family_shape(data::ProgramFamily family);

/// One program-evaluation experiment, reproducible from this struct alone.
struct ProgramsConfig {
  std::vector<data::ProgramFamily> families;  // default: all four
  std::vector<ProgramVariant> variants;       // default: program_variants()
  int64_t seeds = 3;                          // models per family and variant
  int64_t steps = 2'000;                      // Adam steps of fresh programs
  int64_t batch_size = 32;
  double learning_rate = 3e-3;
  int64_t eval_interval = 200;  // steps between validation checks
  int64_t embedding = 32;
  int64_t hidden_size = 32;
  int64_t channels = 4;        // values form
  double input_scale = 100.0;  // characters form
  /// Training and validation literals have 1 to train_digits digits.
  int64_t train_digits = 2;
  /// Test sets, one per entry: every literal has exactly that many digits.
  std::vector<int64_t> test_digits{1, 2, 3, 4, 5, 6};
  int64_t validation_size = 500, test_size = 500;  // programs per family (and digits)
  uint64_t seed = 0;                               // the root of every program's and model's seed
  int64_t threads = 0;

  ProgramsConfig();
  /// The full size: four families, eight variants, 3 seeds, 2,000 steps, 500 test programs per
  /// digits.
  static ProgramsConfig paper();
  /// `--quick`: the addition family, characters/linear and values/nau, 1 seed, 2,000 steps,
  /// 200 test programs.
  static ProgramsConfig quick();
  /// Throws nalu::Error with a one-line message for invalid settings.
  void validate() const;
};

/// Accuracy (rounded output equals the printed value) and mean absolute error on a set.
struct ProgramScore {
  int64_t programs = 0;
  double accuracy = 0.0;
  double mean_absolute_error = 0.0;
};

/// One trained model: the step with the lowest validation MAE is the one tested.
struct ProgramsRun {
  data::ProgramFamily family = data::ProgramFamily::kAddition;
  ProgramVariant variant;
  int64_t seed = 0;
  int64_t best_step = 0;
  int64_t steps_run = 0;
  bool diverged = false;  // a non-finite loss stopped training (the best model so far is kept)
  ProgramScore validation;
  std::vector<ProgramScore> test;       // per ProgramsConfig::test_digits
  std::vector<double> example_outputs;  // per ProgramsResult::examples of the family
  double seconds = 0.0;
};

struct ProgramsResult {
  ProgramsConfig config;
  /// Per family (config order): a test program with 2, 4 and 6 digits per literal (those of
  /// test_digits), each model's answer in ProgramsRun::example_outputs.
  std::vector<std::vector<data::Program>> examples;
  std::vector<ProgramsRun> runs;  // by family, then variant, then seed
  double seconds = 0.0;
};

/// Trains every family x variant x seed on programs with literals of at most train_digits
/// digits and tests each on every test_digits; progress counts training steps over all models.
ProgramsResult run_programs(const ProgramsConfig& config, const ExperimentProgress& progress = {});

/// Per family and variant, accuracy per digits (mean ± standard deviation over seeds).
std::string programs_accuracy_table(const ProgramsResult& result);
/// Per family and variant, mean absolute error per digits (mean ± standard deviation).
std::string programs_error_table(const ProgramsResult& result);
/// The example programs with their values and each variant's answer (best seed by validation).
std::string programs_example_table(const ProgramsResult& result);

/// The catalogue entry: paper() or quick(), run, and programs.md (tables), programs.jsonl (one
/// record per model) and programs-FAMILY.svg (accuracy against digits, training range shaded)
/// in options.output_dir.
ExperimentReport run_programs_experiment(const ExperimentOptions& options,
                                         const ExperimentProgress& progress);

}  // namespace nalu

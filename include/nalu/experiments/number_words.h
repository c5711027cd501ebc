// The NALU paper's language-to-number task (Trask et al. 2018, Table 3): read English number
// words one token at a time ("seven hundred and two") and output the number (702). Each token
// is embedded, an LSTM reads the tokens, and an output cell turns the LSTM's output and its own
// previous output into the number so far: y_t = cell([s * h_t, y_{t-1}]), y_0 = 0. The cell is
// a Linear layer (the paper's LSTM baseline), a NAC, a NALU (the paper's), an NAU or an NAU
// followed by an NMU (nalu's additions). With a cell that can add and multiply, the number is
// the recurrence y_t = (y_{t-1} + a_t) * m_t over the words (a_t the word's value, m_t = 100 on
// "hundred"), which holds for numbers never seen in training. experiments/number-words/README.md
// says where this follows the paper and where it chooses.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nalu/data/number_words.h"
#include "nalu/experiments/experiment.h"
#include "nalu/models/head.h"
#include "nalu/units/unit_owner.h"

namespace nalu {

/// The output cells, in table order: "linear", "nac", "nalu", "nau", "nau-nmu".
const std::vector<std::string>& number_words_output_names();
/// Throws nalu::Error "unknown output layer 'x' (known: ...)".
void check_number_words_output(const std::string& output);

/// Options for NumberWordsModel.
///
/// Example:
/// ```
/// auto options = nalu::NumberWordsModelOptions("nalu").embedding(256).hidden_size(10);
/// ```
struct NumberWordsModelOptions {
  explicit NumberWordsModelOptions(std::string output) : output_(std::move(output)) {}
  /// One of number_words_output_names().
  TORCH_ARG(std::string, output);
  /// Size of a token's embedding (the paper's 256).
  TORCH_ARG(int64_t, embedding) = 256;
  /// The LSTM's hidden size (the paper's 10).
  TORCH_ARG(int64_t, hidden_size) = 10;
  /// s: the LSTM's outputs, in (-1, 1), are multiplied by s before the cell, so that units
  /// whose weights lie in [-1, 1] can add a word's value (up to 90) or multiply by 100.
  TORCH_ARG(double, input_scale) = 100.0;
  /// Whether the cell starts as an accumulator, y_t = y_{t-1} + (its own start on h_t): the
  /// weight that reads y_{t-1} starts at 1 (a NAC's or NALU's W_hat = M_hat = 5 there, weight
  /// tanh(5) sigmoid(5) = 0.99), and an NAU->NMU cell's NMU starts by passing that sum alone.
  TORCH_ARG(bool, accumulator) = true;
  /// Passed to make_unit for the cell's units.
  TORCH_ARG(UnitSettings, settings);
};

/// Embedding -> LSTM -> output cell (see the file comment). units() are the cell's units, unless
/// the cell is the Linear baseline.
///
/// Example:
/// ```
/// nalu::NumberWordsModel model(nalu::NumberWordsModelOptions("nau-nmu"));
/// const auto tokens = torch::tensor({7, 28, 29, 2}, torch::kLong).unsqueeze(0);  // 702
/// torch::Tensor prefixes = model(tokens, torch::tensor({4}, torch::kLong));   // [1, 4]
/// ```
class NumberWordsModelImpl : public torch::nn::Cloneable<NumberWordsModelImpl>, public UnitOwner {
 public:
  explicit NumberWordsModelImpl(NumberWordsModelOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// tokens [B, T] (vocabulary ids, padded on the right with any id), lengths [B] in [1, T] ->
  /// the output after every token [B, T]; after a phrase's last token the output stays at its
  /// final value.
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& lengths);

  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override;

  NumberWordsModelOptions options;
  torch::nn::Embedding embedding{nullptr};
  torch::nn::LSTMCell lstm{nullptr};
  ArithmeticHead cell{nullptr};

 private:
  void start_as_accumulator();
};
TORCH_MODULE(NumberWordsModel);

/// Writes a trained model with its options, so that load_number_words_model() can rebuild it.
void save_number_words_model(NumberWordsModel& model, const std::string& path);
/// Throws nalu::Error with a one-line message for a missing or corrupt file.
NumberWordsModel load_number_words_model(const std::string& path);

/// A padded batch of phrases: tokens [B, T] and lengths [B].
struct NumberWordsBatch {
  torch::Tensor tokens, lengths, targets;  // targets [B], float
  /// The value of the words so far after each word [B, T] (prefix_values), and 1 where a
  /// phrase has a word, 0 in its padding [B, T].
  torch::Tensor prefix_targets, mask;
};
/// The phrases of `numbers` (number_word_tokens), padded to the longest.
NumberWordsBatch number_words_batch(const std::vector<int64_t>& numbers);

/// The model's output after every word of `phrase` (parse_number_words checks the phrase).
std::vector<double> predict_prefixes(NumberWordsModel& model, const std::string& phrase);

/// One language-to-number experiment, reproducible from this struct alone.
struct NumberWordsConfig {
  std::vector<std::string> outputs;  // default: every output cell
  int64_t seeds = 5;                 // models per output cell; seeds 0 .. seeds-1
  int64_t steps = 10'000;            // Adam steps, each on the whole training set
  double learning_rate = 3e-3;       // Adam, every parameter
  int64_t eval_interval = 100;       // steps between validation checks
  int64_t embedding = 256;
  int64_t hidden_size = 10;
  double input_scale = 100.0;
  bool accumulator = true;  // NumberWordsModelOptions::accumulator
  /// The losses to train with (each output cell is trained once per loss and seed):
  /// "last-word", the squared error of the output after the last word (the paper's), and
  /// "every-prefix", the mean over every prefix of the squared error against the value of the
  /// words so far (prefix_values).
  std::vector<std::string> losses{"last-word", "every-prefix"};
  int64_t train_size = 169, validation_size = 200;  // the paper's split; the test set is the rest
  uint64_t seed = 0;  // the split's seed and the root of every model's seeds
  int64_t threads = 0;

  NumberWordsConfig();
  /// The full size: five output cells, both losses, 5 seeds, 10,000 steps.
  static NumberWordsConfig paper();
  /// `--quick`: Linear and NAU, both losses, 1 seed, 3,000 steps.
  static NumberWordsConfig quick();
  /// Throws nalu::Error with a one-line message for invalid settings.
  void validate() const;
};

/// Mean absolute error and exact-answer rate (rounded output equals the number) on a set.
struct NumberWordsScore {
  int64_t numbers = 0;
  double mean_absolute_error = 0.0;
  double exact = 0.0;
};

/// One trained model: the step with the lowest validation MAE is the one evaluated.
struct NumberWordsRun {
  std::string output;
  std::string loss;
  int64_t seed = 0;
  int64_t best_step = 0;
  int64_t steps_run = 0;
  bool diverged = false;  // a non-finite loss stopped training (the best model so far is kept)
  NumberWordsScore train, validation, test;
  std::vector<double> test_mae_by_digits;  // test numbers of 1, 2 and 3 digits
  /// The output after every prefix of each example number (NumberWordsResult::examples).
  std::vector<std::vector<double>> example_prefixes;
  double seconds = 0.0;
  NumberWordsModel model{nullptr};  // the model at best_step
};

struct NumberWordsResult {
  NumberWordsConfig config;
  data::NumberWordsSplit split;
  /// Test numbers whose prefixes the report shows: the first four of the test split that have
  /// four or more words ("seven hundred and two").
  std::vector<int64_t> examples;
  std::vector<NumberWordsRun> runs;  // by output cell, then loss, then seed
  double seconds = 0.0;
};

/// Splits the numbers, trains every output cell with every seed and scores them; progress counts
/// training steps over all models.
NumberWordsResult run_number_words(const NumberWordsConfig& config,
                                   const ExperimentProgress& progress = {});

/// The value a phrase's words name so far, after every word: "seven hundred and two" ->
/// 7, 700, 700, 702.
std::vector<double> prefix_values(int64_t number);

/// Throws nalu::Error "unknown loss 'x' (known: last-word, every-prefix)".
void check_number_words_loss(const std::string& loss);

/// Per output cell and loss, mean ± standard deviation over seeds: MAE and exact rate on train,
/// validation and test, and test MAE by number of digits.
std::string number_words_table(const NumberWordsResult& result);
/// Per example number and prefix, the words so far, their value and each output cell's
/// prediction per loss (the seed with the lowest validation MAE).
std::string number_words_prefix_table(const NumberWordsResult& result);

/// The catalogue entry: paper() or quick(), run, and number-words.md (tables),
/// number-words.jsonl (one record per model), number-words-prefixes.svg (the prefix figure) and
/// number-words-OUTPUT-LOSS.nalu (each cell's best model per loss, for `nalu words`) in
/// options.output_dir.
ExperimentReport run_number_words_experiment(const ExperimentOptions& options,
                                             const ExperimentProgress& progress);

}  // namespace nalu

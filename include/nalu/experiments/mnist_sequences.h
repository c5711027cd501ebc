// The NALU paper's Table 2 (Trask et al. 2018): sequences of MNIST digits, each image read by a
// small CNN shared across time steps, accumulated by a recurrent core (LSTM, GRU, RNN-tanh,
// RNN-ReLU, or a NAC / NALU used as a recurrent cell) and read out on the last state as the
// count of each digit (`nalu experiment mnist-count`) or the sum of the digits
// (`nalu experiment mnist-add`). Models train on sequences of 10 and are tested on 1, 10, 100
// and 1000: a core that computes a sum keeps working on long sequences, one that saturates does
// not. Training and test sequences draw from disjoint digit images.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "nalu/experiments/experiment.h"
#include "nalu/models/head.h"
#include "nalu/units/recurrent.h"
#include "nalu/units/unit_owner.h"

namespace nalu {

/// What a sequence's target is: how many of each digit it holds (10 outputs), or the sum of its
/// digits (1 output).
enum class MnistSequenceTask { kCount, kAdd };

/// "count" or "add".
std::string mnist_sequence_task_name(MnistSequenceTask task);
/// 10 for counting, 1 for addition.
int64_t mnist_sequence_outputs(MnistSequenceTask task);
/// What a model multiplies its readout by: 1 for counting; 9 (the largest digit) for addition,
/// so that the core's state holds sum / 9, numbers of the size of the counts. Adam does not see
/// the scale of a loss, but it does see how far weights must travel: without the factor the
/// CNN and core must grow outputs near 45 before anything else is learned.
double mnist_sequence_output_scale(MnistSequenceTask task);

/// The per-image CNN: [N, 1, 28, 28] -> [N, features]. 2x2 average pooling to 14x14, a 5x5
/// convolution (8 channels), ReLU, 2x2 max pooling, a 3x3 convolution (16 channels), ReLU, then
/// an affine layer from the 16x3x3 maps to `features` (1,376 + 145 * features parameters).
/// Throws nalu::Error for features < 1.
///
/// Example:
/// ```
/// torch::nn::Sequential cnn = nalu::make_mnist_sequence_cnn(10);
/// torch::Tensor features = cnn->forward(torch::rand({64, 1, 28, 28}));  // [64, 10]
/// ```
torch::nn::Sequential make_mnist_sequence_cnn(int64_t features);

/// Hidden size of an LSTM / GRU / RNN core unless set otherwise.
inline constexpr int64_t kMnistSequenceBaselineHidden = 32;

/// Options for MnistSequenceModel.
///
/// Example:
/// ```
/// auto options = nalu::MnistSequenceModelOptions("nac", nalu::MnistSequenceTask::kAdd)
///                    .features(10);
/// ```
struct MnistSequenceModelOptions {
  MnistSequenceModelOptions(std::string core, MnistSequenceTask task)
      : core_(std::move(core)), task_(task) {}
  /// A SequenceCore name: "lstm", "gru", "rnn-tanh", "rnn-relu", or a registry unit ("nac",
  /// "nalu", ...) used as a recurrent cell.
  TORCH_ARG(std::string, core);
  TORCH_ARG(MnistSequenceTask, task);
  /// CNN outputs per image (the core's input size).
  TORCH_ARG(int64_t, features) = 10;
  /// The core's hidden size; 0: the number of outputs for a unit core (its state is the running
  /// count or sum), kMnistSequenceBaselineHidden for an LSTM / GRU / RNN core.
  TORCH_ARG(int64_t, hidden_size) = 0;
  /// Registry unit of the readout (hidden -> outputs), or "none": the last state is the output
  /// (the hidden size must then equal the outputs). Empty: "none" for a unit core, whose state is
  /// the running count or sum, "linear" (affine) for the others. ("nac" adds a second NAC that
  /// must itself learn a permutation.)
  TORCH_ARG(std::string, readout);
  /// Passed to make_unit for the core's cell and the readout.
  TORCH_ARG(UnitSettings, settings);
  /// RecurrentCellOptions::identity_recurrence of a unit core (ignored by LSTM / GRU / RNN
  /// cores).
  TORCH_ARG(double, identity_recurrence) = 0.0;
};

/// CNN -> SequenceCore -> readout on the last state, times mnist_sequence_output_scale():
/// images [B, T, 1, 28, 28] -> [B, outputs].
/// The CNN runs on every image of the batch as one [B*T, 1, 28, 28] batch; image_features() and
/// forward_features() split the two halves so that an evaluation can run the CNN once over a
/// pool of images and build any number of sequences by gathering its rows
/// (nalu::data::gather_sequences). units() are the core's cell (unit cores) and the readout's
/// unit (unless it is a Linear).
///
/// Example:
/// ```
/// nalu::MnistSequenceModel model(
///     nalu::MnistSequenceModelOptions("nac", nalu::MnistSequenceTask::kCount));
/// torch::Tensor counts = model(torch::rand({4, 10, 1, 28, 28}));       // [4, 10]
/// torch::Tensor per_image = model->image_features(pool_images);         // [N, 10]
/// torch::Tensor long_run = model->forward_features(
///     nalu::data::gather_sequences(per_image, indices_of_length_1000));  // [B, 10]
/// ```
class MnistSequenceModelImpl : public torch::nn::Cloneable<MnistSequenceModelImpl>,
                               public UnitOwner {
 public:
  explicit MnistSequenceModelImpl(MnistSequenceModelOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  /// images [B, T, 1, 28, 28] -> [B, outputs].
  torch::Tensor forward(const torch::Tensor& images);
  /// images [N, 1, 28, 28] -> CNN features [N, features].
  torch::Tensor image_features(const torch::Tensor& images);
  /// features [B, T, features] -> [B, outputs].
  torch::Tensor forward_features(const torch::Tensor& features);

  std::vector<std::shared_ptr<ArithmeticUnit>> units() const override;
  int64_t outputs() const { return mnist_sequence_outputs(options.task()); }
  /// The hidden size and readout after resolving their defaults.
  int64_t hidden_size() const;
  std::string readout_name() const;

  MnistSequenceModelOptions options;
  torch::nn::Sequential cnn{nullptr};
  SequenceCore core{nullptr};
  ArithmeticHead readout{nullptr};
};
TORCH_MODULE(MnistSequenceModel);

/// One counting or addition experiment, reproducible from this struct alone.
///
/// Example:
/// ```
/// nalu::MnistSequenceConfig config = nalu::MnistSequenceConfig::quick(
///     nalu::MnistSequenceTask::kAdd);
/// config.cores = {"lstm", "nac"};
/// nalu::MnistSequenceResult result = nalu::run_mnist_sequences(config);
/// ```
struct MnistSequenceConfig {
  MnistSequenceTask task = MnistSequenceTask::kCount;
  /// SequenceCore names. Default: the paper's six, lstm, gru, rnn-tanh, rnn-relu, nac, nalu.
  std::vector<std::string> cores;
  int64_t train_length = 10;                            // the paper's training length
  std::vector<int64_t> test_lengths{1, 10, 100, 1000};  // 1: how well the CNN reads one digit
  int64_t test_sequences = 1'000;                       // per test length
  int64_t steps = 10'000;                               // Adam steps per core
  int64_t batch_size = 50;                              // sequences per step
  double learning_rate = 3e-3;                          // Adam, every parameter but the units'
  /// Adam learning rate of the arithmetic units' parameters (the NAC / NALU cell and readout).
  /// paper() and quick() set it per task: 0.1 for addition, whose single state must reach a
  /// weight near 1 on each digit feature; 3e-3 for counting, where steps of 0.1 shook the ten
  /// states' recurrent block away from the identity it starts as.
  double unit_learning_rate = 0.1;
  int64_t features = 10;  // CNN outputs per image
  /// Unit cores' cells start as accumulators (RecurrentCellOptions::identity_recurrence):
  /// trained from the units' random start, the NAC's recurrent block did not become the
  /// identity and its counts grew without bound at length 100. 0: the units' own start.
  double identity_recurrence = 5.0;
  /// Weight of NAU's regulariser mean(min(|W|, 1 - |W|)) on a unit core's cell weights
  /// (recurrent_cell_weight), added to the loss at every step: it pulls the recurrent diagonal
  /// to 1 and the rest of the block to 0, where errors would otherwise compound over long
  /// sequences. 0: none. (An NAU cell has its own regulariser as well.)
  double cell_sparsity = 1.0;
  /// LSTM / GRU / RNN hidden size (unit cores keep one state per output).
  int64_t baseline_hidden = kMnistSequenceBaselineHidden;
  /// Share of the digits held out for the test sequences (when the directory holds the npm
  /// digits; IDX files keep their own train / t10k split).
  double test_fraction = 0.2;
  /// Directory of the digits; empty: nalu::data::default_mnist_dir().
  std::string mnist_dir;
  uint64_t seed = 0;
  int64_t threads = 0;  // cores trained side by side; 0: one per CPU core

  MnistSequenceConfig();
  /// The full size: the six cores, 10,000 steps, 1,000 test sequences per length.
  static MnistSequenceConfig paper(MnistSequenceTask task);
  /// The reduced size of `--quick`: lstm, nac and nalu, 10,000 steps, 200 test sequences (with
  /// fewer steps the LSTM has not yet learned sums of ten digits, so the comparison says little).
  static MnistSequenceConfig quick(MnistSequenceTask task);
  /// Throws nalu::Error with a one-line message for invalid settings.
  void validate() const;
};

/// Test metrics of one core at one sequence length.
struct MnistSequenceLengthResult {
  int64_t length = 0;
  int64_t sequences = 0;
  /// Share of sequences whose rounded outputs all equal the targets (every one of the 10
  /// counts, or the sum).
  double accuracy = 0.0;
  /// Mean over sequences and outputs of |output - target|.
  double mean_absolute_error = 0.0;
};

/// One trained core.
struct MnistSequenceCoreResult {
  std::string core;
  std::string readout;
  int64_t hidden_size = 0;
  int64_t parameters = 0;
  /// Whether training stopped at a non-finite loss (the metrics are then those of the model
  /// as it stood, usually NaN).
  bool diverged = false;
  int64_t steps_run = 0;
  /// Mean squared error of the last 100 training batches.
  double final_train_mse = 0.0;
  /// A NAC / NALU / NAU core's trained recurrent block (the cell weights that read h_{t-1}):
  /// the smallest and largest diagonal weight and the largest |off-diagonal| one. A count kept
  /// over T steps scales by about diagonal^T; NaN for LSTM / GRU / RNN cores.
  double recurrence_diagonal_min = std::numeric_limits<double>::quiet_NaN();
  double recurrence_diagonal_max = std::numeric_limits<double>::quiet_NaN();
  double recurrence_off_diagonal_max = std::numeric_limits<double>::quiet_NaN();
  std::vector<MnistSequenceLengthResult> lengths;  // in config.test_lengths order
  double seconds = 0.0;
};

struct MnistSequenceResult {
  MnistSequenceConfig config;  // with cores resolved
  std::string data_source;
  int64_t train_images = 0, test_images = 0;
  std::vector<MnistSequenceCoreResult> cores;  // in config.cores order
  double seconds = 0.0;
};

/// Loads and splits the digits, trains every core and tests it; progress counts training steps
/// over all cores.
MnistSequenceResult run_mnist_sequences(const MnistSequenceConfig& config,
                                        const ExperimentProgress& progress = {});

/// The result as a markdown table: one row per core, accuracy and MAE per test length.
std::string mnist_sequence_table(const MnistSequenceResult& result);

/// The catalogue entries: MnistSequenceConfig::paper() or quick() of their task, run, and
/// mnist-count.md / mnist-add.md (the table) and mnist-count.jsonl / mnist-add.jsonl (one record
/// per core: settings, metrics per length, timing) written into options.output_dir.
ExperimentReport run_mnist_count_experiment(const ExperimentOptions& options,
                                            const ExperimentProgress& progress);
ExperimentReport run_mnist_add_experiment(const ExperimentOptions& options,
                                          const ExperimentProgress& progress);

}  // namespace nalu

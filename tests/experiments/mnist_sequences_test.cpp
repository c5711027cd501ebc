// MNIST counting and addition (NALU paper, Table 2): the CNN -> core -> readout model (shapes,
// the two forward paths agree, gradients reach the CNN), settings checks, the table, and a
// reduced run on the real digits through the same code path as `nalu experiment mnist-count`,
// where the NAC core must extrapolate to sequences of 100 better than the LSTM.
#include "nalu/experiments/mnist_sequences.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "nalu/data/mnist.h"
#include "nalu/data/mnist_sequences.h"
#include "nalu/error.h"
#include "nalu/experiments/experiment.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::contains;
using testing::message_of;

TEST(MnistSequenceModel, ShapesForEveryCoreAndTask) {
  torch::manual_seed(1);
  const auto images = torch::rand({3, 4, 1, 28, 28});
  for (const std::string core : {"lstm", "gru", "rnn-tanh", "rnn-relu", "nac", "nalu"}) {
    for (auto task : {MnistSequenceTask::kCount, MnistSequenceTask::kAdd}) {
      SCOPED_TRACE(core + " " + mnist_sequence_task_name(task));
      MnistSequenceModel model(MnistSequenceModelOptions(core, task).features(6));
      const int64_t outputs = task == MnistSequenceTask::kCount ? 10 : 1;
      EXPECT_EQ(model->outputs(), outputs);
      EXPECT_EQ(model(images).sizes(), (std::vector<int64_t>{3, outputs}));
      EXPECT_EQ(model->image_features(images[0]).sizes(), (std::vector<int64_t>{4, 6}));
      const bool unit_core = core == "nac" || core == "nalu";
      // A unit core keeps one state per output, which is the output; the others have 32
      // hidden units and an affine readout, which is not one of the model's units.
      EXPECT_EQ(model->hidden_size(), unit_core ? outputs : 32);
      EXPECT_EQ(model->readout_name(), unit_core ? "none" : "linear");
      EXPECT_EQ(model->units().size(), unit_core ? 1u : 0u);
      EXPECT_EQ(model->readout.is_empty(), unit_core);
    }
  }
}

TEST(MnistSequenceModel, FeaturePathMatchesImagePath) {
  // Evaluation runs the CNN once over a pool and gathers rows; training runs it per batch.
  torch::manual_seed(2);
  MnistSequenceModel model(MnistSequenceModelOptions("nalu", MnistSequenceTask::kCount));
  const auto pool = torch::rand({7, 1, 28, 28});
  const auto indices = torch::tensor({2, 0, 6, 2, 5, 1}, torch::kLong).view({2, 3});
  const auto direct = model(data::gather_sequences(pool, indices));
  const auto gathered =
      model->forward_features(data::gather_sequences(model->image_features(pool), indices));
  EXPECT_TRUE(testing::close_to(gathered, direct, 1e-5, 1e-5));
}

TEST(MnistSequenceModel, GradientsReachTheCnnCoreAndReadout) {
  for (const std::string core : {"lstm", "nac"}) {
    SCOPED_TRACE(core);
    torch::manual_seed(3);
    MnistSequenceModel model(MnistSequenceModelOptions(core, MnistSequenceTask::kAdd));
    const auto output = model(torch::rand({5, 3, 1, 28, 28}));
    torch::mse_loss(output, torch::full({5, 1}, 9.0)).backward();
    for (const auto& item : model->named_parameters()) {
      SCOPED_TRACE(item.key());
      ASSERT_TRUE(item.value().grad().defined());
      EXPECT_TRUE(torch::isfinite(item.value().grad()).all().item<bool>());
    }
    // The first convolution's weights are the farthest from the loss.
    EXPECT_GT(model->cnn->parameters().front().grad().abs().sum().item<double>(), 0.0);
    if (!model->readout.is_empty()) {
      EXPECT_GT(model->readout->parameters().front().grad().abs().sum().item<double>(), 0.0);
    }
    EXPECT_GT(model->core->parameters().front().grad().abs().sum().item<double>(), 0.0);
  }
}

// identity_recurrence reaches a unit core's cell and is ignored by an LSTM core.
TEST(MnistSequenceModel, IdentityRecurrenceReachesTheCell) {
  for (const double v : {0.0, 5.0}) {
    SCOPED_TRACE(v);
    MnistSequenceModel model(MnistSequenceModelOptions("nac", MnistSequenceTask::kCount)
                                 .features(6)
                                 .identity_recurrence(v));
    const auto block = recurrent_cell_weight(model->core->cell->unit()).slice(1, 6).detach();
    const double off_diagonal = (block - torch::diag(block.diagonal())).abs().max().item<double>();
    if (v > 0) {
      EXPECT_EQ(off_diagonal, 0.0);
      EXPECT_GT(block.diagonal().min().item<double>(), 0.99);
    } else {
      EXPECT_GT(off_diagonal, 0.0);  // the unit's random start
    }
  }
  MnistSequenceModel lstm(
      MnistSequenceModelOptions("lstm", MnistSequenceTask::kCount).identity_recurrence(5.0));
  EXPECT_TRUE(lstm->units().empty());
}

TEST(MnistSequenceModel, ReadoutNoneNeedsOneStatePerOutput) {
  EXPECT_TRUE(contains(message_of<Error>([] {
                         MnistSequenceModel(
                             MnistSequenceModelOptions("nac", MnistSequenceTask::kAdd)
                                 .hidden_size(3)
                                 .readout("none"));
                       }),
                       "readout 'none' needs a hidden size of 1, got 3"));
  MnistSequenceModel with_nac(
      MnistSequenceModelOptions("nac", MnistSequenceTask::kCount).readout("nac"));
  EXPECT_EQ(with_nac->units().size(), 2u);
}

TEST(MnistSequenceModel, RefusesBadInput) {
  MnistSequenceModel model(MnistSequenceModelOptions("nac", MnistSequenceTask::kCount));
  EXPECT_TRUE(contains(message_of<Error>([&] {
                         model(torch::rand({2, 3, 28, 28}));
                       }),
                       "expected image sequences [batch, steps > 0, 1, 28, 28]"));
  EXPECT_TRUE(contains(message_of<Error>([&] {
                         model->image_features(torch::rand({2, 1, 14, 14}));
                       }),
                       "expected images [N, 1, 28, 28]"));
  EXPECT_TRUE(contains(message_of<Error>([&] {
                         model->forward_features(torch::rand({2, 3, 7}));
                       }),
                       "expected features [batch, steps > 0, 10]"));
  EXPECT_TRUE(contains(message_of<Error>([] {
                         MnistSequenceModel(
                             MnistSequenceModelOptions("transformer", MnistSequenceTask::kAdd));
                       }),
                       "transformer"));
  EXPECT_TRUE(contains(message_of<Error>([] {
                         MnistSequenceModel(
                             MnistSequenceModelOptions("nac", MnistSequenceTask::kAdd).features(0));
                       }),
                       "features must be >= 1"));
}

TEST(MnistSequenceConfig, PaperAndQuickSizes) {
  const auto paper = MnistSequenceConfig::paper(MnistSequenceTask::kAdd);
  EXPECT_EQ(paper.task, MnistSequenceTask::kAdd);
  EXPECT_EQ(paper.cores,
            (std::vector<std::string>{"lstm", "gru", "rnn-tanh", "rnn-relu", "nac", "nalu"}));
  EXPECT_EQ(paper.train_length, 10);
  EXPECT_EQ(paper.test_lengths, (std::vector<int64_t>{1, 10, 100, 1000}));
  const auto quick = MnistSequenceConfig::quick(MnistSequenceTask::kCount);
  EXPECT_EQ(quick.task, MnistSequenceTask::kCount);
  EXPECT_EQ(quick.steps, paper.steps);  // fewer, and the LSTM has not learned the task yet
  EXPECT_LT(quick.test_sequences, paper.test_sequences);
  for (const std::string core : {"lstm", "nac", "nalu"})
    EXPECT_NE(std::find(quick.cores.begin(), quick.cores.end(), core), quick.cores.end());
  EXPECT_EQ(paper.unit_learning_rate, 0.1);   // addition
  EXPECT_EQ(quick.unit_learning_rate, 3e-3);  // counting
  EXPECT_GT(quick.identity_recurrence, 0.0);
  EXPECT_GT(quick.cell_sparsity, 0.0);
  EXPECT_NO_THROW(paper.validate());
  EXPECT_NO_THROW(quick.validate());
}

TEST(MnistSequenceConfig, RefusesBadSettings) {
  auto refused = [](const std::function<void(MnistSequenceConfig&)>& change) {
    MnistSequenceConfig config = MnistSequenceConfig::quick(MnistSequenceTask::kCount);
    change(config);
    return message_of<Error>([&] { config.validate(); });
  };
  EXPECT_TRUE(contains(refused([](auto& c) { c.cores = {}; }), "at least one core"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.cores = {"nac", "nac"}; }), "listed twice"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.cores = {"lstn"}; }), "lstn"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.train_length = 0; }), "training length"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.test_lengths = {}; }), "at least one test length"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.test_lengths = {10, 10}; }), "listed twice"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.test_lengths = {-5}; }), "test lengths"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.test_sequences = 0; }), "test sequences"));
  // A huge evaluation set is refused before anything is allocated.
  EXPECT_TRUE(
      contains(refused([](auto& c) { c.test_sequences = int64_t{1} << 40; }), "test sequences"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.steps = 0; }), "steps must be positive"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.batch_size = 0; }), "batch size"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.learning_rate = NAN; }), "learning rate"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.unit_learning_rate = -1; }), "unit learning rate"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.features = 0; }), "features"));
  EXPECT_TRUE(
      contains(refused([](auto& c) { c.identity_recurrence = -1; }), "identity recurrence"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.cell_sparsity = NAN; }), "cell sparsity"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.baseline_hidden = 0; }), "baseline hidden"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.test_fraction = 1.0; }), "test fraction"));
  EXPECT_TRUE(contains(refused([](auto& c) { c.threads = -1; }), "threads"));
}

TEST(MnistSequenceTable, OneRowPerCoreWithEveryLength) {
  MnistSequenceResult result;
  result.config.test_lengths = {10, 100};
  MnistSequenceCoreResult nac;
  nac.core = "nac";
  nac.hidden_size = 1;
  nac.readout = "nac";
  nac.final_train_mse = 0.5;
  nac.lengths = {{10, 200, 0.995, 0.125}, {100, 200, 0.5, 1.5}};
  MnistSequenceCoreResult lstm = nac;
  lstm.core = "lstm";
  lstm.diverged = true;
  lstm.lengths = {{10, 200, 0.9, 0.25}, {100, 200, 0.0, 400.0}};
  result.cores = {nac, lstm};
  const std::string table = mnist_sequence_table(result);
  EXPECT_TRUE(
      contains(table, "| core | accuracy, T=10 | accuracy, T=100 | MAE, T=10 | MAE, T=100 |"));
  EXPECT_TRUE(contains(table, "| nac (1, nac) | 99.5% | 50% | 0.125 | 1.5 | 0.5 |"));
  EXPECT_TRUE(contains(table, "| lstm (1, nac, diverged) | 90% | 0% | 0.25 | 400 | 0.5 |"));
}

// ---- the real digits ---------------------------------------------------------------------------

bool have_digits() {
  return std::filesystem::exists(data::default_mnist_dir() / "0.json");
}

// The quick configuration cut to two cores, the lengths 10 and 100, and a tenth of its
// training sequences (2,000 steps of 25 instead of 10,000 of 50), so that a test takes well
// under a minute on 2 cores. Same code path as the experiment (run_mnist_sequences).
constexpr int64_t kSmallSteps = 2'000;
MnistSequenceConfig small_config(MnistSequenceTask task) {
  MnistSequenceConfig config = MnistSequenceConfig::quick(task);
  config.cores = {"lstm", "nac"};
  config.test_lengths = {10, 100};
  config.test_sequences = 100;
  config.steps = kSmallSteps;
  config.batch_size = 25;
  config.threads = 2;
  return config;
}

// small_config(task) on the real digits, through the experiment's code path: both cores run
// every step, the NAC learns the training length (MAE at length 10 below `learned`), and at
// length 100 the NAC's MAE is under 1/`factor` of the LSTM's, which cannot leave the range it
// was trained on.
MnistSequenceResult expect_nac_beats_lstm_at_length_100(MnistSequenceTask task, double learned,
                                                        double factor) {
  check(have_digits(),
        "no MNIST digits in " + data::default_mnist_dir().string() +
            ": run scripts/fetch-mnist.sh (or set NALU_MNIST_DIR to a directory holding them)");
  MnistSequenceResult result = run_mnist_sequences(small_config(task));
  EXPECT_EQ(result.train_images + result.test_images, 10'000);
  EXPECT_EQ(result.cores.size(), 2u);
  for (const auto& core : result.cores) {
    SCOPED_TRACE(core.core);
    EXPECT_FALSE(core.diverged);
    EXPECT_EQ(core.steps_run, kSmallSteps);
    EXPECT_EQ(core.lengths.size(), 2u);
    if (core.lengths.size() == 2u) {
      EXPECT_EQ(core.lengths[1].length, 100);
      EXPECT_EQ(core.lengths[1].sequences, 100);
    }
  }
  if (result.cores.size() == 2u && result.cores[0].lengths.size() == 2u &&
      result.cores[1].lengths.size() == 2u) {
    const auto& lstm = result.cores[0];
    const auto& nac = result.cores[1];
    EXPECT_EQ(nac.core, "nac");
    EXPECT_LT(nac.lengths[0].mean_absolute_error, learned);
    EXPECT_LT(nac.lengths[1].mean_absolute_error * factor, lstm.lengths[1].mean_absolute_error)
        << "nac " << nac.lengths[1].mean_absolute_error << ", lstm "
        << lstm.lengths[1].mean_absolute_error;
  }
  return result;
}

// Addition: the NAC learns sums of ten digits (below the MAE of 7.28 of always answering 45;
// 3.3 measured) and keeps them at length 100, where the sums are near 450 (MAE 40 measured,
// against the LSTM's 405: its answers stay in the training range). At this size the LSTM has
// not learned the training length yet (MAE 7.8; --quick's 10,000 steps of 50 teach it, see
// docs/results.md), so only the NAC's fit is asserted.
TEST(MnistSequenceExperiment, NacAddsLongSequencesWhereTheLstmFails) {
  const auto result = expect_nac_beats_lstm_at_length_100(MnistSequenceTask::kAdd, 5.0, 5.0);
  ASSERT_EQ(result.cores.size(), 2u);
  ASSERT_EQ(result.cores[1].lengths.size(), 2u);
  EXPECT_LT(result.cores[1].lengths[1].mean_absolute_error, 60.0);
}

// Counting: both cores learn the ten counts of ten digits (always answering 1 would give an MAE
// of 0.775, E|X - 1| for X ~ Binomial(10, 0.1); measured 0.22 for the LSTM, 0.33 for the NAC);
// at length 100, where the counts are near 10, the NAC's MAE (3.6) is under half the LSTM's
// (8.9). The NAC's recurrent block stays near the identity it started as.
TEST(MnistSequenceExperiment, NacCountsLongSequencesWhereTheLstmFails) {
  const auto result = expect_nac_beats_lstm_at_length_100(MnistSequenceTask::kCount, 0.5, 2.0);
  ASSERT_EQ(result.cores.size(), 2u);
  ASSERT_EQ(result.cores[0].lengths.size(), 2u);
  EXPECT_LT(result.cores[0].lengths[0].mean_absolute_error, 0.5);  // the LSTM learns counting
  EXPECT_TRUE(std::isnan(result.cores[0].recurrence_diagonal_min));
  EXPECT_GT(result.cores[1].recurrence_diagonal_min, 0.9);
}

TEST(MnistSequenceExperiment, SameSeedSameNumbers) {
  if (!have_digits())
    FAIL() << "no MNIST digits in " << data::default_mnist_dir();
  MnistSequenceConfig config = small_config(MnistSequenceTask::kAdd);
  config.cores = {"nalu", "gru"};
  config.steps = 20;
  config.test_lengths = {10, 100};
  config.test_sequences = 20;
  config.seed = 5;
  const auto first = run_mnist_sequences(config);
  const auto second = run_mnist_sequences(config);
  config.seed = 6;
  const auto other = run_mnist_sequences(config);
  for (size_t c = 0; c < 2; ++c) {
    SCOPED_TRACE(first.cores[c].core);
    EXPECT_EQ(first.cores[c].final_train_mse, second.cores[c].final_train_mse);
    EXPECT_NE(first.cores[c].final_train_mse, other.cores[c].final_train_mse);
    for (size_t l = 0; l < 2; ++l) {
      EXPECT_EQ(first.cores[c].lengths[l].mean_absolute_error,
                second.cores[c].lengths[l].mean_absolute_error);
    }
  }
}

TEST(MnistSequenceExperiment, CatalogueEntriesAndBadDigitDirectory) {
  EXPECT_EQ(find_experiment("mnist-count").run, &run_mnist_count_experiment);
  EXPECT_EQ(find_experiment("mnist-add").run, &run_mnist_add_experiment);
  MnistSequenceConfig config = small_config(MnistSequenceTask::kAdd);
  config.mnist_dir = "/nonexistent/mnist";
  EXPECT_TRUE(
      contains(message_of<Error>([&] { run_mnist_sequences(config); }), "/nonexistent/mnist"));
}

}  // namespace
}  // namespace nalu

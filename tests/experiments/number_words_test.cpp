// Language to number (NALU paper, Table 3): the model's shapes, padding and accumulator start,
// the value of the words so far, saving and loading, bad settings, and a short run in which an
// arithmetic output cell beats the Linear one on the test numbers.
#include "nalu/experiments/number_words.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "nalu/data/number_words.h"
#include "nalu/error.h"
#include "nalu/experiments/experiment.h"
#include "nalu/units/nau.h"
#include "nalu/units/nmu.h"
#include "test_util.h"

namespace nalu {
namespace {

TEST(NumberWordsModel, OutputsOneValuePerWordAndHoldsItThroughThePadding) {
  torch::manual_seed(1);
  for (const auto& output : number_words_output_names()) {
    SCOPED_TRACE(output);
    NumberWordsModel model(NumberWordsModelOptions(output).embedding(16).hidden_size(4));
    const NumberWordsBatch batch = number_words_batch({7, 702, 42});
    EXPECT_EQ(batch.tokens.sizes(), (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(batch.lengths[0].item<int64_t>(), 1);
    const auto prefixes = model(batch.tokens, batch.lengths);
    ASSERT_EQ(prefixes.sizes(), (std::vector<int64_t>{3, 4}));
    // "seven" is one word: its output stays put over the three padded steps.
    for (int64_t t = 1; t < 4; ++t)
      EXPECT_EQ(prefixes[0][t].item<float>(), prefixes[0][0].item<float>());
    // A phrase's outputs do not depend on the other phrases of the batch or their padding.
    const auto alone = predict_prefixes(model, "forty two");
    ASSERT_EQ(alone.size(), 2u);
    EXPECT_NEAR(alone[1], prefixes[2][1].item<float>(), 1e-3 * (1 + std::abs(alone[1])));
    // Gradients reach the embedding through the LSTM.
    prefixes.sum().backward();
    EXPECT_GT(model->embedding->weight.grad().abs().sum().item<double>(), 0.0);
  }
}

TEST(NumberWordsModel, StartsAsAnAccumulatorOfItsOwnOutput) {
  torch::manual_seed(2);
  NumberWordsModel nau_nmu(NumberWordsModelOptions("nau-nmu").embedding(8).hidden_size(3));
  const auto& layers = nau_nmu->cell->units();
  ASSERT_EQ(layers.size(), 2u);
  const auto& nau = dynamic_cast<const NAUImpl&>(layers[0]->as_module());
  const auto& nmu = dynamic_cast<const NMUImpl&>(layers[1]->as_module());
  EXPECT_EQ(nau.weight[0][3].item<float>(), 1.0f);  // column 3 reads y_{t-1}
  EXPECT_EQ(nau.weight[1][3].item<float>(), 0.0f);
  EXPECT_EQ(nmu.weight[0][0].item<float>(), 1.0f);
  EXPECT_EQ(nmu.weight[0][1].item<float>(), 0.0f);
  // Then y_t - y_{t-1} is the NAU's first row on 100 h_t alone: check y_2 = y_1 + that row.
  torch::NoGradGuard no_grad;
  const auto prefixes = nau_nmu(number_words_batch({42}).tokens, torch::tensor({2}, torch::kLong));
  EXPECT_NE(prefixes[0][1].item<float>(), prefixes[0][0].item<float>());
  // Without the option the NMU keeps its own start (0.5 everywhere).
  NumberWordsModel plain(
      NumberWordsModelOptions("nau-nmu").embedding(8).hidden_size(3).accumulator(false));
  const auto& plain_nmu = dynamic_cast<const NMUImpl&>(plain->cell->units()[1]->as_module());
  EXPECT_NE(plain_nmu.weight[0][1].item<float>(), 0.0f);
  // The Linear baseline has no arithmetic units to regularise.
  EXPECT_TRUE(NumberWordsModel(NumberWordsModelOptions("linear"))->units().empty());
  EXPECT_EQ(nau_nmu->units().size(), 2u);
}

TEST(NumberWordsModel, RefusesBadInputsInOneLine) {
  NumberWordsModel model(NumberWordsModelOptions("nalu").embedding(8).hidden_size(2));
  const auto tokens = torch::tensor({7, 28}, torch::kLong).unsqueeze(0);
  EXPECT_THROW_WITH(model(tokens, torch::tensor({3}, torch::kLong)), "lengths must be in [1, 2]");
  EXPECT_THROW_WITH(model(tokens.to(torch::kFloat), torch::tensor({2}, torch::kLong)),
                    "expected int64 tokens");
  EXPECT_THROW_WITH(
      model(torch::tensor({7, 30}, torch::kLong).unsqueeze(0), torch::tensor({2}, torch::kLong)),
      "token ids must be in [0, 30)");
  EXPECT_THROW_WITH(NumberWordsModel(NumberWordsModelOptions("lstm")),
                    "unknown output layer 'lstm' (known: linear, nac, nalu, nau, nau-nmu)");
  EXPECT_THROW_WITH(NumberWordsModel(NumberWordsModelOptions("nac").input_scale(0)),
                    "input scale must be positive");
  EXPECT_THROW_WITH(predict_prefixes(model, "hundred seven"), "not a number in words");
}

TEST(NumberWordsModel, PrefixValuesAreTheWordsSoFar) {
  EXPECT_EQ(prefix_values(702), (std::vector<double>{7, 700, 700, 702}));
  EXPECT_EQ(prefix_values(0), (std::vector<double>{0}));
  EXPECT_EQ(prefix_values(90), (std::vector<double>{90}));
  EXPECT_EQ(prefix_values(999), (std::vector<double>{9, 900, 900, 990, 999}));
  for (int64_t n = 0; n < 1000; ++n)
    EXPECT_EQ(prefix_values(n).back(), static_cast<double>(n));
}

TEST(NumberWordsModel, SavesAndLoadsBitForBit) {
  testing::TempDir dir;
  torch::manual_seed(3);
  NumberWordsModel model(NumberWordsModelOptions("nau-nmu").embedding(12).hidden_size(5));
  const std::string path = (dir.path / "m.nalu").string();
  save_number_words_model(model, path);
  NumberWordsModel back = load_number_words_model(path);
  EXPECT_EQ(back->options.output(), "nau-nmu");
  EXPECT_EQ(back->options.embedding(), 12);
  EXPECT_EQ(predict_prefixes(back, "nine hundred and ninety nine"),
            predict_prefixes(model, "nine hundred and ninety nine"));
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << "not a model"; }
  EXPECT_THROW_WITH(load_number_words_model(path), "m.nalu");
  EXPECT_THROW_WITH(load_number_words_model((dir.path / "missing.nalu").string()), "missing.nalu");
}

TEST(NumberWordsConfig, RefusesBadSettings) {
  auto with = [](auto change) {
    NumberWordsConfig config = NumberWordsConfig::quick();
    change(config);
    return config;
  };
  EXPECT_NO_THROW(NumberWordsConfig::paper().validate());
  EXPECT_THROW_WITH(with([](auto& c) { c.outputs = {}; }).validate(), "at least one output");
  EXPECT_THROW_WITH(with([](auto& c) { c.outputs = {"nac", "nac"}; }).validate(), "listed twice");
  EXPECT_THROW_WITH(with([](auto& c) { c.outputs = {"gru"}; }).validate(),
                    "unknown output layer 'gru'");
  EXPECT_THROW_WITH(with([](auto& c) { c.seeds = 0; }).validate(), "seeds must be in [1, 1000]");
  EXPECT_THROW_WITH(with([](auto& c) { c.steps = 0; }).validate(), "steps must be positive");
  EXPECT_THROW_WITH(with([](auto& c) { c.eval_interval = c.steps + 1; }).validate(),
                    "eval interval must be in [1, steps]");
  EXPECT_THROW_WITH(with([](auto& c) { c.learning_rate = -1; }).validate(), "learning rate");
  EXPECT_THROW_WITH(with([](auto& c) { c.train_size = 10; }).validate(), "30 <= train");
  EXPECT_THROW_WITH(with([](auto& c) { c.embedding = 0; }).validate(), "embedding must be in");
  EXPECT_THROW_WITH(with([](auto& c) { c.losses = {"l1"}; }).validate(),
                    "unknown loss 'l1' (known: last-word, every-prefix)");
  EXPECT_THROW_WITH(with([](auto& c) { c.losses = {}; }).validate(), "at least one loss");
}

TEST(NumberWordsExperiment, IsSeededAndKeepsTheBestValidationStep) {
  NumberWordsConfig config = NumberWordsConfig::quick();
  config.outputs = {"nac", "nau-nmu"};
  config.losses = {"every-prefix", "last-word"};
  config.seeds = 1;
  config.steps = 40;
  config.eval_interval = 10;
  config.embedding = 16;
  config.threads = 2;
  const NumberWordsResult a = run_number_words(config);
  config.threads = 1;
  const NumberWordsResult b = run_number_words(config);
  ASSERT_EQ(a.runs.size(), 4u);
  EXPECT_EQ(a.runs[1].output, "nac");
  EXPECT_EQ(a.runs[1].loss, "last-word");
  EXPECT_EQ(a.split.test.size(), 631u);
  EXPECT_EQ(a.examples.size(), 4u);
  for (size_t r = 0; r < a.runs.size(); ++r) {
    EXPECT_EQ(a.runs[r].test.mean_absolute_error, b.runs[r].test.mean_absolute_error);
    EXPECT_EQ(a.runs[r].example_prefixes, b.runs[r].example_prefixes);
    EXPECT_EQ(a.runs[r].best_step % 10, 0);
    EXPECT_EQ(a.runs[r].steps_run, 40);
    EXPECT_EQ(a.runs[r].test.numbers, 631);
  }
  EXPECT_NE(number_words_table(a).find("| nau-nmu | every-prefix | 1 |"), std::string::npos);
  EXPECT_NE(number_words_prefix_table(a).find("| " + std::to_string(a.examples[0]) + " |"),
            std::string::npos);
}

// The `--quick` run itself (the catalogue entry, files and all): trained on every prefix, the
// NAU output cell gets the test numbers closer than the Linear one.
TEST(NumberWordsExperiment, QuickRunNauBeatsLinearOnTheTestNumbers) {
  testing::TempDir dir;
  ExperimentOptions options;
  options.quick = true;
  options.output_dir = dir.path.string();
  options.threads = 2;
  const ExperimentReport report = run_experiment("number-words", options);
  ASSERT_EQ(report.tables.size(), 2u);
  EXPECT_EQ(report.files.size(), 3u + 4u);  // table, records, plot; one model per cell and loss
  for (const auto& file : report.files)
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  std::ifstream records(dir.path / "number-words.jsonl");
  std::map<std::string, double> test_mae;
  for (std::string line; std::getline(records, line);) {
    const auto record = nlohmann::json::parse(line);
    test_mae[record["output"].get<std::string>() + "/" + record["loss"].get<std::string>()] =
        record["test"]["mean_absolute_error"].get<double>();
  }
  ASSERT_EQ(test_mae.size(), 4u);
  EXPECT_LT(test_mae["nau/every-prefix"], test_mae["linear/every-prefix"])
      << report.tables[0].markdown;
  // A saved model answers as the run's did.
  NumberWordsModel model =
      load_number_words_model((dir.path / "number-words-nau-every-prefix.nalu").string());
  EXPECT_EQ(predict_prefixes(model, "seven hundred and two").size(), 4u);
}

}  // namespace
}  // namespace nalu

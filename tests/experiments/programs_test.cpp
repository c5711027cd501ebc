// Program evaluation: the two encodings, both model forms' shapes, padding and gradients, that
// the values form can carry numbers far larger than any seen in training, the settings' checks
// and the quick experiment.
#include "nalu/experiments/programs.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "nalu/error.h"
#include "nalu/experiments/experiment.h"
#include "nalu/units/nau.h"
#include "test_util.h"

namespace nalu {
namespace {

using data::Program;

std::vector<Program> examples() {
  return {{"print(12+34)", 46, {12, 34}},
          {"a=4123;b=a-58;print(b if a>3000 else a+b)", 4065, {4123, 58, 3000}},
          {"print(7)", 7, {7}}};
}

TEST(ProgramEncoding, CharactersAreTokensAndLiteralsAreOneTokenInTheValuesForm) {
  const auto characters = encode_programs(examples(), ProgramInput::kCharacters);
  EXPECT_EQ(characters.tokens.sizes(), (std::vector<int64_t>{3, 41}));  // the longest program
  EXPECT_EQ(characters.lengths[0].item<int64_t>(), 12);
  EXPECT_EQ(characters.tokens[0][0].item<int64_t>(), 'p' - ' ');
  EXPECT_EQ(characters.tokens[0][6].item<int64_t>(), '1' - ' ');
  EXPECT_EQ(characters.values.abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(characters.targets[1].item<float>(), 4065.0f);

  const auto values = encode_programs(examples(), ProgramInput::kValues);
  // "print(" + literal + "+" + literal + ")": 6 + 1 + 1 + 1 + 1 tokens.
  EXPECT_EQ(values.lengths[0].item<int64_t>(), 10);
  EXPECT_EQ(values.tokens[0][6].item<int64_t>(), kProgramLiteralToken);
  EXPECT_EQ(values.values[0][6].item<float>(), 12.0f);
  EXPECT_EQ(values.values[0][8].item<float>(), 34.0f);
  EXPECT_EQ(values.values[1][2].item<float>(), 4123.0f);
  // Variable reads carry the value the variable holds (a = 4123, b = 4065); assignments do not.
  EXPECT_EQ(values.tokens[1][0].item<int64_t>(), 'a' - ' ');
  EXPECT_EQ(values.tokens[1][6].item<int64_t>(), kProgramVariableToken);
  EXPECT_EQ(values.values[1][6].item<float>(), 4123.0f);
  EXPECT_EQ(values.values.sum().item<float>(),
            12 + 34 + (4123 + 4123 + 58 + 4065 + 4123 + 3000 + 4123 + 4065) + 7);
  // "print" stays characters; the conditional is read condition first, "a>3000?b:a+b".
  EXPECT_EQ(values.tokens[1][10].item<int64_t>(), 'p' - ' ');
  EXPECT_EQ(values.lengths[1].item<int64_t>(), 26);
  EXPECT_EQ(values.values[1][18].item<float>(), 3000.0f);
  EXPECT_EQ(values.tokens[1][19].item<int64_t>(), '?' - ' ');
  EXPECT_EQ(values.values[1][20].item<float>(), 4065.0f);  // b, the branch taken

  EXPECT_THROW_WITH(encode_programs({}, ProgramInput::kValues), "no programs to encode");
  EXPECT_THROW_WITH(encode_programs({{"print(\t1)", 1, {1}}}, ProgramInput::kCharacters),
                    "program 0 has a character outside printable ASCII");
  EXPECT_THROW_WITH(encode_programs({{"print(b+1)", 1, {1}}}, ProgramInput::kValues),
                    "'b' is used before it is assigned");
  EXPECT_EQ(parse_program_input("values"), ProgramInput::kValues);
  EXPECT_THROW_WITH(parse_program_input("bytes"),
                    "unknown program input 'bytes' (known: characters, values)");
}

TEST(ProgramModel, BothFormsGiveOneValuePerProgramIndependentOfPadding) {
  torch::manual_seed(4);
  for (const auto input : {ProgramInput::kCharacters, ProgramInput::kValues}) {
    for (const auto& output : program_output_names()) {
      SCOPED_TRACE(program_input_name(input) + " " + output);
      ProgramModel model(ProgramModelOptions(input, output).embedding(8).hidden_size(6));
      const auto batch = encode_programs(examples(), input);
      const auto y = model(batch.tokens, batch.values, batch.lengths);
      ASSERT_EQ(y.sizes(), (std::vector<int64_t>{3}));
      const auto alone = encode_programs({examples()[2]}, input);
      const auto y_alone = model(alone.tokens, alone.values, alone.lengths);
      EXPECT_NEAR(y_alone[0].item<float>(), y[2].item<float>(),
                  1e-4 * (1 + std::abs(y[2].item<float>())));
      y.sum().backward();
      EXPECT_GT(model->embedding->weight.grad().abs().sum().item<double>(), 0.0);
      EXPECT_EQ(model->units().empty(), output == "linear");
    }
  }
}

TEST(ProgramModel, TheValuesFormCarriesNumbersOfAnySize) {
  // An NAU cell that adds channel 0 to its state, and a control that opens channel 0 fully:
  // y = the sum of the literals, however many digits they have.
  ProgramModel model(
      ProgramModelOptions(ProgramInput::kValues, "nau").embedding(4).hidden_size(3).channels(2));
  torch::NoGradGuard no_grad;
  model->control->weight.zero_();
  model->control->bias.fill_(20.0);  // every hard-sigmoid gate fully open
  auto& nau = dynamic_cast<NAUImpl&>(model->output->units()[0]->as_module());
  nau.weight.copy_(torch::tensor({{1.0f, 0.0f, 1.0f}}));  // channel 0, channel 1, y_{t-1}
  const std::vector<Program> programs = {{"print(12+34)", 46, {12, 34}},
                                         {"print(123456+654321)", 777777, {123456, 654321}}};
  const auto batch = encode_programs(programs, ProgramInput::kValues);
  const auto y = model(batch.tokens, batch.values, batch.lengths);
  EXPECT_EQ(y[0].item<float>(), 46.0f);
  EXPECT_EQ(y[1].item<float>(), 777777.0f);
}

TEST(ProgramModel, ShutGatesStillLearnAndOpenGatesStayExactlyOpen) {
  ProgramModel model(
      ProgramModelOptions(ProgramInput::kValues, "nau").embedding(4).hidden_size(3).channels(2));
  const auto batch = encode_programs({{"print(12+34)", 46, {12, 34}}}, ProgramInput::kValues);
  {
    torch::NoGradGuard no_grad;
    model->control->weight.zero_();
    model->control->bias.fill_(-20.0);  // every gate shut: the answer is 0
  }
  auto y = model(batch.tokens, batch.values, batch.lengths);
  EXPECT_EQ(y[0].item<float>(), 0.0f);
  torch::mse_loss(y, batch.targets).backward();
  EXPECT_GT(model->control->bias.grad().abs().sum().item<double>(), 0.0);  // straight-through
  model->zero_grad();
  {
    torch::NoGradGuard no_grad;
    model->control->bias.fill_(20.0);  // every gate open
  }
  y = model(batch.tokens, batch.values, batch.lengths);
  torch::mse_loss(y, batch.targets + 1000).backward();
  EXPECT_EQ(model->control->bias.grad().abs().sum().item<double>(), 0.0);
}

TEST(ProgramModel, RefusesBadInputsInOneLine) {
  ProgramModel model(ProgramModelOptions(ProgramInput::kValues, "nac").embedding(4).hidden_size(3));
  const auto batch = encode_programs(examples(), ProgramInput::kValues);
  EXPECT_THROW_WITH(model(batch.tokens, batch.values.slice(1, 0, 2), batch.lengths),
                    "expected float values shaped as the tokens");
  EXPECT_THROW_WITH(model(batch.tokens, batch.values, batch.lengths + 100), "lengths must be in");
  EXPECT_THROW_WITH(model(batch.tokens + 200, batch.values, batch.lengths),
                    "token ids must be in [0, 97)");
  EXPECT_THROW_WITH(ProgramModel(ProgramModelOptions(ProgramInput::kValues, "lstm")),
                    "unknown program output layer 'lstm' (known: linear, nac, nalu, nau)");
  EXPECT_THROW_WITH(ProgramModel(ProgramModelOptions(ProgramInput::kValues, "nau").channels(0)),
                    "channels must be in [1, 256]");
}

TEST(ProgramsConfig, RefusesBadSettingsInOneLine) {
  ProgramsConfig config = ProgramsConfig::quick();
  config.test_digits = {3, 10};
  EXPECT_THROW_WITH(config.validate(), "programs: test digits must be in [1, 9], got 10");
  config = ProgramsConfig::quick();
  config.variants.push_back(config.variants.front());
  EXPECT_THROW_WITH(config.validate(), "model 'characters/linear' is listed twice");
  config = ProgramsConfig::quick();
  config.variants = {{ProgramInput::kValues, "gru"}};
  EXPECT_THROW_WITH(config.validate(), "unknown program output layer 'gru'");
  config = ProgramsConfig::quick();
  config.hidden_size = 0;
  EXPECT_THROW_WITH(config.validate(), "hidden size must be in [1, 4096], got 0");
  config = ProgramsConfig::quick();
  config.eval_interval = config.steps + 1;
  EXPECT_THROW_WITH(config.validate(), "eval interval must be in [1, steps]");
}

TEST(ProgramsExperiment, QuickRunValuesNauExtrapolatesWhereTheLstmDoesNot) {
  testing::TempDir dir;
  ExperimentOptions options;
  options.quick = true;
  options.output_dir = dir.path.string();
  options.threads = 2;
  const ExperimentReport report = run_experiment("programs", options);
  ASSERT_EQ(report.tables.size(), 3u);
  EXPECT_EQ(report.files.size(), 3u);  // table, records, one plot per family
  for (const auto& file : report.files)
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  std::ifstream records(dir.path / "programs.jsonl");
  std::map<std::string, nlohmann::json> runs;
  for (std::string line; std::getline(records, line);) {
    const auto record = nlohmann::json::parse(line);
    runs[record["input"].get<std::string>() + "/" + record["output"].get<std::string>()] = record;
  }
  ASSERT_EQ(runs.size(), 2u);
  // Test digits 1-6: index 3 is four digits per literal, twice the training range.
  const auto accuracy = [&](const std::string& model, size_t digits) {
    return runs[model]["test"][digits - 1]["accuracy"].get<double>();
  };
  EXPECT_EQ(runs["values/nau"]["test"][3]["digits"].get<int64_t>(), 4);
  EXPECT_GT(accuracy("values/nau", 2), 0.9) << report.tables[0].markdown;
  EXPECT_GT(accuracy("values/nau", 4), 0.9) << report.tables[0].markdown;
  EXPECT_LT(accuracy("characters/linear", 4), 0.05) << report.tables[0].markdown;
  EXPECT_NE(report.summary.find("values/nau"), std::string::npos);
}

}  // namespace
}  // namespace nalu

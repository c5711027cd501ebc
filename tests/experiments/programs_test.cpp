// Program-evaluation models: the two encodings, both model forms' shapes, padding and gradients,
// and that the values form can carry numbers far larger than any seen in training.
#include "nalu/experiments/programs.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nalu/error.h"
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
  EXPECT_EQ(values.values.sum().item<float>(), 12 + 34 + 4123 + 58 + 3000 + 7);

  EXPECT_THROW_WITH(encode_programs({}, ProgramInput::kValues), "no programs to encode");
  EXPECT_THROW_WITH(encode_programs({{"print(\t1)", 1, {1}}}, ProgramInput::kCharacters),
                    "outside printable ASCII");
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
  model->control->bias.fill_(20.0);  // tanh(20) is 1 in float
  auto& nau = dynamic_cast<NAUImpl&>(model->output->units()[0]->as_module());
  nau.weight.copy_(torch::tensor({{1.0f, 0.0f, 1.0f}}));  // channel 0, channel 1, y_{t-1}
  const std::vector<Program> programs = {{"print(12+34)", 46, {12, 34}},
                                         {"print(123456+654321)", 777777, {123456, 654321}}};
  const auto batch = encode_programs(programs, ProgramInput::kValues);
  const auto y = model(batch.tokens, batch.values, batch.lengths);
  EXPECT_EQ(y[0].item<float>(), 46.0f);
  EXPECT_EQ(y[1].item<float>(), 777777.0f);
}

TEST(ProgramModel, RefusesBadInputsInOneLine) {
  ProgramModel model(ProgramModelOptions(ProgramInput::kValues, "nac").embedding(4).hidden_size(3));
  const auto batch = encode_programs(examples(), ProgramInput::kValues);
  EXPECT_THROW_WITH(model(batch.tokens, batch.values.slice(1, 0, 2), batch.lengths),
                    "expected float values shaped as the tokens");
  EXPECT_THROW_WITH(model(batch.tokens, batch.values, batch.lengths + 100), "lengths must be in");
  EXPECT_THROW_WITH(model(batch.tokens + 200, batch.values, batch.lengths),
                    "token ids must be in [0, 96)");
  EXPECT_THROW_WITH(ProgramModel(ProgramModelOptions(ProgramInput::kValues, "lstm")),
                    "unknown program output layer 'lstm' (known: linear, nac, nalu, nau)");
  EXPECT_THROW_WITH(ProgramModel(ProgramModelOptions(ProgramInput::kValues, "nau").channels(0)),
                    "channels must be in [1, 256]");
}

}  // namespace
}  // namespace nalu

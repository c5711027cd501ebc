// Program-evaluation models (nalu/experiments/programs.h): the encoding of programs and the two
// model forms.
#include "nalu/experiments/programs.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "experiments/tensor_text.h"
#include "nalu/error.h"
#include "nalu/experiments/report.h"
#include "nalu/strings.h"

namespace nalu {

using detail::shape_text;

namespace {

constexpr int64_t kMaxEmbedding = 4'096;
constexpr int64_t kMaxHidden = 4'096;
constexpr int64_t kMaxChannels = 256;
constexpr char kFirstCharacter = ' ';
constexpr char kLastCharacter = '~';

const std::vector<std::string>& input_names() {
  static const std::vector<std::string> kNames = {"characters", "values"};
  return kNames;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string program_input_name(ProgramInput input) {
  return input_names()[static_cast<size_t>(input)];
}

ProgramInput parse_program_input(const std::string& name) {
  return static_cast<ProgramInput>(find_name(input_names(), name, "program input"));
}

const std::vector<std::string>& program_output_names() {
  static const std::vector<std::string> kOutputs = {"linear", "nac", "nalu", "nau"};
  return kOutputs;
}

EncodedPrograms encode_programs(const std::vector<data::Program>& programs, ProgramInput input) {
  check(!programs.empty(), "programs: no programs to encode");
  // Tokens and values per program, then padded to the longest.
  std::vector<std::vector<int64_t>> tokens(programs.size());
  std::vector<std::vector<float>> values(programs.size());
  size_t longest = 1;
  for (size_t p = 0; p < programs.size(); ++p) {
    const std::string& text = programs[p].text;
    check(!text.empty(), "programs: program " + std::to_string(p) + " is empty");
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      check(c >= kFirstCharacter && c <= kLastCharacter,
            "programs: program " + std::to_string(p) + " has a character outside printable ASCII");
      if (input == ProgramInput::kValues && is_digit(c)) {
        size_t end = i;
        while (end < text.size() && is_digit(text[end]))
          ++end;
        check(end - i <= 9,
              "programs: program " + std::to_string(p) + " has a literal of more than 9 digits");
        tokens[p].push_back(kProgramLiteralToken);
        values[p].push_back(static_cast<float>(std::stoll(text.substr(i, end - i))));
        i = end - 1;
        continue;
      }
      tokens[p].push_back(c - kFirstCharacter);
      values[p].push_back(0.0f);
    }
    longest = std::max(longest, tokens[p].size());
  }
  const auto count = static_cast<int64_t>(programs.size());
  const auto width = static_cast<int64_t>(longest);
  EncodedPrograms encoded;
  encoded.tokens = torch::zeros({count, width}, torch::kLong);  // ' ' pads
  encoded.values = torch::zeros({count, width}, torch::kFloat);
  encoded.lengths = torch::zeros({count}, torch::kLong);
  encoded.targets = torch::zeros({count}, torch::kFloat);
  auto token_rows = encoded.tokens.accessor<int64_t, 2>();
  auto value_rows = encoded.values.accessor<float, 2>();
  for (size_t p = 0; p < programs.size(); ++p) {
    const auto row = static_cast<int64_t>(p);
    for (size_t t = 0; t < tokens[p].size(); ++t) {
      token_rows[row][static_cast<int64_t>(t)] = tokens[p][t];
      value_rows[row][static_cast<int64_t>(t)] = values[p][t];
    }
    encoded.lengths[row] = static_cast<int64_t>(tokens[p].size());
    encoded.targets[row] = static_cast<float>(programs[p].value);
  }
  return encoded;
}

// ---- model ----

ProgramModelImpl::ProgramModelImpl(ProgramModelOptions options_) : options(std::move(options_)) {
  reset();
}

void ProgramModelImpl::reset() {
  const auto& o = options;
  find_name(program_output_names(), o.output(), "program output layer");
  check(o.embedding() >= 1 && o.embedding() <= kMaxEmbedding,
        "program model: embedding must be in [1, " + std::to_string(kMaxEmbedding) + "], got " +
            std::to_string(o.embedding()));
  check(o.hidden_size() >= 1 && o.hidden_size() <= kMaxHidden,
        "program model: hidden size must be in [1, " + std::to_string(kMaxHidden) + "], got " +
            std::to_string(o.hidden_size()));
  check(o.channels() >= 1 && o.channels() <= kMaxChannels,
        "program model: channels must be in [1, " + std::to_string(kMaxChannels) + "], got " +
            std::to_string(o.channels()));
  check(std::isfinite(o.input_scale()) && o.input_scale() > 0,
        "program model: input scale must be positive and finite, got " +
            format_significant(o.input_scale()));
  embedding = register_module("embedding", torch::nn::Embedding(kProgramVocabulary, o.embedding()));
  lstm = register_module(
      "lstm",
      torch::nn::LSTM(torch::nn::LSTMOptions(o.embedding(), o.hidden_size()).batch_first(true)));
  if (o.input() == ProgramInput::kValues) {
    control = register_module("control", torch::nn::Linear(o.hidden_size(), o.channels()));
    output = register_module(
        "cell",
        ArithmeticHead(
            ArithmeticHeadOptions(o.channels() + 1, 1).units({o.output()}).settings(o.settings())));
  } else {
    control = nullptr;
    output = register_module(
        "output",
        ArithmeticHead(
            ArithmeticHeadOptions(o.hidden_size(), 1).units({o.output()}).settings(o.settings())));
  }
}

void ProgramModelImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::ProgramModel(input=" << program_input_name(options.input())
         << ", output=" << options.output() << ", embedding=" << options.embedding()
         << ", hidden_size=" << options.hidden_size() << ")";
}

torch::Tensor ProgramModelImpl::forward(const torch::Tensor& tokens, const torch::Tensor& values,
                                        const torch::Tensor& lengths) {
  check(tokens.defined() && tokens.dim() == 2 && tokens.size(0) > 0 && tokens.size(1) > 0 &&
            tokens.scalar_type() == torch::kLong,
        "program model: expected int64 tokens [batch, steps > 0], got " + shape_text(tokens));
  check(values.defined() && values.sizes() == tokens.sizes() && values.is_floating_point(),
        "program model: expected float values shaped as the tokens " + shape_text(tokens) +
            ", got " + shape_text(values));
  check(lengths.defined() && lengths.dim() == 1 && lengths.size(0) == tokens.size(0) &&
            lengths.scalar_type() == torch::kLong,
        "program model: expected int64 lengths [" + std::to_string(tokens.size(0)) + "], got " +
            shape_text(lengths));
  check(tokens.min().item<int64_t>() >= 0 && tokens.max().item<int64_t>() < kProgramVocabulary,
        "program model: token ids must be in [0, " + std::to_string(kProgramVocabulary) + ")");
  check(lengths.min().item<int64_t>() >= 1 && lengths.max().item<int64_t>() <= tokens.size(1),
        "program model: lengths must be in [1, " + std::to_string(tokens.size(1)) + "]");
  const int64_t batch = tokens.size(0);
  const auto states = std::get<0>(lstm->forward(embedding->forward(tokens)));  // [B, T, H]
  if (options.input() == ProgramInput::kCharacters) {
    const auto index = (lengths - 1).view({batch, 1, 1}).expand({batch, 1, states.size(2)});
    const auto last = states.gather(1, index).squeeze(1);
    return output->forward(last * options.input_scale()).squeeze(1);
  }
  const auto gated = torch::tanh(control->forward(states)) * values.unsqueeze(2);  // [B, T, K]
  auto y = torch::zeros({batch, 1}, states.options());
  for (int64_t t = 0; t < tokens.size(1); ++t) {
    const auto next = output->forward(torch::cat({gated.select(1, t), y}, 1));
    y = torch::where(lengths.gt(t).unsqueeze(1), next, y);
  }
  return y.squeeze(1);
}

std::vector<std::shared_ptr<ArithmeticUnit>> ProgramModelImpl::units() const {
  std::vector<std::shared_ptr<ArithmeticUnit>> result;
  for (const auto& unit : output->units()) {
    if (unit->unit_name() != "linear")
      result.push_back(unit);
  }
  return result;
}

}  // namespace nalu

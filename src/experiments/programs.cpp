// Program-evaluation models (nalu/experiments/programs.h): the encoding of programs and the two
// model forms.
#include "nalu/experiments/programs.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "experiments/lstm_step.h"
#include "experiments/tensor_text.h"
#include "nalu/data/programs.h"
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

namespace {

bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}

// One program's tokens and values in `input`'s form. The values form reads the program with its
// conditionals written condition first (data::read_program), so that the condition comes before
// the branches whose values it selects.
// `name` ("programs: program 3") starts the messages of the encoder's own checks; the
// evaluator's name the program's text.
void encode_one(const std::string& name, const std::string& program, ProgramInput input,
                std::vector<int64_t>& tokens, std::vector<float>& values) {
  check(!program.empty(), name + " is empty");
  for (const char c : program) {
    check(c >= kFirstCharacter && c <= kLastCharacter,
          name + " has a character outside printable ASCII");
  }
  data::ProgramReading reading;
  if (input == ProgramInput::kValues)
    reading = data::read_program(program);
  const std::string& text = input == ProgramInput::kValues ? reading.condition_first : program;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (input == ProgramInput::kValues && is_digit(c)) {
      size_t end = i;
      while (end < text.size() && is_digit(text[end]))
        ++end;
      tokens.push_back(kProgramLiteralToken);
      values.push_back(static_cast<float>(std::stoll(text.substr(i, end - i))));
      i = end - 1;
      continue;
    }
    if (input == ProgramInput::kValues && is_lower(c)) {
      size_t end = i;
      while (end < text.size() && is_lower(text[end]))
        ++end;
      const std::string word = text.substr(i, end - i);
      const bool assigned = end < text.size() && text[end] == '=';
      // "print" is the only keyword left: conditionals are read condition first, without
      // "if" and "else".
      if (word != "print" && !assigned) {
        // A read: the value the evaluator gives the variable.
        tokens.push_back(kProgramVariableToken);
        values.push_back(static_cast<float>(reading.variables.at(word)));
        i = end - 1;
        continue;
      }
      // A keyword or an assignment's name: its characters.
      for (const char letter : word) {
        tokens.push_back(letter - kFirstCharacter);
        values.push_back(0.0f);
      }
      i = end - 1;
      continue;
    }
    tokens.push_back(c - kFirstCharacter);
    values.push_back(0.0f);
  }
}

}  // namespace

EncodedPrograms encode_programs(const std::vector<data::Program>& programs, ProgramInput input) {
  check(!programs.empty(), "programs: no programs to encode");
  // Tokens and values per program, then padded to the longest.
  std::vector<std::vector<int64_t>> tokens(programs.size());
  std::vector<std::vector<float>> values(programs.size());
  size_t longest = 1;
  for (size_t p = 0; p < programs.size(); ++p) {
    encode_one("programs: program " + std::to_string(p), programs[p].text, input, tokens[p],
               values[p]);
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

void ProgramModelOptions::validate() const {
  const auto& o = *this;
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
}

void ProgramModelImpl::reset() {
  const auto& o = options;
  o.validate();
  embedding = register_module("embedding", torch::nn::Embedding(kProgramVocabulary, o.embedding()));
  // The values form reads a bounded magnitude of the step's value beside the token.
  const int64_t lstm_input = o.embedding() + (o.input() == ProgramInput::kValues ? 1 : 0);
  lstm = register_module("lstm", torch::nn::LSTMCell(lstm_input, o.hidden_size()));
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
  const int64_t steps = tokens.size(1);
  const bool by_value = options.input() == ProgramInput::kValues;
  // The LSTM's input projection per vocabulary entry (detail::lstm_step), plus in the values
  // form the projection of the bounded magnitude sign(v) log10(1 + |v|) read beside the token.
  const int64_t embedding_size = options.embedding();
  const auto table = detail::lstm_input_table(*lstm, embedding->weight);
  torch::Tensor magnitude, magnitude_weight;
  if (by_value) {
    magnitude = torch::sign(values) * torch::log10(1 + values.abs());
    magnitude_weight = lstm->weight_ih.select(1, embedding_size).unsqueeze(0);
  }
  auto h = torch::zeros({batch, options.hidden_size()}, table.options());
  auto c = torch::zeros_like(h);
  auto y = torch::zeros({batch, 1}, table.options());
  for (int64_t t = 0; t < steps; ++t) {
    auto projection = table.index_select(0, tokens.select(1, t));
    if (by_value)
      projection = projection + magnitude.select(1, t).unsqueeze(1) * magnitude_weight;
    auto next_h = h, next_c = c;
    detail::lstm_step(*lstm, projection, next_h, next_c);
    const auto running = lengths.gt(t).unsqueeze(1);
    if (!by_value) {
      // The state stops at the program's last character.
      h = torch::where(running, next_h, h);
      c = torch::where(running, next_c, c);
      continue;
    }
    h = next_h;
    c = next_c;
    // Hard sigmoid gates: exactly 0 or 1 outside (-1/2, 1/2), so a saturated gate passes a
    // value of any size unchanged (a tanh or sigmoid gate scales it by 1 - 1e-7 or so, an error
    // that grows with the value). Below 0 their gradient is taken as if unclamped
    // (straight-through): with the clamp's own zero gradient, a gate that starts shut for every
    // literal never opens, and the model is stuck at a constant answer. Above 1 the clamp's
    // zero gradient is kept, so an open gate stays exactly open.
    const auto open = control->forward(h) + 0.5;
    const auto below = torch::clamp_max(open, 0.0);
    const auto gates = torch::clamp(open, 0.0, 1.0) + (below - below.detach());  // [B, K]
    const auto gated = gates * values.select(1, t).unsqueeze(1);
    y = torch::where(running, output->forward(torch::cat({gated, y}, 1)), y);
  }
  if (!by_value)
    return output->forward(h * options.input_scale()).squeeze(1);
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

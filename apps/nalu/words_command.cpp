// `nalu words`.
#include "words_command.h"

#include <cmath>
#include <cstdio>

#include "nalu/data/number_words.h"
#include "nalu/experiments/number_words.h"
#include "nalu/experiments/report.h"

namespace nalu::cli {

CLI::App* add_words_command(CLI::App& app, WordsFlags& f) {
  auto* cmd = app.add_subcommand(
      "words", "Read number words with a model from 'nalu experiment number-words'");
  cmd->footer(
      "Prints the model's output after every word, the value of the words so far and the\n"
      "rounded answer. Words: zero ... nineteen, twenty ... ninety, hundred, and (numbers 0-999,\n"
      "British style: 'seven hundred and two').\n"
      "Examples:\n"
      "  nalu experiment number-words --quick\n"
      "  nalu words --model results/number-words/number-words-nau-every-prefix.nalu \"seven "
      "hundred and two\"\n"
      "  nalu words -m results/number-words/number-words-linear-last-word.nalu \"forty two\" "
      "\"nine hundred\"");
  cmd->add_option("--model,-m", f.model, "Model file (number-words-OUTPUT-LOSS.nalu)")->required();
  cmd->add_option("phrases", f.phrases, "Phrases to read, one per argument")->required();
  return cmd;
}

int run_words_command(const WordsFlags& f) {
  // Every phrase is checked before the model is read, so a typo costs nothing.
  std::vector<int64_t> numbers;
  for (const auto& phrase : f.phrases)
    numbers.push_back(data::parse_number_words(phrase));
  NumberWordsModel model = load_number_words_model(f.model);
  std::printf("model: %s (output layer %s)\n", f.model.c_str(), model->options.output().c_str());
  for (size_t p = 0; p < f.phrases.size(); ++p) {
    const auto words = data::number_words(numbers[p]);
    const auto outputs = predict_prefixes(model, f.phrases[p]);
    const auto values = prefix_values(numbers[p]);
    std::vector<std::vector<std::string>> rows;
    std::string prefix;
    for (size_t t = 0; t < words.size(); ++t) {
      prefix += (t ? " " : "") + words[t];
      rows.push_back({prefix, format_significant(values[t], 4), format_significant(outputs[t], 6)});
    }
    std::printf("\n%s\n", markdown_table({"words so far", "value", "output"}, rows).c_str());
    const double answer = outputs.back();
    const bool exact = std::isfinite(answer) && std::llround(answer) == numbers[p];
    std::printf("answer: %s (%s; the words name %lld)\n",
                std::isfinite(answer) ? std::to_string(std::llround(answer)).c_str() : "nan",
                exact ? "right" : "wrong", static_cast<long long>(numbers[p]));
  }
  return 0;
}

}  // namespace nalu::cli

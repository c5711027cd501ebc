// Numbers 0-999 as English words and the seeded train/validation/test split.
#include "nalu/data/number_words.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "nalu/error.h"
#include "nalu/strings.h"
#include "random/splitmix64.h"

namespace nalu::data {

namespace {

constexpr int64_t kNumbers = 1000;
constexpr int64_t kHundredId = 28;
constexpr int64_t kAndId = 29;

}  // namespace

const std::vector<std::string>& number_word_vocabulary() {
  static const std::vector<std::string> kWords = {
      "zero",    "one",       "two",      "three",    "four",    "five",     "six",      "seven",
      "eight",   "nine",      "ten",      "eleven",   "twelve",  "thirteen", "fourteen", "fifteen",
      "sixteen", "seventeen", "eighteen", "nineteen", "twenty",  "thirty",   "forty",    "fifty",
      "sixty",   "seventy",   "eighty",   "ninety",   "hundred", "and"};
  return kWords;
}

std::vector<int64_t> number_word_tokens(int64_t n) {
  check(n >= 0 && n < kNumbers, "number words: " + std::to_string(n) + " is outside [0, 999]");
  std::vector<int64_t> tokens;
  const int64_t hundreds = n / 100;
  const int64_t rest = n % 100;
  if (hundreds > 0) {
    tokens.push_back(hundreds);
    tokens.push_back(kHundredId);
    if (rest == 0)
      return tokens;
    tokens.push_back(kAndId);
  }
  if (rest < 20) {
    tokens.push_back(rest);
  } else {
    tokens.push_back(20 + rest / 10 - 2);  // twenty is id 20
    if (rest % 10 != 0)
      tokens.push_back(rest % 10);
  }
  return tokens;
}

std::vector<std::string> number_words(int64_t n) {
  std::vector<std::string> words;
  for (const int64_t id : number_word_tokens(n))
    words.push_back(number_word_vocabulary()[static_cast<size_t>(id)]);
  return words;
}

std::string number_text(int64_t n) {
  return join(number_words(n), " ");
}

namespace {

// The phrase's words, lower-cased, split at spaces and hyphens.
std::vector<std::string> phrase_words(const std::string& phrase) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : phrase) {
    if (c == ' ' || c == '-' || c == '\t' || c == '\n' || c == '\r') {
      if (!word.empty())
        words.push_back(word);
      word.clear();
    } else {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  if (!word.empty())
    words.push_back(word);
  return words;
}

// The number whose tokens are `tokens`, or -1.
int64_t number_of(const std::vector<int64_t>& tokens) {
  for (int64_t n = 0; n < kNumbers; ++n) {
    if (number_word_tokens(n) == tokens)
      return n;
  }
  return -1;
}

}  // namespace

int64_t parse_number_words(const std::string& phrase) {
  const auto words = phrase_words(phrase);
  check(!words.empty(), "number words: the phrase is empty");
  const auto& vocabulary = number_word_vocabulary();
  std::vector<int64_t> tokens;
  for (const auto& word : words) {
    for (const char* large : {"thousand", "million", "billion"}) {
      check(word != large, "number words: '" + phrase + "' is above 999, the largest number known");
    }
    const auto at = std::find(vocabulary.begin(), vocabulary.end(), word);
    check(at != vocabulary.end(),
          "number words: unknown word '" + word + "' (known: " + join(vocabulary, ", ") + ")");
    tokens.push_back(at - vocabulary.begin());
  }
  const int64_t n = number_of(tokens);
  if (n >= 0)
    return n;
  // "ten hundred", "twelve hundred and one": a count of hundreds above 9.
  check(!(tokens.size() >= 2 && tokens[1] == kHundredId && tokens[0] >= 10 && tokens[0] < 20),
        "number words: '" + phrase + "' is above 999, the largest number known");
  // "seven hundred two": the missing "and".
  if (tokens.size() >= 3 && tokens[1] == kHundredId && tokens[2] != kAndId) {
    auto with_and = tokens;
    with_and.insert(with_and.begin() + 2, kAndId);
    const int64_t m = number_of(with_and);
    check(m < 0, "number words: '" + phrase + "' is not a number in words; did you mean '" +
                     number_text(m) + "'?");
  }
  throw Error("number words: '" + phrase +
              "' is not a number in words (write it as e.g. 'seven hundred and two')");
}

std::vector<int64_t> phrase_tokens(const std::string& phrase) {
  return number_word_tokens(parse_number_words(phrase));
}

NumberWordsSplit split_number_words(uint64_t seed, int64_t train_size, int64_t validation_size) {
  const int64_t vocabulary = static_cast<int64_t>(number_word_vocabulary().size());
  check(train_size >= vocabulary && validation_size >= 1 && train_size < kNumbers - validation_size,
        "number words: split sizes " + std::to_string(train_size) + " (train) and " +
            std::to_string(validation_size) +
            " (validation) must satisfy 30 <= train, 1 <= validation, train + validation < 1000");
  // 20-999 in a random order (Fisher-Yates).
  std::vector<int64_t> order;
  for (int64_t n = 20; n < kNumbers; ++n)
    order.push_back(n);
  nalu::detail::SplitMix64 generator(seed);
  for (size_t i = order.size() - 1; i > 0; --i)
    std::swap(order[i], order[static_cast<size_t>(generator.below(i + 1))]);

  NumberWordsSplit split;
  split.seed = seed;
  std::set<int64_t> chosen;
  std::vector<bool> covered(static_cast<size_t>(vocabulary), false);
  auto take = [&](int64_t n) {
    split.train.push_back(n);
    chosen.insert(n);
    for (const int64_t id : number_word_tokens(n))
      covered[static_cast<size_t>(id)] = true;
  };
  for (int64_t n = 0; n < 20; ++n)
    take(n);
  // Every token at least once: for each token still missing, the first number in the random
  // order that holds it.
  for (int64_t id = 0; id < vocabulary; ++id) {
    if (covered[static_cast<size_t>(id)])
      continue;
    for (const int64_t n : order) {
      const auto tokens = number_word_tokens(n);
      if (std::find(tokens.begin(), tokens.end(), id) != tokens.end()) {
        take(n);
        break;
      }
    }
  }
  // The rest of the training sample, then validation and test, in the random order.
  for (const int64_t n : order) {
    if (chosen.count(n) != 0)
      continue;
    if (static_cast<int64_t>(split.train.size()) < train_size)
      take(n);
    else if (static_cast<int64_t>(split.validation.size()) < validation_size)
      split.validation.push_back(n);
    else
      split.test.push_back(n);
  }
  return split;
}

}  // namespace nalu::data

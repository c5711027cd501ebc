#include "nalu/data/number_words.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "nalu/error.h"
#include "test_util.h"

namespace {

using nalu::data::number_text;
using nalu::data::number_word_tokens;
using nalu::data::number_word_vocabulary;
using nalu::data::number_words;
using nalu::data::split_number_words;

// An independent reading of the words: units and teens add, "hundred" multiplies what came
// before, tens add ten times their place, "and" is silent.
int64_t read_words(const std::string& text) {
  static const std::map<std::string, int64_t> kValues = {
      {"zero", 0},     {"one", 1},      {"two", 2},        {"three", 3},     {"four", 4},
      {"five", 5},     {"six", 6},      {"seven", 7},      {"eight", 8},     {"nine", 9},
      {"ten", 10},     {"eleven", 11},  {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14},
      {"fifteen", 15}, {"sixteen", 16}, {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},
      {"twenty", 20},  {"thirty", 30},  {"forty", 40},     {"fifty", 50},    {"sixty", 60},
      {"seventy", 70}, {"eighty", 80},  {"ninety", 90}};
  std::istringstream words(text);
  int64_t total = 0;
  for (std::string word; words >> word;) {
    if (word == "hundred")
      total *= 100;
    else if (word != "and")
      total += kValues.at(word);
  }
  return total;
}

TEST(NumberWords, WritesTheBritishForms) {
  EXPECT_EQ(number_text(0), "zero");
  EXPECT_EQ(number_text(13), "thirteen");
  EXPECT_EQ(number_text(40), "forty");
  EXPECT_EQ(number_text(42), "forty two");
  EXPECT_EQ(number_text(100), "one hundred");
  EXPECT_EQ(number_text(110), "one hundred and ten");
  EXPECT_EQ(number_text(702), "seven hundred and two");
  EXPECT_EQ(number_text(999), "nine hundred and ninety nine");
  EXPECT_THROW_WITH(number_words(1000), "1000 is outside [0, 999]");
  EXPECT_THROW_WITH(number_words(-1), "-1 is outside [0, 999]");
}

TEST(NumberWords, EveryNumberReadsBackAndIsUnique) {
  const auto& vocabulary = number_word_vocabulary();
  ASSERT_EQ(vocabulary.size(), 30u);
  std::set<std::string> texts;
  for (int64_t n = 0; n < 1000; ++n) {
    const std::string text = number_text(n);
    EXPECT_EQ(read_words(text), n) << text;
    texts.insert(text);
    const auto tokens = number_word_tokens(n);
    const auto words = number_words(n);
    ASSERT_EQ(tokens.size(), words.size());
    for (size_t i = 0; i < tokens.size(); ++i)
      EXPECT_EQ(vocabulary[static_cast<size_t>(tokens[i])], words[i]);
  }
  EXPECT_EQ(texts.size(), 1000u);
}

TEST(NumberWords, SplitHasThePapersCountsAndCoversEveryTokenInTraining) {
  const auto split = split_number_words(7);
  EXPECT_EQ(split.train.size(), 169u);
  EXPECT_EQ(split.validation.size(), 200u);
  EXPECT_EQ(split.test.size(), 631u);
  std::set<int64_t> all(split.train.begin(), split.train.end());
  all.insert(split.validation.begin(), split.validation.end());
  all.insert(split.test.begin(), split.test.end());
  EXPECT_EQ(all.size(), 1000u);  // disjoint and complete
  EXPECT_EQ(*all.begin(), 0);
  EXPECT_EQ(*all.rbegin(), 999);
  for (int64_t n = 0; n < 20; ++n)
    EXPECT_NE(std::find(split.train.begin(), split.train.end(), n), split.train.end()) << n;
  std::set<int64_t> tokens;
  for (const int64_t n : split.train) {
    for (const int64_t id : number_word_tokens(n))
      tokens.insert(id);
  }
  EXPECT_EQ(tokens.size(), number_word_vocabulary().size());
}

TEST(NumberWords, SplitIsSeeded) {
  const auto a = split_number_words(1), b = split_number_words(1), c = split_number_words(2);
  EXPECT_EQ(a.train, b.train);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.train, c.train);
  EXPECT_NE(a.validation, c.validation);
  // A pinned draw, so that a change of generator cannot pass unnoticed (checked against an
  // independent Python SplitMix64 and Fisher-Yates when it was written).
  const std::vector<int64_t> first(a.validation.begin(), a.validation.begin() + 3);
  EXPECT_EQ(first, (std::vector<int64_t>{820, 736, 564}));
}

TEST(NumberWords, SplitSizesAreChecked) {
  EXPECT_THROW_WITH(split_number_words(0, 29, 200), "must satisfy 30 <= train");
  EXPECT_THROW_WITH(split_number_words(0, 169, 0), "must satisfy 30 <= train");
  EXPECT_THROW_WITH(split_number_words(0, 800, 200), "must satisfy 30 <= train");
  const auto smallest = split_number_words(3, 30, 1);
  EXPECT_EQ(smallest.train.size(), 30u);
  EXPECT_EQ(smallest.test.size(), 969u);
}

}  // namespace

namespace {

using nalu::data::parse_number_words;
using nalu::data::phrase_tokens;

TEST(NumberWords, PhrasesParseBackToTheirNumbers) {
  for (int64_t n = 0; n < 1000; ++n) {
    EXPECT_EQ(parse_number_words(number_text(n)), n);
    EXPECT_EQ(phrase_tokens(number_text(n)), number_word_tokens(n));
  }
  EXPECT_EQ(parse_number_words("  Seven   HUNDRED and two "), 702);
  EXPECT_EQ(parse_number_words("forty-two"), 42);
}

TEST(NumberWords, BadPhrasesGetOneLineErrors) {
  EXPECT_THROW_WITH(parse_number_words(""), "the phrase is empty");
  EXPECT_THROW_WITH(parse_number_words("  - "), "the phrase is empty");
  EXPECT_THROW_WITH(parse_number_words("hundred seven"),
                    "'hundred seven' is not a number in words");
  EXPECT_THROW_WITH(parse_number_words("two seven"), "'two seven' is not a number in words");
  EXPECT_THROW_WITH(parse_number_words("seven hundred two"),
                    "did you mean 'seven hundred and two'?");
  EXPECT_THROW_WITH(parse_number_words("eleventy"),
                    "unknown word 'eleventy' (known: zero, one, two");
  EXPECT_THROW_WITH(parse_number_words("one thousand"), "is above 999");
  EXPECT_THROW_WITH(parse_number_words("ten hundred"), "'ten hundred' is above 999");
  EXPECT_THROW_WITH(parse_number_words("nineteen hundred and five"), "is above 999");
  for (const std::string bad : {"", "hundred seven", "eleventy", "one thousand"}) {
    const std::string message = nalu::testing::error_message([&] { parse_number_words(bad); });
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace

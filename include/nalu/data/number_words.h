// Numbers 0-999 written as English words, for the NALU paper's language-to-number task
// (Trask et al. 2018, Table 3): "seven hundred and two" -> 702. British usage: "and" between the
// hundreds and the rest, tens and units as separate words ("forty two"). One token per word;
// the vocabulary is the 30 words used. LibTorch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nalu::data {

/// The 30 tokens, in id order: "zero" ... "nineteen" (ids 0-19), "twenty" ... "ninety"
/// (20-27), "hundred" (28), "and" (29).
const std::vector<std::string>& number_word_vocabulary();

/// `n` in words: 0 -> {"zero"}, 42 -> {"forty", "two"}, 100 -> {"one", "hundred"},
/// 702 -> {"seven", "hundred", "and", "two"}. Throws nalu::Error outside [0, 999].
std::vector<std::string> number_words(int64_t n);

/// number_words(n) as vocabulary ids.
std::vector<int64_t> number_word_tokens(int64_t n);

/// "seven hundred and two".
std::string number_text(int64_t n);

/// The number a phrase names: "seven hundred and two" -> 702. Words are separated by spaces
/// or hyphens ("forty-two"), in any letter case, and must spell the number exactly as
/// number_words() does. Throws nalu::Error with a one-line message for an empty phrase, an
/// unknown word (listing the vocabulary), a number above 999 ("ten hundred", "one thousand")
/// and a malformed phrase ("hundred seven"; "seven hundred two" suggests the "and").
int64_t parse_number_words(const std::string& phrase);

/// The vocabulary ids of a phrase parse_number_words() accepts.
std::vector<int64_t> phrase_tokens(const std::string& phrase);

/// A seeded split of 0-999 into training, validation and test numbers (the paper's counts:
/// 169, 200, 631). Training holds 0-19 and a random sample of the rest, drawn so that every
/// token occurs in training at least once; validation and test are disjoint random draws of
/// the remaining numbers. Each list is in the order drawn.
struct NumberWordsSplit {
  uint64_t seed = 0;
  std::vector<int64_t> train, validation, test;
};

/// Throws nalu::Error unless 30 <= train_size, 1 <= validation_size and
/// train_size + validation_size < 1000 (at least one test number). The same seed gives the
/// same split on every platform (its own generator, not the standard library's distributions).
NumberWordsSplit split_number_words(uint64_t seed, int64_t train_size = 169,
                                    int64_t validation_size = 200);

}  // namespace nalu::data

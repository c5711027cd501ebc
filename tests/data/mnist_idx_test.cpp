// The IDX reader on small synthetic files: plain and gzip files load to the right pixels and
// labels; every kind of broken file gives one nalu::Error naming the file and the problem.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>

#include "data/mnist_files.h"
#include "nalu/data/mnist.h"
#include "nalu/error.h"
#include "test_util.h"

namespace nalu::data {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::contains;
using testing::idx_images;
using testing::idx_labels;
using testing::message_of;
using testing::TempDir;
using testing::write_bytes;

const std::vector<unsigned char> kFourLabels = {3, 0, 9, 3};

/// The message of the nalu::Error that loading `images` + `labels` (written as given) throws.
std::string load_error(const TempDir& dir, const Bytes& images, const Bytes& labels) {
  write_bytes(dir.path / "images", images);
  write_bytes(dir.path / "labels", labels);
  return message_of<Error>([&] { load_mnist_idx(dir.path / "images", dir.path / "labels"); });
}

void expect_four_images(const MnistImages& loaded) {
  ASSERT_EQ(loaded.images.sizes(), (std::vector<int64_t>{4, 1, 28, 28}));
  ASSERT_EQ(loaded.images.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(loaded.labels, torch::tensor({3, 0, 9, 3}, torch::kLong)));
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t p : {0, 1, 400, 783}) {
      EXPECT_FLOAT_EQ(loaded.images[i][0][p / 28][p % 28].item<float>(),
                      testing::pixel_byte(i, p) / 255.0f)
          << "image " << i << " pixel " << p;
    }
  }
}

TEST(MnistIdx, PlainFilesLoadPixelsScaledToUnitRangeAndLabels) {
  TempDir dir;
  write_bytes(dir.path / "images", idx_images(4));
  write_bytes(dir.path / "labels", idx_labels(kFourLabels));
  const auto loaded = load_mnist_idx(dir.path / "images", dir.path / "labels");
  expect_four_images(loaded);
  EXPECT_EQ(loaded.size(), 4);
  EXPECT_EQ(loaded.class_counts()[3], 2);
  EXPECT_NO_THROW(loaded.validate());
}

TEST(MnistIdx, GzipFilesLoadLikePlainOnes) {
  TempDir dir;
  testing::write_gzip(dir.path / "images.gz", idx_images(4));
  testing::write_gzip(dir.path / "labels.gz", idx_labels(kFourLabels));
  ASSERT_NE(testing::read_bytes(dir.path / "images.gz")[0], 0);  // really compressed (0x1f)
  expect_four_images(load_mnist_idx(dir.path / "images.gz", dir.path / "labels.gz"));
}

TEST(MnistIdx, WrongMagicNumberIsNamed) {
  TempDir dir;
  const auto message = load_error(dir, idx_images(4, 28, 28, 0x00000802), idx_labels(kFourLabels));
  EXPECT_TRUE(contains(message, "images"));
  EXPECT_TRUE(contains(message, "wrong magic number 0x00000802"));
  EXPECT_TRUE(contains(message, "expected 0x00000803"));
}

TEST(MnistIdx, SwappedImageAndLabelFilesAreRecognised) {
  TempDir dir;
  const auto message = load_error(dir, idx_labels(kFourLabels), idx_images(4));
  EXPECT_TRUE(contains(message, "wrong magic number 0x00000801"));
  EXPECT_TRUE(contains(message, "swapped"));
}

TEST(MnistIdx, ImagesThatAreNot28By28AreRejected) {
  TempDir dir;
  EXPECT_TRUE(contains(load_error(dir, idx_images(4, 27, 28), idx_labels(kFourLabels)),
                       "images are 27x28, expected 28x28"));
  EXPECT_TRUE(contains(load_error(dir, idx_images(4, 28, 32), idx_labels(kFourLabels)),
                       "images are 28x32"));
}

TEST(MnistIdx, LabelCountMustMatchImageCount) {
  TempDir dir;
  const auto message = load_error(dir, idx_images(4), idx_labels({1, 2, 3}));
  EXPECT_TRUE(contains(message, "labels"));
  EXPECT_TRUE(contains(message, "3 labels for the 4 images"));
}

TEST(MnistIdx, LabelsOutside0To9AreRejected) {
  TempDir dir;
  EXPECT_TRUE(contains(load_error(dir, idx_images(4), idx_labels({3, 0, 10, 3})),
                       "label 2 is 10, outside 0..9"));
  EXPECT_TRUE(
      contains(load_error(dir, idx_images(4), idx_labels({255, 0, 1, 3})), "label 0 is 255"));
}

TEST(MnistIdx, TruncatedFilesAreRejected) {
  TempDir dir;
  auto images = idx_images(4);
  images.pop_back();
  auto message = load_error(dir, images, idx_labels(kFourLabels));
  EXPECT_TRUE(contains(message, "images: truncated"));
  EXPECT_TRUE(contains(message, "4 images (3152 bytes)"));
  EXPECT_TRUE(contains(message, "3151"));

  auto labels = idx_labels(kFourLabels);
  labels.pop_back();
  EXPECT_TRUE(contains(load_error(dir, idx_images(4), labels), "labels: truncated"));

  // Shorter than the header itself.
  const auto whole = idx_images(4);
  EXPECT_TRUE(
      contains(load_error(dir, Bytes(whole.begin(), whole.begin() + 10), idx_labels(kFourLabels)),
               "truncated: 10 bytes, shorter than the 16-byte IDX header"));
  EXPECT_TRUE(contains(load_error(dir, Bytes(), idx_labels(kFourLabels)), "truncated: 0 bytes"));
}

TEST(MnistIdx, TrailingBytesAreRejected) {
  TempDir dir;
  auto images = idx_images(4);
  images.push_back(0);
  EXPECT_TRUE(contains(load_error(dir, images, idx_labels(kFourLabels)), "trailing bytes"));
  auto labels = idx_labels(kFourLabels);
  labels.push_back(1);
  EXPECT_TRUE(contains(load_error(dir, idx_images(4), labels), "labels: trailing bytes"));
}

TEST(MnistIdx, HeaderClaimingBillionsOfImagesFailsFastWithoutAllocating) {
  TempDir dir;
  // 2^31 images would be 1.7 TB: the header is checked against the file's 100 bytes first (an
  // attempt to allocate would throw c10::Error, not nalu::Error, and fail this test).
  for (const uint32_t count : {0x80000000u, 0xffffffffu}) {
    Bytes images = idx_images(0);
    images[4] = static_cast<unsigned char>(count >> 24);
    images[5] = static_cast<unsigned char>(count >> 16);
    images[6] = static_cast<unsigned char>(count >> 8);
    images[7] = static_cast<unsigned char>(count);
    images.resize(100, 7);
    const auto start = std::chrono::steady_clock::now();
    const auto message = load_error(dir, images, idx_labels(kFourLabels));
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(contains(message, "truncated: the header announces " + std::to_string(count)));
    EXPECT_TRUE(contains(message, "the file has 100"));
    EXPECT_LT(seconds, 1.0);

    // The same header gzip-compressed: more than a small gzip file can hold.
    testing::write_gzip(dir.path / "images.gz", images);
    write_bytes(dir.path / "labels", idx_labels(kFourLabels));
    EXPECT_TRUE(contains(
        message_of<Error>([&] { load_mnist_idx(dir.path / "images.gz", dir.path / "labels"); }),
        "can hold"));
  }
  // A label header claiming 2^31 labels.
  Bytes labels = idx_labels({});
  labels[4] = 0x80;
  EXPECT_TRUE(contains(load_error(dir, idx_images(4), labels), "labels: truncated"));
}

TEST(MnistIdx, EmptyImageFileIsRejected) {
  TempDir dir;
  EXPECT_TRUE(contains(load_error(dir, idx_images(0), idx_labels({})), "announces no images"));
}

TEST(MnistIdx, CorruptOrCutGzipDataIsRejected) {
  TempDir dir;
  testing::write_gzip(dir.path / "images.gz", idx_images(40));
  write_bytes(dir.path / "labels", idx_labels(std::vector<unsigned char>(40, 1)));
  const auto whole = testing::read_bytes(dir.path / "images.gz");

  // Cut in the middle of the compressed stream.
  write_bytes(dir.path / "images.gz", Bytes(whole.begin(), whole.begin() + whole.size() / 2));
  auto message =
      message_of<Error>([&] { load_mnist_idx(dir.path / "images.gz", dir.path / "labels"); });
  EXPECT_TRUE(contains(message, "images.gz"));
  EXPECT_TRUE(contains(message, "truncated"));

  // Bytes flipped after the gzip header: the deflate data or its checksum is wrong.
  auto corrupt = whole;
  for (size_t i = 20; i < corrupt.size(); i += 7)
    corrupt[i] ^= 0x5a;
  write_bytes(dir.path / "images.gz", corrupt);
  message = message_of<Error>([&] { load_mnist_idx(dir.path / "images.gz", dir.path / "labels"); });
  EXPECT_TRUE(contains(message, "images.gz"));
}

TEST(MnistIdx, MissingFileOrDirectoryInsteadOfFileIsNamed) {
  TempDir dir;
  write_bytes(dir.path / "labels", idx_labels(kFourLabels));
  EXPECT_TRUE(
      contains(message_of<Error>([&] { load_mnist_idx(dir.path / "absent", dir.path / "labels"); }),
               "absent: no such file"));
  EXPECT_TRUE(contains(message_of<Error>([&] { load_mnist_idx(dir.path, dir.path / "labels"); }),
                       "not a regular file"));
}

TEST(MnistIdx, FindsTheStandardNamesWithDashDotAndGz) {
  TempDir dir;
  write_bytes(dir.path / "train-images-idx3-ubyte", idx_images(4));
  testing::write_gzip(dir.path / "train-labels.idx1-ubyte.gz", idx_labels(kFourLabels));
  write_bytes(dir.path / "t10k-images.idx3-ubyte", idx_images(2));
  write_bytes(dir.path / "t10k-labels-idx1-ubyte", idx_labels({5, 6}));
  const auto files = find_mnist_idx(dir.path);
  EXPECT_EQ(files.train_images.filename(), "train-images-idx3-ubyte");
  EXPECT_EQ(files.train_labels.filename(), "train-labels.idx1-ubyte.gz");
  EXPECT_EQ(files.test_images.filename(), "t10k-images.idx3-ubyte");
  EXPECT_EQ(files.test_labels.filename(), "t10k-labels-idx1-ubyte");

  // load_mnist takes both pairs, train first; load_mnist_split keeps the files' own split.
  const auto all = load_mnist(dir.path);
  EXPECT_EQ(all.size(), 6);
  EXPECT_TRUE(torch::equal(all.labels, torch::tensor({3, 0, 9, 3, 5, 6}, torch::kLong)));
  const auto split = load_mnist_split(dir.path, 0.5, 1);
  EXPECT_TRUE(torch::equal(split.train.labels, torch::tensor({3, 0, 9, 3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(split.test.labels, torch::tensor({5, 6}, torch::kLong)));
  EXPECT_TRUE(contains(message_of<Error>([&] { load_mnist_split(dir.path, 0.0, 1); }),
                       "the test fraction must be in (0, 1), got 0"));
}

TEST(MnistIdx, HalfAPairIsAnErrorNamingTheMissingFile) {
  TempDir dir;
  write_bytes(dir.path / "t10k-images-idx3-ubyte", idx_images(2));
  const auto message = message_of<Error>([&] { load_mnist(dir.path); });
  EXPECT_TRUE(contains(message, "found t10k-images-idx3-ubyte but no t10k-labels-idx1-ubyte"));
}

}  // namespace
}  // namespace nalu::data

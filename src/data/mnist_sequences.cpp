// Digit sequences for MNIST counting and addition. Position t of row r of batch b is drawn from
// a counter-based stream: index = floor(N * SplitMix64(key_b, r * T + t) / 2^64) with
// key_b = derive_seed(derive_seed(seed, stream), b), so a batch needs no generator state.
#include "nalu/data/mnist_sequences.h"

#include <torch/torch.h>

#include "nalu/error.h"
#include "nalu/random.h"

namespace nalu::data {

namespace {

// Streams of derive_seed(seed, stream): training batches and evaluation sets never share one.
constexpr uint64_t kTrainingStream = 1;
constexpr uint64_t kEvaluationStream = 2;

void check_sizes(int64_t count, int64_t length, const std::string& what) {
  check(length >= 1, "mnist sequences: length must be >= 1, got " + std::to_string(length));
  check(count >= 1, "mnist sequences: " + what + " must be >= 1, got " + std::to_string(count));
  check(count <= kMaxSequenceElements / length,
        "mnist sequences: " + std::to_string(count) + " sequences of length " +
            std::to_string(length) + " exceed the limit of " +
            std::to_string(kMaxSequenceElements) + " positions per call");
}

/// [rows, length] positions in [0, pool_size), value c of the stream keyed `key`.
torch::Tensor draw_indices(uint64_t key, int64_t rows, int64_t length, int64_t pool_size) {
  auto indices = torch::empty({rows, length}, torch::kLong);
  int64_t* out = indices.data_ptr<int64_t>();
  const auto n = static_cast<uint64_t>(pool_size);
  for (int64_t c = 0; c < rows * length; ++c) {
    // Lemire's multiply-shift: uniform up to a bias of n / 2^64.
    const uint64_t bits = derive_seed(key, static_cast<uint64_t>(c));
    out[c] = static_cast<int64_t>((static_cast<unsigned __int128>(bits) * n) >> 64);
  }
  return indices;
}

void check_positions(const torch::Tensor& indices, int64_t pool_size, const std::string& what) {
  check(indices.defined() && indices.dim() == 2 && indices.scalar_type() == torch::kLong,
        "mnist sequences: " + what + " indices must be a [B, T] int64 tensor");
  if (indices.numel() == 0)
    return;
  const auto low = indices.min().item<int64_t>();
  const auto high = indices.max().item<int64_t>();
  check(low >= 0 && high < pool_size,
        "mnist sequences: index " + std::to_string(low < 0 ? low : high) +
            " outside the pool [0, " + std::to_string(pool_size) + ")");
}

}  // namespace

MnistSequences mnist_sequence_targets(const torch::Tensor& labels, const torch::Tensor& indices) {
  check(labels.defined() && labels.dim() == 1 && labels.scalar_type() == torch::kLong,
        "mnist sequences: labels must be a 1-D int64 tensor");
  check_positions(indices, labels.size(0), "sequence");
  const auto label = labels.contiguous();
  const auto positions = indices.contiguous();
  const int64_t rows = positions.size(0);
  const int64_t length = positions.size(1);
  MnistSequences out;
  out.indices = positions;
  out.counts = torch::zeros({rows, kMnistClasses}, torch::kLong);
  out.sums = torch::zeros({rows}, torch::kLong);
  const int64_t* position = positions.data_ptr<int64_t>();
  const int64_t* digit_of = label.data_ptr<int64_t>();
  int64_t* counts = out.counts.data_ptr<int64_t>();
  int64_t* sums = out.sums.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t t = 0; t < length; ++t) {
      const int64_t digit = digit_of[position[r * length + t]];
      check(digit >= 0 && digit < kMnistClasses,
            "mnist sequences: label " + std::to_string(digit) + " outside 0..9");
      counts[r * kMnistClasses + digit] += 1;
      sums[r] += digit;
    }
  }
  return out;
}

MnistSequenceSampler::MnistSequenceSampler(const MnistImages& pool, int64_t length, uint64_t seed)
    : length_(length), seed_(seed) {
  pool.validate();
  check(length >= 1, "mnist sequences: length must be >= 1, got " + std::to_string(length));
  labels_ = pool.labels.contiguous();
}

MnistSequences MnistSequenceSampler::batch(int64_t batch_index, int64_t batch_size) const {
  check(batch_index >= 0,
        "mnist sequences: batch index must be >= 0, got " + std::to_string(batch_index));
  check_sizes(batch_size, length_, "batch size");
  const uint64_t key =
      derive_seed(derive_seed(seed_, kTrainingStream), static_cast<uint64_t>(batch_index));
  return mnist_sequence_targets(labels_, draw_indices(key, batch_size, length_, pool_size()));
}

MnistSequences make_mnist_sequence_set(const MnistImages& pool, int64_t count, int64_t length,
                                       uint64_t seed) {
  pool.validate();
  check_sizes(count, length, "sequence count");
  const uint64_t key = derive_seed(derive_seed(seed, kEvaluationStream), 0);
  return mnist_sequence_targets(pool.labels, draw_indices(key, count, length, pool.size()));
}

torch::Tensor gather_sequences(const torch::Tensor& per_image, const torch::Tensor& indices) {
  check(per_image.defined() && per_image.dim() >= 1,
        "mnist sequences: per-image values must have a first dimension (one row per image)");
  check_positions(indices, per_image.size(0), "gather");
  std::vector<int64_t> sizes = {indices.size(0), indices.size(1)};
  for (int64_t d = 1; d < per_image.dim(); ++d)
    sizes.push_back(per_image.size(d));
  return per_image.index_select(0, indices.reshape({-1})).view(sizes);
}

torch::Tensor gather_sequence_images(const MnistImages& pool, const torch::Tensor& indices) {
  pool.validate();
  check(indices.defined() && indices.dim() == 2,
        "mnist sequences: gather indices must be a [B, T] int64 tensor");
  const int64_t image_bytes = kMnistPixels * static_cast<int64_t>(sizeof(float));
  check(indices.numel() <= kMaxGatheredImageBytes / image_bytes,
        "mnist sequences: " + std::to_string(indices.numel()) + " images would take more than " +
            std::to_string(kMaxGatheredImageBytes >> 20) +
            " MiB; gather per-image features with gather_sequences instead");
  return gather_sequences(pool.images, indices);
}

}  // namespace nalu::data

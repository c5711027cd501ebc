// Sequences of MNIST digits for the NALU paper's counting and addition tasks (Trask et al. 2018,
// Table 2; docs/design.md §3): a sequence is T positions into a pool of images, with the count
// of each digit and the sum of the digits as targets. Sequences hold positions, not pixels, so a
// model can run its CNN once over the pool and gather the features of each step by position.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "nalu/data/mnist.h"

namespace nalu::data {

/// B sequences of T digits and their targets.
struct MnistSequences {
  torch::Tensor indices;  // [B, T] int64: positions in the pool
  torch::Tensor counts;   // [B, 10] int64: how many times each digit occurs in the sequence
  torch::Tensor sums;     // [B] int64: the sum of the sequence's digits

  int64_t size() const { return indices.defined() ? indices.size(0) : 0; }
  int64_t length() const { return indices.defined() ? indices.size(1) : 0; }
};

/// The most positions (batch size x length) one call draws: 2^27 (1 GiB of indices).
inline constexpr int64_t kMaxSequenceElements = int64_t{1} << 27;
/// The most bytes gather_sequence_images returns: 1 GiB.
inline constexpr int64_t kMaxGatheredImageBytes = int64_t{1} << 30;

/// Counts and sums of sequences `indices` ([B, T] int64 positions in `labels`, [N] int64 in
/// 0..9). Throws nalu::Error for a position outside [0, N) or a label outside 0..9.
MnistSequences mnist_sequence_targets(const torch::Tensor& labels, const torch::Tensor& indices);

/// Training batches of digit sequences, each image drawn uniformly (with replacement) from a
/// pool. Batch `batch_index` is a pure function of (seed, batch_index, batch size, length, pool
/// labels): no generator state, so any thread or a resumed run sees the same batch, and row r of
/// a batch does not depend on the batch size. Keeps only the pool's labels.
///
/// Example:
/// ```
/// auto [train, test] = nalu::data::load_mnist_split(nalu::data::default_mnist_dir(), 0.2, 1);
/// nalu::data::MnistSequenceSampler sampler(train, /*length=*/10, /*seed=*/1);
/// torch::Tensor features = cnn(train.images);                   // [N, F], once per step
/// nalu::data::MnistSequences batch = sampler.batch(step, 50);  // indices [50, 10]
/// torch::Tensor x = nalu::data::gather_sequences(features, batch.indices);  // [50, 10, F]
/// torch::Tensor loss = torch::mse_loss(core(x), batch.sums.to(torch::kFloat));
/// ```
class MnistSequenceSampler {
 public:
  /// Throws nalu::Error for an empty or invalid pool or a length < 1.
  MnistSequenceSampler(const MnistImages& pool, int64_t length, uint64_t seed);

  /// Sequences [batch_size, length]. Throws nalu::Error for batch_index < 0, batch_size < 1 or
  /// batch_size * length above kMaxSequenceElements.
  MnistSequences batch(int64_t batch_index, int64_t batch_size) const;

  int64_t length() const { return length_; }
  int64_t pool_size() const { return labels_.size(0); }
  uint64_t seed() const { return seed_; }

 private:
  torch::Tensor labels_;
  int64_t length_;
  uint64_t seed_;
};

/// A fixed evaluation set: `count` sequences of `length` digits from `pool`, drawn from a stream
/// of `seed` that no MnistSequenceSampler batch uses (so an evaluation set never repeats a
/// training batch of the same seed). Throws nalu::Error as MnistSequenceSampler::batch does.
///
/// Example:
/// ```
/// auto test_100 = nalu::data::make_mnist_sequence_set(test, /*count=*/1000, /*length=*/100, 7);
/// ```
MnistSequences make_mnist_sequence_set(const MnistImages& pool, int64_t count, int64_t length,
                                       uint64_t seed);

/// Rows of `per_image` ([N, ...]: images, CNN features, ...) gathered by sequence: indices
/// [B, T] -> [B, T, ...]. Differentiable with respect to `per_image`. Throws nalu::Error for a
/// position outside [0, N).
torch::Tensor gather_sequences(const torch::Tensor& per_image, const torch::Tensor& indices);

/// The pixels of sequences, for small cases: [B, T, 1, 28, 28]. Throws nalu::Error when they
/// would take more than kMaxGatheredImageBytes (gather CNN features instead).
torch::Tensor gather_sequence_images(const MnistImages& pool, const torch::Tensor& indices);

}  // namespace nalu::data

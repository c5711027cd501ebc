// MNIST digit sequences: counts and sums recomputed independently from the labels, determinism
// per (seed, batch), uniform draws, gathering by position, and validation.
#include "nalu/data/mnist_sequences.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nalu/error.h"
#include "test_util.h"

namespace nalu::data {
namespace {

using testing::contains;
using testing::message_of;

/// A pool of `count` images with labels (7 * i + 3) % 10 and image i filled with i / count.
MnistImages pool_of(int64_t count) {
  MnistImages pool;
  const auto position = torch::arange(count, torch::kLong);
  pool.labels = (position * 7 + 3) % 10;
  pool.images = (position.to(torch::kFloat) / static_cast<float>(count))
                    .view({count, 1, 1, 1})
                    .expand({count, 1, 28, 28})
                    .contiguous();
  pool.source = "pool";
  return pool;
}

/// Counts and sums by one-hot sums over the gathered labels (not the library's loop).
void expect_targets_match(const MnistImages& pool, const MnistSequences& sequences) {
  const auto digits =
      pool.labels.index_select(0, sequences.indices.reshape({-1})).view(sequences.indices.sizes());
  EXPECT_TRUE(torch::equal(sequences.sums, digits.sum(1)));
  EXPECT_TRUE(torch::equal(sequences.counts, torch::one_hot(digits, 10).sum(1)));
  EXPECT_EQ(sequences.counts.scalar_type(), torch::kLong);
  EXPECT_EQ(sequences.sums.scalar_type(), torch::kLong);
}

TEST(MnistSequences, CountsAndSumsMatchTheDigitsOfEachSequence) {
  const auto pool = pool_of(50);
  MnistSequenceSampler sampler(pool, /*length=*/10, /*seed=*/1);
  const auto batch = sampler.batch(0, 64);
  ASSERT_EQ(batch.indices.sizes(), (std::vector<int64_t>{64, 10}));
  ASSERT_EQ(batch.counts.sizes(), (std::vector<int64_t>{64, 10}));
  ASSERT_EQ(batch.sums.sizes(), (std::vector<int64_t>{64}));
  EXPECT_EQ(batch.size(), 64);
  EXPECT_EQ(batch.length(), 10);
  EXPECT_GE(batch.indices.min().item<int64_t>(), 0);
  EXPECT_LT(batch.indices.max().item<int64_t>(), 50);
  expect_targets_match(pool, batch);
  EXPECT_TRUE(torch::equal(batch.counts.sum(1), torch::full({64}, 10, torch::kLong)));

  // A hand-written case: digits 3, 0, 7, 3 (positions 0, 1, 2, 10 of the pool).
  const auto handmade =
      mnist_sequence_targets(pool.labels, torch::tensor({{0, 1, 2, 10}}, torch::kLong));
  EXPECT_EQ(handmade.sums.item<int64_t>(), 13);
  EXPECT_TRUE(torch::equal(handmade.counts[0],
                           torch::tensor({1, 0, 0, 2, 0, 0, 0, 1, 0, 0}, torch::kLong)));
}

TEST(MnistSequences, LongEvaluationSetsAreRightToo) {
  const auto pool = pool_of(73);
  const auto set = make_mnist_sequence_set(pool, /*count=*/20, /*length=*/1000, /*seed=*/4);
  ASSERT_EQ(set.indices.sizes(), (std::vector<int64_t>{20, 1000}));
  expect_targets_match(pool, set);
}

TEST(MnistSequences, SameSeedAndBatchGiveTheSameSequencesOthersDiffer) {
  const auto pool = pool_of(100);
  MnistSequenceSampler sampler(pool, 10, 7);
  MnistSequenceSampler same(pool, 10, 7);
  MnistSequenceSampler other_seed(pool, 10, 8);
  EXPECT_TRUE(torch::equal(sampler.batch(3, 32).indices, same.batch(3, 32).indices));
  EXPECT_TRUE(torch::equal(sampler.batch(3, 32).indices, sampler.batch(3, 32).indices));
  EXPECT_FALSE(torch::equal(sampler.batch(3, 32).indices, sampler.batch(4, 32).indices));
  EXPECT_FALSE(torch::equal(sampler.batch(3, 32).indices, other_seed.batch(3, 32).indices));
  // Row r of a batch does not depend on the batch size.
  EXPECT_TRUE(
      torch::equal(sampler.batch(3, 8).indices, sampler.batch(3, 32).indices.slice(0, 0, 8)));

  const auto set = make_mnist_sequence_set(pool, 32, 10, 7);
  EXPECT_TRUE(torch::equal(set.indices, make_mnist_sequence_set(pool, 32, 10, 7).indices));
  EXPECT_FALSE(torch::equal(set.indices, make_mnist_sequence_set(pool, 32, 10, 9).indices));
  // An evaluation set is not a training batch of the same seed.
  EXPECT_FALSE(torch::equal(set.indices, sampler.batch(0, 32).indices));
}

TEST(MnistSequences, PositionsAreDrawnUniformlyFromThePool) {
  // 200,000 draws from 10 images: each within 2% of 20,000 (the standard deviation is ~134).
  const auto pool = pool_of(10);
  const auto batch = MnistSequenceSampler(pool, 100, 3).batch(0, 2000);
  const auto counts = torch::bincount(batch.indices.reshape({-1}), {}, 10);
  EXPECT_GT(counts.min().item<int64_t>(), 19600) << counts;
  EXPECT_LT(counts.max().item<int64_t>(), 20400) << counts;
  // And independently of position: the first and last step see every image.
  EXPECT_EQ(std::get<0>(at::_unique(batch.indices.select(1, 0))).numel(), 10);
  EXPECT_EQ(std::get<0>(at::_unique(batch.indices.select(1, 99))).numel(), 10);
}

TEST(MnistSequences, GatherFollowsThePositionsAndPassesGradients) {
  const auto pool = pool_of(30);
  const auto batch = MnistSequenceSampler(pool, 5, 2).batch(1, 6);

  // Features [N, 3] whose row i is (i, 2i, 3i): gathered rows show the positions.
  auto features = (torch::arange(30, torch::kFloat).unsqueeze(1) * torch::tensor({1.f, 2.f, 3.f}))
                      .requires_grad_();
  const auto gathered = gather_sequences(features, batch.indices);
  ASSERT_EQ(gathered.sizes(), (std::vector<int64_t>{6, 5, 3}));
  EXPECT_TRUE(torch::equal(gathered.select(2, 0), batch.indices.to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(gathered.select(2, 2), batch.indices.to(torch::kFloat) * 3));
  gathered.select(2, 0).sum().backward();
  // Each pool row receives one gradient unit per time it was used.
  const auto uses = torch::bincount(batch.indices.reshape({-1}), {}, 30).to(torch::kFloat);
  EXPECT_TRUE(torch::equal(features.grad().select(1, 0), uses));

  const auto images = gather_sequence_images(pool, batch.indices);
  ASSERT_EQ(images.sizes(), (std::vector<int64_t>{6, 5, 1, 28, 28}));
  EXPECT_TRUE(torch::equal(images[4][2], pool.images[batch.indices[4][2].item<int64_t>()]));
}

TEST(MnistSequences, BadSizesAndPositionsAreRejected) {
  const auto pool = pool_of(10);
  EXPECT_TRUE(contains(message_of<Error>([&] { MnistSequenceSampler(pool, 0, 1); }),
                       "length must be >= 1, got 0"));
  MnistSequenceSampler sampler(pool, 10, 1);
  EXPECT_TRUE(
      contains(message_of<Error>([&] { sampler.batch(0, 0); }), "batch size must be >= 1, got 0"));
  EXPECT_TRUE(contains(message_of<Error>([&] { sampler.batch(-1, 4); }),
                       "batch index must be >= 0, got -1"));
  // Too many positions for one call: refused before anything is allocated.
  EXPECT_TRUE(
      contains(message_of<Error>([&] { sampler.batch(0, int64_t{1} << 40); }), "exceed the limit"));
  EXPECT_TRUE(contains(message_of<Error>([&] { make_mnist_sequence_set(pool, 1, -5, 1); }),
                       "length must be >= 1, got -5"));
  EXPECT_TRUE(contains(message_of<Error>([&] { make_mnist_sequence_set(pool, 0, 5, 1); }),
                       "sequence count must be >= 1"));
  EXPECT_TRUE(
      contains(message_of<Error>([&] { MnistSequenceSampler(MnistImages{}, 10, 1); }), "missing"));

  EXPECT_TRUE(
      contains(message_of<Error>([&] {
                 mnist_sequence_targets(pool.labels, torch::tensor({{0, 10}}, torch::kLong));
               }),
               "index 10 outside the pool [0, 10)"));
  EXPECT_TRUE(
      contains(message_of<Error>([&] {
                 gather_sequences(torch::zeros({10, 4}), torch::tensor({{-2}}, torch::kLong));
               }),
               "index -2"));
  EXPECT_TRUE(
      contains(message_of<Error>([&] {
                 gather_sequences(torch::zeros({10, 4}), torch::tensor({1, 2}, torch::kLong));
               }),
               "[B, T] int64"));
  // A million images of pixels is refused: gather features instead.
  EXPECT_TRUE(contains(message_of<Error>([&] {
                         gather_sequence_images(pool, torch::zeros({1000, 1000}, torch::kLong));
                       }),
                       "gather_sequences"));
}

}  // namespace
}  // namespace nalu::data

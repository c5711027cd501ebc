// Tasks made of a table: the split (held-out rows are the largest in magnitude, the parts
// partition the table, deterministic), and training on it (both engines' batches are training
// rows only; the evaluation sets are the validation and held-out rows).
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "nalu/tasks/arithmetic.h"
#include "nalu/tasks/batch_stream.h"
#include "nalu/tasks/table.h"
#include "test_util.h"

namespace {

// `rows` rows of two inputs: row r is (r - rows / 2, r % 7) and its target their sum.
void make_rows(int64_t rows, std::vector<double>& x, std::vector<double>& y) {
  for (int64_t r = 0; r < rows; ++r) {
    x.push_back(static_cast<double>(r - rows / 2));
    x.push_back(static_cast<double>(r % 7));
    y.push_back(x[x.size() - 2] + x.back());
  }
}

TEST(TableSplit, HoldsOutTheLargestRowsAndPartitions) {
  std::vector<double> x, y;
  make_rows(100, x, y);
  nalu::TableSplitOptions options;
  options.holdout_fraction = 0.2;
  options.validation_fraction = 0.25;
  const auto data = nalu::split_table(x, y, 2, options);
  ASSERT_EQ(data.holdout_rows.size(), 20u);
  ASSERT_EQ(data.validation_rows.size(), 20u);
  ASSERT_EQ(data.training_rows.size(), 60u);
  std::set<int64_t> all;
  for (const auto* part : {&data.holdout_rows, &data.validation_rows, &data.training_rows})
    all.insert(part->begin(), part->end());
  EXPECT_EQ(all.size(), 100u);
  auto magnitude = [&](int64_t r) {
    return std::max(std::abs(x[static_cast<size_t>(2 * r)]),
                    std::abs(x[static_cast<size_t>(2 * r + 1)]));
  };
  double smallest_held_out = INFINITY, largest_kept = 0;
  for (const auto r : data.holdout_rows)
    smallest_held_out = std::min(smallest_held_out, magnitude(r));
  for (const auto* part : {&data.validation_rows, &data.training_rows}) {
    for (const auto r : *part)
      largest_kept = std::max(largest_kept, magnitude(r));
  }
  EXPECT_GE(smallest_held_out, largest_kept);
  EXPECT_EQ(data.holdout_magnitude, smallest_held_out);
  // The tensors hold the rows' values.
  const auto r = data.validation_rows[3];
  EXPECT_EQ(data.validation.input[3][0].item<float>(), static_cast<float>(x[2 * r]));
  EXPECT_EQ(data.validation.target[3][0].item<float>(), static_cast<float>(y[r]));
  // Deterministic in the seed, and the seed matters.
  EXPECT_EQ(nalu::split_table(x, y, 2, options).validation_rows, data.validation_rows);
  options.seed = 1;
  EXPECT_NE(nalu::split_table(x, y, 2, options).validation_rows, data.validation_rows);
  EXPECT_EQ(nalu::split_table(x, y, 2, options).holdout_rows, data.holdout_rows);
}

TEST(TableSplit, RefusesBadSplits) {
  std::vector<double> x, y;
  make_rows(2, x, y);
  EXPECT_THROW_WITH(nalu::split_table(x, y, 2), "2 rows are too few");
  make_rows(10, x, y);
  nalu::TableSplitOptions options;
  options.holdout_fraction = 1.0;
  EXPECT_THROW_WITH(nalu::split_table(x, y, 2, options), "must be in (0, 1)");
  EXPECT_THROW_WITH(nalu::split_table(x, y, 3), "do not make");
}

TEST(TableTask, TrainsOnTrainingRowsAndEvaluatesOnTheOthers) {
  std::vector<double> x, y;
  make_rows(50, x, y);
  auto data = std::make_shared<const nalu::TableData>(nalu::split_table(x, y, 2));
  nalu::ArithmeticTaskOptions options;
  options.input_size = 2;
  options.table = data;
  const nalu::ArithmeticTask task(options);
  EXPECT_TRUE(torch::equal(task.interpolation_set().input, data->validation.input));
  EXPECT_TRUE(torch::equal(task.extrapolation_set().target, data->holdout.target));
  EXPECT_NE(task.describe().find("10 held out"), std::string::npos) << task.describe();

  std::set<std::pair<float, float>> training;
  for (const auto r : data->training_rows)
    training.insert({static_cast<float>(x[2 * r]), static_cast<float>(x[2 * r + 1])});
  const nalu::BatchStream stream(task, 7);
  const auto batch = stream.batch(3, 64);
  for (int64_t i = 0; i < 64; ++i) {
    const float a = batch.input[i][0].item<float>(), b = batch.input[i][1].item<float>();
    EXPECT_EQ(training.count({a, b}), 1u) << "row " << i << " is not a training row";
    EXPECT_EQ(batch.target[i][0].item<float>(), a + b);
  }
  // The same step gives the same rows, however it is cut into blocks.
  std::vector<float> input(2 * 40), target(40);
  stream.fill_rows(3, 24, 40, input.data(), target.data());
  for (int64_t i = 0; i < 40; ++i)
    EXPECT_EQ(target[static_cast<size_t>(i)], batch.target[24 + i][0].item<float>());
  EXPECT_FALSE(torch::equal(stream.batch(4, 64).input, batch.input));

  auto generator = nalu::make_generator(1);
  const auto sampled = task.sample(32, generator);
  for (int64_t i = 0; i < 32; ++i) {
    EXPECT_EQ(
        training.count({sampled.input[i][0].item<float>(), sampled.input[i][1].item<float>()}), 1u);
  }
  EXPECT_THROW_WITH(task.target(batch.input), "no formula");
  options.input_size = 3;
  EXPECT_THROW_WITH(nalu::ArithmeticTask{options},
                    "the table has 2 inputs but the input size is 3");
}

}  // namespace

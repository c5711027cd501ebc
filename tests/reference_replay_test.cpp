// tools/reference_replay's own arithmetic: the reference code's data stream (NumPy's legacy
// RandomState and its pairwise sums, against values NumPy 1.24 printed:
// np.random.RandomState(seed).uniform(10, 20, ...) and np.sum over row slices), and the matrix
// products summed in the reference BLAS's order.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "reference_replay/numpy_stream.h"
#include "reference_replay/sequential.h"

namespace {

using nalu_tools::NumpyMt19937;

TEST(NumpyStream, UniformDrawsAreNumpys) {
  auto rng = NumpyMt19937::from_seed(7);
  EXPECT_EQ(rng.uniform(10, 20), 10.763082893739572);
  EXPECT_EQ(rng.uniform(10, 20), 17.799187922401146);
  EXPECT_EQ(rng.uniform(10, 20), 14.384092314408935);
  EXPECT_EQ(rng.uniform(10, 20), 17.234651778309413);
  auto top = NumpyMt19937::from_seed(4294967295U);
  EXPECT_EQ(top.next_double(), 0.0976320289940138);
  EXPECT_EQ(top.next_double(), 0.9123828453026218);
}

TEST(NumpyStream, FilledDrawsEqualOneByOneDrawsAcrossTwists) {
  // 900 draws take 1,800 words: three twists, one of them between a draw's two words when the
  // stream starts one word in.
  auto a = NumpyMt19937::from_seed(43953907);
  auto b = NumpyMt19937::from_seed(43953907);
  a.next_uint32();
  b.next_uint32();
  std::vector<double> filled(900);
  a.fill_uniform(filled.data(), filled.size(), 10, 20);
  for (std::size_t i = 0; i < filled.size(); ++i)
    ASSERT_EQ(filled[i], b.uniform(10, 20)) << "draw " << i;
  EXPECT_EQ(a.next_uint32(), b.next_uint32());
}

TEST(NumpyStream, RowSumsAreNumpysPairwiseSums) {
  auto rng = NumpyMt19937::from_seed(43953907);
  std::vector<double> x(3 * 300);  // uniform(10, 20, size=(3, 300))
  rng.fill_uniform(x.data(), x.size(), 10, 20);
  EXPECT_EQ(x[899], 17.148266250369595);
  const double* row0 = x.data();
  const double* row1 = x.data() + 300;
  const double* row2 = x.data() + 600;
  // Fewer than 8 values and 25 values (the task's subsets): a sum in order gives these too.
  EXPECT_EQ(nalu_tools::numpy_row_sum(row1, 0, 5), 75.55796157271048);
  EXPECT_EQ(nalu_tools::numpy_row_sum(row2, 37, 62), 380.6692960118182);
  // 25 values where a sum in order gives another float: eight partial sums.
  EXPECT_EQ(nalu_tools::numpy_row_sum(row0, 14, 39), 386.47142900997295);
  EXPECT_EQ(nalu_tools::numpy_row_sum(row0, 21, 46), 400.21230930814306);
  EXPECT_EQ(nalu_tools::numpy_row_sum(row2, 0, 128), 1934.9639460138383);
  // Above 128 values the sum splits in halves.
  EXPECT_EQ(nalu_tools::numpy_row_sum(row2, 0, 129), 1949.8124714702935);
  EXPECT_EQ(nalu_tools::numpy_row_sum(row0, 0, 200), 3011.4214077700767);
  EXPECT_EQ(nalu_tools::numpy_row_sum(row0, 0, 300), 4522.403420090033);
  EXPECT_EQ(nalu_tools::numpy_row_sum(row1, 0, 300), 4513.919059319151);
}

}  // namespace

namespace {

// Values of many magnitudes and both signs, so that the order of a sum shows in its float.
std::vector<float> mixed(std::size_t n, std::uint32_t seed) {
  auto rng = NumpyMt19937::from_seed(seed);
  std::vector<float> v(n);
  for (auto& f : v) {
    const double magnitude = std::pow(10.0, rng.uniform(-3, 4));
    f = static_cast<float>(rng.next_double() < 0.5 ? -magnitude : magnitude);
  }
  return v;
}

// One rounding per product and per addition, the sum in order from 0.
float in_order(const std::vector<float>& a, const std::vector<float>& b, bool reversed) {
  float acc = 0.0F;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t j = reversed ? a.size() - 1 - i : i;
    volatile float product = a[j] * b[j];
    acc = acc + product;
  }
  return acc;
}

TEST(SequentialLinear, EachOutputIsOneSumInOrderWithARoundingPerOperation) {
  constexpr std::int64_t batch = 128, inner = 100, outputs = 2;
  const auto x = mixed(batch * inner, 1);
  const auto w = mixed(outputs * inner, 2);
  std::vector<float> z(batch * outputs);
  nalu_tools::sequential_linear(x.data(), w.data(), z.data(), batch, inner, outputs);
  int order_shows = 0;
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t h = 0; h < outputs; ++h) {
      std::vector<float> xs(x.begin() + b * inner, x.begin() + (b + 1) * inner);
      std::vector<float> ws(w.begin() + h * inner, w.begin() + (h + 1) * inner);
      ASSERT_EQ(z[b * outputs + h], in_order(xs, ws, false)) << "row " << b << ", output " << h;
      order_shows += in_order(xs, ws, true) != in_order(xs, ws, false);
    }
  }
  EXPECT_GT(order_shows, 10);  // the data tell the orders apart
}

TEST(SequentialLinear, WeightGradientIsOneSumInOrderOverTheBatch) {
  constexpr std::int64_t batch = 128, inner = 100, outputs = 2;
  const auto x = mixed(batch * inner, 3);
  const auto g = mixed(batch * outputs, 4);
  std::vector<float> gw(outputs * inner);
  nalu_tools::sequential_linear_weight_grad(g.data(), x.data(), gw.data(), batch, inner, outputs);
  int order_shows = 0;
  for (std::int64_t h = 0; h < outputs; ++h) {
    for (std::int64_t k = 0; k < inner; ++k) {
      std::vector<float> gs, xs;
      for (std::int64_t b = 0; b < batch; ++b) {
        gs.push_back(g[b * outputs + h]);
        xs.push_back(x[b * inner + k]);
      }
      ASSERT_EQ(gw[h * inner + k], in_order(gs, xs, false)) << "output " << h << ", input " << k;
      order_shows += in_order(gs, xs, true) != in_order(gs, xs, false);
    }
  }
  EXPECT_GT(order_shows, 10);
}

}  // namespace

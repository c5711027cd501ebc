// The kernels' elementwise functions (exp, sigmoid and the NAC weight with tanh): every copy the
// running CPU can use must give the portable copy's values bit for bit, since the fused engine's
// records are the same whichever copy ran. The fast tests take a stride through all 2^32 float bit
// patterns and the range [-30, 30] densely; the slow one a denser stride, or every float.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/kernels.h"

namespace nalu::testing {
namespace {

namespace kernels = fused::kernels;

float from_bits(uint32_t bits) {
  float v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

bool same_value(float a, float b) {
  return std::isnan(a) ? std::isnan(b) : std::memcmp(&a, &b, sizeof a) == 0;
}

// The copies of the elementwise functions other than the portable one that this CPU can run: the
// chosen table's and the AVX2 copy's, each once.
std::vector<const kernels::Table*> vector_copies() {
  std::vector<const kernels::Table*> copies;
  const auto add = [&](const kernels::Table* table) {
    const auto same_functions = [&](const kernels::Table* other) {
      return other->exp == table->exp && other->sigmoid == table->sigmoid &&
             other->nac_weight == table->nac_weight;
    };
    if (table != nullptr && !same_functions(&kernels::generic()) &&
        std::none_of(copies.begin(), copies.end(), same_functions))
      copies.push_back(table);
  };
  add(&kernels::table());
  add(kernels::avx2_only());
  return copies;
}

// Compares exp, sigmoid and nac_weight of `copy` with the portable copy's on x (the NAC weight's
// W_hat is x, its M_hat x reversed); returns the number of differing values, and the first one.
int64_t count_differences(const kernels::Table& copy, const std::vector<float>& x,
                          std::string& first) {
  const auto& portable = kernels::generic();
  const int n = static_cast<int>(x.size());
  const std::vector<float> reversed(x.rbegin(), x.rend());
  int64_t differing = 0;
  const auto compare = [&](const char* what, const std::vector<float>& got,
                           const std::vector<float>& want, const std::vector<float>& input) {
    for (int k = 0; k < n; ++k) {
      if (same_value(got[k], want[k]))
        continue;
      if (differing++ == 0) {
        first = std::string(what) + "(" + std::to_string(input[k]) +
                "): " + std::to_string(got[k]) + " against " + std::to_string(want[k]);
      }
    }
  };
  std::vector<float> got(n), want(n);
  copy.exp(n, x.data(), got.data());
  portable.exp(n, x.data(), want.data());
  compare("exp", got, want, x);
  copy.sigmoid(n, x.data(), got.data());
  portable.sigmoid(n, x.data(), want.data());
  compare("sigmoid", got, want, x);
  std::vector<float> got_d(n), got_m(n), want_d(n), want_m(n);
  copy.nac_weight(n, x.data(), reversed.data(), got.data(), got_d.data(), got_m.data());
  portable.nac_weight(n, x.data(), reversed.data(), want.data(), want_d.data(), want_m.data());
  compare("nac weight", got, want, x);
  compare("d/d w_hat", got_d, want_d, x);
  compare("d/d m_hat", got_m, want_m, x);
  // With M_hat = 100, sigmoid(M_hat) is exactly 1 and the weight is tanh(W_hat) itself.
  const std::vector<float> saturated(n, 100.0f);
  copy.nac_weight(n, x.data(), saturated.data(), got.data(), got_d.data(), got_m.data());
  portable.nac_weight(n, x.data(), saturated.data(), want.data(), want_d.data(), want_m.data());
  compare("tanh", got, want, x);
  return differing;
}

TEST(FusedKernels, ElementwiseFunctionsAreThePortableOnesOnAStrideOfFloats) {
  const auto copies = vector_copies();
  if (copies.empty())
    GTEST_SKIP() << "running kernels: " << kernels::table().name << " (no other copy)";
  std::vector<float> x;
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 1021)
    x.push_back(from_bits(static_cast<uint32_t>(bits)));
  // The typical range densely: weights and logits in [-30, 30].
  for (int k = -300'000; k <= 300'000; ++k)
    x.push_back(static_cast<float>(k) * 1e-4f);
  for (const float v : {0.0f, -0.0f, 1e-45f, -1e-45f, 88.72f, -103.9f, 9.01f, 22.0f, -22.0f,
                        HUGE_VALF, -HUGE_VALF, std::nanf("")})
    x.push_back(v);
  for (const auto* copy : copies) {
    std::string first;
    EXPECT_EQ(count_differences(*copy, x, first), 0) << copy->name << ": first " << first;
  }
}

TEST(FusedKernels, ElementwiseFunctionsHandleTailsAndWorkInPlace) {
  for (const auto* copy : vector_copies()) {
    for (const int n : {1, 7, 8, 13, 27}) {
      std::vector<float> x(n);
      for (int k = 0; k < n; ++k)
        x[k] = 0.37f * static_cast<float>(k) - 2.0f;
      std::vector<float> want(n), in_place = x;
      kernels::generic().exp(n, x.data(), want.data());
      copy->exp(n, in_place.data(), in_place.data());
      for (int k = 0; k < n; ++k)
        EXPECT_TRUE(same_value(in_place[k], want[k])) << copy->name << " n " << n << " k " << k;
      in_place = x;
      kernels::generic().sigmoid(n, x.data(), want.data());
      copy->sigmoid(n, in_place.data(), in_place.data());
      for (int k = 0; k < n; ++k)
        EXPECT_TRUE(same_value(in_place[k], want[k])) << copy->name << " n " << n << " k " << k;
    }
  }
}

// A denser stride, every 61st bit pattern (70 million floats, about 10 s on one core of the
// 2-core machine). NALU_ELEMENTWISE_STRIDE=1 makes it every float (about 10 minutes): so it was run
// for the commit that added the AVX2 copy, with no difference.
TEST(FusedKernelsDense, ElementwiseFunctionsAreThePortableOnes) {
  const auto copies = vector_copies();
  if (copies.empty())
    GTEST_SKIP() << "running kernels: " << kernels::table().name << " (no other copy)";
  uint64_t stride = 61;
  if (const char* text = std::getenv("NALU_ELEMENTWISE_STRIDE"))
    stride = std::max<uint64_t>(1, std::strtoull(text, nullptr, 10));
  constexpr uint64_t kBlock = uint64_t{1} << 22;
  std::vector<float> x;
  x.reserve(kBlock);
  for (const auto* copy : copies) {
    int64_t differing = 0;
    std::string first;
    for (uint64_t bits = 0; bits < (uint64_t{1} << 32);) {
      x.clear();
      for (; bits < (uint64_t{1} << 32) && x.size() < kBlock; bits += stride)
        x.push_back(from_bits(static_cast<uint32_t>(bits)));
      std::string block_first;
      const int64_t block = count_differences(*copy, x, block_first);
      if (block > 0 && differing == 0)
        first = block_first;
      differing += block;
    }
    EXPECT_EQ(differing, 0) << copy->name << ", stride " << stride << ": first " << first;
  }
}

}  // namespace
}  // namespace nalu::testing

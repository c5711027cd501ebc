// detail::run_parallel: every item once, done() in finishing order, the first exception
// rethrown, and LibTorch on one intra-op thread inside every item whatever `jobs` is, so that
// an item's floating-point results do not depend on how many run beside it.
#include "parallel.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace nalu::detail {
namespace {

TEST(RunParallel, EveryItemOnceOnOneTorchThreadForAnyJobs) {
  const int before = torch::get_num_threads();
  for (int64_t jobs : {1, 2, 4}) {
    SCOPED_TRACE(jobs);
    std::vector<std::atomic<int>> calls(5);
    std::vector<int> torch_threads(5, 0);
    std::vector<int64_t> finished;
    run_parallel(
        5, jobs,
        [&](int64_t i) {
          ++calls[static_cast<size_t>(i)];
          torch_threads[static_cast<size_t>(i)] = torch::get_num_threads();
        },
        [&](int64_t i) { finished.push_back(i); });
    for (size_t i = 0; i < 5; ++i) {
      EXPECT_EQ(calls[i].load(), 1);
      EXPECT_EQ(torch_threads[i], 1);
    }
    EXPECT_EQ(finished.size(), 5u);
    EXPECT_EQ(torch::get_num_threads(), before);  // restored
  }
}

TEST(RunParallel, RethrowsTheFirstFailureAndRestoresTorchThreads) {
  const int before = torch::get_num_threads();
  EXPECT_THROW(run_parallel(
                   3, 2,
                   [](int64_t i) {
                     if (i == 1)
                       throw std::runtime_error("item 1");
                   },
                   [](int64_t) {}),
               std::runtime_error);
  EXPECT_EQ(torch::get_num_threads(), before);
}

}  // namespace
}  // namespace nalu::detail

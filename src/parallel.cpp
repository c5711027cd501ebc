#include "parallel.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "nalu/error.h"

namespace nalu::detail {

int64_t thread_count(int64_t threads) {
  return threads > 0
             ? threads
             : std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
}

void run_parallel(int64_t count, int64_t jobs, const std::function<void(int64_t)>& work,
                  const std::function<void(int64_t)>& done) {
  check(jobs > 0, "jobs must be positive, got " + std::to_string(jobs));
  if (count <= 0)
    return;
  const int64_t threads = std::min(jobs, count);
  const int previous_threads = torch::get_num_threads();
  torch::set_num_threads(1);

  std::atomic<int64_t> next{0};
  std::mutex lock;
  std::exception_ptr failure;
  auto worker = [&] {
    for (int64_t i = next++; i < count; i = next++) {
      try {
        work(i);
        std::lock_guard<std::mutex> guard(lock);
        done(i);
      } catch (...) {
        std::lock_guard<std::mutex> guard(lock);
        if (!failure)
          failure = std::current_exception();
        next = count;  // stop handing out items
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t)
    pool.emplace_back(worker);
  worker();
  for (auto& thread : pool)
    thread.join();
  torch::set_num_threads(previous_threads);
  if (failure)
    std::rethrow_exception(failure);
}

}  // namespace nalu::detail

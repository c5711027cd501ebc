// Progress of an experiment whose models train on several threads (internal to the library):
// each thread adds the steps it has done, and the experiment's callback sees one running total,
// one call at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "nalu/experiments/experiment.h"

namespace nalu::detail {

class ExperimentProgressCounter {
 public:
  ExperimentProgressCounter(const ExperimentProgress& progress, int64_t total)
      : progress_(progress), total_(total) {}
  /// Adds `steps` to the total done and reports it under `stage`.
  void add(const std::string& stage, int64_t steps) {
    if (!progress_)
      return;
    std::lock_guard<std::mutex> lock(mutex_);
    done_ += steps;
    progress_({stage, done_, total_,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()});
  }

 private:
  const ExperimentProgress& progress_;
  int64_t total_;
  int64_t done_ = 0;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace nalu::detail

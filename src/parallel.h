// Running independent small trainings side by side (internal to the library).
#pragma once

#include <cstdint>
#include <functional>

namespace nalu::detail {

/// Calls work(i) for every i in [0, count) on min(jobs, count) threads, then done(i), under one
/// lock and in the order the items finish. LibTorch's own thread pool is set to one thread for
/// the duration, however many jobs run: each item is a small model, so parallelism comes from
/// running items side by side, and an item's floating-point results do not depend on `jobs`
/// (with two intra-op threads a reduction can sum in another order, and a long training run
/// amplifies that last-bit difference). The first exception (from work or done) stops handing out
/// items and is rethrown once every thread has finished.
/// Threads for a `threads` setting: the setting when positive, else one per core (at least 1).
int64_t thread_count(int64_t threads);

void run_parallel(int64_t count, int64_t jobs, const std::function<void(int64_t)>& work,
                  const std::function<void(int64_t)>& done);

}  // namespace nalu::detail

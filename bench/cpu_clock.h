// The calling thread's CPU clock, which the benches read instead of the wall clock: these
// machines are shared, and a thread's CPU time is far less disturbed by other load.
#pragma once

#include <ctime>

namespace nalu_bench {

/// CPU time of the calling thread, in seconds.
inline double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace nalu_bench

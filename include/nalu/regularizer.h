// The regulariser schedule of Madsen & Johansen (ICLR 2020):
//   lambda(t) = lambda_hat * clip((t - t_start) / (t_end - t_start), 0, 1).
#pragma once

#include <algorithm>
#include <cstdint>

namespace nalu {

struct RegularizerSchedule {
  double scale = 0.0;  // lambda_hat
  int64_t start = 0;   // t_start: lambda is 0 up to here
  int64_t end = 1;     // t_end: lambda reaches lambda_hat here
  /// 0: the linear ramp above. Otherwise a ladder instead of the ramp, the NPU's L1 weight
  /// (Heim et al.; 10^-9 to 10^-7 in Mistry et al.'s runs): lambda grows tenfold every
  /// `tenfold_every` steps and reaches lambda_hat at t_end, lambda(t) = lambda_hat *
  /// 10^-ceil((t_end - t) / tenfold_every) from t_start on.
  int64_t tenfold_every = 0;

  /// lambda(step). A schedule with end <= start is a step function at `start`.
  double at(int64_t step) const {
    if (scale == 0.0)
      return 0.0;
    if (tenfold_every > 0) {
      if (step < start)
        return 0.0;
      if (step >= end)
        return scale;
      const int64_t short_of_end = (end - step + tenfold_every - 1) / tenfold_every;
      double value = scale;
      for (int64_t i = 0; i < short_of_end && value > 0.0; ++i)
        value /= 10.0;
      return value;
    }
    if (end <= start)
      return step >= start ? scale : 0.0;
    const double ramp = static_cast<double>(step - start) / static_cast<double>(end - start);
    return scale * std::clamp(ramp, 0.0, 1.0);
  }
};

/// The run length the units' default schedules were set for (the field's 5 * 10^6 steps).
inline constexpr int64_t kReferenceIterations = 5'000'000;

/// `schedule` stretched to a run of `iterations` steps: start and end scale by
/// iterations / kReferenceIterations, so a short run regularises at the same point of its
/// course as the paper's runs did.
inline RegularizerSchedule scaled_to_run(RegularizerSchedule schedule, int64_t iterations) {
  const double factor = static_cast<double>(iterations) / static_cast<double>(kReferenceIterations);
  schedule.start = static_cast<int64_t>(static_cast<double>(schedule.start) * factor);
  schedule.end = static_cast<int64_t>(static_cast<double>(schedule.end) * factor);
  schedule.tenfold_every =
      std::max<int64_t>(schedule.tenfold_every > 0 ? 1 : 0,
                        static_cast<int64_t>(static_cast<double>(schedule.tenfold_every) * factor));
  return schedule;
}

/// Madsen & Johansen's settings (docs/design.md §2).
inline constexpr RegularizerSchedule kNmuSchedule{10.0, 1'000'000, 2'000'000};
inline constexpr RegularizerSchedule kNauSchedule{0.01, 5'000, 50'000};
/// NRU and NMRU: Mistry, Hare & Farrahi ramp lambda 10 over steps 50,000-75,000 of their
/// 100,000-step division runs, that is over 50-75% of a run; written here, like every default,
/// for kReferenceIterations steps, so that scaled_to_run gives 50,000-75,000 for 10^5 steps.
inline constexpr RegularizerSchedule kDivisionSchedule{10.0, 2'500'000, 3'750'000};
inline constexpr RegularizerSchedule kNoRegularizer{0.0, 0, 1};

}  // namespace nalu

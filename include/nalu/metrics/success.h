// Measuring success (docs/design.md §4): Madsen & Johansen's epsilon-perfect threshold and
// per-run verdict, the Wilson interval for a success rate over seeds, and the NALU paper's
// normalised error. Pure functions over a task and training results; nothing here trains.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace nalu {

class ArithmeticTask;
struct TrainResult;

/// The default z of wilson_interval: the 97.5% quantile of the standard normal (a 95% interval).
inline constexpr double kWilson95 = 1.959963984540054;
/// Madsen & Johansen's epsilon: every weight of an epsilon-perfect solution is off by 1e-5.
inline constexpr double kDefaultEpsilon = 1e-5;
/// Samples of the extrapolation range the threshold is estimated from (Madsen & Johansen).
inline constexpr int64_t kDefaultThresholdSamples = 1'000'000;

/// A confidence interval [low, high] for a proportion, within [0, 1].
struct ProportionInterval {
  double low = 0.0;
  double high = 0.0;
};

/// The Wilson (1927) score interval for `successes` out of `trials`; unlike the normal
/// approximation it stays inside [0, 1] and is not empty at 0 or `trials` successes.
/// Throws nalu::Error unless trials > 0, 0 <= successes <= trials and z > 0.
///
/// Example: `wilson_interval(0, 100)` is about [0, 0.037].
ProportionInterval wilson_interval(int64_t successes, int64_t trials, double z = kWilson95);

/// The extrapolation MSE of an epsilon-perfect solution of `task` (Madsen & Johansen, "Neural
/// Arithmetic Units", ICLR 2020): the first layer's weights are the exact subset selection with
/// every entry moved by `epsilon` towards the wrong side (1 - epsilon on the subsets, epsilon
/// elsewhere), the operation is applied exactly, and the squared difference to the exact target
/// is averaged over `samples` inputs drawn from the task's extrapolation range. A run succeeds
/// when its extrapolation MSE is below this value.
///
/// The estimate is computed in double precision from a generator seeded by the task's seed, so
/// it is deterministic, and is cached process-wide (thread-safe) per task definition, epsilon and
/// sample count. Throws nalu::Error unless epsilon >= 0 and samples > 0.
double epsilon_perfect_threshold(const ArithmeticTask& task, double epsilon = kDefaultEpsilon,
                                 int64_t samples = kDefaultThresholdSamples);

/// One run judged against a success threshold.
struct SuccessSummary {
  bool success = false;              // best (by interpolation MSE) extrapolation MSE < threshold
  std::optional<int64_t> solved_at;  // step of the first evaluation below the threshold
  double threshold = 0.0;
  double best_extrapolation_mse = 0.0;
  double sparsity_error = 0.0;  // of the best evaluation
};

/// Judges `result` against `threshold` (usually epsilon_perfect_threshold of its task): the model
/// is the one at the lowest interpolation MSE (`result.best`); a NaN or infinite extrapolation
/// MSE is a failure. Throws nalu::Error for a NaN or negative threshold.
SuccessSummary summarize_success(const TrainResult& result, double threshold);

/// The NALU paper's normalised error, 100 * model_error / random_error: a randomly initialised
/// model scores 100 and a perfect one 0. The bench takes `random_error` from the step-0
/// evaluation (the untrained, randomly initialised model) of the same run, or its average over
/// seeds. Throws nalu::Error unless random_error is finite and > 0.
double normalized_error(double model_error, double random_error);

/// The median of `values`, ignoring NaN (a failed run's missing number); NaN when none is left.
/// Of an even count, the mean of the two middle values.
double median(std::vector<double> values);

}  // namespace nalu

// Measuring success: the epsilon-perfect threshold (simulated in chunks, cached per task), the
// per-run verdict, the Wilson interval, the normalised error and a NaN-aware median.
#include "nalu/metrics/success.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/result.h"

namespace nalu {

namespace {

// Stream of derive_seed(task seed, stream) for the threshold's samples (the task uses 1-3, a
// run 10-11).
constexpr uint64_t kThresholdStream = 20;
// Rows simulated at once: 65,536 x 100 doubles is 50 MiB, whatever the sample count.
constexpr int64_t kThresholdChunkRows = 65'536;

// Everything epsilon_perfect_threshold's value depends on. Range bounds are kept exactly rather
// than as Range::str(), which rounds to 6 significant digits.
using ThresholdKey =
    std::tuple<int, int64_t, int64_t, int64_t, int64_t, int64_t,
               std::vector<std::pair<double, double>>, bool, double, int64_t, uint64_t>;

ThresholdKey threshold_key(const ArithmeticTask& task, double epsilon, int64_t samples) {
  const auto& o = task.options();
  const auto& s = task.subsets();
  std::vector<std::pair<double, double>> bounds;
  for (const auto& interval : o.extrapolation.intervals) {
    bounds.emplace_back(interval.low, interval.high);
  }
  return {static_cast<int>(o.op), o.input_size, s.a_begin, s.a_end, s.b_begin, s.b_end,
          std::move(bounds),      o.integers,   epsilon,   samples, o.seed};
}

// The first layer of the solution off by `epsilon`: W:[input_size, 2], column 0 selects a and
// column 1 selects b with weight 1 - epsilon, every other entry is epsilon.
torch::Tensor perturbed_weights(int64_t input_size, const Subsets& s, double epsilon) {
  auto w = torch::full({input_size, 2}, epsilon, torch::kDouble);
  w.index_put_({torch::indexing::Slice(s.a_begin, s.a_end), 0}, 1.0 - epsilon);
  w.index_put_({torch::indexing::Slice(s.b_begin, s.b_end), 1}, 1.0 - epsilon);
  return w;
}

double simulate_threshold(const ArithmeticTask& task, double epsilon, int64_t samples) {
  torch::NoGradGuard no_grad;
  const auto& o = task.options();
  // Both solutions side by side, so one matmul per chunk: [input_size, 4].
  const auto w = torch::cat({perturbed_weights(o.input_size, task.subsets(), epsilon),
                             perturbed_weights(o.input_size, task.subsets(), 0.0)},
                            1);
  auto generator = make_generator(derive_seed(o.seed, kThresholdStream));
  double sum_squared_error = 0.0;
  // Every chunk is drawn into one buffer: a fresh 52 MB per chunk about doubled a bench run's time
  // outside training (docs/performance.md).
  auto buffer =
      torch::empty({std::min(kThresholdChunkRows, samples), o.input_size}, torch::kDouble);
  for (int64_t done = 0; done < samples; done += kThresholdChunkRows) {
    const int64_t rows = std::min(kThresholdChunkRows, samples - done);
    auto x = buffer.slice(0, 0, rows);
    sample_uniform_into(o.extrapolation, x, generator);
    if (o.integers)
      x = x.floor();
    const auto z = torch::mm(x, w);  // [rows, 4]: z0, z1 off by epsilon, then exact
    // op(z0, z1): the task's own operation with a = z0 and b = z1.
    constexpr Subsets kPair{0, 1, 1, 2};
    const auto error = apply_operation(o.op, kPair, z.slice(1, 0, 2)) -
                       apply_operation(o.op, kPair, z.slice(1, 2, 4));
    sum_squared_error += error.square().sum().item<double>();
  }
  return sum_squared_error / static_cast<double>(samples);
}

}  // namespace

ProportionInterval wilson_interval(int64_t successes, int64_t trials, double z) {
  check(trials > 0, "wilson_interval: trials must be positive, got " + std::to_string(trials));
  check(0 <= successes && successes <= trials,
        "wilson_interval: successes must be in [0, trials = " + std::to_string(trials) + "], got " +
            std::to_string(successes));
  check(std::isfinite(z) && z > 0,
        "wilson_interval: z must be a finite number > 0, got " + format_number(z));
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double denominator = 1.0 + z2 / n;
  const double center = (p + z2 / (2.0 * n)) / denominator;
  const double half_width = z * std::sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n)) / denominator;
  // At 0 or `trials` successes one bound is exactly 0 or 1 (the closed form only up to
  // rounding, e.g. 5.6e-17 for 0/7).
  return {successes == 0 ? 0.0 : std::max(0.0, center - half_width),
          successes == trials ? 1.0 : std::min(1.0, center + half_width)};
}

double epsilon_perfect_threshold(const ArithmeticTask& task, double epsilon, int64_t samples) {
  check(epsilon >= 0 && std::isfinite(epsilon),
        "epsilon_perfect_threshold: epsilon must be a finite number >= 0, got " +
            format_number(epsilon));
  check(samples > 0,
        "epsilon_perfect_threshold: samples must be positive, got " + std::to_string(samples));
  // A bench asks once per run; a sweep asks the same question many times.
  static std::mutex mutex;
  static std::map<ThresholdKey, double> cache;
  auto key = threshold_key(task, epsilon, samples);
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (const auto found = cache.find(key); found != cache.end())
      return found->second;
  }
  // Simulated outside the lock: two threads may both compute a new key, with the same result.
  const double threshold = simulate_threshold(task, epsilon, samples);
  std::lock_guard<std::mutex> lock(mutex);
  cache.emplace(std::move(key), threshold);
  return threshold;
}

SuccessSummary summarize_success(const TrainResult& result, double threshold) {
  check(threshold >= 0,
        "summarize_success: threshold must be a number >= 0, got " + format_number(threshold));
  const auto below = [threshold](double mse) { return std::isfinite(mse) && mse < threshold; };
  SuccessSummary summary;
  summary.threshold = threshold;
  summary.best_extrapolation_mse = result.best.extrapolation_mse;
  summary.sparsity_error = result.best.sparsity_error;
  summary.success = below(result.best.extrapolation_mse);
  for (const auto& evaluation : result.history) {
    if (below(evaluation.extrapolation_mse)) {
      summary.solved_at = evaluation.step;
      break;
    }
  }
  return summary;
}

double normalized_error(double model_error, double random_error) {
  check(std::isfinite(random_error) && random_error > 0,
        "normalized_error: the random model's error must be finite and > 0, got " +
            format_number(random_error));
  return 100.0 * model_error / random_error;
}

double median(std::vector<double> values) {
  std::erase_if(values, [](double value) { return std::isnan(value); });
  if (values.empty())
    return NAN;
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  if (values.size() % 2 == 1)
    return *middle;
  // The lower middle value is the largest of the half before `middle`. Halving each first
  // keeps huge values from overflowing; equal ones (also infinite) are returned as they are.
  const double lower = *std::max_element(values.begin(), middle);
  return lower == *middle ? lower : lower / 2.0 + *middle / 2.0;
}

}  // namespace nalu

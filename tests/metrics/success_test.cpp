// Success metrics: the Wilson interval against hand-computed values, the epsilon-perfect
// threshold against its closed form for + and -, the per-run verdict, the normalised error and
// the median.
#include "nalu/metrics/success.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "nalu/error.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/trainer.h"
#include "test_util.h"

namespace nalu {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- Wilson interval ----

// Expected bounds from the closed form, computed independently (python3, z = 1.959963984540054).
TEST(WilsonInterval, MatchesHandComputedValues) {
  struct Case {
    int64_t successes, trials;
    double low, high;
  };
  const Case cases[] = {
      {0, 100, 0.0, 0.036993498},
      {98, 100, 0.929988209, 0.994498032},
      {50, 100, 0.403831530, 0.596168470},
      {1, 1, 0.206549314, 1.0},
      {0, 1, 0.0, 0.793450686},
      {14, 100, 0.085263437, 0.221371882},
      {31, 100, 0.227796972, 0.406260557},
  };
  for (const auto& c : cases) {
    const auto interval = wilson_interval(c.successes, c.trials);
    EXPECT_NEAR(interval.low, c.low, 1e-6) << c.successes << "/" << c.trials;
    EXPECT_NEAR(interval.high, c.high, 1e-6) << c.successes << "/" << c.trials;
  }
}

TEST(WilsonInterval, HonoursZAndStaysInsideTheUnitInterval) {
  const auto one_sigma = wilson_interval(50, 100, 1.0);
  EXPECT_NEAR(one_sigma.low, 0.450248140, 1e-6);
  EXPECT_NEAR(one_sigma.high, 0.549751860, 1e-6);
  for (int64_t successes = 0; successes <= 20; ++successes) {
    const auto interval = wilson_interval(successes, 20);
    EXPECT_GE(interval.low, 0.0);
    EXPECT_LE(interval.high, 1.0);
    EXPECT_LE(interval.low, successes / 20.0);
    EXPECT_GE(interval.high, successes / 20.0);
  }
  EXPECT_EQ(wilson_interval(0, 7).low, 0.0);
  EXPECT_EQ(wilson_interval(7, 7).high, 1.0);
}

TEST(WilsonInterval, RejectsBadArguments) {
  EXPECT_THROW_WITH(wilson_interval(0, 0), "trials must be positive");
  EXPECT_THROW_WITH(wilson_interval(1, -3), "trials must be positive");
  EXPECT_THROW_WITH(wilson_interval(-1, 10), "successes must be in [0, trials = 10]");
  EXPECT_THROW_WITH(wilson_interval(11, 10), "got 11");
  EXPECT_THROW_WITH(wilson_interval(5, 10, 0.0), "z must be");
  EXPECT_THROW_WITH(wilson_interval(5, 10, kNaN), "z must be");
  EXPECT_THROW(wilson_interval(0, 0), Error);
}

// ---- epsilon-perfect threshold ----

ArithmeticTask standard_task(Operation op, const std::string& extrapolation = "2:6",
                             bool integers = false, uint64_t seed = 0) {
  ArithmeticTaskOptions options;  // the field's standard: 100 inputs, ratios 0.25 / 0.5
  options.op = op;
  options.extrapolation = Range::parse(extrapolation);
  options.interpolation = Range::parse(extrapolation);  // sqrt needs it non-negative too
  options.integers = integers;
  options.evaluation_size = 16;
  options.seed = seed;
  return ArithmeticTask(options);
}

// Y_eps - Y_exact = epsilon * sum_i k_i x_i for + and -, with k_i read off the subsets: each
// weight off by epsilon contributes -epsilon * x_i inside its subset and +epsilon outside. With
// x_i i.i.d. of mean mu and variance s2, E[(...)^2] = epsilon^2 (s2 sum k_i^2 + mu^2 (sum k_i)^2).
double analytic_threshold(const ArithmeticTask& task, double epsilon, double mu, double s2) {
  const auto& s = task.subsets();
  double sum_k = 0.0;
  double sum_k_squared = 0.0;
  for (int64_t i = 0; i < task.options().input_size; ++i) {
    const double ka = (s.a_begin <= i && i < s.a_end) ? -1.0 : 1.0;
    const double kb = (s.b_begin <= i && i < s.b_end) ? -1.0 : 1.0;
    const double k = task.options().op == Operation::kAdd ? ka + kb : ka - kb;
    sum_k += k;
    sum_k_squared += k * k;
  }
  return epsilon * epsilon * (s2 * sum_k_squared + mu * mu * sum_k * sum_k);
}

constexpr double kUniform26Mean = 4.0;  // U[2, 6]
constexpr double kUniform26Variance = 16.0 / 12.0;

TEST(EpsilonPerfectThreshold, AddMatchesClosedForm) {
  const auto task = standard_task(Operation::kAdd);
  const double expected = analytic_threshold(task, 1e-5, kUniform26Mean, kUniform26Variance);
  // 12 shared elements (k = -2), 26 in one subset (0), 62 in neither (+2).
  EXPECT_NEAR(expected, 1e-10 * (16.0 / 12.0 * 296.0 + 16.0 * 100.0 * 100.0), 1e-18);
  const double simulated = epsilon_perfect_threshold(task);  // 1e-5, 10^6 samples
  EXPECT_NEAR(simulated, expected, 0.01 * expected);
}

TEST(EpsilonPerfectThreshold, SubMatchesClosedForm) {
  // Mean-free: only the 26 elements in exactly one subset count (k = -2 or +2, sum k = 0).
  const auto task = standard_task(Operation::kSub);
  const double expected = analytic_threshold(task, 1e-5, kUniform26Mean, kUniform26Variance);
  EXPECT_NEAR(expected, 1e-10 * 16.0 / 12.0 * 104.0, 1e-20);
  const double simulated = epsilon_perfect_threshold(task);
  EXPECT_NEAR(simulated, expected, 0.01 * expected);
}

TEST(EpsilonPerfectThreshold, SamplesUnionsOfIntervalsByLength) {
  // U[-6,-2] u [2,6]: mean 0, variance E[x^2] = (6^3 - 2^3) / 12.
  const auto task = standard_task(Operation::kAdd, "-6:-2,2:6");
  const double expected = analytic_threshold(task, 1e-5, 0.0, 208.0 / 12.0);
  const double simulated = epsilon_perfect_threshold(task, 1e-5, 100'000);
  EXPECT_NEAR(simulated, expected, 0.02 * expected);
}

TEST(EpsilonPerfectThreshold, HonoursIntegers) {
  // floor(U[2, 6)) is uniform on {2, 3, 4, 5}: mean 3.5, variance (4^2 - 1) / 12.
  const auto task = standard_task(Operation::kAdd, "2:6", /*integers=*/true);
  const double expected = analytic_threshold(task, 1e-5, 3.5, 15.0 / 12.0);
  const double simulated = epsilon_perfect_threshold(task, 1e-5, 200'000);
  EXPECT_NEAR(simulated, expected, 0.01 * expected);
}

TEST(EpsilonPerfectThreshold, EveryOperationIsPositiveAndFinite) {
  for (const auto& name : operation_names()) {
    const auto task = standard_task(parse_operation(name));
    const double threshold = epsilon_perfect_threshold(task, 1e-5, 100'000);
    EXPECT_TRUE(std::isfinite(threshold)) << name;
    EXPECT_GT(threshold, 0.0) << name;
    EXPECT_EQ(epsilon_perfect_threshold(task, 0.0, 1'000), 0.0) << name;
  }
}

TEST(EpsilonPerfectThreshold, IsDeterministicAndDependsOnEpsilonAndSeed) {
  const auto task = standard_task(Operation::kMul);
  const auto same_task = standard_task(Operation::kMul);
  const double first = epsilon_perfect_threshold(task, 1e-5, 50'000);
  EXPECT_EQ(epsilon_perfect_threshold(task, 1e-5, 50'000), first);
  EXPECT_EQ(epsilon_perfect_threshold(same_task, 1e-5, 50'000), first);
  // The error is nearly linear in epsilon, so its square nearly quadratic.
  const double doubled = epsilon_perfect_threshold(task, 2e-5, 50'000);
  EXPECT_NE(doubled, first);
  EXPECT_NEAR(doubled / first, 4.0, 0.01);
  // Another seed draws other samples (and may place the subsets elsewhere).
  const auto other_seed = standard_task(Operation::kMul, "2:6", false, /*seed=*/7);
  const double other = epsilon_perfect_threshold(other_seed, 1e-5, 50'000);
  EXPECT_NE(other, first);
  EXPECT_NEAR(other, first, 0.05 * first);
}

TEST(EpsilonPerfectThreshold, CachesResults) {
  // An epsilon no other test uses, so the first call has to simulate.
  const auto task = standard_task(Operation::kDiv);
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const double first = epsilon_perfect_threshold(task, 3e-5, 500'000);
  const auto simulated = Clock::now() - start;
  const auto cached_start = Clock::now();
  const double second = epsilon_perfect_threshold(task, 3e-5, 500'000);
  const auto cached = Clock::now() - cached_start;
  EXPECT_EQ(second, first);
  EXPECT_LT(cached * 20, simulated) << "a cached value should take no simulation time";
}

TEST(EpsilonPerfectThreshold, RejectsBadArguments) {
  const auto task = standard_task(Operation::kAdd);
  EXPECT_THROW_WITH(epsilon_perfect_threshold(task, -1e-5), "epsilon must be");
  EXPECT_THROW_WITH(epsilon_perfect_threshold(task, kNaN), "epsilon must be");
  EXPECT_THROW_WITH(epsilon_perfect_threshold(task, 1e-5, 0), "samples must be positive");
}

// ---- summarize_success ----

Evaluation evaluation(int64_t step, double interpolation_mse, double extrapolation_mse,
                      double sparsity_error = 0.0) {
  Evaluation e;
  e.step = step;
  e.interpolation_mse = interpolation_mse;
  e.extrapolation_mse = extrapolation_mse;
  e.sparsity_error = sparsity_error;
  return e;
}

TrainResult decreasing_run() {
  TrainResult result;
  result.history = {evaluation(0, 1.0, 100.0), evaluation(1000, 0.1, 1e-2),
                    evaluation(2000, 1e-3, 1e-6, 0.2), evaluation(3000, 1e-4, 1e-8, 0.01)};
  result.best = result.history.back();
  result.final = result.history.back();
  return result;
}

TEST(SummarizeSuccess, SucceedsBelowThresholdAndFindsFirstStep) {
  const auto summary = summarize_success(decreasing_run(), 1e-5);
  EXPECT_TRUE(summary.success);
  ASSERT_TRUE(summary.solved_at.has_value());
  EXPECT_EQ(*summary.solved_at, 2000);
  EXPECT_EQ(summary.threshold, 1e-5);
  EXPECT_EQ(summary.best_extrapolation_mse, 1e-8);
  EXPECT_EQ(summary.sparsity_error, 0.01);

  const auto later = summarize_success(decreasing_run(), 1e-7);
  EXPECT_TRUE(later.success);
  EXPECT_EQ(later.solved_at, std::optional<int64_t>(3000));
}

TEST(SummarizeSuccess, FailsAboveThreshold) {
  const auto summary = summarize_success(decreasing_run(), 1e-9);
  EXPECT_FALSE(summary.success);
  EXPECT_FALSE(summary.solved_at.has_value());
  // The threshold is strict: equal is not below.
  EXPECT_FALSE(summarize_success(decreasing_run(), 1e-8).success);
}

TEST(SummarizeSuccess, JudgesTheBestModelNotTheFirstSolvedOne) {
  // Solved at step 2000, but the model chosen by interpolation error extrapolates badly.
  auto result = decreasing_run();
  result.best = evaluation(3000, 1e-4, 0.5, 0.3);
  const auto summary = summarize_success(result, 1e-5);
  EXPECT_FALSE(summary.success);
  EXPECT_EQ(summary.solved_at, std::optional<int64_t>(2000));
  EXPECT_EQ(summary.sparsity_error, 0.3);
}

TEST(SummarizeSuccess, NonFiniteErrorsAreFailures) {
  auto result = decreasing_run();
  result.best.extrapolation_mse = kNaN;
  EXPECT_FALSE(summarize_success(result, 1e-5).success);
  EXPECT_FALSE(summarize_success(result, kInf).success);
  result.history = {evaluation(0, 1.0, kNaN), evaluation(10, 1.0, -kInf), evaluation(20, 1.0, 0.0)};
  EXPECT_EQ(summarize_success(result, kInf).solved_at, std::optional<int64_t>(20));
  EXPECT_THROW_WITH(summarize_success(result, kNaN), "threshold must be");
  EXPECT_THROW_WITH(summarize_success(result, -1.0), "threshold must be");
}

// ---- normalized_error and median ----

TEST(NormalizedError, ScalesRandomTo100AndPerfectTo0) {
  EXPECT_DOUBLE_EQ(normalized_error(4.0, 4.0), 100.0);
  EXPECT_DOUBLE_EQ(normalized_error(0.0, 4.0), 0.0);
  EXPECT_DOUBLE_EQ(normalized_error(1.0, 4.0), 25.0);
  EXPECT_DOUBLE_EQ(normalized_error(8.0, 4.0), 200.0);
  EXPECT_THROW_WITH(normalized_error(1.0, 0.0), "random model's error must be finite and > 0");
  EXPECT_THROW_WITH(normalized_error(1.0, -2.0), "got -2");
  EXPECT_THROW_WITH(normalized_error(1.0, kNaN), "random model's error");
  EXPECT_THROW_WITH(normalized_error(1.0, kInf), "random model's error");
}

TEST(Median, IgnoresNaN) {
  EXPECT_EQ(median({3.0, 1.0, 2.0}), 2.0);
  EXPECT_EQ(median({4.0, 1.0, 3.0, 2.0}), 2.5);
  EXPECT_EQ(median({kNaN, 5.0, kNaN, 1.0, 3.0}), 3.0);
  EXPECT_EQ(median({7.0}), 7.0);
  EXPECT_EQ(median({1.0, kInf, kInf}), kInf);
  EXPECT_DOUBLE_EQ(median({1e308, 1.7e308}), 1.35e308);  // no overflow
  EXPECT_TRUE(std::isnan(median({})));
  EXPECT_TRUE(std::isnan(median({kNaN, kNaN})));
}

}  // namespace
}  // namespace nalu

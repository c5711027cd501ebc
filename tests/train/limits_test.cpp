// The library's own limits (nalu/limits.h): checked narrowing and the memory checks of every
// configuration, with a small memory budget standing in for a small machine.
#include "nalu/limits.h"

#include <gtest/gtest.h>

#include "nalu/sweep/bench.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/tasks/recurrent.h"
#include "nalu/train/config.h"
#include "nalu/train/fused.h"
#include "nalu/train/recurrent.h"
#include "test_util.h"

namespace {

// Sets a memory budget for one test and restores the machine's afterwards.
class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t bytes) { nalu::set_memory_limit_bytes(bytes); }
  ~MemoryBudget() { nalu::set_memory_limit_bytes(0); }
};

constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(Limits, CheckedNarrowThrowsInsteadOfWrapping) {
  EXPECT_EQ(nalu::checked_narrow<int>(2'147'483'647, "x"), 2'147'483'647);
  EXPECT_EQ(nalu::checked_narrow<int>(-5, "x"), -5);
  EXPECT_THROW(nalu::checked_narrow<int>(int64_t{2'147'483'648}, "x"), nalu::Error);
  EXPECT_THROW(nalu::checked_narrow<uint32_t>(-1, "x"), nalu::Error);
  EXPECT_THROW(nalu::checked_narrow<uint64_t>(-1, "x"), nalu::Error);
  EXPECT_EQ(nalu::checked_narrow<uint64_t>(INT64_MAX, "x"), uint64_t{INT64_MAX});
  EXPECT_THROW_WITH(nalu::checked_narrow<int>(int64_t{1} << 40, "fused engine: batch size"),
                    "fused engine: batch size is 1099511627776, outside the supported range");
}

TEST(Limits, FormatsBytesInBinaryUnits) {
  EXPECT_EQ(nalu::format_bytes(12), "12 bytes");
  EXPECT_EQ(nalu::format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(nalu::format_bytes(23.5 * static_cast<double>(kGiB)), "23.5 GiB");
}

TEST(Limits, MachineMemoryIsDetectedAndCanBeLowered) {
  const uint64_t machine = nalu::machine_memory_bytes();
  EXPECT_GT(machine, uint64_t{64} << 20);  // any machine that runs LibTorch has more
  {
    MemoryBudget budget(kGiB);
    EXPECT_EQ(nalu::machine_memory_bytes(), kGiB);
  }
  EXPECT_EQ(nalu::machine_memory_bytes(), machine);
}

TEST(Limits, RunConfigRefusesABatchBeyondTheBudgetNamingIt) {
  MemoryBudget budget(kGiB);
  nalu::RunConfig config;
  config.model.units = {"nau"};
  config.training.batch_size = 128;
  EXPECT_NO_THROW(config.validate());
  config.training.batch_size = 10'000'000;  // 10^7 rows of 100 inputs: 4 GB of fused buffers
  EXPECT_THROW_WITH(config.validate(),
                    "training: one step (batch size 10000000, layer sizes "
                    "100-2-1) needs about ");
  EXPECT_THROW_WITH(config.validate(), "; this machine has 1.0 GiB of memory");
}

TEST(Limits, RunConfigRefusesEvaluationSetsAndModelsBeyondTheBudget) {
  MemoryBudget budget(kGiB);
  nalu::RunConfig config;
  config.model.units = {"nau"};
  config.task_options.evaluation_size = 10'000'000;
  EXPECT_THROW_WITH(config.validate(), "task: the evaluation sets (evaluation size 10000000");
  config.task_options.evaluation_size = 1000;
  config.model.hidden = {100'000'000};
  EXPECT_THROW_WITH(config.validate(), "model (layer sizes 100-100000000-1) needs about");
  config.model.hidden = std::vector<int64_t>(nalu::kMaxLayers, 2);
  EXPECT_THROW_WITH(config.validate(), "more than the 10000 a model");
}

TEST(Limits, FusedEngineLeavesBatchesBeyondItsCountsToTorch) {
  nalu::RunConfig config;
  config.model.units = {"nau"};
  config.training.batch_size = 30'000'000;  // 3 * 10^9 values: more than 2^31 - 1
  EXPECT_EQ(nalu::resolve_engine(config), "torch");
  config.engine = "fused";
  EXPECT_THROW_WITH(nalu::resolve_engine(config),
                    "more than the fused engine's 32-bit counts hold");
  config.training.batch_size = 20'000'000;
  config.engine = "auto";
  EXPECT_EQ(nalu::resolve_engine(config), "fused");
}

TEST(Limits, RecurrentConfigRefusesLengthsBeyondTheBudget) {
  MemoryBudget budget(kGiB);
  nalu::RecurrentConfig config;
  EXPECT_NO_THROW(config.validate());
  config.task.extrapolation_length = 100'000'000;
  EXPECT_THROW_WITH(config.validate(),
                    "task: the evaluation sets (evaluation size 1000, lengths 10 "
                    "and 100000000)");
}

TEST(Limits, TasksRefuseToDrawMoreThanTheBudget) {
  MemoryBudget budget(kGiB);
  const nalu::ArithmeticTask task(nalu::ArithmeticTaskOptions{});
  auto generator = nalu::make_generator(0);
  EXPECT_EQ(task.sample(1000, generator).input.size(0), 1000);
  EXPECT_THROW_WITH(task.sample(100'000'000, generator),
                    "task: drawing samples (100000000 rows of 100 values) needs about 111.8 GiB");
  nalu::RecurrentTaskOptions options;
  const nalu::RecurrentArithmeticTask recurrent(options);
  EXPECT_THROW_WITH(recurrent.sample(1'000'000, 10'000, options.interpolation, generator),
                    "task: drawing samples (1000000 x 10000 rows of 10 values)");
}

TEST(Limits, BenchRefusesAPlanBeyondTheBudgetBeforeBuildingIt) {
  MemoryBudget budget(kGiB);
  nalu::BenchGrid grid = nalu::bench_preset("nau-table1");
  grid.seeds = 1'000'000'000;
  EXPECT_THROW_WITH(nalu::expand(grid),
                    "bench: the plan (26 cells x 1000000000 seeds) needs about");
}

}  // namespace

// Runs trained together with shared batches (fused::train_together) end as they would alone.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "fused/layer.h"
#include "fused/network.h"
#include "nalu/error.h"
#include "nalu/strings.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/fused.h"
#include "nalu/train/record.h"
#include "nalu/units/stack.h"
#include "test_util.h"

namespace nalu {
namespace {

namespace fs = std::filesystem;

RunConfig config_for(const std::string& units, uint64_t seed = 5) {
  RunConfig config = testing::small_run_config(units, Operation::kMul, "fused");
  // 100 rows of 100 inputs: training blocks of 32, 32, 32 and 4 rows, which a pass pushes
  // through its runs one block at a time.
  config.task_options.input_size = 100;
  config.training.batch_size = 100;
  config.training.iterations = 600;
  config.seed = seed;
  return config;
}

// A run's record without its timing: what must not depend on how it was trained.
nlohmann::json results(const RunConfig& config, const TrainResult& result) {
  auto record = make_record(config, result);
  record.erase("timing");
  return record;
}

TEST(TrainTogether, EachRunEndsExactlyAsItWouldAlone) {
  ASSERT_EQ(fused::training_block_rows(100, 100), 32);  // several blocks, the last one short
  std::vector<RunConfig> configs;
  for (const std::string units : {"nau,nmu", "nac", "nac-mul", "nalu", "linear", "nmu"})
    configs.push_back(config_for(units));
  const auto outcomes = fused::train_together(configs, std::vector<RunControl>(configs.size()));
  ASSERT_EQ(outcomes.size(), configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    ASSERT_FALSE(outcomes[i].error) << i;
    ASSERT_TRUE(outcomes[i].result) << i;
    EXPECT_EQ(outcomes[i].result->runs_in_pass, static_cast<int64_t>(configs.size()));
    const TrainResult alone = fused::train(configs[i]);
    EXPECT_EQ(alone.runs_in_pass, 1);
    EXPECT_EQ(results(configs[i], *outcomes[i].result), results(configs[i], alone))
        << join(configs[i].model.units, ",");
  }
}

TEST(TrainTogether, ARunThatRollsBackOrDivergesLeavesTheOthersAsTheyWouldBe) {
  const std::vector<RunConfig> configs(3, config_for("nau,nmu"));
  std::vector<RunControl> controls(3);
  controls[0].inject_non_finite_at = 250;
  controls[0].on_non_finite = NonFinitePolicy::kRollback;
  controls[1].inject_non_finite_at = 250;  // stops: diverged
  const auto outcomes = fused::train_together(configs, controls);

  // The run that went back to step 200 draws its own batches from then on.
  ASSERT_TRUE(outcomes[0].result);
  ASSERT_EQ(outcomes[0].result->rollbacks.size(), 1u);
  EXPECT_EQ(outcomes[0].result->rollbacks[0].restored_step, 200);
  EXPECT_EQ(results(configs[0], *outcomes[0].result),
            results(configs[0], fused::train(configs[0], {}, 100, controls[0])));

  ASSERT_TRUE(outcomes[1].error);
  try {
    std::rethrow_exception(outcomes[1].error);
  } catch (const NumericalError& e) {
    EXPECT_EQ(e.step(), 251);
  }

  ASSERT_TRUE(outcomes[2].result);
  EXPECT_EQ(results(configs[2], *outcomes[2].result),
            results(configs[2], fused::train(configs[2])));
}

TEST(TrainTogether, AnInterruptedPassResumesFromEachRunsCheckpoint) {
  const fs::path dir = fs::temp_directory_path() / "nalu_together_test_interrupted";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<RunConfig> configs = {config_for("nac"), config_for("nalu")};
  std::atomic<bool> stop{true};  // every run stops after its first step
  std::vector<RunControl> controls(2);
  for (size_t i = 0; i < controls.size(); ++i) {
    controls[i].checkpoint = (dir / ("run" + std::to_string(i) + ".ckpt")).string();
    controls[i].resume = true;
    controls[i].stop = &stop;
  }
  const auto stopped = fused::train_together(configs, controls);
  for (size_t i = 0; i < stopped.size(); ++i) {
    ASSERT_TRUE(stopped[i].error) << i;
    EXPECT_THROW(std::rethrow_exception(stopped[i].error), Interrupted);
    EXPECT_TRUE(fs::exists(controls[i].checkpoint)) << i;
  }
  stop = false;
  const auto resumed = fused::train_together(configs, controls);
  for (size_t i = 0; i < resumed.size(); ++i) {
    ASSERT_TRUE(resumed[i].result) << i;
    EXPECT_EQ(resumed[i].result->resumed_from, 1);
    auto expected = results(configs[i], fused::train(configs[i]));
    auto got = results(configs[i], *resumed[i].result);
    got.erase("resumed_from_step");
    expected.erase("resumed_from_step");
    EXPECT_EQ(got, expected) << i;
  }
  fs::remove_all(dir);
}

TEST(InputLogs, ComputesEachBlockOnceAndOnlyForTheBatch) {
  const auto& table = fused::kernels::table();
  std::vector<float> batch(96), other(32);
  for (size_t k = 0; k < batch.size(); ++k)
    batch[k] = 0.25f * static_cast<float>(k) - 7.0f;  // negative, zero and positive values
  fused::InputLogs logs;
  logs.reset(batch.data(), batch.size());
  const float* first = logs.find(table, batch.data() + 32, 32, 1e-7f);
  ASSERT_NE(first, nullptr);
  std::vector<float> expected(32);
  table.log_abs_eps(32, batch.data() + 32, 1e-7f, expected.data());
  for (int k = 0; k < 32; ++k)
    EXPECT_EQ(first[k], expected[k]) << k;
  EXPECT_EQ(logs.find(table, batch.data() + 32, 32, 1e-7f), first);    // reused
  EXPECT_EQ(logs.find(table, batch.data() + 32, 32, 0.0f), nullptr);   // another eps
  EXPECT_EQ(logs.find(table, batch.data() + 48, 32, 1e-7f), nullptr);  // overlaps the block
  EXPECT_EQ(logs.find(table, batch.data() + 80, 32, 1e-7f), nullptr);  // past the batch
  EXPECT_EQ(logs.find(table, other.data(), 32, 1e-7f), nullptr);       // not the batch
  batch[32] = 3.0f;
  logs.reset(batch.data(), batch.size());  // the next batch: computed again
  const float* again = logs.find(table, batch.data() + 32, 32, 1e-7f);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again[0], std::log(3.0f + 1e-7f));
}

// An evaluation set's logs (FusedEngine::evaluate): kept from one evaluation to the next, and
// the same outputs as a network that computes its own.
TEST(InputLogs, AnEvaluationSetsLogsAreKeptAndGiveTheSameOutputs) {
  for (const std::string unit : {"nac-mul", "nalu"}) {
    SCOPED_TRACE(unit);
    const std::vector<int64_t> sizes{100, 1};
    torch::manual_seed(41);
    Stack model = make_stack({unit}, sizes, UnitSettings{});
    fused::Network cached({unit}, sizes, UnitSettings{}, 64),
        own({unit}, sizes, UnitSettings{}, 64);
    cached.load(*model);
    own.load(*model);
    auto set = (torch::rand({128, 100}) * 4.0 - 2.0).contiguous();  // negative values too
    float* x = set.data_ptr<float>();
    fused::InputLogs logs;
    logs.reset(x, static_cast<size_t>(set.numel()));
    cached.share_input_logs(&logs);
    std::vector<float> first;
    for (int chunk = 0; chunk < 2; ++chunk) {  // two chunks of 64 rows, as evaluate_flat's
      const float* at = x + chunk * 64 * 100;
      const float* y = cached.forward(64, at);
      const float* expected = own.forward(64, at);
      for (int r = 0; r < 64; ++r)
        EXPECT_EQ(y[r], expected[r]) << chunk << " " << r;
      first.insert(first.end(), y, y + 64);
    }
    // The logs are kept until reset: with the inputs' magnitudes changed in place, the
    // multiplicative path still sees the old ones (NAC-mul reads nothing else).
    for (int64_t k = 0; k < set.numel(); ++k)
      x[k] *= 2.0f;
    const float* again = cached.forward(64, x);
    const float* fresh = own.forward(64, x);
    if (unit == "nac-mul") {
      for (int r = 0; r < 64; ++r)
        EXPECT_EQ(again[r], first[static_cast<size_t>(r)]) << r;
    }
    EXPECT_NE(std::vector<float>(again, again + 64), std::vector<float>(fresh, fresh + 64));
  }
}

TEST(TrainTogether, RunsOfEveryOperationTakeOneBatchsInputsAndEndAsAlone) {
  // A table row each: the operations' targets differ, their inputs and input logs do not.
  std::vector<RunConfig> configs;
  for (const auto op : {Operation::kAdd, Operation::kSub, Operation::kMul, Operation::kDiv}) {
    for (const std::string units : {"nalu", "nac-mul", "nau,nmu"}) {
      configs.push_back(config_for(units));
      configs.back().task_options.op = op;
      configs.back().training.iterations = 300;
    }
  }
  configs.back().task_options.subset_ratio = 0.1;  // a task that differs in its subsets too
  const auto outcomes = fused::train_together(configs, std::vector<RunControl>(configs.size()));
  ASSERT_EQ(outcomes.size(), configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    ASSERT_TRUE(outcomes[i].result) << i;
    EXPECT_EQ(results(configs[i], *outcomes[i].result),
              results(configs[i], fused::train(configs[i])))
        << operation_name(configs[i].task_options.op) << " " << join(configs[i].model.units, ",");
  }
}

TEST(TrainTogether, RunsOfOtherInputsOrSeedsAreRefused) {
  EXPECT_EQ(fused::batch_key(config_for("nau")), fused::batch_key(config_for("nalu")));
  EXPECT_NE(fused::batch_key(config_for("nau")), fused::batch_key(config_for("nau", 6)));
  RunConfig torch = config_for("nau");
  torch.engine = "torch";
  EXPECT_EQ(fused::batch_key(torch), "");
  // The operation, subsets and extrapolation range give other targets or evaluation sets, but
  // the same inputs; the training range, input size, integers and batch size give others.
  RunConfig add = config_for("nau");
  add.task_options.op = Operation::kAdd;
  add.task_options.subset_ratio = 0.1;
  add.task_options.extrapolation = Range::parse("2:3");
  EXPECT_EQ(fused::batch_key(add), fused::batch_key(config_for("nau")));
  for (int k = 0; k < 4; ++k) {
    RunConfig other = config_for("nau");
    if (k == 0)
      other.task_options.interpolation = Range::parse("1:3");
    if (k == 1)
      other.task_options.input_size = 50;
    if (k == 2)
      other.task_options.integers = true;
    if (k == 3)
      other.training.batch_size = 64;
    EXPECT_NE(fused::batch_key(other), fused::batch_key(config_for("nau"))) << k;
  }

  EXPECT_THROW(
      fused::train_together({config_for("nau"), config_for("nau", 6)}, std::vector<RunControl>(2)),
      Error);
  EXPECT_THROW(fused::train_together({config_for("nau"), torch}, std::vector<RunControl>(2)),
               Error);
  EXPECT_THROW(fused::train_together({config_for("nau")}, {}), Error);
  EXPECT_THROW(fused::train_together({}, {}), Error);
}

}  // namespace
}  // namespace nalu

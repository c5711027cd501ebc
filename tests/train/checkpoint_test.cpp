// Checkpoints, resumption, rollbacks and saved models: an interrupted and resumed run ends
// exactly as an uninterrupted one, and damaged files are clear errors.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "nalu/error.h"
#include "nalu/io/archive.h"
#include "nalu/strings.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/fused.h"
#include "nalu/train/record.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nalu_checkpoint_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

nalu::RunConfig small_config(const std::string& engine, const std::string& units = "nau,nmu") {
  nalu::RunConfig config = nalu::testing::small_run_config(units, nalu::Operation::kMul, engine);
  config.training.iterations = 600;
  config.seed = 3;
  return config;
}

std::string file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void expect_same_history(const nalu::TrainResult& a, const nalu::TrainResult& b, double tolerance) {
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) {
    const auto& x = a.history[i];
    const auto& y = b.history[i];
    EXPECT_EQ(x.step, y.step);
    for (const auto& [u, v] : {std::pair{x.interpolation_mse, y.interpolation_mse},
                               std::pair{x.extrapolation_mse, y.extrapolation_mse},
                               std::pair{x.sparsity_error, y.sparsity_error}}) {
      if (tolerance == 0.0) {
        EXPECT_EQ(u, v) << "evaluation " << i;
      } else {
        EXPECT_NEAR(u, v, tolerance * std::max(1.0, std::fabs(u))) << "evaluation " << i;
      }
    }
  }
  EXPECT_EQ(a.best.step, b.best.step);
  EXPECT_EQ(a.best_formula.str(), b.best_formula.str());
  EXPECT_EQ(a.final_formula.str(), b.final_formula.str());
}

// Trains `config` uninterrupted, then again stopped after step 300 (a stop request from the
// progress callback) and resumed; compares results and saved models.
void interrupt_and_resume(const nalu::RunConfig& config, const std::string& dir, double tolerance) {
  nalu::RunControl whole;
  whole.save_model = dir + "/whole.nalu";
  const nalu::TrainResult expected = nalu::run(config, {}, whole);

  std::atomic<bool> stop{false};
  nalu::RunControl control;
  control.checkpoint = dir + "/run.ckpt";
  control.checkpoint_interval = 50;
  control.stop = &stop;
  control.resume = true;
  control.save_model = dir + "/resumed.nalu";
  int64_t stopped_at = 0;
  try {
    nalu::run(
        config,
        [&](const nalu::ProgressEvent& event) {
          if (event.step >= 300)
            stop = true;
        },
        control);
    FAIL() << "the stop request was ignored";
  } catch (const nalu::Interrupted& e) {
    stopped_at = e.step();
    EXPECT_EQ(e.checkpoint(), control.checkpoint);
  }
  EXPECT_EQ(stopped_at, 300);
  ASSERT_TRUE(fs::exists(control.checkpoint));
  stop = false;
  const nalu::TrainResult resumed = nalu::run(config, {}, control);
  EXPECT_EQ(resumed.resumed_from, 300);
  expect_same_history(expected, resumed, tolerance);
  if (tolerance == 0.0) {
    EXPECT_EQ(file_bytes(whole.save_model), file_bytes(control.save_model));
  }
}

TEST(NonFinitePolicy, NamesParseBothWaysAndUnknownOnesAreRefused) {
  EXPECT_EQ(nalu::parse_non_finite_policy("stop"), nalu::NonFinitePolicy::kStop);
  EXPECT_EQ(nalu::parse_non_finite_policy("rollback"), nalu::NonFinitePolicy::kRollback);
  EXPECT_EQ(nalu::non_finite_policy_names(), (std::vector<std::string>{"stop", "rollback"}));
  EXPECT_THROW_WITH(nalu::parse_non_finite_policy("retry"),
                    "unknown non-finite policy 'retry' (known: stop, rollback)");
}

TEST_F(Checkpoints, FusedRunResumesBitForBit) {
  interrupt_and_resume(small_config("fused"), dir_.string(), 0.0);
}

TEST_F(Checkpoints, FusedRunWithRmspropMomentumResumesBitForBit) {
  auto config = small_config("fused", "nalu");
  config.optimizer.name = "rmsprop";
  config.optimizer.momentum = 0.5;
  config.optimizer.learning_rate = 1e-2;
  interrupt_and_resume(config, dir_.string(), 0.0);
}

TEST_F(Checkpoints, TorchRunResumesWithinTolerance) {
  interrupt_and_resume(small_config("torch"), dir_.string(), 1e-6);
}

TEST_F(Checkpoints, TorchRunWithSgdMomentumResumes) {
  auto config = small_config("torch", "linear");
  config.optimizer.name = "sgd";
  config.optimizer.momentum = 0.9;
  config.task_options.op = nalu::Operation::kAdd;
  interrupt_and_resume(config, dir_.string(), 1e-6);
}

TEST_F(Checkpoints, ResumingAnotherRunIsRefused) {
  auto config = small_config("fused");
  nalu::RunControl control;
  control.checkpoint = path("run.ckpt");
  nalu::run(config, {}, control);
  control.resume = true;
  config.training.iterations = 700;
  try {
    nalu::run(config, {}, control);
    FAIL();
  } catch (const nalu::Error& e) {
    EXPECT_NE(std::string(e.what()).find("from a different run (config.training.iterations"),
              std::string::npos)
        << e.what();
  }
  config = small_config("torch");
  try {
    nalu::run(config, {}, control);
    FAIL();
  } catch (const nalu::Error& e) {
    EXPECT_NE(std::string(e.what()).find("written by the fused engine"), std::string::npos)
        << e.what();
  }
}

TEST_F(Checkpoints, DamagedCheckpointIsAClearError) {
  auto config = small_config("fused");
  nalu::RunControl control;
  control.checkpoint = path("run.ckpt");
  nalu::run(config, {}, control);
  std::string bytes = file_bytes(control.checkpoint);
  bytes.resize(bytes.size() / 2);
  std::ofstream(control.checkpoint, std::ios::binary) << bytes;
  control.resume = true;
  try {
    nalu::run(config, {}, control);
    FAIL();
  } catch (const nalu::Error& e) {
    EXPECT_NE(std::string(e.what()).find("damaged archive"), std::string::npos) << e.what();
  }
}

// Replaces every copy of the little-endian double `from` in the archive at `path` by `to`, then
// restores the checksum (FNV-1a of the rest); returns how many copies there were.
int replace_double(const std::string& path, double from, double to) {
  std::string bytes = file_bytes(path);
  const std::string from_bytes(reinterpret_cast<const char*>(&from), sizeof from);
  const std::string to_bytes(reinterpret_cast<const char*>(&to), sizeof to);
  int replaced = 0;
  for (size_t at = bytes.find(from_bytes); at != std::string::npos;
       at = bytes.find(from_bytes, at + 1), ++replaced)
    bytes.replace(at, sizeof to, to_bytes);
  const size_t body = bytes.size() - 8;
  const uint64_t checksum = nalu::io::fnv1a64(std::string_view(bytes).substr(0, body));
  for (size_t i = 0; i < 8; ++i)
    bytes[body + i] = static_cast<char>(checksum >> (8 * i));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  return replaced;
}

// A checkpoint whose checksum is valid but whose history holds a step no int64_t can hold (found
// by fuzz/checkpoint_fuzzer.cpp: casting it was undefined behaviour) is a damaged checkpoint.
TEST_F(Checkpoints, EvaluationStepOutOfRangeIsAClearError) {
  auto config = small_config("fused");
  nalu::RunControl control;
  control.checkpoint = path("run.ckpt");
  nalu::run(config, {}, control);
  // The last evaluation's step (600) is stored as a double in the history and in the best row.
  ASSERT_GT(replace_double(control.checkpoint, 600.0, 1e30), 0);
  control.resume = true;
  try {
    nalu::run(config, {}, control);
    FAIL() << "a step of 1e30 was accepted";
  } catch (const nalu::Error& e) {
    EXPECT_NE(std::string(e.what()).find("an evaluation step is not a whole number"),
              std::string::npos)
        << e.what();
  }
}

// A saved learning rate above the configured one (found by fuzz/checkpoint_fuzzer.cpp: a rate of
// 1.7e79 reached Adam, whose kernel threw std::runtime_error, "value cannot be converted to type
// float without overflow") or not positive is a damaged checkpoint, on both engines; the
// configured rate itself resumes.
TEST_F(Checkpoints, LearningRateOutOfRangeIsAClearError) {
  for (const std::string engine : {"torch", "fused"}) {
    SCOPED_TRACE(engine);
    auto config = small_config(engine);
    config.training.iterations = 200;
    nalu::RunControl control;
    control.checkpoint = path(engine + ".ckpt");
    std::atomic<bool> stop{false};
    control.stop = &stop;
    control.resume = true;
    const auto stop_at_100 = [&](const nalu::ProgressEvent& event) {
      if (event.step >= 100)
        stop = true;
    };
    EXPECT_THROW(nalu::run(config, stop_at_100, control), nalu::Interrupted);
    stop = false;
    const std::string saved = file_bytes(control.checkpoint);
    for (const double rate : {1.7e79, 2e-3, 0.0, -1e-3}) {
      SCOPED_TRACE("learning rate " + std::to_string(rate));
      std::ofstream(control.checkpoint, std::ios::binary | std::ios::trunc) << saved;
      // The rate (1e-3, the default) is saved once, among the scalars.
      ASSERT_EQ(replace_double(control.checkpoint, config.optimizer.learning_rate, rate), 1);
      try {
        nalu::run(config, {}, control);
        FAIL() << "the saved rate was accepted";
      } catch (const nalu::Error& e) {
        EXPECT_NE(std::string(e.what()).find(": damaged checkpoint (its learning rate"),
                  std::string::npos)
            << e.what();
      }
    }
    std::ofstream(control.checkpoint, std::ios::binary | std::ios::trunc) << saved;
    EXPECT_EQ(nalu::run(config, {}, control).resumed_from, 100);
  }
}

TEST_F(Checkpoints, NonFiniteParameterStopsOrRollsBack) {
  for (const std::string engine : {"fused", "torch"}) {
    auto config = small_config(engine);
    nalu::RunControl control;
    control.inject_non_finite_at = 250;
    try {
      nalu::run(config, {}, control);
      FAIL() << engine;
    } catch (const nalu::NumericalError& e) {
      EXPECT_EQ(e.step(), 251) << engine;
      EXPECT_NE(e.parameter(), "loss") << engine;
    }
    control.on_non_finite = nalu::NonFinitePolicy::kRollback;
    const nalu::TrainResult result = nalu::run(config, {}, control);
    ASSERT_EQ(result.rollbacks.size(), 1u) << engine;
    EXPECT_EQ(result.rollbacks[0].step, 251);
    EXPECT_EQ(result.rollbacks[0].restored_step, 200);
    EXPECT_DOUBLE_EQ(result.rollbacks[0].learning_rate, config.optimizer.learning_rate * 0.5);
    EXPECT_TRUE(std::isfinite(result.final.interpolation_mse)) << engine;
    EXPECT_EQ(result.history.back().step, 600);
    const auto record = nalu::make_record(config, result);
    EXPECT_EQ(record["non_finite_rollbacks"][0]["step"], 251);
  }
}

TEST_F(Checkpoints, SavedModelReportsTheSameFormulaAndErrors) {
  auto config = small_config("fused");
  nalu::RunControl control;
  control.save_model = path("model.nalu");
  const nalu::TrainResult result = nalu::run(config, {}, control);
  nalu::LoadedModel loaded = nalu::load_model(control.save_model);
  EXPECT_EQ(nalu::config_to_json(loaded.config), nalu::config_to_json(config));
  EXPECT_EQ(loaded.model->formula().str(), result.final_formula.str());
  const nalu::ArithmeticTask task = nalu::make_task(loaded.config);
  const auto [mse, accuracy] = nalu::evaluate(*loaded.model, task.interpolation_set(), 1e-4, 1e-4);
  EXPECT_NEAR(mse, result.final.interpolation_mse, 1e-6 * std::max(1.0, mse));
  EXPECT_DOUBLE_EQ(accuracy, result.final.interpolation_accuracy);

  EXPECT_THROW(nalu::load_model(path("missing.nalu")), nalu::Error);
  nalu::RunControl checkpointing;
  checkpointing.checkpoint = path("run.ckpt");
  nalu::run(config, {}, checkpointing);
  try {
    nalu::load_model(checkpointing.checkpoint);
    FAIL();
  } catch (const nalu::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not a model"), std::string::npos) << e.what();
  }
}

TEST(ConfigJson, RoundTripsEveryPreset) {
  for (const auto& name : nalu::task_names()) {
    nalu::RunConfig config = nalu::task_preset(name);
    config.seed = 17;
    const auto json = nalu::config_to_json(config);
    EXPECT_EQ(nalu::config_to_json(nalu::config_from_json(json)), json) << name;
  }
  nalu::RunConfig config = small_config("torch", "nalu");
  config.training.regularizer = nalu::RegularizerSchedule{0.1, 10, 20};
  config.task_options.explicit_subsets = true;
  config.task_options.subsets = {0, 3, 2, 7};
  config.task_options.interpolation = nalu::Range::parse("-2:-1,1:2");
  config.model.settings.init = nalu::Init::kTruncatedNormal;
  config.model.settings.nalu_shared_weights = false;
  const auto json = nalu::config_to_json(config);
  EXPECT_EQ(nalu::config_to_json(nalu::config_from_json(json)), json);
  EXPECT_FALSE(json["training"]["regularizer"].contains("tenfold_every"));
  config.training.regularizer->tenfold_every = 5;  // the NPU's L1 ladder
  const auto ladder = nalu::config_to_json(config);
  EXPECT_EQ(ladder["training"]["regularizer"]["tenfold_every"], 5);
  EXPECT_EQ(nalu::config_from_json(ladder).training.regularizer->tenfold_every, 5);
}

TEST(ConfigJson, NamesTheBadField) {
  auto json = nalu::config_to_json(nalu::task_preset("static"));
  auto expect_error = [](const nlohmann::json& bad, const std::string& text) {
    try {
      nalu::config_from_json(bad);
      FAIL() << "accepted: " << text;
    } catch (const nalu::Error& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  auto bad = json;
  bad["task"]["input_size"] = "100";
  expect_error(bad, "config: 'task.input_size' must be an integer");
  bad = json;
  bad["model"].erase("units");
  expect_error(bad, "config: 'model.units' is missing");
  bad = json;
  bad["training"]["batch_size"] = -1;
  expect_error(bad, "config: ");
  bad = json;
  bad["task"]["operation"] = "pow";
  expect_error(bad, "pow");
  expect_error(nlohmann::json::array(), "must be an object");
}

}  // namespace

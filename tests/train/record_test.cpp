// Records and safe writing.
#include "nalu/train/record.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nalu/error.h"
#include "nalu/io/files.h"
#include "nalu/version.h"
#include "test_util.h"

namespace nalu {
namespace {

namespace fs = std::filesystem;
using nalu::testing::TempDir;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Record, HoldsConfigurationMetricsFormulaAndTiming) {
  RunConfig config;
  config.task_options.input_size = 6;
  config.task_options.evaluation_size = 100;
  config.model.units = {"nau"};
  config.training.iterations = 20;
  config.training.eval_interval = 10;
  config.seed = 42;
  const TrainResult result = run(config);
  const auto record = make_record(config, result);
  EXPECT_EQ(record["nalu_version"], kVersion);
  EXPECT_EQ(record["status"], "ok");
  EXPECT_EQ(record["seed"], 42);
  EXPECT_EQ(record["config"]["task"]["input_size"], 6);
  EXPECT_EQ(record["config"]["task"]["operation"], "add");
  EXPECT_EQ(record["config"]["model"]["layers"], nlohmann::json({"nau", "nau"}));
  EXPECT_EQ(record["config"]["training"]["iterations"], 20);
  EXPECT_EQ(record["config"]["task"]["interpolation_range"], nlohmann::json::parse("[[1.0, 2.0]]"));
  EXPECT_EQ(record["history"].size(), 3u);
  EXPECT_EQ(record["final"]["step"], 20);
  EXPECT_EQ(record["best"]["interpolation_mse"], result.best.interpolation_mse);
  EXPECT_EQ(record["formula"]["lines"][0], result.best_formula.lines()[0]);
  EXPECT_GT(record["timing"]["iterations_per_second"].get<double>(), 0.0);
  // Round trip through text.
  EXPECT_EQ(nlohmann::json::parse(record.dump()), record);
}

TEST(Record, GradientClipIsWrittenOnlyWhenOn) {
  RunConfig config;
  EXPECT_FALSE(config_to_json(config)["optimizer"].contains("clip_grad_norm"));
  EXPECT_EQ(config_from_json(config_to_json(config)).optimizer.clip_grad_norm, 0.0);
  config.optimizer.clip_grad_norm = 1.0;
  EXPECT_EQ(config_to_json(config)["optimizer"]["clip_grad_norm"], 1.0);
  EXPECT_EQ(config_from_json(config_to_json(config)).optimizer.clip_grad_norm, 1.0);
}

TEST(Record, NonFiniteNumbersBecomeNull) {
  Evaluation e;
  e.extrapolation_mse = INFINITY;
  e.sparsity_error = NAN;
  const auto json = evaluation_to_json(e);
  EXPECT_TRUE(json["extrapolation_mse"].is_null());
  EXPECT_TRUE(json["sparsity_error"].is_null());
  EXPECT_NO_THROW(json.dump());
}

TEST(Record, SizeEstimateFollowsTheEvaluationsKept) {
  TrainingConfig training;
  training.iterations = 5'000'000;
  training.eval_interval = 1'000;
  const double all = record_bytes_estimate(training);
  const double thinned = record_bytes_estimate(training, 50);
  // 5,001 evaluations of about 300 bytes each, estimated high; thinned, about 101.
  EXPECT_GT(all, 5'001 * 300.0);
  EXPECT_LT(all, 5'001 * 1'000.0);
  EXPECT_GT(thinned, 101 * 300.0);
  EXPECT_LT(thinned, all / 40);
}

TEST(WriteFileAtomically, WritesAndReplaces) {
  TempDir dir;
  const auto file = dir.path / "run.json";
  write_file_atomically(file.string(), "first\n");
  EXPECT_EQ(read(file), "first\n");
  write_file_atomically(file.string(), "second\n");
  EXPECT_EQ(read(file), "second\n");
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()), 1);
}

TEST(WriteFileAtomically, ReportsUnwritablePaths) {
  TempDir dir;
  EXPECT_THROW_WITH(write_file_atomically((dir.path / "missing" / "run.json").string(), "x"),
                    "cannot write");
  EXPECT_THROW_WITH(check_writable((dir.path / "missing" / "run.json").string()), "does not exist");
  EXPECT_THROW_WITH(check_writable(dir.path.string()), "is a directory");
  EXPECT_NO_THROW(check_writable((dir.path / "new.json").string()));
}

}  // namespace
}  // namespace nalu

// Bench grids, sharding, the parallel runner, record files and tables.
#include "nalu/sweep/bench.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "nalu/error.h"
#include "nalu/sweep/records.h"
#include "nalu/sweep/table.h"
#include "nalu/train/record.h"
#include "test_util.h"

namespace nalu {
namespace {

namespace fs = std::filesystem;

// A grid small enough to run in the test suite.
BenchGrid tiny_grid() {
  BenchGrid grid = bench_preset("demo");
  grid.operations = {Operation::kAdd};
  grid.units = {"nau", "mlp"};
  grid.seeds = 2;
  set_iterations(grid, 200);
  grid.base.training.eval_interval = 100;
  grid.base.task_options.evaluation_size = 200;
  return grid;
}

struct TempFile {
  fs::path path;
  explicit TempFile(const std::string& suffix = "")
      : path(fs::temp_directory_path() /
             (std::string("nalu-bench-test-") +
              ::testing::UnitTest::GetInstance()->current_test_info()->name() + suffix +
              ".jsonl")) {
    fs::remove(path);
  }
  ~TempFile() { fs::remove(path); }
};

TEST(BenchGrid, ExpandsEveryCellAndSeedInAFixedOrder) {
  const auto runs = expand(bench_preset("nau-table1"));
  // Six units on four operations, and the two units that divide on ÷ only.
  EXPECT_EQ(runs.size(), (4u * 6u + 2u) * 100u);
  std::set<std::string> ids;
  for (const auto& run : runs)
    ids.insert(run.id);
  EXPECT_EQ(ids.size(), runs.size());
  EXPECT_EQ(runs.front().id, "add/nau/1:2->2:6/seed=0/it=5000000");
  EXPECT_EQ(runs.front().config.resolve_layers(), (std::vector<std::string>{"nau", "nau"}));
  // Their Table 1: one regulariser for every layer, lambda 10 from 1e6 to 2e6.
  ASSERT_TRUE(runs.front().config.training.regularizer.has_value());
  EXPECT_EQ(runs.front().config.training.regularizer->start, 1'000'000);
  // The Linear baseline is the reference code's: a bias, zero at the start, Xavier weights.
  for (const auto& run : runs) {
    if (run.unit == "linear") {
      EXPECT_TRUE(run.config.model.settings.linear_bias);
      EXPECT_EQ(run.config.model.settings.linear_init, LinearInit::kReference);
    }
    if (run.unit == "nmru" || run.unit == "nru") {
      EXPECT_EQ(run.config.task_options.op, Operation::kDiv);
      EXPECT_EQ(run.config.resolve_layers(), (std::vector<std::string>{"nau", run.unit}));
    }
  }
  EXPECT_EQ(expand(bench_preset("nau-table1")).back().id, runs.back().id);
}

TEST(BenchGrid, PresetsAndOverrides) {
  for (const auto& name : bench_preset_names())
    EXPECT_FALSE(expand(bench_preset(name)).empty());
  EXPECT_EQ(expand(bench_preset("ranges")).size(), 7u * 4u * 100u);
  const auto nalu_table = expand(bench_preset("nalu-table1"));
  EXPECT_EQ(nalu_table.size(), 6u * 4u * 10u);
  EXPECT_EQ(nalu_table.front().config.model.settings.mlp_activation, "relu6");
  // Mistry, Hare & Farrahi's division benchmark: 9 ranges x 4 units x 25 seeds, one layer, a
  // fixed threshold of 1e-5, each unit with its authors' optimiser settings.
  const auto division = expand(bench_preset("division"));
  EXPECT_EQ(division.size(), 9u * 4u * 25u);
  int improved = 0;
  for (const auto& run : division) {
    ASSERT_EQ(run.success_threshold, 1e-5);
    EXPECT_EQ(run.config.sizes(), (std::vector<int64_t>{10, 1}));
    EXPECT_EQ(run.config.task_options.op, Operation::kDiv);
    if (run.unit == "nmru") {
      EXPECT_EQ(run.config.optimizer.learning_rate, 1e-2);
      EXPECT_EQ(run.config.optimizer.clip_grad_norm, 1.0);
    }
    EXPECT_EQ(run.config.model.settings.npu_improved, run.unit == "real-npu:improved");
    if (run.unit.starts_with("real-npu")) {
      EXPECT_EQ(run.config.optimizer.learning_rate, 5e-3);
    }
    improved += run.unit == "real-npu:improved" ? 1 : 0;
  }
  EXPECT_EQ(improved, 9 * 25);
  BenchGrid variants = bench_preset("division");
  variants.units = {"nru:improved"};
  EXPECT_THROW_WITH(expand(variants), "unit spec 'nru:improved': a variant after ':'");
  EXPECT_FALSE(expand(bench_preset("ranges")).front().success_threshold.has_value());
  EXPECT_THROW_WITH(bench_preset("table9"), "unknown bench preset 'table9'");

  BenchGrid grid = bench_preset("nau-table1");
  set_iterations(grid, 50'000);  // 1/100 of the paper's run: the schedule shrinks with it
  EXPECT_EQ(grid.base.training.regularizer->start, 10'000);
  EXPECT_EQ(grid.base.training.regularizer->end, 20'000);
  EXPECT_THROW_WITH(set_iterations(grid, 0), "iterations must be positive");
  // Another NAC start is part of the cell's name, so its records never merge with the default's.
  grid.base.model.settings.init = Init::kReference;
  const auto reference = expand(grid);
  EXPECT_EQ(reference.front().unit, "nau init=reference");
  EXPECT_EQ(reference.front().id, "add/nau init=reference/1:2->2:6/seed=0/it=50000");
  grid.seeds = 0;
  EXPECT_THROW_WITH(expand(grid), "seeds must be positive");
}

TEST(BenchGrid, OverridesKeepWhatTheyDoNotSet) {
  const BenchGrid preset = bench_preset("nau-table1");
  BenchGrid unchanged = preset;
  apply_overrides(unchanged, {});
  EXPECT_EQ(expand(unchanged).size(), expand(preset).size());
  EXPECT_EQ(expand(unchanged).back().id, expand(preset).back().id);

  BenchGrid grid = preset;
  BenchOverrides overrides;
  overrides.operations = parse_operations("mul,sub");
  overrides.units = parse_unit_specs("nau+nmu,mlp:relu6");
  overrides.seeds = 2;
  overrides.iterations = 50'000;
  overrides.eval_interval = 250;  // applied after the iterations, which clamp it
  overrides.init = Init::kReference;
  overrides.engine = "torch";
  apply_overrides(grid, overrides);
  EXPECT_EQ(grid.operations, (std::vector<Operation>{Operation::kMul, Operation::kSub}));
  EXPECT_EQ(grid.units, (std::vector<std::string>{"nau,nmu", "mlp:relu6"}));
  EXPECT_EQ(grid.seeds, 2);
  EXPECT_EQ(grid.base.training.iterations, 50'000);
  EXPECT_EQ(grid.base.training.regularizer->start, 10'000);  // stretched with the run
  EXPECT_EQ(grid.base.training.eval_interval, 250);
  EXPECT_EQ(grid.base.model.settings.init, Init::kReference);
  EXPECT_EQ(grid.base.engine, "torch");
  EXPECT_THROW_WITH(parse_operations("mul,pow"), "unknown operation 'pow'");
}

TEST(BenchGrid, ResumePlanKeepsRunOrderAndIgnoresOtherRecords) {
  const auto runs = expand(tiny_grid());
  ASSERT_GE(runs.size(), 3u);
  const std::vector<nlohmann::json> existing = {
      {{"run_id", runs[2].id}, {"n", 2}},
      {{"run_id", "add/other/1:2->2:6/seed=0/it=5"}},  // another grid's run
      {{"run_id", runs[0].id}, {"n", 0}},
  };
  const ResumePlan plan = plan_resume(runs, existing);
  ASSERT_EQ(plan.recorded.size(), 2u);
  EXPECT_EQ(plan.recorded[0]["n"], 0);  // in run order, not file order
  EXPECT_EQ(plan.recorded[1]["n"], 2);
  ASSERT_EQ(plan.remaining.size(), runs.size() - 2);
  EXPECT_EQ(plan.remaining.front().id, runs[1].id);
  EXPECT_GT(records_bytes_estimate(plan.remaining, 1), records_bytes_estimate(plan.remaining, 50));
}

TEST(BenchShard, ShardsPartitionTheGrid) {
  const auto runs = expand(tiny_grid());
  std::multiset<std::string> seen;
  for (int64_t i = 0; i < 3; ++i) {
    for (const auto& run : shard(runs, i, 3))
      seen.insert(run.id);
  }
  std::multiset<std::string> all;
  for (const auto& run : runs)
    all.insert(run.id);
  EXPECT_EQ(seen, all);
  EXPECT_EQ(parse_shard("2/8"), (std::pair<int64_t, int64_t>{2, 8}));
  EXPECT_THROW_WITH(parse_shard("8/8"), "needs 0 <= I < N");
  EXPECT_THROW_WITH(parse_shard("1-4"), "expected I/N");
  EXPECT_THROW_WITH(parse_shard("a/4"), "expected I/N");
}

TEST(BenchRunner, RecordsDoNotDependOnTheNumberOfJobs) {
  const auto runs = expand(tiny_grid());
  auto collect = [&](int64_t jobs) {
    std::map<std::string, nlohmann::json> by_id;
    run_bench(runs, jobs, [&](const nlohmann::json& record) { by_id[record["run_id"]] = record; });
    return by_id;
  };
  const auto one = collect(1);
  const auto two = collect(2);
  ASSERT_EQ(one.size(), runs.size());
  ASSERT_EQ(two.size(), runs.size());
  for (const auto& [id, record] : one) {
    EXPECT_EQ(record["best"], two.at(id)["best"]) << id;
    EXPECT_EQ(record["bench"]["threshold"], two.at(id)["bench"]["threshold"]);
    EXPECT_TRUE(record["bench"].contains("success"));
    EXPECT_EQ(record["bench"]["operation"], "add");
  }
}

TEST(BenchRunner, RunsOfOneSeedTrainTogetherWithTheRecordsTheyHaveAlone) {
  BenchGrid grid = tiny_grid();
  grid.units = {"nau", "nac", "linear", "mlp"};
  const auto runs = expand(grid);
  const auto groups = batch_groups(runs, true);
  std::set<size_t> seen;
  size_t together = 0;
  for (const auto& group : groups) {
    for (const size_t i : group) {
      EXPECT_TRUE(seen.insert(i).second) << i;
      EXPECT_EQ(runs[i].config.seed, runs[group.front()].config.seed);
    }
    together += group.size() > 1 ? group.size() : 0;
  }
  EXPECT_EQ(seen.size(), runs.size());
  EXPECT_GE(together, 6u);  // at least NAU, NAC and Linear of each of the 2 seeds
  EXPECT_EQ(batch_groups(runs, false).size(), runs.size());
  // Enough items for the threads: the largest groups are split.
  EXPECT_EQ(batch_groups(runs, true, static_cast<int64_t>(groups.size()) + 1).size(),
            groups.size() + 1);
  EXPECT_EQ(batch_groups(runs, true, 100).size(), runs.size());

  auto collect = [&](bool share) {
    BenchControl control;
    control.share_batches = share;
    std::map<std::string, nlohmann::json> by_id;
    run_bench(
        runs, 2, [&](const nlohmann::json& record) { by_id[record["run_id"]] = record; }, {},
        control);
    return by_id;
  };
  auto alone = collect(false);
  auto shared = collect(true);
  ASSERT_EQ(alone.size(), runs.size());
  ASSERT_EQ(shared.size(), runs.size());
  int64_t in_passes = 0;
  for (auto& [id, record] : shared) {
    EXPECT_EQ(alone.at(id)["timing"]["runs_in_pass"], 1) << id;
    in_passes += record["timing"]["runs_in_pass"].get<int64_t>() > 1 ? 1 : 0;
    record.erase("timing");
    alone.at(id).erase("timing");
    EXPECT_EQ(record, alone.at(id)) << id;
  }
  EXPECT_EQ(in_passes, static_cast<int64_t>(together));
}

TEST(BenchRecords, ThinnedHistoriesKeepTheEndsAndTheTablesFigures) {
  BenchGrid grid = tiny_grid();
  grid.units = {"nau"};
  grid.seeds = 1;
  grid.base.training.eval_interval = 20;  // 11 evaluations: steps 0, 20, ..., 200
  const auto runs = expand(grid);
  ASSERT_EQ(runs.size(), 1u);
  const nlohmann::json whole = run_bench_record(runs[0]);
  BenchControl control;
  control.history_every = 4;
  const nlohmann::json thinned = run_bench_record(runs[0], control);
  ASSERT_EQ(whole["history"].size(), 11u);
  EXPECT_FALSE(whole.contains("history_every"));
  // Evaluations 0, 4 and 8, and the last (10).
  ASSERT_EQ(thinned["history"].size(), 4u);
  EXPECT_EQ(thinned["history_every"], 4);
  EXPECT_EQ(thinned["history"][0], whole["history"][0]);
  EXPECT_EQ(thinned["history"][1], whole["history"][4]);
  EXPECT_EQ(thinned["history"][2], whole["history"][8]);
  EXPECT_EQ(thinned["history"][3], whole["history"][10]);
  // The bench's figures come from the whole history.
  EXPECT_EQ(thinned["bench"], whole["bench"]);
  EXPECT_EQ(thinned["best"], whole["best"]);
  // Thinning a thinned record again by 1 changes nothing; 0 is refused.
  nlohmann::json again = thinned;
  thin_history(again, 1);
  EXPECT_EQ(again, thinned);
  EXPECT_THROW_WITH(thin_history(again, 0), "N >= 1");
  control.history_every = 0;
  EXPECT_THROW_WITH(run_bench(
                        runs, 1, [](const nlohmann::json&) {}, {}, control),
                    "history_every must be at least 1");
}

TEST(BenchSelection, TrainsEveryCandidateOnOneTaskAndKeepsTheBestInterpolation) {
  BenchGrid grid = bench_preset("division");
  grid.units = parse_unit_specs("nmru|real-npu:improved,nru");
  grid.ranges.resize(2);
  grid.seeds = 2;
  set_iterations(grid, 300);
  grid.base.training.eval_interval = 100;
  grid.base.task_options.evaluation_size = 200;
  const auto runs = expand(grid);
  ASSERT_EQ(runs.size(), 2u * 2u * 2u);
  EXPECT_EQ(runs[0].id, "div/nmru|real-npu:improved/-20:-10->-40:-20/seed=0/it=300");
  ASSERT_EQ(runs[0].candidates.size(), 2u);
  EXPECT_TRUE(runs[2].candidates.empty());  // nru alone
  // Each candidate is configured as the preset configures it alone.
  const auto& nmru = runs[0].candidates[0];
  const auto& npu = runs[0].candidates[1];
  EXPECT_EQ(nmru.unit, "nmru");
  EXPECT_EQ(nmru.config.optimizer.learning_rate, 1e-2);
  EXPECT_EQ(npu.config.model.units, (std::vector<std::string>{"real-npu"}));
  EXPECT_TRUE(npu.config.model.settings.npu_improved);
  EXPECT_EQ(npu.config.optimizer.learning_rate, 5e-3);
  EXPECT_EQ(nmru.config.seed, npu.config.seed);
  EXPECT_EQ(runs[0].config.model.units, nmru.config.model.units);

  // The record is the kept candidate's, step for step the record of that unit trained alone.
  const nlohmann::json selected = run_bench_record(runs[0]);
  const auto& bench = selected["bench"];
  EXPECT_EQ(bench["unit"], "nmru|real-npu:improved");
  ASSERT_EQ(bench["candidates"].size(), 2u);
  BenchGrid alone = grid;
  alone.units = {bench["selected"].get<std::string>()};
  const nlohmann::json single = run_bench_record(expand(alone)[0]);
  EXPECT_EQ(selected["best"], single["best"]);
  EXPECT_EQ(selected["config"], single["config"]);
  EXPECT_EQ(bench["success"], single["bench"]["success"]);
  const size_t kept = bench["selected"] == "nmru" ? 0 : 1;
  const auto& other = bench["candidates"][1 - kept];
  EXPECT_EQ(bench["candidates"][kept]["interpolation_mse"], single["best"]["interpolation_mse"]);
  if (!other["interpolation_mse"].is_null()) {
    EXPECT_LE(single["best"]["interpolation_mse"].get<double>(),
              other["interpolation_mse"].get<double>());
  }

  // Selection reads the best-step interpolation error; a diverged run counts as infinite and a
  // tie keeps the earlier candidate.
  auto record = [](double interpolation, const char* status = "finished") {
    return nlohmann::json{{"status", status}, {"best", {{"interpolation_mse", interpolation}}}};
  };
  EXPECT_EQ(select_candidate({record(1e-3), record(1e-9), record(1e-6)}), 1u);
  EXPECT_EQ(select_candidate({record(1e-12, "diverged"), record(1.0)}), 1u);
  EXPECT_EQ(select_candidate({record(2.0), record(2.0)}), 0u);
  EXPECT_EQ(select_candidate({nlohmann::json::object(), record(5.0)}), 1u);
  EXPECT_THROW_WITH(select_candidate({}), "no candidate records");
  for (const char* spec : {"nmru|", "|nmru", "nmru||nru", ""}) {
    grid.units = {spec};
    EXPECT_THROW_WITH(expand(grid), "an empty unit spec");
  }
  grid.units = {"nmru|nru|nmru"};
  EXPECT_THROW_WITH(expand(grid), "names 'nmru' twice");
  grid.units = {"nmru|nru:fast"};
  EXPECT_THROW_WITH(expand(grid), "unit spec 'nru:fast'");
}

TEST(BenchRecords, ResumeAndMergeLoseAndDuplicateNothing) {
  TempFile first("-1"), second("-2"), merged_file("-merged");
  const auto runs = expand(tiny_grid());
  // An "interrupted" bench: shard 0 of 2 recorded in one file, shard 1 in another.
  run_bench(shard(runs, 0, 2), 1, [&](const auto& r) { append_record(first.path, r); });
  run_bench(shard(runs, 1, 2), 1, [&](const auto& r) { append_record(second.path, r); });
  // Shard 0 again in the second file: merge must keep each run once.
  run_bench(shard(runs, 0, 2), 1, [&](const auto& r) { append_record(second.path, r); });
  const auto merged = merge_records({first.path.string(), second.path.string()});
  ASSERT_EQ(merged.size(), runs.size());
  std::set<std::string> expected;
  for (const auto& run : runs)
    expected.insert(run.id);
  EXPECT_EQ(recorded_ids(merged), expected);
  // Resume: what is recorded is skipped.
  const auto done = recorded_ids(read_records(first.path.string()));
  EXPECT_EQ(done.size(), shard(runs, 0, 2).size());
  EXPECT_TRUE(read_records(merged_file.path.string(), /*missing_ok=*/true).empty());
}

TEST(BenchRecords, CorruptFilesAreRejectedWithTheirLine) {
  TempFile file;
  {
    std::ofstream out(file.path);
    out << "{\"run_id\": \"a\", \"bench\": {}}\n{\"run_id\": \"b\", \"be";
  }
  EXPECT_THROW_WITH(read_records(file.path.string()), ":2: not valid JSON");
  {
    std::ofstream out(file.path);
    out << "[1, 2]\n";
  }
  EXPECT_THROW_WITH(read_records(file.path.string()), ":1: a record must be a JSON object");
  EXPECT_THROW_WITH(read_records("/nonexistent/records.jsonl"), "no such file");
  {
    std::ofstream out(file.path);
    out << "{\"status\": \"ok\"}\n";
  }
  EXPECT_THROW_WITH(merge_records({file.path.string()}), "has no run_id");
}

TEST(BenchRecords, ParsesFromAStreamAndNamesTheSourceInErrors) {
  std::istringstream good("{\"run_id\": \"a\"}\n\n  \r\n{\"run_id\": \"b\"}");
  const auto records = parse_records(good, "inline");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1]["run_id"], "b");
  std::istringstream truncated("{\"run_id\": \"a\"}\n{\"run_id\": ");
  EXPECT_THROW_WITH(parse_records(truncated, "inline"), "inline:2: not valid JSON");
}

nlohmann::json fake_record(const std::string& unit, bool success, double extrapolation,
                           std::optional<int64_t> solved_at) {
  return {{"run_id", unit + std::to_string(extrapolation)},
          {"status", "ok"},
          {"best",
           {{"interpolation_mse", extrapolation / 10},
            {"extrapolation_mse", extrapolation},
            {"sparsity_error", 0.01}}},
          {"bench",
           {{"operation", "mul"},
            {"unit", unit},
            {"range", "1:2->2:6"},
            {"success", success},
            {"solved_at", solved_at ? nlohmann::json(*solved_at) : nlohmann::json()},
            {"threshold", 1e-3},
            {"initial_interpolation_mse", 10.0},
            {"initial_extrapolation_mse", 100.0}}}};
}

TEST(BenchTable, SummarisesSuccessRatesWithIntervals) {
  std::vector<nlohmann::json> records = {
      fake_record("nmu", true, 1e-6, 1000), fake_record("nmu", true, 2e-6, 3000),
      fake_record("nmu", false, 5.0, std::nullopt), fake_record("nmu", true, 3e-6, 2000),
      fake_record("mlp", false, 100.0, std::nullopt)};
  records.back()["status"] = "diverged";
  const auto rows = summarize(records);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].unit, "nmu");
  EXPECT_EQ(rows[0].runs, 4);
  EXPECT_EQ(rows[0].successes, 3);
  EXPECT_DOUBLE_EQ(rows[0].success_rate, 0.75);
  EXPECT_NEAR(rows[0].success_low, 0.3006, 1e-3);  // Wilson 95% for 3/4
  EXPECT_NEAR(rows[0].success_high, 0.9544, 1e-3);
  EXPECT_DOUBLE_EQ(rows[0].median_solved_at, 2000);
  EXPECT_DOUBLE_EQ(rows[0].median_extrapolation_mse, (2e-6 + 3e-6) / 2);
  // Normalised error: 100 * mean best / mean initial.
  EXPECT_NEAR(rows[1].extrapolation_normalized_error, 100.0, 1e-9);
  EXPECT_NEAR(rows[1].interpolation_normalized_error, 100.0, 1e-9);

  const std::string markdown = render_table(rows, "markdown");
  EXPECT_NE(markdown.find("| mul | nmu | 1:2->2:6 | 4 | 75% | 30–95% | 2000 |"), std::string::npos)
      << markdown;
  EXPECT_NE(markdown.find("| extrap. norm. err | diverged |"), std::string::npos) << markdown;
  const std::string csv = render_table(rows, "csv");
  EXPECT_NE(csv.find("mul,mlp,1:2->2:6,1,0%"), std::string::npos) << csv;
  const auto json = nlohmann::json::parse(render_table(rows, "json"));
  EXPECT_EQ(json[0]["successes"], 3);
  EXPECT_EQ(json[1]["diverged"], 1);
  EXPECT_TRUE(json[1]["median_solved_at"].is_null());
  EXPECT_THROW_WITH(render_table(rows, "html"), "unknown table format 'html'");
  // A selection's '|' is escaped in markdown, so that the row keeps its columns.
  auto selection = rows;
  selection[0].unit = "nmru|nru";
  EXPECT_NE(render_table(selection, "markdown").find("| mul | nmru\\|nru | 1:2->2:6 |"),
            std::string::npos);
  EXPECT_NE(render_table(selection, "csv").find("mul,nmru|nru,"), std::string::npos);

  // Pooled over ranges: one row per operation and unit, whatever the ranges.
  records[1]["bench"]["range"] = "10:20->20:40";
  ASSERT_EQ(summarize(records).size(), 3u);
  const auto pooled = summarize(records, true);
  ASSERT_EQ(pooled.size(), 2u);
  EXPECT_EQ(pooled[0].range, "2 ranges");
  EXPECT_EQ(pooled[0].successes, 3);
  EXPECT_EQ(pooled[0].runs, 4);
  EXPECT_EQ(pooled[1].range, "1 range");
  EXPECT_THROW_WITH(summarize({nlohmann::json{{"status", "ok"}}}), "has no bench metrics");
}

// Records from a damaged or hand-edited file: a field of the wrong type is a nalu::Error that
// names the record and the field (as fuzz/corpus/records/wrong-types.jsonl checks).
TEST(BenchTable, FieldsOfTheWrongTypeAreErrors) {
  const auto good = fake_record("nmu", true, 1e-6, 1000);
  auto with = [&](const std::string& key, const nlohmann::json& value, bool in_bench = true) {
    std::vector<nlohmann::json> records = {good, good};
    (in_bench ? records[1]["bench"] : records[1])[key] = value;
    return records;
  };
  EXPECT_THROW_WITH(summarize(with("unit", 7)), "record 2: 'unit' must be a string");
  EXPECT_THROW_WITH(summarize(with("success", 1)), "record 2: 'success' must be true or false");
  EXPECT_THROW_WITH(summarize(with("index", 1e300)), "record 2: 'index' must be an integer");
  EXPECT_THROW_WITH(summarize(with("status", nullptr, false)), "'status' must be a string");
  EXPECT_EQ(summarize(with("index", 3)).size(), 1u);
}

}  // namespace
}  // namespace nalu

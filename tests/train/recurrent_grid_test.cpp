// The recurrent table: grid expansion, the normalised errors of a summary, rendering, and a
// tiny grid run end to end.
#include "nalu/train/recurrent_grid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "nalu/error.h"
#include "test_util.h"

namespace nalu {
namespace {

RecurrentRun finished(Operation op, const std::string& core, double initial, double best) {
  RecurrentRun run;
  run.op = op;
  run.core = core;
  run.initial_interpolation_mse = initial;
  run.initial_extrapolation_mse = 10 * initial;
  run.best_interpolation_mse = best;
  run.best_extrapolation_mse = 10 * best;
  return run;
}

TEST(RecurrentGrid, ExpandsOperationsCoresAndSeedsInOrder) {
  RecurrentGrid grid;
  grid.operations = {Operation::kAdd, Operation::kSub};
  grid.cores = {"nac", "lstm"};
  grid.seeds = 2;
  grid.base.hidden_size = 2;
  grid.baseline_hidden_size = 16;
  const auto configs = grid.expand();
  ASSERT_EQ(configs.size(), 8u);
  EXPECT_EQ(configs[0].core, "nac");
  EXPECT_EQ(configs[0].hidden_size, 2);
  EXPECT_EQ(configs[1].seed, 1u);
  EXPECT_EQ(configs[2].core, "lstm");
  EXPECT_EQ(configs[2].hidden_size, 16);
  EXPECT_EQ(configs[7].task.op, Operation::kSub);
}

TEST(RecurrentGrid, SummariesNormaliseMeansOverSeedsAndSkipDivergedRuns) {
  RecurrentRun diverged;
  diverged.core = "nalu";
  diverged.diverged = true;
  const std::vector<RecurrentRun> runs = {finished(Operation::kAdd, "nac", 4.0, 0.0),
                                          finished(Operation::kAdd, "nac", 4.0, 2.0),
                                          finished(Operation::kAdd, "nalu", 8.0, 4.0), diverged};
  const auto rows = summarize_recurrent(runs);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].core, "nac");
  EXPECT_EQ(rows[0].runs, 2);
  EXPECT_DOUBLE_EQ(rows[0].interpolation_error, 25.0);  // 100 * mean(0, 2) / mean(4, 4)
  EXPECT_DOUBLE_EQ(rows[0].extrapolation_error, 25.0);
  EXPECT_DOUBLE_EQ(rows[0].median_extrapolation_mse, 10.0);
  EXPECT_EQ(rows[1].runs, 2);
  EXPECT_EQ(rows[1].diverged, 1);
  EXPECT_DOUBLE_EQ(rows[1].interpolation_error, 50.0);
  // Only diverged runs: nothing to normalise.
  const auto none = summarize_recurrent({diverged});
  ASSERT_EQ(none.size(), 1u);
  EXPECT_TRUE(std::isnan(none[0].extrapolation_error));
}

TEST(RecurrentGrid, TheLastQuarterGainComparesTheLowestErrorsAtThreeQuartersAndAtTheEnd) {
  // Evaluations at steps 0, 100, ..., 400: three quarters is step 300.
  auto with_history = [](const std::vector<double>& interpolation) {
    RecurrentRun run = finished(Operation::kAdd, "nau", interpolation.front(), 0.0);
    for (size_t i = 0; i < interpolation.size(); ++i) {
      Evaluation evaluation;
      evaluation.step = static_cast<int64_t>(100 * i);
      evaluation.interpolation_mse = interpolation[i];
      run.history.push_back(evaluation);
    }
    run.best_interpolation_mse = *std::min_element(interpolation.begin(), interpolation.end());
    return run;
  };
  // Lowest up to step 300: 4; up to 400: 2; step-0 MSE 20: 100 * 2 / 20 = 10 points.
  const auto still_learning = with_history({20, 10, 6, 4, 2});
  // A worse last evaluation gains nothing: the lowest so far counts.
  const auto flat = with_history({20, 1, 1, 1, 3});
  auto rows = summarize_recurrent({still_learning});
  EXPECT_DOUBLE_EQ(rows[0].last_quarter_gain, 10.0);
  rows = summarize_recurrent({still_learning, flat});
  EXPECT_DOUBLE_EQ(rows[0].last_quarter_gain, 5.0);  // the mean of 10 and 0
  // Runs without a history (or diverged) have no gain.
  rows = summarize_recurrent({finished(Operation::kAdd, "nau", 4.0, 1.0)});
  EXPECT_TRUE(std::isnan(rows[0].last_quarter_gain));
}

TEST(RecurrentGrid, RendersMarkdownAndCsv) {
  const auto rows = summarize_recurrent({finished(Operation::kMul, "lstm", 4.0, 1.0)});
  const std::string markdown = render_recurrent_table(rows, "markdown");
  EXPECT_NE(markdown.find("| mul | lstm | 1 | 0 | 25 | 25 | 10 | - |"), std::string::npos)
      << markdown;
  const std::string csv = render_recurrent_table(rows, "csv");
  EXPECT_EQ(csv,
            "op,core,runs,diverged,interpolation error,extrapolation error,median extrapolation "
            "MSE,last-quarter gain\nmul,lstm,1,0,25,25,10,-\n");
  EXPECT_THROW_WITH(render_recurrent_table(rows, "html"), "unknown table format 'html'");
}

TEST(RecurrentGrid, RunsATinyGridOnTwoThreadsAsOnOne) {
  RecurrentGrid grid;
  grid.operations = {Operation::kAdd};
  grid.cores = {"nac", "rnn-tanh"};
  grid.seeds = 2;
  grid.base.iterations = 20;
  grid.base.eval_interval = 10;
  grid.base.task.evaluation_size = 50;
  int64_t calls = 0;
  const auto parallel =
      run_recurrent_grid(grid, 2, [&](const RecurrentRun&, int64_t, int64_t) { ++calls; });
  const auto serial = run_recurrent_grid(grid, 1);
  EXPECT_EQ(calls, 4);
  ASSERT_EQ(parallel.size(), 4u);
  for (size_t i = 0; i < parallel.size(); ++i) {
    EXPECT_EQ(parallel[i].core, serial[i].core);
    // Intra-op threads may reorder a reduction: equal up to rounding.
    EXPECT_NEAR(parallel[i].best_extrapolation_mse, serial[i].best_extrapolation_mse,
                1e-5 * serial[i].best_extrapolation_mse);
  }
  // One record per run, in the grid's order, with its settings and history.
  const std::string records = recurrent_records(grid, serial);
  std::istringstream lines(records);
  size_t index = 0;
  for (std::string line; std::getline(lines, line); ++index) {
    const auto record = nlohmann::json::parse(line);
    EXPECT_EQ(record["kind"], "recurrent");
    EXPECT_EQ(record["operation"], "add");
    EXPECT_EQ(record["core"], serial[index].core);
    EXPECT_EQ(record["seed"], serial[index].seed);
    EXPECT_EQ(record["config"]["iterations"], 20);
    EXPECT_EQ(record["config"]["range"], "1:2");
    ASSERT_EQ(record["history"].size(), 3u);  // steps 0, 10, 20
    EXPECT_EQ(record["history"][2]["step"], 20);
    EXPECT_DOUBLE_EQ(record["best"]["extrapolation_mse"].get<double>(),
                     serial[index].best_extrapolation_mse);
  }
  EXPECT_EQ(index, 4u);
  EXPECT_THROW_WITH(recurrent_records(grid, {serial[0]}), "1 runs for a grid of 4");
  grid.cores = {"nac", "cnn"};
  EXPECT_THROW_WITH(run_recurrent_grid(grid, 1), "unknown recurrent core 'cnn'");
  grid.cores = {"nac"};
  EXPECT_THROW_WITH(run_recurrent_grid(grid, 0), "recurrent: jobs must be positive, got 0");
}

}  // namespace
}  // namespace nalu

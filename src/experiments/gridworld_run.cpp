// `nalu experiment gridworld`: the NALU paper's time-tracking agents, trained on T in [5, 12]
// and tested on every T up to 25. Writes the table, the reward and on-target figures, one
// record per agent and episode strips of the best agent of each kind.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>

#include "nalu/error.h"
#include "nalu/experiments/gridworld.h"
#include "nalu/experiments/report.h"
#include "nalu/io/files.h"
#include "nalu/io/png.h"
#include "nalu/strings.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/record.h"
#include "nalu/version.h"

namespace nalu {

namespace {

// The random policy's floor is measured over this many episodes per T.
constexpr int64_t kRandomEpisodes = 1'000;

std::vector<const GridworldRun*> runs_of(const GridworldResult& result, GridAgentKind kind) {
  std::vector<const GridworldRun*> runs;
  for (const auto& run : result.runs) {
    if (run.agent == kind)
      runs.push_back(&run);
  }
  return runs;
}

// Mean over an agent's seeds of a score field at test index t.
double mean_at(const std::vector<const GridworldRun*>& runs, size_t t, double GridScore::*field) {
  double sum = 0.0;
  for (const auto* run : runs)
    sum += run->test[t].*field;
  return sum / static_cast<double>(runs.size());
}

std::vector<double> values_at(const std::vector<const GridworldRun*>& runs, size_t t,
                              double GridScore::*field, double scale) {
  std::vector<double> values;
  for (const auto* run : runs)
    values.push_back(run->test[t].*field * scale);
  return values;
}

std::string plot(const GridworldResult& result, const std::vector<GridScore>& random,
                 double GridScore::*field, double scale, const std::string& title,
                 const std::string& y_label) {
  LinePlot plot;
  plot.title = title;
  plot.x_label = "T (steps until the agent must be on the target)";
  plot.y_label = y_label;
  std::vector<double> x;
  for (int64_t time = 1; time <= result.config.max_test_time; ++time)
    x.push_back(static_cast<double>(time));
  for (const auto kind : result.config.agents) {
    const auto runs = runs_of(result, kind);
    std::vector<double> y;
    for (size_t t = 0; t < x.size(); ++t)
      y.push_back(mean_at(runs, t, field) * scale);
    plot.series.push_back({grid_agent_name(kind) + " agent", x, y});
  }
  std::vector<double> floor;
  for (const auto& score : random)
    floor.push_back(score.*field * scale);
  plot.series.push_back({"random policy", x, floor});
  plot.bands.push_back({static_cast<double>(result.config.min_time) - 0.5,
                        static_cast<double>(result.config.max_time) + 0.5, "training range"});
  return render_svg(plot);
}

// The mean of a per-T value over the training range (t is the test index, T - 1).
double trained_mean(const GridworldConfig& config, const std::function<double(size_t)>& value) {
  double sum = 0.0;
  for (int64_t time = config.min_time; time <= config.max_time; ++time)
    sum += value(static_cast<size_t>(time - 1));
  return sum / static_cast<double>(config.max_time - config.min_time + 1);
}

// An agent counts as having learned the task when its share on the target over the training
// range is at least twice the random policy's.
bool learned(double share, double random_share) {
  return share >= 2.0 * random_share;
}

// The largest T (from the training range's top up) until which the runs' mean share on the
// target stays at least half of its mean over the training range; 0 if it never reaches it.
int64_t holds_until(const GridworldConfig& config, const std::vector<const GridworldRun*>& runs) {
  const double trained =
      trained_mean(config, [&](size_t t) { return mean_at(runs, t, &GridScore::on_target); });
  int64_t last = 0;
  for (int64_t time = config.max_time; time <= config.max_test_time; ++time) {
    if (mean_at(runs, static_cast<size_t>(time - 1), &GridScore::on_target) < 0.5 * trained)
      break;
    last = time;
  }
  return last;
}

nlohmann::json config_json(const GridworldConfig& config) {
  std::vector<std::string> agents;
  for (const auto kind : config.agents)
    agents.push_back(grid_agent_name(kind));
  return {{"agents", agents},
          {"seeds", config.seeds},
          {"updates", config.updates},
          {"environments", config.environments},
          {"rollout", config.rollout},
          {"discount", config.discount},
          {"learning_rate", config.learning_rate},
          {"entropy", config.entropy},
          {"value_weight", config.value_weight},
          {"max_gradient_norm", config.max_gradient_norm},
          {"hidden_size", config.hidden_size},
          {"min_time", config.min_time},
          {"max_time", config.max_time},
          {"reward_on_time", config.rewards.on_time},
          {"reward_early", config.rewards.early},
          {"eval_interval", config.eval_interval},
          {"validation_episodes", config.validation_episodes},
          {"max_test_time", config.max_test_time},
          {"test_episodes", config.test_episodes},
          {"seed", config.seed}};
}

}  // namespace

std::string gridworld_table(const GridworldResult& result, const std::vector<GridScore>& random) {
  const auto& config = result.config;
  std::vector<std::string> header{"T"};
  for (const auto kind : config.agents)
    header.push_back(grid_agent_name(kind) + " reward");
  header.push_back("random reward");
  for (const auto kind : config.agents)
    header.push_back(grid_agent_name(kind) + " on target (%)");
  header.push_back("random on target (%)");
  std::vector<std::vector<std::string>> rows;
  for (int64_t time = 1; time <= config.max_test_time; ++time) {
    const auto t = static_cast<size_t>(time - 1);
    const bool trained = time >= config.min_time && time <= config.max_time;
    std::vector<std::string> row{std::to_string(time) + (trained ? " (trained)" : "")};
    for (const auto kind : config.agents)
      row.push_back(
          format_mean_sd(values_at(runs_of(result, kind), t, &GridScore::mean_reward, 1.0)));
    row.push_back(format_significant(random[t].mean_reward));
    for (const auto kind : config.agents)
      row.push_back(
          format_mean_sd(values_at(runs_of(result, kind), t, &GridScore::on_target, 100.0)));
    row.push_back(format_significant(100.0 * random[t].on_target));
    rows.push_back(row);
  }
  return markdown_table(header, rows);
}

std::string gridworld_seed_table(const GridworldResult& result,
                                 const std::vector<GridScore>& random) {
  const auto& config = result.config;
  const std::string range =
      "T in [" + std::to_string(config.min_time) + ", " + std::to_string(config.max_time) + "]";
  const double random_share = trained_mean(config, [&](size_t t) { return random[t].on_target; });
  std::vector<std::vector<std::string>> rows;
  for (const auto kind : config.agents) {
    for (const auto* run : runs_of(result, kind)) {
      const std::vector<const GridworldRun*> one{run};
      const double share = trained_mean(config, [&](size_t t) { return run->test[t].on_target; });
      rows.push_back({grid_agent_name(kind), std::to_string(run->seed),
                      std::to_string(run->best_update), format_significant(run->validation_reward),
                      format_significant(100.0 * share),
                      learned(share, random_share) ? std::to_string(holds_until(config, one))
                                                   : std::string("- (not learned)")});
    }
  }
  return markdown_table({"agent", "seed", "update tested", "validation reward",
                         "on target, " + range + " (%)", "at least half that up to T"},
                        rows);
}

ExperimentReport run_gridworld_experiment(const ExperimentOptions& options,
                                          const ExperimentProgress& progress) {
  GridworldConfig config = options.quick ? GridworldConfig::quick() : GridworldConfig::paper();
  config.seed = options.seed;
  config.threads = options.threads;
  config.validate();
  const std::string base = options.output_dir + "/gridworld";
  const std::string table_path = base + ".md";
  const std::string records_path = base + ".jsonl";
  const std::string reward_path = base + "-reward.svg";
  const std::string target_path = base + "-on-target.svg";
  // Strips at a trained T and at one beyond it.
  const std::vector<int64_t> strip_times{config.max_time - 4, config.max_time + 6};
  std::vector<std::string> strip_paths;
  for (const auto kind : config.agents) {
    for (const int64_t time : strip_times)
      strip_paths.push_back(base + "-" + grid_agent_name(kind) + "-" + std::to_string(time) +
                            ".png");
  }
  for (const auto& path : {table_path, records_path, reward_path, target_path})
    check_writable(path);
  for (const auto& path : strip_paths)
    check_writable(path);

  const GridworldResult result = run_gridworld(config, progress);
  const auto random = random_policy_scores(config, kRandomEpisodes);

  std::string records;
  for (const auto& run : result.runs) {
    std::vector<nlohmann::json> test;
    for (const auto& score : run.test) {
      test.push_back({{"time", score.time},
                      {"episodes", score.episodes},
                      {"mean_reward", score.mean_reward},
                      {"on_target", score.on_target}});
    }
    std::vector<nlohmann::json> curve;
    for (const double reward : run.training_reward)
      curve.push_back(json_number(reward));
    nlohmann::json record = {{"experiment", "gridworld"},
                             {"version", kVersion},
                             {"agent", grid_agent_name(run.agent)},
                             {"seed", run.seed},
                             {"best_update", run.best_update},
                             {"validation_reward", run.validation_reward},
                             {"training_reward", curve},
                             {"test", test},
                             {"seconds", run.seconds},
                             {"config", config_json(config)}};
    if (run.agent == GridAgentKind::kNac) {
      record["counter_weights"] = run.counter_weights;
      record["remaining_weights"] = run.remaining_weights;
    }
    records += record.dump();
    records += "\n";
  }

  ExperimentReport report;
  const std::string caption =
      "Grid world: mean episode reward and share of episodes ending on the target per T, mean ± "
      "standard deviation over " +
      std::to_string(config.seeds) + (config.seeds == 1 ? " seed" : " seeds") + " (" +
      std::to_string(config.updates) + " A2C updates of " + std::to_string(config.environments) +
      " environments x " + std::to_string(config.rollout) + " steps, T uniform in [" +
      std::to_string(config.min_time) + ", " + std::to_string(config.max_time) + "]; " +
      std::to_string(config.test_episodes) + " test episodes per T; reward +" +
      format_significant(config.rewards.on_time) + " on the target at T, " +
      format_significant(config.rewards.early) + " per step on it before; seed " +
      std::to_string(config.seed) + ")";
  const std::string table = gridworld_table(result, random);
  report.tables.push_back({caption, table});
  report.summary = "Trained on T in [" + std::to_string(config.min_time) + ", " +
                   std::to_string(config.max_time) + "].";
  const double random_share = trained_mean(config, [&](size_t t) { return random[t].on_target; });
  for (const auto kind : config.agents) {
    const auto runs = runs_of(result, kind);
    const double share =
        trained_mean(config, [&](size_t t) { return mean_at(runs, t, &GridScore::on_target); });
    report.summary += " " + grid_agent_name(kind) + " agent: on target in " +
                      format_significant(100.0 * share) + "% of the training range's episodes";
    if (learned(share, random_share)) {
      report.summary +=
          "; at least half that rate up to T = " + std::to_string(holds_until(config, runs)) + ".";
    } else {
      report.summary += ", not clearly better than the random policy's " +
                        format_significant(100.0 * random_share) + "%.";
    }
  }
  const std::string seeds_caption =
      "Grid world, each trained agent: validation reward of the update tested, share of test "
      "episodes on the target over the training range, and the largest T up to which the share "
      "stays at least half of that, for agents at least twice the random policy's " +
      format_significant(100.0 * random_share) + "% over the training range";
  const std::string seeds_table = gridworld_seed_table(result, random);
  report.tables.push_back({seeds_caption, seeds_table});

  write_file_atomically(
      table_path, "# " + caption + "\n\n" + table + "\n# " + seeds_caption + "\n\n" + seeds_table);
  write_file_atomically(records_path, records);
  write_file_atomically(
      reward_path,
      plot(result, random, &GridScore::mean_reward, 1.0,
           "Grid world: mean episode reward against T (mean over seeds)", "mean reward"));
  write_file_atomically(
      target_path, plot(result, random, &GridScore::on_target, 100.0,
                        "Grid world: episodes ending on the target against T (mean over seeds)",
                        "on target at T (%)"));
  report.files = {table_path, records_path, reward_path, target_path};
  // Strips of the agent of each kind with the best validation reward.
  size_t path = 0;
  for (const auto kind : config.agents) {
    const auto runs = runs_of(result, kind);
    const auto* best = *std::max_element(
        runs.begin(), runs.end(),
        [](const auto* a, const auto* b) { return a->validation_reward < b->validation_reward; });
    for (const int64_t time : strip_times) {
      const auto strip = gridworld_episode_strip(
          *best->model.ptr(), time, derive_seed(config.seed, 90 + static_cast<uint64_t>(time)),
          config.rewards);
      write_file_atomically(strip_paths[path],
                            io::encode_png(strip.width, strip.height, strip.rgb));
      report.files.push_back(strip_paths[path]);
      ++path;
    }
  }
  return report;
}

}  // namespace nalu

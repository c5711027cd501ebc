// The grid-world agents: shapes, the NAC time pathway counting exactly far beyond the trained
// times once its weights are saturated, restarts at episode ends, settings' errors, PNG strips,
// and the quick run beating a random policy.
#include "nalu/experiments/gridworld.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nalu/experiments/experiment.h"
#include "nalu/io/png.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::contains;
using testing::error_message;

// tanh(20) and sigmoid(+-20) round to +-1 and 1 / 0 in float: exact NAC weights.
void saturate(NACImpl& nac, const std::vector<double>& weights) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < weights.size(); ++i) {
    nac.w_hat[0][static_cast<int64_t>(i)] = weights[i] >= 0 ? 20.0 : -20.0;
    nac.m_hat[0][static_cast<int64_t>(i)] = weights[i] != 0 ? 20.0 : -20.0;
  }
}

TEST(GridAgent, StepsGiveLogitsValuesAndStateOfTheBatch) {
  torch::manual_seed(0);
  for (const auto kind : {GridAgentKind::kBaseline, GridAgentKind::kNac}) {
    GridAgent agent(kind, 8);
    const auto out = agent->step(torch::rand({3, 3, 56, 56}), torch::full({3}, 7.f),
                                 GridAgentState::zeros(3, 8));
    EXPECT_EQ(out.logits.sizes(), (std::vector<int64_t>{3, 5}));
    EXPECT_EQ(out.value.sizes(), (std::vector<int64_t>{3}));
    EXPECT_EQ(out.state.h.sizes(), (std::vector<int64_t>{3, 8}));
    EXPECT_TRUE(contains(error_message([&] {
                           agent->step(torch::rand({3, 3, 55, 56}), torch::full({3}, 7.f),
                                       GridAgentState::zeros(3, 8));
                         }),
                         "frames [B, 3, 56, 56]"));
  }
  EXPECT_EQ(parse_grid_agent("nac"), GridAgentKind::kNac);
  EXPECT_TRUE(contains(error_message([] { parse_grid_agent("a3c"); }), "unknown grid agent 'a3c'"));
}

TEST(GridAgent, TheNacPathwayCountsExactlyBeyondTheTrainedTimes) {
  torch::manual_seed(1);
  GridAgent agent(GridAgentKind::kNac, 8);
  saturate(*agent->counter, {1});
  saturate(*agent->remaining, {1, -1});
  torch::NoGradGuard no_grad;
  auto state = GridAgentState::zeros(2, 8);
  const auto frames = torch::rand({2, 3, 56, 56});
  const auto times = torch::tensor({25.f, 40.f});
  for (int64_t t = 1; t <= 40; ++t) {
    state = agent->step(frames, times, state).state;
    EXPECT_EQ(state.count[0].item<float>(), static_cast<float>(t));
  }
  // An ended episode's row restarts from zero; the other keeps counting.
  state = state.restarted(torch::tensor({0.f, 1.f}));
  state = agent->step(frames, times, state).state;
  EXPECT_EQ(state.count[0].item<float>(), 1.f);
  EXPECT_EQ(state.count[1].item<float>(), 41.f);
}

TEST(GridworldConfig, BadSettingsAreOneLineErrors) {
  auto config = GridworldConfig::quick();
  config.validate();
  config.max_test_time = 10;
  EXPECT_TRUE(contains(error_message([&] { config.validate(); }), "largest tested T"));
  config = GridworldConfig::quick();
  config.rewards.early = 0.3;
  EXPECT_TRUE(contains(error_message([&] { config.validate(); }), "early reward"));
  config = GridworldConfig::quick();
  config.agents.clear();
  EXPECT_TRUE(contains(error_message([&] { config.validate(); }), "no agent"));
}

TEST(GridworldStrip, AnEpisodeIsAStripOfFramesAndAValidPng) {
  torch::manual_seed(2);
  GridAgent agent(GridAgentKind::kBaseline, 8);
  const auto strip = gridworld_episode_strip(*agent, 6, 3, {});
  EXPECT_EQ(strip.height, 56);
  EXPECT_EQ(strip.width, 7 * 57 - 1);
  EXPECT_EQ(static_cast<int64_t>(strip.rgb.size()), strip.width * 56 * 3);
  // The white column between the first two frames.
  EXPECT_EQ(strip.rgb[static_cast<size_t>((10 * strip.width + 56) * 3)], 255);
  const auto png = io::encode_png(strip.width, strip.height, strip.rgb);
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_TRUE(contains(error_message([] { io::encode_png(2, 2, std::vector<uint8_t>(5)); }),
                       "expected 12 bytes"));
}

TEST(GridworldExperiment, QuickRunBeatsARandomPolicy) {
  testing::TempDir dir;
  ExperimentOptions options;
  options.quick = true;
  options.output_dir = dir.path.string();
  options.threads = 2;
  const ExperimentReport report = run_experiment("gridworld", options);
  ASSERT_EQ(report.tables.size(), 2u);
  // The per-seed table: a header, its rule and one row per agent.
  EXPECT_EQ(std::count(report.tables[1].markdown.begin(), report.tables[1].markdown.end(), '\n'),
            4);
  EXPECT_EQ(report.files.size(), 8u);  // table, records, two figures, four strips
  for (const auto& file : report.files)
    EXPECT_TRUE(std::filesystem::exists(file)) << file;
  // The random policy over the training range, as the validation episodes draw T.
  const auto config = GridworldConfig::quick();
  const auto random = random_policy_scores(config, 1'000);
  double random_reward = 0.0, random_share = 0.0;
  for (int64_t time = config.min_time; time <= config.max_time; ++time) {
    random_reward += random[static_cast<size_t>(time - 1)].mean_reward;
    random_share += random[static_cast<size_t>(time - 1)].on_target;
  }
  const auto times = static_cast<double>(config.max_time - config.min_time + 1);
  random_reward /= times;
  random_share /= times;
  std::ifstream records(dir.path / "gridworld.jsonl");
  int64_t agents = 0;
  double best_reward = -1.0, best_share = 0.0;
  for (std::string line; std::getline(records, line); ++agents) {
    const auto record = nlohmann::json::parse(line);
    ASSERT_EQ(record["test"].size(), 20u);
    best_reward = std::max(best_reward, record["validation_reward"].get<double>());
    double share = 0.0;
    for (int64_t time = config.min_time; time <= config.max_time; ++time)
      share += record["test"][static_cast<size_t>(time - 1)]["on_target"].get<double>();
    best_share = std::max(best_share, share / times);
  }
  EXPECT_EQ(agents, 2);
  // 1,000 updates only start the learning (the full size's 10,000 learn the task in range);
  // the better agent must at least double the random policy's reward (about 0.0125) on the
  // validation episodes and its share of test episodes on the target (about 3.8%).
  EXPECT_GT(best_reward, 2.0 * std::max(random_reward, 0.005)) << report.tables[0].markdown;
  EXPECT_GT(best_share, 2.0 * random_share) << report.tables[1].markdown;
}

}  // namespace
}  // namespace nalu

// The identity experiment (NALU paper, Figure 1) on a reduced configuration through the same
// code path as `nalu experiment identity`: the NAC extrapolates where the MLPs do not, results
// are reproducible, bad settings are refused; and the experiment catalogue.
#include "nalu/experiments/identity.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "nalu/error.h"
#include "nalu/experiments/experiment.h"
#include "nalu/units/baselines.h"
#include "test_util.h"

namespace nalu {
namespace {

IdentityConfig small_config() {
  IdentityConfig config;
  config.families = {"relu6", "tanh", "nac"};
  config.models = 4;
  config.steps = 1'000;
  config.grid_points = 81;
  config.threads = 2;
  return config;
}

TEST(IdentityExperiment, NacExtrapolatesWhereReluSixAndTanhMlpsDoNot) {
  const IdentityResult result = run_identity(small_config());
  ASSERT_EQ(result.families.size(), 3u);
  ASSERT_EQ(result.grid.size(), 81u);
  EXPECT_DOUBLE_EQ(result.grid.front(), -20.0);
  EXPECT_DOUBLE_EQ(result.grid.back(), 20.0);
  const auto& relu6 = result.families[0];
  const auto& tanh = result.families[1];
  const auto& nac = result.families[2];
  ASSERT_EQ(nac.family, "nac");
  for (const auto& family : result.families) {
    SCOPED_TRACE(family.family);
    EXPECT_EQ(family.diverged, 0);
    EXPECT_EQ(family.mean_absolute_error.size(), 81u);
    EXPECT_EQ(family.model_extrapolation_mae.size(), 4u);
    // Every family learns the identity where it was trained...
    EXPECT_LT(family.interpolation_mae, 0.5);
  }
  // ... but only the NAC keeps it far outside: ReLU6 and tanh saturate.
  EXPECT_LT(nac.extrapolation_mae * 20, relu6.extrapolation_mae)
      << "nac " << nac.extrapolation_mae << ", relu6 " << relu6.extrapolation_mae;
  EXPECT_LT(nac.extrapolation_mae * 20, tanh.extrapolation_mae)
      << "nac " << nac.extrapolation_mae << ", tanh " << tanh.extrapolation_mae;
  // A saturating MLP's error grows with |x|: larger at the ends of the grid than at 5.
  EXPECT_GT(relu6.mean_absolute_error.back(), 5 * relu6.mean_absolute_error[50]);
}

TEST(IdentityExperiment, SameSeedSameNumbers) {
  IdentityConfig config = small_config();
  config.families = {"rrelu", "nac"};  // rrelu: random training slopes from the seed
  config.models = 2;
  config.steps = 30;
  const auto a = run_identity(config);
  const auto b = run_identity(config);
  config.seed = 1;
  const auto c = run_identity(config);
  for (size_t f = 0; f < a.families.size(); ++f) {
    EXPECT_EQ(a.families[f].mean_absolute_error, b.families[f].mean_absolute_error);
    EXPECT_NE(a.families[f].mean_absolute_error, c.families[f].mean_absolute_error);
  }
}

TEST(IdentityExperiment, ReportsProgressInTrainingSteps) {
  IdentityConfig config = small_config();
  config.models = 1;
  config.steps = 250;
  std::vector<ExperimentEvent> events;
  run_identity(config, [&](const ExperimentEvent& event) { events.push_back(event); });
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().done, 3 * 250);
  EXPECT_EQ(events.back().total, 3 * 250);
  for (size_t i = 1; i < events.size(); ++i)
    EXPECT_GT(events[i].done, events[i - 1].done);
}

TEST(IdentityExperiment, UsesThePapersActivations) {
  const auto& paper = identity_paper_activations();
  EXPECT_EQ(paper.size(), 15u);
  for (const auto& name : paper)
    EXPECT_NO_THROW(parse_activation(name)) << name;
  const IdentityConfig config = IdentityConfig::paper();
  EXPECT_EQ(config.families.size(), 16u);
  EXPECT_EQ(config.families.back(), "nac");
  EXPECT_EQ(config.models, 100);
  EXPECT_EQ(config.hidden, (std::vector<int64_t>{8, 8, 8}));
}

TEST(IdentityExperiment, RejectsBadSettings) {
  auto with = [](auto change) {
    IdentityConfig config = small_config();
    change(config);
    return config;
  };
  EXPECT_THROW_WITH(with([](auto& c) { c.families = {"swish"}; }).validate(),
                    "unknown activation 'swish'");
  EXPECT_THROW_WITH(with([](auto& c) {
                      c.families = {"nac", "nac"};
                    }).validate(),
                    "identity: family 'nac' is listed twice");
  EXPECT_THROW_WITH(with([](auto& c) { c.families = {}; }).validate(),
                    "identity: needs at least one family");
  EXPECT_THROW_WITH(with([](auto& c) { c.models = 0; }).validate(),
                    "identity: models per family must be in [1, 10000], got 0");
  EXPECT_THROW_WITH(with([](auto& c) { c.batch_size = 1'000'000'000; }).validate(),
                    "identity: batch size must be in [1, 100000]");
  EXPECT_THROW_WITH(with([](auto& c) {
                      c.hidden = {8, 0};
                    }).validate(),
                    "identity: hidden sizes must be in [1, 1024], got 0");
  EXPECT_THROW_WITH(with([](auto& c) { c.learning_rate = std::nan(""); }).validate(),
                    "identity: learning rate must be a positive number of at most 1e+30");
  EXPECT_THROW_WITH(with([](auto& c) { c.train_low = 5; }).validate(),
                    "identity: training range [5, 5] is empty, reversed or not finite");
  EXPECT_THROW_WITH(with([](auto& c) { c.grid_points = 1; }).validate(),
                    "identity: grid points must be in [2, 100000], got 1");
  EXPECT_THROW_WITH(run_identity(with([](auto& c) { c.steps = 0; })),
                    "identity: steps must be positive, got 0");
}

TEST(ExperimentCatalog, FindsExperimentsAndRefusesBadOutputBeforeTraining) {
  EXPECT_EQ(find_experiment("identity").name, "identity");
  EXPECT_FALSE(find_experiment("identity").description.empty());
  EXPECT_THROW_WITH(find_experiment("identiti"), "unknown experiment 'identiti' (known: identity");
  EXPECT_EQ(default_output_dir("identity"), "results/identity");

  // A regular file where the output directory should be: refused at once, nothing trained.
  std::string name = "nalu-experiment-test-";
  name += std::to_string(::getpid());
  const auto scratch = std::filesystem::temp_directory_path() / name;
  std::filesystem::create_directories(scratch);
  const auto file = scratch / "taken";
  std::ofstream(file) << "x";
  ExperimentOptions options;
  options.output_dir = (file / "identity").string();
  bool ran = false;
  EXPECT_THROW_WITH(
      run_experiment("identity", options, [&](const ExperimentEvent&) { ran = true; }),
      "cannot create output directory");
  options.output_dir = file.string();
  EXPECT_THROW_WITH(run_experiment("identity", options), "is not a directory");
  options.output_dir = (scratch / "out").string();
  options.threads = -1;
  EXPECT_THROW_WITH(run_experiment("identity", options), "experiment: threads must be >= 0");
  EXPECT_FALSE(ran);
  std::filesystem::remove_all(scratch);
}

}  // namespace
}  // namespace nalu

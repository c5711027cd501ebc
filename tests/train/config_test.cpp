// Run configuration: presets, layer resolution, validation.
#include "nalu/train/config.h"

#include <gtest/gtest.h>

#include <limits>

#include "nalu/error.h"
#include "test_util.h"

namespace nalu {
namespace {

TEST(RunConfig, MultiplicativeUnitAloneGetsItsAdditivePartner) {
  RunConfig config;
  config.model.units = {"nmu"};
  EXPECT_EQ(config.resolve_layers(), (std::vector<std::string>{"nau", "nmu"}));
  config.model.units = {"nac-mul"};
  EXPECT_EQ(config.resolve_layers(), (std::vector<std::string>{"nac", "nac-mul"}));
  config.model.units = {"nalu"};
  config.model.hidden = {4, 3};
  EXPECT_EQ(config.resolve_layers(), (std::vector<std::string>{"nalu", "nalu", "nalu"}));
  EXPECT_EQ(config.sizes(), (std::vector<int64_t>{100, 4, 3, 1}));
  config.model.units = {"linear", "nmu", "nau"};
  EXPECT_EQ(config.resolve_layers(), config.model.units);
}

TEST(RunConfig, SeedPresetsMatchTheSeeds) {
  const RunConfig sum = task_preset("seed-sum");
  EXPECT_EQ(sum.task_options.input_size, 10);
  EXPECT_EQ(sum.task_options.subsets.a_end, 4);
  EXPECT_EQ(sum.task_options.subsets.b_end, 10);
  EXPECT_EQ(sum.sizes(), (std::vector<int64_t>{10, 2, 1}));
  EXPECT_EQ(sum.optimizer.learning_rate, 0.1);
  EXPECT_EQ(sum.task_options.extrapolation.max(), 100.0);

  const RunConfig mul = task_preset("seed-mul");
  EXPECT_EQ(mul.sizes(), (std::vector<int64_t>{2, 1}));
  EXPECT_TRUE(mul.task_options.integers);
  EXPECT_EQ(mul.training.batch_size, 10);
  EXPECT_EQ(mul.optimizer.learning_rate, 1e-3);
  EXPECT_THROW_WITH(task_preset("dynamic"), "unknown task 'dynamic'");
}

TEST(RunConfig, ValidationNamesTheProblem) {
  RunConfig config;
  config.model.units = {"nmu", "nau", "nau"};
  EXPECT_THROW_WITH(config.validate(), "2 layers need 1 or 2 unit names, got 3");
  config = RunConfig();
  config.model.units = {"nmuu"};
  EXPECT_THROW_WITH(config.validate(), "unknown unit 'nmuu'");
  config = RunConfig();
  config.model.hidden = {0};
  EXPECT_THROW_WITH(config.validate(), "hidden sizes must be positive");
  config = RunConfig();
  config.optimizer.name = "adagrad";
  EXPECT_THROW_WITH(config.validate(), "unknown optimizer 'adagrad'");
  config = RunConfig();
  config.optimizer.learning_rate = -1;
  EXPECT_THROW_WITH(config.validate(), "learning rate must be a positive number");
  // Above 1e30 a rate would overflow LibTorch's float kernels mid-run (Adam: 10 times it).
  config.optimizer.learning_rate = 1e31;
  EXPECT_THROW_WITH(config.validate(),
                    "optimizer: learning rate must be a positive number of at most 1e+30, got "
                    "1e+31");
  config.optimizer.learning_rate = 1e30;
  EXPECT_NO_THROW(config.validate());
  config = RunConfig();
  config.model.settings.epsilon = 1e300;
  EXPECT_THROW_WITH(config.validate(), "model: epsilon must be a number in [0, 1e+30], got 1e+300");
  // The regulariser scale and the accuracy tolerances share epsilon's range: an infinite
  // scale used to end in "training diverged ... the model's output overflowed".
  config = RunConfig();
  config.training.regularizer = RegularizerSchedule{std::numeric_limits<double>::infinity(), 0, 10};
  EXPECT_THROW_WITH(config.validate(),
                    "training: regulariser scale must be a number in [0, 1e+30], got inf");
  config.training.regularizer->scale = -1;
  EXPECT_THROW_WITH(config.validate(),
                    "training: regulariser scale must be a number in [0, 1e+30]");
  config.training.regularizer->scale = 1e30;
  EXPECT_NO_THROW(config.validate());
  config.training.regularizer->end = -1;
  EXPECT_THROW_WITH(config.validate(), "training: regulariser start and end must be >= 0");
  config.training.regularizer->end = 10;
  config.training.regularizer->tenfold_every = -5;
  EXPECT_THROW_WITH(config.validate(), "training: regulariser tenfold_every must be >= 0");
  config = RunConfig();
  config.training.accuracy_atol = -1e-4;
  EXPECT_THROW_WITH(config.validate(),
                    "training: accuracy atol must be a number in [0, 1e+30], got -0.0001");
  config = RunConfig();
  config.training.accuracy_rtol = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW_WITH(config.validate(), "training: accuracy rtol must be a number in [0, 1e+30]");
  config.training.accuracy_rtol = 0;
  config.training.accuracy_atol = 0;
  EXPECT_NO_THROW(config.validate());
  config = RunConfig();
  config.training.reinit_threshold = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW_WITH(config.validate(), "training: reinit threshold must be a number >= 0");
  config = RunConfig();
  config.training.iterations = 0;
  EXPECT_THROW_WITH(config.validate(), "iterations must be positive");
  config = RunConfig();
  config.training.batch_size = -5;
  EXPECT_THROW_WITH(config.validate(), "batch size must be positive");
  config = RunConfig();
  config.model.settings.mlp_activation = "swish2";
  EXPECT_THROW_WITH(config.validate(), "unknown activation 'swish2'");
  EXPECT_NO_THROW(RunConfig().validate());
}

}  // namespace
}  // namespace nalu

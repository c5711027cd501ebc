// The torch engine's training loop: learning, determinism, model selection, divergence.
#include "nalu/train/trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nalu/error.h"
#include "nalu/units/nau.h"
#include "test_util.h"

namespace nalu {
namespace {

RunConfig small_addition(const std::string& unit) {
  RunConfig config;
  config.task_options.op = Operation::kAdd;
  config.task_options.input_size = 10;
  config.task_options.evaluation_size = 1000;
  config.model.units = {unit};
  config.training.iterations = 3000;
  config.training.eval_interval = 500;
  config.optimizer.learning_rate = 1e-2;
  config.seed = 1;
  return config;
}

// The acceptance test: a short NAU training on addition extrapolates.
TEST(Trainer, NauLearnsAdditionAndExtrapolates) {
  // NAU -> NAU (a single NAU cannot weigh the shared x3 by 2), regularised from step 1000 on
  // so that the weights settle at -1/0/1 and the formula reads back exactly.
  RunConfig config = small_addition("nau");
  config.training.regularizer = RegularizerSchedule{1.0, 1000, 2000};
  const TrainResult result = run(config);
  EXPECT_LT(result.best.extrapolation_mse, 1e-4);
  // Seed 1 places a = x2 + x3 and b = x3 + x4; the read-back must say so.
  const auto subsets = make_task(config).subsets();
  ASSERT_EQ(subsets.a_begin, 2);
  ASSERT_EQ(subsets.b_end, 5);
  EXPECT_EQ(result.best_formula.str(), "y0 = x2 + 2·x3 + x4");
  EXPECT_LT(result.best_formula.max_rounding_error, 0.01);
  EXPECT_EQ(result.iterations, 3000);
  EXPECT_GT(result.iterations_per_second, 0.0);
}

TEST(Trainer, SameSeedSameRun) {
  auto config = small_addition("nac");
  config.training.iterations = 300;
  config.training.eval_interval = 100;
  const TrainResult first = run(config);
  const TrainResult second = run(config);
  ASSERT_EQ(first.history.size(), second.history.size());
  for (size_t i = 0; i < first.history.size(); ++i) {
    EXPECT_EQ(first.history[i].interpolation_mse, second.history[i].interpolation_mse);
    EXPECT_EQ(first.history[i].extrapolation_mse, second.history[i].extrapolation_mse);
  }
  config.seed = 2;
  const TrainResult other = run(config);
  EXPECT_NE(first.final.interpolation_mse, other.final.interpolation_mse);
}

TEST(Trainer, EvaluatesOnScheduleAndSelectsTheBestInterpolationStep) {
  auto config = small_addition("linear");
  config.training.iterations = 1050;
  config.training.eval_interval = 250;
  const TrainResult result = run(config);
  std::vector<int64_t> steps;
  for (const auto& e : result.history)
    steps.push_back(e.step);
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 250, 500, 750, 1000, 1050}));
  double lowest = INFINITY;
  for (const auto& e : result.history)
    lowest = std::min(lowest, e.interpolation_mse);
  EXPECT_EQ(result.best.interpolation_mse, lowest);
  EXPECT_EQ(result.final.step, 1050);
}

TEST(Trainer, ReportsProgress) {
  auto config = small_addition("nau");
  config.training.iterations = 400;
  config.training.eval_interval = 200;
  int events = 0, evaluations = 0;
  int64_t last_step = -1;
  ArithmeticTask task = make_task(config);
  Stack model = make_model(config);
  train_model(
      *model, task, config,
      [&](const ProgressEvent& event) {
        ++events;
        if (event.evaluation)
          ++evaluations;
        EXPECT_GT(event.step, last_step);
        last_step = event.step;
        EXPECT_EQ(event.total, 400);
      },
      50);
  EXPECT_EQ(evaluations, 3);     // steps 0, 200, 400
  EXPECT_EQ(events, 3 + 8 - 2);  // every 50 steps, evaluations replacing two of them
}

TEST(Trainer, NonFiniteParameterStopsWithStepAndName) {
  auto config = small_addition("nau");
  ArithmeticTask task = make_task(config);
  Stack model = make_model(config);
  {
    torch::NoGradGuard no_grad;
    model->layers()[1]->as_module().named_parameters()["weight"].fill_(NAN);
  }
  try {
    train_model(*model, task, config);
    FAIL() << "expected a NumericalError";
  } catch (const NumericalError& e) {
    EXPECT_EQ(e.step(), 1);
    EXPECT_EQ(e.parameter(), "layer1.weight");
    EXPECT_NE(std::string(e.what()).find("step 1: parameter 'layer1.weight' is NaN"),
              std::string::npos)
        << e.what();
  }
}

TEST(Trainer, DivergingRunIsCaught) {
  auto config = small_addition("linear");
  config.optimizer.name = "sgd";
  config.optimizer.learning_rate = 1e6;  // explodes within a few steps
  try {
    run(config);
    FAIL() << "expected a NumericalError";
  } catch (const NumericalError& e) {
    EXPECT_GT(e.step(), 1);
    EXPECT_NE(std::string(e.what()).find("training diverged at step"), std::string::npos);
  }
}

TEST(Trainer, RegularizerOverrideIsUsed) {
  // With a huge regulariser from step 0, NAU weights are pulled to {-1, 0, 1} at once.
  auto config = small_addition("nau");
  config.training.iterations = 200;
  config.training.regularizer = RegularizerSchedule{1000.0, 0, 0};
  const TrainResult regularized = run(config);
  config.training.regularizer = RegularizerSchedule{0.0, 0, 0};
  const TrainResult plain = run(config);
  EXPECT_LT(regularized.final.sparsity_error, plain.final.sparsity_error);
}

TEST(Trainer, RejectsAModelThatDoesNotFitTheTask) {
  auto config = small_addition("nau");
  ArithmeticTask task = make_task(config);
  Stack model = make_stack({"nau"}, {5, 1});
  EXPECT_THROW_WITH(train_model(*model, task, config),
                    "model takes 5 inputs but the task gives 10");
}

}  // namespace
}  // namespace nalu

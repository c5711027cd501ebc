// Training on the recurrent arithmetic task: validation, determinism, the step-0 evaluation,
// divergence, clamping, and the paper's finding that a NAC core extrapolates where an LSTM
// does not.
#include "nalu/train/recurrent.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nalu/error.h"
#include "nalu/units/nau.h"
#include "test_util.h"

namespace nalu {
namespace {

RecurrentConfig short_run(const std::string& core) {
  RecurrentConfig config;
  config.core = core;
  config.task.evaluation_size = 200;
  config.iterations = 30;
  config.eval_interval = 10;
  config.seed = 1;
  return config;
}

TEST(RecurrentTrainer, RejectsBadSettingsWithOneLine) {
  auto with = [](auto change) {
    RecurrentConfig config;
    change(config);
    return config;
  };
  EXPECT_THROW_WITH(with([](auto& c) { c.core = "transformer"; }).validate(),
                    "unknown recurrent core 'transformer'");
  EXPECT_THROW_WITH(with([](auto& c) { c.head_unit = "cnn"; }).validate(), "unknown unit 'cnn'");
  EXPECT_THROW_WITH(with([](auto& c) { c.hidden_size = 0; }).validate(),
                    "model: hidden size must be positive, got 0");
  EXPECT_THROW_WITH(with([](auto& c) { c.iterations = -1; }).validate(),
                    "training: iterations must be positive, got -1");
  EXPECT_THROW_WITH(with([](auto& c) { c.batch_size = 0; }).validate(),
                    "training: batch size must be positive, got 0");
  EXPECT_THROW_WITH(with([](auto& c) { c.optimizer.name = "lbfgs"; }).validate(),
                    "unknown optimizer 'lbfgs'");
  EXPECT_THROW_WITH(with([](auto& c) { c.task.train_length = 0; }).validate(),
                    "recurrent task: train length must be positive, got 0");
  EXPECT_THROW_WITH(with([](auto& c) {
                      c.task.extrapolation = Range{{{6.0, 2.0}}};
                    }).validate(),
                    "recurrent task: extrapolation range 6:2 is empty or reversed");
  EXPECT_THROW_WITH(with([](auto& c) {
                      c.regularizer = RegularizerSchedule{INFINITY, 0, 10};
                    }).validate(),
                    "training: regulariser scale must be a number in [0, 1e+30], got inf");
  EXPECT_THROW_WITH(parse_operation("pow"), "unknown operation 'pow'");
  const std::string message = testing::error_message([] {
    RecurrentConfig config;
    config.core = "transformer";
    config.validate();
  });
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(RecurrentTrainer, SameSeedSameRunOtherSeedOtherRun) {
  const RecurrentConfig config = short_run("nalu");
  const TrainResult first = train_recurrent(config);
  const TrainResult second = train_recurrent(config);
  ASSERT_EQ(first.history.size(), 4u);  // steps 0, 10, 20, 30
  for (size_t i = 0; i < first.history.size(); ++i) {
    EXPECT_EQ(first.history[i].interpolation_mse, second.history[i].interpolation_mse);
    EXPECT_EQ(first.history[i].extrapolation_mse, second.history[i].extrapolation_mse);
  }
  RecurrentConfig other = config;
  other.seed = 2;
  EXPECT_NE(train_recurrent(other).history.back().interpolation_mse,
            first.history.back().interpolation_mse);
}

TEST(RecurrentTrainer, StepZeroIsTheRandomlyInitialisedModel) {
  const RecurrentConfig config = short_run("lstm");
  const TrainResult result = train_recurrent(config);
  const auto task = make_recurrent_task(config);
  auto model = make_recurrent_model(config);
  torch::NoGradGuard no_grad;
  const auto& set = task.extrapolation_set();
  const double mse = torch::mse_loss(model(set.input), set.target).item<double>();
  EXPECT_EQ(result.history.front().step, 0);
  EXPECT_DOUBLE_EQ(result.history.front().extrapolation_mse, mse);
  // best is the lowest interpolation MSE of the history.
  for (const auto& evaluation : result.history)
    EXPECT_LE(result.best.interpolation_mse, evaluation.interpolation_mse);
}

TEST(RecurrentTrainer, NonFiniteWeightsNameTheStepAndParameter) {
  const RecurrentConfig config = short_run("nac");
  const auto task = make_recurrent_task(config);
  auto model = make_recurrent_model(config);
  {
    torch::NoGradGuard no_grad;
    model->named_parameters()["core.cell.unit.w_hat"][0][0].fill_(NAN);
  }
  try {
    train_recurrent_model(*model, task, config);
    FAIL() << "expected a NumericalError";
  } catch (const NumericalError& error) {
    EXPECT_EQ(error.step(), 1);
    EXPECT_EQ(error.parameter(), "core.cell.unit.w_hat");
    EXPECT_NE(std::string(error.what()).find("training diverged at step 1"), std::string::npos);
  }
}

TEST(RecurrentTrainer, ClampsNauCellsAfterEveryStep) {
  RecurrentConfig config = short_run("nau");
  config.optimizer.learning_rate = 1.0;  // large steps push the weights far outside [-1, 1]
  const auto task = make_recurrent_task(config);
  auto model = make_recurrent_model(config);
  train_recurrent_model(*model, task, config);
  for (const auto& parameter : model->parameters())
    EXPECT_LE(parameter.abs().max().item<double>(), 1.0);
}

// The NALU paper's recurrent finding: trained on 10 steps, a NAC core still adds after 100
// steps, while an LSTM (whose state saturates) does not. Zero-mean values make the subsets
// matter from the start: on U[1, 2] every model first learns the mean, and 1500 steps are not
// enough to get past it. Measured for seed 0: NAC 2.3, LSTM 625.
TEST(RecurrentTrainer, NacCoreExtrapolatesAdditionFarBetterThanAnLstm) {
  RecurrentConfig config;
  config.task.op = Operation::kAdd;
  config.task.interpolation = Range{{{-2.0, 2.0}}};
  config.task.extrapolation = config.task.interpolation;
  config.task.evaluation_size = 300;
  config.optimizer.learning_rate = 0.05;
  config.iterations = 1500;
  config.eval_interval = 100;
  config.seed = 0;
  config.core = "nac";
  const TrainResult nac = train_recurrent(config);
  config.core = "lstm";
  config.hidden_size = 8;
  const TrainResult lstm = train_recurrent(config);
  EXPECT_LT(nac.best.extrapolation_mse * 20, lstm.best.extrapolation_mse)
      << "nac " << nac.best.extrapolation_mse << ", lstm " << lstm.best.extrapolation_mse;
  EXPECT_LT(nac.best.interpolation_mse, nac.history.front().interpolation_mse / 100);
}

}  // namespace
}  // namespace nalu

// Arithmetic heads on a backbone: shapes for regression and classification, gradients into the
// backbone, the head's units regularised and clamped through the model, bad arguments.
#include "nalu/models/head.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nalu/error.h"
#include "nalu/units/nau.h"
#include "test_util.h"

namespace nalu {
namespace {

namespace nn = torch::nn;

// A small CNN backbone: [B, 1, 12, 12] -> [B, 4, 4, 4] (flattened to 64 features by the model).
nn::Sequential small_cnn() {
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(),
                        nn::MaxPool2d(3));
}

TEST(ArithmeticHead, RegressesAndClassifiesWithAnyUnits) {
  torch::manual_seed(0);
  const auto images = torch::rand({5, 1, 12, 12});
  for (const std::string unit : {"nac", "nalu", "nau", "linear", "mlp"}) {
    HeadedModel regression(small_cnn(), ArithmeticHeadOptions(64, 3).hidden({8, 4}).units({unit}));
    const auto y = regression(images);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{5, 3})) << unit;
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>()) << unit;
    EXPECT_TRUE(torch::equal(regression->predict(y), y));
  }
  HeadedModel classifier(small_cnn(), ArithmeticHeadOptions(64, 10)
                                          .hidden({16})
                                          .units({"linear", "nac"})
                                          .task(HeadTask::kClassification));
  const auto logits = classifier(images);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{5, 10}));
  const auto predicted = classifier->predict(logits);
  EXPECT_EQ(predicted.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(predicted, logits.argmax(1)));
  const auto labels = torch::tensor({0, 3, 9, 1, 1}, torch::kLong);
  EXPECT_NEAR(classifier->loss(logits, labels).item<double>(),
              torch::cross_entropy_loss(logits, labels).item<double>(), 1e-6);
  ASSERT_EQ(classifier->units().size(), 2u);
  EXPECT_EQ(classifier->units()[0]->unit_name(), "linear");
  EXPECT_EQ(classifier->units()[1]->unit_name(), "nac");
  EXPECT_EQ(classifier->units()[1]->in_features(), 16);
}

TEST(ArithmeticHead, GradientsReachTheBackbone) {
  torch::manual_seed(1);
  for (const std::string unit : {"nac", "nalu", "nau"}) {
    HeadedModel model(small_cnn(), ArithmeticHeadOptions(64, 1).hidden({8}).units({unit}));
    const auto images = torch::rand({6, 1, 12, 12});
    model->loss(model(images), torch::rand({6, 1})).backward();
    int64_t backbone_parameters = 0;
    for (const auto& item : model->named_parameters()) {
      ASSERT_TRUE(item.value().grad().defined()) << unit << ": " << item.key();
      if (item.key().rfind("backbone.", 0) == 0) {
        ++backbone_parameters;
        EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0)
            << unit << ": " << item.key();
      }
    }
    EXPECT_EQ(backbone_parameters, 2) << unit;  // the convolution's weight and bias
  }
}

TEST(ArithmeticHead, ItsUnitsAreRegularisedAndClampedThroughTheModel) {
  torch::manual_seed(2);
  HeadedModel model(nn::Sequential(nn::Linear(3, 4)),
                    ArithmeticHeadOptions(4, 1).hidden({2}).units({"nau"}));
  auto& first = dynamic_cast<NAUImpl&>(model->units()[0]->as_module());
  // NAU weights at +-0.5 are as far from {-1, 0, 1} as they can be: R = mean(min(|w|, 1-|w|)).
  testing::assign(first.weight, torch::full({2, 4}, 0.5));
  const std::vector<RegularizerSchedule> schedules = {{2.0, 0, 1}, {0.0, 0, 1}};
  EXPECT_NEAR(model->scheduled_regularization_loss(10, schedules).item<double>(), 2.0 * 0.5, 1e-6);
  EXPECT_THROW_WITH(model->scheduled_regularization_loss(10, {schedules[0]}),
                    "2 arithmetic units need as many schedules, got 1");
  const auto defaults = model->unit_schedules(5'000'000);
  ASSERT_EQ(defaults.size(), 2u);
  EXPECT_EQ(defaults[0].scale, kNauSchedule.scale);

  // Out-of-range weights are clamped by the model's after_optimizer_step.
  testing::assign(first.weight, torch::full({2, 4}, 3.0));
  EXPECT_NEAR(model->sparsity_error(), 2.0, 1e-6);  // min(|3|, |1 - 3|)
  model->after_optimizer_step();
  EXPECT_TRUE(torch::equal(first.weight, torch::ones({2, 4})));
}

TEST(ArithmeticHead, ClonesWithItsWeights) {
  torch::manual_seed(3);
  HeadedModel model(small_cnn(), ArithmeticHeadOptions(64, 2).hidden({4}).units({"nalu"}));
  const auto copy = std::dynamic_pointer_cast<HeadedModelImpl>(model->clone());
  ASSERT_TRUE(copy);
  const auto images = torch::rand({3, 1, 12, 12});
  EXPECT_TRUE(torch::equal(model(images), copy->forward(images)));
  // Deep: changing the copy leaves the original alone.
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : copy->parameters())
      parameter.add_(1.0);
  }
  EXPECT_FALSE(torch::equal(model(images), copy->forward(images)));
  EXPECT_EQ(copy->units().size(), 2u);
}

TEST(ArithmeticHead, RejectsBadArguments) {
  auto backbone = [] { return nn::Sequential(nn::Linear(3, 4)); };
  EXPECT_THROW_WITH(HeadedModel(backbone(), ArithmeticHeadOptions(0, 1)),
                    "head: in_features must be positive, got 0");
  EXPECT_THROW_WITH(HeadedModel(backbone(), ArithmeticHeadOptions(4, 0)),
                    "head: outputs must be positive, got 0");
  EXPECT_THROW_WITH(HeadedModel(backbone(), ArithmeticHeadOptions(4, 1).hidden({0})),
                    "stack: sizes must be positive, got 0");
  EXPECT_THROW_WITH(HeadedModel(backbone(), ArithmeticHeadOptions(4, 1).units({"cnn"})),
                    "unknown unit 'cnn'");
  EXPECT_THROW_WITH(
      HeadedModel(backbone(), ArithmeticHeadOptions(4, 1).hidden({3}).units({"nac", "nau", "nmu"})),
      "stack: 2 layers need 1 or 2 unit names, got 3");
  EXPECT_THROW_WITH(
      HeadedModel(backbone(), ArithmeticHeadOptions(4, 1).task(HeadTask::kClassification)),
      "head: classification needs at least 2 classes");
  EXPECT_THROW(HeadedModel(nn::AnyModule(), ArithmeticHeadOptions(4, 1)), Error);

  HeadedModel wrong(backbone(), ArithmeticHeadOptions(5, 1));
  EXPECT_THROW_WITH(wrong(torch::rand({2, 3})),
                    "head: the backbone gives 4 features per example but the head takes 5");
  HeadedModel model(backbone(), ArithmeticHeadOptions(4, 3).task(HeadTask::kClassification));
  const auto logits = model(torch::rand({2, 3}));
  EXPECT_THROW_WITH(model->loss(logits, torch::rand({2})), "head: classification needs int64");
  EXPECT_THROW_WITH(model->loss(logits, torch::tensor({0, 3}, torch::kLong)),
                    "head: class indices must be in [0, 3), got 3");
  HeadedModel regression(backbone(), ArithmeticHeadOptions(4, 2));
  EXPECT_THROW_WITH(regression->loss(regression(torch::rand({2, 3})), torch::rand({2, 3})),
                    "head: regression needs a float target shaped as the output");
  EXPECT_THROW_WITH(regression->head(torch::rand({2, 7})), "head: expected features [batch, 4]");
}

}  // namespace
}  // namespace nalu

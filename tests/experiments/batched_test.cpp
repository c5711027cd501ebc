// Batched stacks against the models they pack: outputs, gradients and whole Adam trajectories
// must equal those of each model computed on its own.
#include "nalu/models/batched.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "nalu/tasks/arithmetic.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::close_to;

// `count` models of one architecture with different weights, as the identity experiment
// builds them: a NAC stack, a linear stack or an MLP with `activation`.
std::vector<Stack> make_models(const std::string& family, int64_t count,
                               std::vector<int64_t> sizes = {1, 8, 8, 8, 1}) {
  std::vector<Stack> models;
  for (int64_t m = 0; m < count; ++m) {
    torch::manual_seed(100 + m);
    if (family == "nac" || family == "linear") {
      models.push_back(make_stack({family}, sizes));
    } else {
      UnitSettings settings;
      settings.mlp_activation = family;
      models.push_back(make_stack({"mlp"}, sizes, settings));
    }
  }
  return models;
}

// sum over models of the MSE of model m on x[m] against the identity target.
torch::Tensor separate_loss(std::vector<Stack>& models, const torch::Tensor& x) {
  torch::Tensor total = torch::zeros({});
  for (size_t m = 0; m < models.size(); ++m) {
    const auto input = x[static_cast<int64_t>(m)];
    total = total + (models[m]->forward(input) - input).pow(2).mean();
  }
  return total;
}

const std::vector<std::string> kFamilies = {"nac",   "linear", "relu6",    "tanh",      "prelu",
                                            "rrelu", "selu",   "hardtanh", "softshrink"};

TEST(BatchedStack, EqualsEachModelComputedAlone) {
  for (const auto& family : kFamilies) {
    SCOPED_TRACE(family);
    auto models = make_models(family, 5);
    BatchedStack batch(models);
    batch->eval();  // RReLU's fixed slope, as the models in eval mode
    for (auto& model : models)
      model->eval();
    torch::manual_seed(1);
    const auto x = torch::rand({5, 16, 1}) * 20 - 10;
    const auto y = batch(x);
    ASSERT_EQ(y.sizes(), (std::vector<int64_t>{5, 16, 1}));
    for (int64_t m = 0; m < 5; ++m)
      EXPECT_TRUE(close_to(y[m], models[m]->forward(x[m]), 1e-5, 1e-5)) << "model " << m;
  }
}

TEST(BatchedStack, GradientsAreEachModelsOwn) {
  for (const auto& family : kFamilies) {
    SCOPED_TRACE(family);
    auto models = make_models(family, 4);
    BatchedStack batch(models);
    batch->eval();
    for (auto& model : models)
      model->eval();
    torch::manual_seed(2);
    const auto x = torch::rand({4, 32, 1}) * 10 - 5;
    (batch(x) - x).pow(2).mean({1, 2}).sum().backward();
    separate_loss(models, x).backward();
    const auto packed = batch->parameters();
    for (int64_t m = 0; m < 4; ++m) {
      const auto own = models[m]->parameters();
      ASSERT_EQ(own.size(), packed.size());
      for (size_t i = 0; i < own.size(); ++i)
        EXPECT_TRUE(close_to(packed[i].grad()[m], own[i].grad(), 1e-5, 1e-4))
            << "model " << m << " parameter " << i;
    }
  }
}

TEST(BatchedStack, OneAdamOverTheBatchFollowsEachModelsOwnTrajectory) {
  for (const std::string family : {"nac", "relu6", "prelu"}) {
    SCOPED_TRACE(family);
    auto models = make_models(family, 3);
    BatchedStack batch(models);
    torch::optim::Adam batched_adam(batch->parameters(), torch::optim::AdamOptions(1e-2));
    std::vector<std::unique_ptr<torch::optim::Adam>> own_adam;
    for (auto& model : models)
      own_adam.push_back(std::make_unique<torch::optim::Adam>(model->parameters(),
                                                              torch::optim::AdamOptions(1e-2)));
    auto generator = make_generator(3);
    for (int step = 0; step < 50; ++step) {
      const auto x = torch::empty({3, 16, 1}).uniform_(-5, 5, generator);
      batched_adam.zero_grad();
      (batch(x) - x).pow(2).mean({1, 2}).sum().backward();
      batched_adam.step();
      for (size_t m = 0; m < models.size(); ++m) {
        own_adam[m]->zero_grad();
        const auto input = x[static_cast<int64_t>(m)];
        (models[m]->forward(input) - input).pow(2).mean().backward();
        own_adam[m]->step();
      }
    }
    for (int64_t m = 0; m < 3; ++m) {
      auto unpacked = make_models(family, 1).front();
      batch->unpack(m, *unpacked);
      const auto trained = models[m]->parameters();
      const auto from_batch = unpacked->parameters();
      for (size_t i = 0; i < trained.size(); ++i)
        EXPECT_TRUE(close_to(from_batch[i], trained[i], 1e-4, 1e-4))
            << "model " << m << " parameter " << i;
    }
  }
}

TEST(BatchedStack, RReLUTrainingSlopesComeFromItsOwnSeed) {
  auto models = make_models("rrelu", 3);
  const auto x = torch::linspace(-5, 5, 64).reshape({1, 64, 1}).expand({3, 64, 1}).contiguous();
  BatchedStack a(models, 7), b(models, 7), c(models, 8);
  torch::NoGradGuard no_grad;
  const auto ya = a(x);
  EXPECT_TRUE(torch::equal(ya, b(x)));
  EXPECT_FALSE(torch::equal(ya, c(x)));
  a->eval();
  EXPECT_FALSE(torch::equal(ya, a(x)));  // training mode drew random slopes
}

TEST(BatchedStack, RejectsWhatItCannotPack) {
  EXPECT_THROW_WITH(BatchedStack(std::vector<Stack>{}), "batched stack: needs at least one model");
  auto mixed = make_models("relu6", 2);
  mixed.push_back(make_models("tanh", 1).front());
  EXPECT_THROW_WITH(BatchedStack{mixed}, "model 2 differs in architecture from model 0");
  auto sizes = make_models("nac", 1);
  sizes.push_back(make_models("nac", 1, {1, 4, 1}).front());
  EXPECT_THROW_WITH(BatchedStack{sizes}, "model 1 differs in architecture");
  EXPECT_THROW_WITH(BatchedStack(std::vector<Stack>{make_stack({"nau", "nmu"}, {2, 2, 1})}),
                    "no batched form of layer 'nau'");
  BatchedStack batch(make_models("nac", 2));
  EXPECT_THROW_WITH(batch(torch::rand({3, 4, 1})), "batched stack: expected inputs [2, batch, 1]");
  auto other = make_models("nac", 1, {1, 4, 4, 4, 1}).front();
  EXPECT_THROW_WITH(batch->unpack(0, *other), "another shape than the packed one");
  EXPECT_THROW_WITH(batch->unpack(0, *make_models("nac", 1, {1, 4, 1}).front()),
                    "the target model has 4 parameters, the packed ones 8");
  EXPECT_THROW_WITH(batch->unpack(2, *make_models("nac", 1).front()), "model 2 is not in [0, 2)");
}

}  // namespace
}  // namespace nalu

// Stacks and the registry: building units by name, composing their formulas, schedules and
// clamps across layers, validation messages, and units used as ordinary torch::nn modules.
#include "nalu/units/stack.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <sstream>

#include "nalu/error.h"
#include "nalu/units/baselines.h"
#include "nalu/units/nau.h"
#include "nalu/units/nmu.h"
#include "nalu/units/registry.h"
#include "test_util.h"

namespace nalu {
namespace {

using testing::assign;
using testing::close_to;
using testing::contains;
using testing::matrix;
using testing::message_of;

NAUImpl& nau_layer(Stack& stack, size_t l) {
  return dynamic_cast<NAUImpl&>(*stack->layers().at(l));
}
NMUImpl& nmu_layer(Stack& stack, size_t l) {
  return dynamic_cast<NMUImpl&>(*stack->layers().at(l));
}

TEST(StackTest, NauThenNmuComposesIntoOneFormula) {
  torch::manual_seed(0);
  auto stack = make_stack({"nau", "nmu"}, {3, 2, 1});
  EXPECT_EQ(stack->unit_name(), "nau,nmu");
  EXPECT_EQ(stack->in_features(), 3);
  EXPECT_EQ(stack->out_features(), 1);
  assign(nau_layer(stack, 0).weight, matrix({{1, 1, 0}, {0, 0, 1}}));
  assign(nmu_layer(stack, 1).weight, matrix({{1, 1}}));
  const auto formula = stack->formula();
  EXPECT_EQ(formula.str(), "y0 = (x0 + x1) · x2");
  EXPECT_TRUE(formula.exact());

  const auto x = matrix({{1, 2, 3}, {-1, 4, -2}, {0.5, 0.5, 0}});
  EXPECT_TRUE(close_to(stack(x), matrix({{9}, {-6}, {0}}), 1e-5));
}

TEST(StackTest, AdditiveLayersFlattenAndMergeCoefficients) {
  torch::manual_seed(1);
  auto stack = make_stack({"nau"}, {2, 2, 1});
  assign(nau_layer(stack, 0).weight, matrix({{1, 1}, {1, 0}}));
  assign(nau_layer(stack, 1).weight, matrix({{1, 1}}));
  EXPECT_EQ(stack->formula().str(), "y0 = 2·x0 + x1");
  // Cancelling terms disappear: (x0 + x1) - x0 = x1.
  assign(nau_layer(stack, 1).weight, matrix({{1, -1}}));
  EXPECT_EQ(stack->formula().str(), "y0 = x1");
  EXPECT_TRUE(close_to(stack(matrix({{5, -7}})), matrix({{-7}}), 1e-6));
}

TEST(StackTest, RoundingErrorIsTheLargestOverLayers) {
  torch::manual_seed(2);
  auto stack = make_stack({"nau", "nmu"}, {3, 2, 1});
  assign(nau_layer(stack, 0).weight, matrix({{1, 0.9, 0}, {0, 0, 1}}));
  assign(nmu_layer(stack, 1).weight, matrix({{0.8, 1}}));
  EXPECT_NEAR(stack->formula().max_rounding_error, 0.2, 1e-6);
  EXPECT_NEAR(stack->sparsity_error(), 0.2, 1e-6);
}

TEST(StackTest, AfterOptimizerStepClampsEveryLayer) {
  torch::manual_seed(3);
  auto stack = make_stack({"nau", "nmu"}, {2, 2, 1});
  assign(nau_layer(stack, 0).weight, matrix({{1.5, -3}, {0.5, 0}}));
  assign(nmu_layer(stack, 1).weight, matrix({{-0.5, 2}}));
  stack->after_optimizer_step();
  EXPECT_TRUE(close_to(nau_layer(stack, 0).weight, matrix({{1, -1}, {0.5, 0}}), 0.0));
  EXPECT_TRUE(close_to(nmu_layer(stack, 1).weight, matrix({{0, 1}}), 0.0));
}

TEST(StackTest, RegularizationSumsLayersWithTheirOwnSchedules) {
  torch::manual_seed(4);
  auto stack = make_stack({"nau", "nmu"}, {2, 2, 1});
  assign(nau_layer(stack, 0).weight, matrix({{0.5, 0}, {0, 0}}));  // R_nau = 0.125
  assign(nmu_layer(stack, 1).weight, matrix({{0.5, 0.5}}));        // R_nmu = 0.5
  EXPECT_NEAR(stack->regularization_loss(2.0).item<double>(), 2.0 * (0.125 + 0.5), 1e-6);
  // The layers' own schedules: NAU 0.01 from step 50,000; NMU 10 from step 2,000,000, half of
  // it at 1,500,000.
  const std::vector<RegularizerSchedule> own = {stack->layers()[0]->default_regularizer(),
                                                stack->layers()[1]->default_regularizer()};
  EXPECT_EQ(stack->scheduled_regularization_loss(0, own).item<double>(), 0.0);
  EXPECT_NEAR(stack->scheduled_regularization_loss(50'000, own).item<double>(), 0.01 * 0.125, 1e-7);
  EXPECT_NEAR(stack->scheduled_regularization_loss(1'500'000, own).item<double>(),
              0.01 * 0.125 + 5.0 * 0.5, 1e-5);
  const RegularizerSchedule constant{1.0, 0, 0};
  EXPECT_NEAR(stack->scheduled_regularization_loss(7, {constant, constant}).item<double>(), 0.625,
              1e-6);
  EXPECT_NEAR(stack->scheduled_regularization_loss(7, {kNoRegularizer, constant}).item<double>(),
              0.5, 1e-6);
  EXPECT_TRUE(
      contains(message_of<Error>([&] { stack->scheduled_regularization_loss(7, {constant}); }),
               "2 layers need as many schedules, got 1"));
}

TEST(RegularizerScheduleTest, RampsLinearlyBetweenStartAndEnd) {
  const RegularizerSchedule schedule{4.0, 100, 300};
  EXPECT_EQ(schedule.at(0), 0.0);
  EXPECT_EQ(schedule.at(100), 0.0);
  EXPECT_DOUBLE_EQ(schedule.at(150), 1.0);
  EXPECT_DOUBLE_EQ(schedule.at(200), 2.0);
  EXPECT_DOUBLE_EQ(schedule.at(299), 4.0 * 199.0 / 200.0);
  EXPECT_EQ(schedule.at(300), 4.0);
  EXPECT_EQ(schedule.at(1'000'000), 4.0);
  // end <= start: a step at start; a zero scale: never on.
  const RegularizerSchedule step{2.0, 50, 50};
  EXPECT_EQ(step.at(49), 0.0);
  EXPECT_EQ(step.at(50), 2.0);
  EXPECT_EQ(kNoRegularizer.at(10'000'000), 0.0);
  EXPECT_DOUBLE_EQ(kNauSchedule.at(27'500), 0.005);
  EXPECT_DOUBLE_EQ(kNmuSchedule.at(1'250'000), 2.5);
}

TEST(RegularizerScheduleTest, TheLadderGrowsTenfoldUpToItsEnd) {
  RegularizerSchedule ladder{1e-7, 1'000, 21'000};
  ladder.tenfold_every = 10'000;
  EXPECT_EQ(ladder.at(999), 0.0);
  EXPECT_DOUBLE_EQ(ladder.at(1'000), 1e-9);
  EXPECT_DOUBLE_EQ(ladder.at(10'999), 1e-9);
  EXPECT_DOUBLE_EQ(ladder.at(11'000), 1e-8);
  EXPECT_DOUBLE_EQ(ladder.at(20'999), 1e-8);
  EXPECT_EQ(ladder.at(21'000), 1e-7);
  EXPECT_EQ(ladder.at(5'000'000), 1e-7);
  // Stretched with the run like the ramp; a step never shrinks to 0.
  const auto half = scaled_to_run(ladder, kReferenceIterations / 2);
  EXPECT_EQ(half.tenfold_every, 5'000);
  EXPECT_EQ(half.end, 10'500);
  EXPECT_EQ(scaled_to_run(ladder, 1).tenfold_every, 1);
}

TEST(StackTest, MlpAloneBuildsOneNetworkWithInnerSizesAsHidden) {
  torch::manual_seed(5);
  UnitSettings settings;
  settings.mlp_activation = "tanh";
  auto stack = make_stack({"mlp"}, {4, 6, 5, 1}, settings);
  ASSERT_EQ(stack->layers().size(), 1u);
  auto& mlp = dynamic_cast<MLPImpl&>(*stack->layers().front());
  EXPECT_EQ(mlp.options.hidden(), (std::vector<int64_t>{6, 5}));
  EXPECT_EQ(mlp.options.activation(), Activation::kTanh);
  EXPECT_TRUE(std::isnan(stack->sparsity_error()));
  EXPECT_TRUE(std::isinf(stack->formula().max_rounding_error));
}

TEST(StackTest, RejectsInconsistentConfigurations) {
  const auto count = message_of<Error>([] { make_stack({"nau", "nmu", "nau"}, {4, 2, 1}); });
  EXPECT_TRUE(contains(count, "2 layers need 1 or 2 unit names, got 3"));
  const auto mlp_inside = message_of<Error>([] { make_stack({"nau", "mlp"}, {4, 2, 1}); });
  EXPECT_TRUE(contains(mlp_inside, "'mlp' is a whole network"));
  EXPECT_TRUE(contains(message_of<Error>([] {
                         make_stack({"mlp", "mlp"}, {4, 2, 1});
                       }),
                       "'mlp' is a whole network"));
  EXPECT_TRUE(contains(message_of<Error>([] {
                         make_stack({"nau"}, {4, 0, 1});
                       }),
                       "stack: sizes must be positive, got 0"));
  EXPECT_TRUE(
      contains(message_of<Error>([] { make_stack({"nau"}, {4}); }), "needs at least two sizes"));
  EXPECT_TRUE(contains(message_of<Error>([] {
                         make_stack({"nau", "bogus"}, {4, 2, 1});
                       }),
                       "unknown unit 'bogus'"));

  torch::manual_seed(6);
  std::vector<std::shared_ptr<ArithmeticUnit>> mismatched = {make_unit("nau", 4, 2),
                                                             make_unit("nmu", 3, 1)};
  EXPECT_TRUE(contains(message_of<Error>([&] { StackImpl stack(mismatched); }),
                       "stack: layer 0 has 2 outputs but layer 1 takes 3"));
  EXPECT_TRUE(
      contains(message_of<Error>([] { StackImpl(std::vector<std::shared_ptr<ArithmeticUnit>>{}); }),
               "at least one layer"));
}

TEST(StackTest, ForwardChecksTheInputAgainstTheFirstLayer) {
  torch::manual_seed(7);
  auto stack = make_stack({"nau", "nmu"}, {3, 2, 1});
  EXPECT_TRUE(contains(message_of<c10::Error>([&] {
                         stack(torch::ones({4, 2}));
                       }),
                       "nau: expected 3 input features, got 2"));
}

// ---- the registry -----------------------------------------------------------------------------

TEST(RegistryTest, MakeUnitBuildsEveryCatalogUnit) {
  torch::manual_seed(8);
  for (const auto& info : unit_catalog()) {
    SCOPED_TRACE(info.name);
    EXPECT_FALSE(info.title.empty());
    EXPECT_FALSE(info.formula.empty());
    EXPECT_FALSE(info.source.empty());
    EXPECT_EQ(&find_unit(info.name), &info);
    ASSERT_NE(info.make, nullptr);
    if (!info.partner.empty()) {
      // A partner is a registered unit that stands alone.
      EXPECT_TRUE(find_unit(info.partner).partner.empty());
    }
    auto unit = make_unit(info.name, 5, 3);
    EXPECT_EQ(unit->unit_name(), info.name);
    EXPECT_EQ(unit->in_features(), 5);
    EXPECT_EQ(unit->out_features(), 3);
    EXPECT_EQ(unit->forward(torch::rand({7, 5}) + 0.5).sizes(), (std::vector<int64_t>{7, 3}));
    EXPECT_EQ(unit->formula().outputs.size(), 3u);
    EXPECT_GT(unit->as_module().parameters().size(), 0u);
    std::ostringstream printed;
    unit->as_module().pretty_print(printed);
    EXPECT_TRUE(contains(printed.str(), "in_features=5")) << printed.str();
    EXPECT_TRUE(contains(printed.str(), "out_features=3")) << printed.str();
    // Sizes <= 0 are rejected by every unit, naming it.
    EXPECT_TRUE(contains(message_of<c10::Error>([&] { make_unit(info.name, 0, 3); }),
                         info.name + ": in_features must be positive, got 0"));
  }
}

TEST(RegistryTest, UnknownUnitListsTheKnownOnes) {
  const auto message = message_of<Error>([] { make_unit("foo", 2, 1); });
  EXPECT_TRUE(contains(message, "unknown unit 'foo'"));
  for (const auto& info : unit_catalog())
    EXPECT_TRUE(contains(message, info.name));
  EXPECT_THROW(find_unit("NAU"), Error);
}

TEST(RegistryTest, SettingsReachTheUnits) {
  torch::manual_seed(9);
  UnitSettings settings;
  settings.nalu_shared_weights = false;
  settings.nalu_gate_bias = true;
  settings.linear_bias = false;
  EXPECT_EQ(make_unit("nalu", 3, 2, settings)->as_module().parameters().size(), 6u);
  EXPECT_EQ(make_unit("linear", 3, 2, settings)->as_module().parameters().size(), 1u);
  settings.epsilon = 0.25;
  auto nac_mul = make_unit("nac-mul", 1, 1, settings);
  // With W = tanh(20) * sigmoid(20) = 1: y = |x| + epsilon.
  for (auto& parameter : nac_mul->as_module().parameters()) {
    assign(parameter, torch::full({1, 1}, 20.0));
  }
  EXPECT_TRUE(close_to(nac_mul->forward(matrix({{2}})), matrix({{2.25}}), 1e-5));
  settings.mlp_activation = "nope";
  EXPECT_THROW(make_unit("mlp", 3, 2, settings), Error);
}

// ---- units as torch::nn modules -------------------------------------------------------------

TEST(ModuleTest, UnitsComposeInsideSequential) {
  torch::manual_seed(10);
  torch::nn::Sequential net(NAU(4, 2), NMU(2, 1));
  const auto x = torch::randn({5, 4});
  auto nau = net->ptr<NAUImpl>(0);
  auto nmu = net->ptr<NMUImpl>(1);
  EXPECT_TRUE(close_to(net->forward(x), nmu->forward(nau->forward(x)), 1e-6));
  EXPECT_EQ(net->parameters().size(), 2u);
}

TEST(ModuleTest, OptimizerSeesAndUpdatesUnitParameters) {
  torch::manual_seed(11);
  auto stack = make_stack({"nau", "nmu"}, {4, 2, 1});
  torch::optim::SGD optimizer(stack->parameters(), torch::optim::SGDOptions(0.1));
  const auto before = nau_layer(stack, 0).weight.clone();
  const auto x = torch::rand({8, 4}) + 1;
  const auto loss = (stack(x) - 3).pow(2).mean();
  optimizer.zero_grad();
  loss.backward();
  optimizer.step();
  EXPECT_FALSE(torch::equal(before, nau_layer(stack, 0).weight));
  EXPECT_EQ(stack->named_parameters().size(), 2u);
  EXPECT_TRUE(stack->named_parameters().contains("layer0.weight"));
  EXPECT_TRUE(stack->named_parameters().contains("layer1.weight"));
}

TEST(ModuleTest, ToDoubleConvertsUnitsAndStacks) {
  torch::manual_seed(12);
  NAU nau(3, 2);
  nau->to(torch::kDouble);
  EXPECT_EQ(nau->weight.scalar_type(), torch::kDouble);
  EXPECT_EQ(nau(torch::ones({2, 3}, torch::kDouble)).scalar_type(), torch::kDouble);

  auto stack = make_stack({"nac", "nalu"}, {3, 2, 1});
  stack->to(torch::kDouble);
  for (const auto& parameter : stack->parameters()) {
    EXPECT_EQ(parameter.scalar_type(), torch::kDouble);
  }
  EXPECT_EQ(stack(torch::ones({2, 3}, torch::kDouble)).scalar_type(), torch::kDouble);
}

TEST(ModuleTest, CloneGivesIndependentEqualParameters) {
  torch::manual_seed(13);
  for (const auto& info : unit_catalog()) {
    SCOPED_TRACE(info.name);
    auto unit = make_unit(info.name, 3, 2);
    auto copy = unit->as_module().clone();
    auto* copied_unit = dynamic_cast<ArithmeticUnit*>(copy.get());
    ASSERT_NE(copied_unit, nullptr);
    EXPECT_EQ(copied_unit->unit_name(), info.name);
    const auto original = unit->as_module().named_parameters();
    const auto cloned = copy->named_parameters();
    ASSERT_EQ(original.size(), cloned.size());
    for (const auto& item : original) {
      ASSERT_TRUE(cloned.contains(item.key()));
      EXPECT_TRUE(torch::equal(item.value(), cloned[item.key()]));
      EXPECT_NE(item.value().data_ptr(), cloned[item.key()].data_ptr());
    }
    // Changing the copy leaves the original alone, and the copy computes with its own values.
    const auto x = torch::rand({4, 3}) + 0.5;
    const auto y_before = unit->forward(x);
    {
      torch::NoGradGuard no_grad;
      for (auto& parameter : copy->parameters())
        parameter.add_(0.25);
    }
    EXPECT_TRUE(close_to(unit->forward(x), y_before, 0.0));
    EXPECT_FALSE(torch::allclose(copied_unit->forward(x), y_before));
  }
}

}  // namespace
}  // namespace nalu

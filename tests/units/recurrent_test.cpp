// Units as recurrent cells, sequence cores and the recurrent arithmetic model: shapes,
// gradients, an exact running sum over 1000 steps, heads and cores.
#include "nalu/units/recurrent.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nalu/tasks/arithmetic.h"
#include "nalu/units/nac.h"
#include "test_util.h"
#include "units/gradcheck.h"

namespace nalu {
namespace {

using testing::away_from_zero;
using testing::gradient_mismatch;

TEST(RecurrentCell, MapsInputAndStateToTheNextState) {
  torch::manual_seed(0);
  for (const std::string unit : {"nac", "nalu", "nau", "linear"}) {
    RecurrentCell cell(unit, 5, 3);
    EXPECT_EQ(cell->unit().in_features(), 8) << unit;
    const auto h1 = cell(torch::rand({4, 5}), torch::Tensor());
    EXPECT_EQ(h1.sizes(), (std::vector<int64_t>{4, 3})) << unit;
    const auto h2 = cell(torch::rand({4, 5}), h1);
    EXPECT_EQ(h2.sizes(), (std::vector<int64_t>{4, 3})) << unit;
    const auto states = cell->forward_sequence(torch::rand({4, 6, 5}));
    EXPECT_EQ(states.sizes(), (std::vector<int64_t>{4, 6, 3})) << unit;
  }
}

TEST(RecurrentCell, StartsFromAZeroState) {
  torch::manual_seed(1);
  RecurrentCell cell("nac", 3, 2);
  const auto x = torch::rand({5, 3});
  EXPECT_TRUE(torch::equal(cell(x, torch::Tensor()), cell(x, torch::zeros({5, 2}))));
}

TEST(RecurrentCell, RejectsWrongShapes) {
  RecurrentCell cell("nac", 3, 2);
  EXPECT_THROW_WITH(cell(torch::rand({5, 4}), torch::Tensor()),
                    "recurrent cell: expected an input [batch, 3]");
  EXPECT_THROW_WITH(cell(torch::rand({5, 3}), torch::rand({5, 3})),
                    "recurrent cell: expected a hidden state [5, 2]");
  EXPECT_THROW_WITH(cell->forward_sequence(torch::rand({5, 3})),
                    "recurrent cell: expected a sequence [batch, steps, 3]");
  EXPECT_THROW_WITH(RecurrentCell("lstm", 3, 2), "unknown unit 'lstm'");
  EXPECT_THROW_WITH(RecurrentCell("nac", 3, 0), "recurrent cell: hidden size must be positive");
}

// identity_recurrence: the block that reads h_{t-1} starts as the identity (exactly 0 off its
// diagonal), the block that reads x_t keeps the unit's own start, and the cell then carries its
// state unchanged when the input block's contribution is zero.
TEST(RecurrentCell, IdentityRecurrenceStartsAsAnAccumulator) {
  torch::manual_seed(4);
  const double v = 5.0;
  const double diagonal = std::tanh(v) / (1.0 + std::exp(-v));
  for (const std::string unit : {"nac", "nalu", "nau"}) {
    SCOPED_TRACE(unit);
    RecurrentCell cell(RecurrentCellOptions(unit, 4, 3).identity_recurrence(v));
    const auto weight = recurrent_cell_weight(cell->unit());
    ASSERT_TRUE(weight.defined());
    ASSERT_EQ(weight.sizes(), (std::vector<int64_t>{3, 7}));
    const auto block = weight.slice(1, 4).detach();
    const double expected = unit == "nau" ? 1.0 : diagonal;
    EXPECT_TRUE(torch::allclose(block.diagonal(), torch::full({3}, expected), 0, 1e-6));
    EXPECT_EQ((block - torch::diag(block.diagonal())).abs().max().item<double>(), 0.0);
    EXPECT_GT(weight.slice(1, 0, 4).abs().max().item<double>(), 0.0);  // the input block is random
  }
  // A NAC accumulator: h_t = W_x x_t + d * h_{t-1}.
  RecurrentCell cell(RecurrentCellOptions("nac", 2, 2).identity_recurrence(v));
  const auto h = torch::tensor({{3.0F, -2.0F}});
  const auto next = cell(torch::zeros({1, 2}), h);
  EXPECT_TRUE(torch::allclose(next, h * diagonal, 1e-6, 1e-6));
}

TEST(RecurrentCell, IdentityRecurrenceRefusesOtherUnitsAndBadValues) {
  EXPECT_THROW_WITH(
      RecurrentCell(RecurrentCellOptions("nmu", 3, 2).identity_recurrence(5)),
      "recurrent cell: identity recurrence is for nac, nalu and nau cells, not 'nmu'");
  EXPECT_THROW_WITH(RecurrentCell(RecurrentCellOptions("nac", 3, 2).identity_recurrence(-1)),
                    "recurrent cell: identity recurrence must be >= 0");
  EXPECT_THROW_WITH(SequenceCore(SequenceCoreOptions("lstm", 3, 2).identity_recurrence(5)),
                    "sequence core: identity recurrence is for unit cores, not 'lstm'");
  EXPECT_FALSE(recurrent_cell_weight(RecurrentCell("nmu", 3, 2)->unit()).defined());
  // A unit core passes the setting to its cell.
  SequenceCore core(SequenceCoreOptions("nac", 3, 2).identity_recurrence(5));
  const auto block = recurrent_cell_weight(core->cell->unit()).slice(1, 3).detach();
  EXPECT_EQ((block - torch::diag(block.diagonal())).abs().max().item<double>(), 0.0);
}

// d(sum(h_t * R))/d(parameters, x_t, h_{t-1}) against central differences, in double.
void expect_cell_gradients_match(const std::string& unit, bool random_signs) {
  SCOPED_TRACE(unit);
  torch::manual_seed(2);
  RecurrentCell cell(unit, 3, 2);
  cell->to(torch::kDouble);
  auto x = away_from_zero(4, 3, random_signs);
  auto h = away_from_zero(4, 2, random_signs);
  const auto weights = torch::randn({4, 2}, torch::kDouble);
  auto loss = [&] { return (cell(x, h) * weights).sum().item<double>(); };

  x.requires_grad_(true);
  h.requires_grad_(true);
  (cell(x, h) * weights).sum().backward();
  const auto x_grad = x.grad().clone();
  const auto h_grad = h.grad().clone();
  x = x.detach();
  h = h.detach();
  for (const auto& item : cell->named_parameters()) {
    auto parameter = item.value();
    ASSERT_TRUE(parameter.grad().defined()) << item.key();
    std::string where;
    EXPECT_EQ(gradient_mismatch(parameter, parameter.grad().clone(), loss, {}, where), 0.0)
        << item.key() << ": " << where;
  }
  std::string where;
  EXPECT_EQ(gradient_mismatch(x, x_grad, loss, {}, where), 0.0) << "input: " << where;
  EXPECT_EQ(gradient_mismatch(h, h_grad, loss, {}, where), 0.0) << "state: " << where;
}

TEST(RecurrentCell, GradientsMatchFiniteDifferences) {
  expect_cell_gradients_match("nac", /*random_signs=*/true);
  expect_cell_gradients_match("nalu", /*random_signs=*/false);
  expect_cell_gradients_match("nau", /*random_signs=*/true);
}

// Sets a NAC cell of 4 inputs and 2 states to h_t = [x_t | h_{t-1}] W^T with W = [I on the
// subsets | identity]: h0 sums x0 + x1 and h1 sums x1 + x2 over every step. tanh(20) and
// sigmoid(20) round to exactly 1 in float.
void make_running_sum(RecurrentCellImpl& cell) {
  auto& nac = dynamic_cast<NACImpl&>(cell.unit());
  const auto pattern = testing::matrix({{1, 1, 0, 0, 1, 0}, {0, 1, 1, 0, 0, 1}});
  testing::assign(nac.w_hat, pattern * 20);
  testing::assign(nac.m_hat, torch::full({2, 6}, 20.0));
  ASSERT_TRUE(torch::equal(nac.weight(), pattern));
}

// 3 sequences of 1000 steps of integers (every partial sum stays exact in float), and the
// running sums make_running_sum's cell must reach at the last step.
std::pair<torch::Tensor, torch::Tensor> running_sum_case() {
  auto generator = make_generator(7);
  const auto x = torch::randint(0, 10, {3, 1000, 4}, generator, torch::kFloat);
  const auto totals = x.sum(1);
  const auto expected = torch::stack(
      {totals.select(1, 0) + totals.select(1, 1), totals.select(1, 1) + totals.select(1, 2)}, 1);
  EXPECT_GT(expected.min().item<double>(), 5000.0);
  return {x, expected};
}

TEST(RecurrentCell, HandSetNacKeepsAnExactRunningSumOverAThousandSteps) {
  RecurrentCell cell("nac", 4, 2);
  make_running_sum(*cell);
  const auto [x, expected] = running_sum_case();
  torch::NoGradGuard no_grad;
  const auto states = cell->forward_sequence(x);
  EXPECT_TRUE(torch::equal(states.select(1, 999), expected))
      << states.select(1, 999) << "\nexpected\n"
      << expected;
}

TEST(SequenceCore, EveryCoreMapsSequencesToStates) {
  torch::manual_seed(5);
  for (const auto& core : recurrent_core_names()) {
    SequenceCore model(core, 6, 3);
    const auto x = torch::rand({5, 4, 6}) + 0.5;
    const auto states = model(x);
    EXPECT_EQ(states.sizes(), (std::vector<int64_t>{5, 4, 3})) << core;
    const auto last = model->forward_last(x);
    EXPECT_EQ(last.sizes(), (std::vector<int64_t>{5, 3})) << core;
    // Equal, NaN where NaN: an NRU core divides by its zero start state (1 / 0, as its
    // authors' unit does), which makes the same NaN in both.
    EXPECT_TRUE(torch::allclose(last, states.select(1, 3), 0.0, 0.0, /*equal_nan=*/true)) << core;
    EXPECT_EQ(model->is_unit_core(), model->units().size() == 1) << core;
  }
  EXPECT_EQ(SequenceCore("nalu", 2, 2)->units().front()->unit_name(), "nalu");
  EXPECT_TRUE(SequenceCore("gru", 2, 2)->units().empty());
}

TEST(SequenceCore, GradientsReachEveryParameterAndTheInput) {
  torch::manual_seed(6);
  for (const std::string core : {"nac", "nalu", "nau", "lstm", "gru", "rnn-relu", "rnn-tanh"}) {
    SequenceCore model(core, 3, 4);
    auto x = (torch::rand({2, 5, 3}) + 0.5).requires_grad_(true);
    (model(x) * torch::randn({2, 5, 4})).sum().backward();
    ASSERT_TRUE(x.grad().defined()) << core;
    EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0) << core;
    for (const auto& item : model->named_parameters()) {
      ASSERT_TRUE(item.value().grad().defined()) << core << ": " << item.key();
      EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << core << ": " << item.key();
    }
  }
}

TEST(SequenceCore, HandSetNacCoreKeepsAnExactRunningSumOverAThousandSteps) {
  SequenceCore core("nac", 4, 2);
  make_running_sum(*core->cell);
  const auto [x, expected] = running_sum_case();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(core(x).select(1, 999), expected));
  EXPECT_TRUE(torch::equal(core->forward_last(x), expected));
}

TEST(SequenceCore, RejectsUnknownCoresAndBadShapes) {
  EXPECT_THROW_WITH(SequenceCore("transformer", 4, 2), "unknown recurrent core 'transformer'");
  EXPECT_THROW_WITH(SequenceCore("lstm", 0, 2), "sequence core: input size must be positive");
  EXPECT_THROW_WITH(SequenceCore("nac", 4, 0), "sequence core: hidden size must be positive");
  SequenceCore core("gru", 4, 2);
  EXPECT_THROW_WITH(core(torch::rand({2, 4})), "sequence core: expected sequences");
  EXPECT_THROW_WITH(core(torch::rand({2, 0, 4})), "sequence core: expected sequences");
  EXPECT_THROW_WITH(core->forward_last(torch::rand({2, 3, 5})),
                    "sequence core: expected sequences");
}

TEST(RecurrentArithmeticModel, EveryCoreMapsSequencesToOneOutput) {
  torch::manual_seed(3);
  for (const std::string core : {"nac", "nalu", "nau", "lstm", "gru", "rnn-relu", "rnn-tanh"}) {
    RecurrentArithmeticModel model(RecurrentArithmeticModelOptions(core, 6).hidden_size(3));
    const auto y = model(torch::rand({5, 4, 6}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{5, 1})) << core;
    EXPECT_TRUE(torch::isfinite(y).all().item<bool>()) << core;
  }
}

TEST(RecurrentArithmeticModel, HeadsFollowTheCoreUnlessGiven) {
  RecurrentArithmeticModel nac(RecurrentArithmeticModelOptions("nac", 4));
  EXPECT_EQ(nac->head_name(), "nac");
  ASSERT_EQ(nac->units().size(), 2u);
  EXPECT_EQ(nac->units()[0]->in_features(), 6);
  EXPECT_EQ(nac->units()[1]->out_features(), 1);
  RecurrentArithmeticModel lstm(RecurrentArithmeticModelOptions("lstm", 4));
  EXPECT_EQ(lstm->head_name(), "linear");
  EXPECT_TRUE(lstm->units().empty());
  EXPECT_TRUE(lstm->linear);
  EXPECT_EQ(lstm->sparsity_error(), 0.0);
  RecurrentArithmeticModel mixed(RecurrentArithmeticModelOptions("gru", 4).head_unit("nalu"));
  EXPECT_EQ(mixed->head_name(), "nalu");
  EXPECT_EQ(mixed->units().size(), 1u);
  RecurrentArithmeticModel rnn(RecurrentArithmeticModelOptions("rnn-relu", 4));
  EXPECT_TRUE(
      c10::holds_alternative<torch::enumtype::kReLU>(rnn->core->rnn->options.nonlinearity()));
}

TEST(RecurrentArithmeticModel, RejectsUnknownCoresAndBadShapes) {
  EXPECT_THROW_WITH(RecurrentArithmeticModel(RecurrentArithmeticModelOptions("transformer", 4)),
                    "unknown recurrent core 'transformer'");
  EXPECT_THROW_WITH(
      RecurrentArithmeticModel(RecurrentArithmeticModelOptions("lstm", 4).head_unit("cnn")),
      "unknown unit 'cnn'");
  EXPECT_THROW_WITH(
      RecurrentArithmeticModel(RecurrentArithmeticModelOptions("lstm", 4).hidden_size(0)),
      "recurrent model: hidden size must be positive, got 0");
  RecurrentArithmeticModel model(RecurrentArithmeticModelOptions("nac", 4));
  EXPECT_THROW_WITH(model(torch::rand({2, 4})), "recurrent model: expected sequences");
}

TEST(RecurrentArithmeticModel, ClonesWithItsWeights) {
  torch::manual_seed(4);
  RecurrentArithmeticModel model(RecurrentArithmeticModelOptions("nalu", 3));
  const auto copy = std::dynamic_pointer_cast<RecurrentArithmeticModelImpl>(model->clone());
  ASSERT_TRUE(copy);
  const auto x = torch::rand({2, 5, 3});
  EXPECT_TRUE(torch::equal(model(x), copy->forward(x)));
  EXPECT_EQ(copy->units().size(), 2u);
}

}  // namespace
}  // namespace nalu

// `nalu experiment number-words`: the NALU paper's Table 3. Every model trains on the whole
// training set at each step (169 phrases of at most five words); the step kept is the one with
// the lowest validation MAE, and the test numbers are scored only once, on that model.
#include "nalu/experiments/number_words.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "experiments/lstm_step.h"
#include "experiments/progress_counter.h"
#include "experiments/tensor_text.h"
#include "nalu/data/number_words.h"
#include "nalu/error.h"
#include "nalu/experiments/report.h"
#include "nalu/io/archive.h"
#include "nalu/io/files.h"
#include "nalu/io/module_archive.h"
#include "nalu/limits.h"
#include "nalu/strings.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/record.h"
#include "nalu/units/baselines.h"
#include "nalu/units/nac.h"
#include "nalu/units/nalu.h"
#include "nalu/units/nau.h"
#include "nalu/units/nmu.h"
#include "nalu/version.h"
#include "parallel.h"
#include "random/seeded.h"

namespace nalu {

using detail::shape_text;

namespace {

// Streams of derive_seed(config.seed, stream); model (output, seed s) starts from
// derive_seed(derive_seed(config.seed, kInitializationStream), s), the same for every output
// cell, so the cells of one seed share their embedding and LSTM start.
constexpr uint64_t kSplitStream = 60;
constexpr uint64_t kInitializationStream = 61;

constexpr int64_t kMaxWords = 5;  // "seven hundred and forty two"
constexpr int64_t kDigitClasses = 3;
constexpr int64_t kExamples = 4;
constexpr int64_t kMaxEmbedding = 4'096;
constexpr int64_t kMaxHidden = 1'024;
constexpr int64_t kMaxSeeds = 1'000;
// Training steps between progress events of one model.
constexpr int64_t kProgressInterval = 50;
constexpr const char* kModelKind = "number-words-model";
// W_hat = M_hat = 5: a NAC weight of tanh(5) sigmoid(5) = 0.99 (as RecurrentCellOptions'
// identity_recurrence).
constexpr double kAccumulatorLogit = 5.0;

// The cell's units and sizes: [s h, y_prev] (hidden + 1 values) -> y.
struct CellShape {
  std::vector<std::string> units;
  std::vector<int64_t> hidden;
};

CellShape cell_shape(const std::string& output) {
  if (output == "nau-nmu")
    return {{"nau", "nmu"}, {2}};
  return {{output}, {}};
}

int64_t digits_of(int64_t n) {
  return n < 10 ? 1 : (n < 100 ? 2 : 3);
}

}  // namespace

const std::vector<std::string>& number_words_output_names() {
  static const std::vector<std::string> kOutputs = {"linear", "nac", "nalu", "nau", "nau-nmu"};
  return kOutputs;
}

void check_number_words_output(const std::string& output) {
  find_name(number_words_output_names(), output, "output layer");
}

void check_number_words_loss(const std::string& loss) {
  find_name({"last-word", "every-prefix"}, loss, "loss");
}

// ---- model ----

NumberWordsModelImpl::NumberWordsModelImpl(NumberWordsModelOptions options_)
    : options(std::move(options_)) {
  reset();
}

void NumberWordsModelImpl::reset() {
  const auto& o = options;
  check_number_words_output(o.output());
  check(o.embedding() >= 1 && o.embedding() <= kMaxEmbedding,
        "number words model: embedding must be in [1, " + std::to_string(kMaxEmbedding) +
            "], got " + std::to_string(o.embedding()));
  check(o.hidden_size() >= 1 && o.hidden_size() <= kMaxHidden,
        "number words model: hidden size must be in [1, " + std::to_string(kMaxHidden) + "], got " +
            std::to_string(o.hidden_size()));
  check(std::isfinite(o.input_scale()) && o.input_scale() > 0,
        "number words model: input scale must be positive and finite, got " +
            format_significant(o.input_scale()));
  const auto vocabulary = static_cast<int64_t>(data::number_word_vocabulary().size());
  embedding = register_module("embedding", torch::nn::Embedding(vocabulary, o.embedding()));
  lstm = register_module("lstm", torch::nn::LSTMCell(o.embedding(), o.hidden_size()));
  const CellShape shape = cell_shape(o.output());
  cell = register_module("cell", ArithmeticHead(ArithmeticHeadOptions(o.hidden_size() + 1, 1)
                                                    .hidden(shape.hidden)
                                                    .units(shape.units)
                                                    .settings(o.settings())));
  if (o.accumulator())
    start_as_accumulator();
}

void NumberWordsModelImpl::start_as_accumulator() {
  torch::NoGradGuard no_grad;
  const auto& layers = cell->units();
  const int64_t y = options.hidden_size();  // the column that reads y_{t-1}
  auto& first = layers.front()->as_module();
  if (auto* linear = dynamic_cast<LinearImpl*>(&first)) {
    linear->weight[0][y] = 1.0;
  } else if (auto* nac = dynamic_cast<NACImpl*>(&first)) {
    nac->w_hat[0][y] = kAccumulatorLogit;
    nac->m_hat[0][y] = kAccumulatorLogit;
  } else if (auto* nalu_unit = dynamic_cast<NALUImpl*>(&first)) {
    nalu_unit->w_hat[0][y] = kAccumulatorLogit;
    nalu_unit->m_hat[0][y] = kAccumulatorLogit;
  } else if (auto* nau = dynamic_cast<NAUImpl*>(&first)) {
    nau->weight.select(1, y).zero_();
    nau->weight[0][y] = 1.0;
  }
  if (layers.size() > 1) {
    if (auto* nmu = dynamic_cast<NMUImpl*>(&layers[1]->as_module())) {
      nmu->weight.zero_();
      nmu->weight[0][0] = 1.0;
    }
  }
}

void NumberWordsModelImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::NumberWordsModel(output=" << options.output()
         << ", embedding=" << options.embedding() << ", hidden_size=" << options.hidden_size()
         << ", input_scale=" << options.input_scale() << ")";
}

torch::Tensor NumberWordsModelImpl::forward(const torch::Tensor& tokens,
                                            const torch::Tensor& lengths) {
  const auto vocabulary = static_cast<int64_t>(data::number_word_vocabulary().size());
  check(tokens.defined() && tokens.dim() == 2 && tokens.size(0) > 0 && tokens.size(1) > 0 &&
            tokens.scalar_type() == torch::kLong,
        "number words model: expected int64 tokens [batch, words > 0], got " + shape_text(tokens));
  check(lengths.defined() && lengths.dim() == 1 && lengths.size(0) == tokens.size(0) &&
            lengths.scalar_type() == torch::kLong,
        "number words model: expected int64 lengths [" + std::to_string(tokens.size(0)) +
            "], got " + shape_text(lengths));
  check(tokens.min().item<int64_t>() >= 0 && tokens.max().item<int64_t>() < vocabulary,
        "number words model: token ids must be in [0, " + std::to_string(vocabulary) + ")");
  check(lengths.min().item<int64_t>() >= 1 && lengths.max().item<int64_t>() <= tokens.size(1),
        "number words model: lengths must be in [1, " + std::to_string(tokens.size(1)) + "]");
  const int64_t batch = tokens.size(0);
  // The LSTM cell's input projection is taken once per vocabulary entry rather than once per
  // token of the batch: a phrase's input at step t is a row of this [30, 4H] table (its
  // [B, 256] x [256, 4H] product per token dominated a step).
  const auto table = detail::lstm_input_table(*lstm, embedding->weight);
  const auto options_float = torch::TensorOptions().dtype(table.scalar_type());
  auto y = torch::zeros({batch, 1}, options_float);
  auto h = torch::zeros({batch, options.hidden_size()}, options_float);
  auto c = torch::zeros_like(h);
  std::vector<torch::Tensor> outputs;
  for (int64_t t = 0; t < tokens.size(1); ++t) {
    detail::lstm_step(*lstm, table.index_select(0, tokens.select(1, t)), h, c);
    const auto next = cell->forward(torch::cat({h * options.input_scale(), y}, 1));
    y = torch::where(lengths.gt(t).unsqueeze(1), next, y);
    outputs.push_back(y);
  }
  return torch::cat(outputs, 1);
}

std::vector<std::shared_ptr<ArithmeticUnit>> NumberWordsModelImpl::units() const {
  std::vector<std::shared_ptr<ArithmeticUnit>> result;
  for (const auto& unit : cell->units()) {
    if (unit->unit_name() != "linear")
      result.push_back(unit);
  }
  return result;
}

void save_number_words_model(NumberWordsModel& model, const std::string& path) {
  io::Archive archive(kModelKind);
  archive.meta["nalu_version"] = kVersion;
  archive.meta["output"] = model->options.output();
  archive.meta["embedding"] = model->options.embedding();
  archive.meta["hidden_size"] = model->options.hidden_size();
  archive.meta["input_scale"] = model->options.input_scale();
  archive.meta["accumulator"] = model->options.accumulator();
  io::add_parameters(archive, *model);
  io::write_archive(path, archive);
}

NumberWordsModel load_number_words_model(const std::string& path) {
  const io::Archive archive = io::read_archive(path, kModelKind);
  NumberWordsModel model{nullptr};
  try {
    model = NumberWordsModel(NumberWordsModelOptions(archive.meta.at("output").get<std::string>())
                                 .embedding(archive.meta.at("embedding").get<int64_t>())
                                 .hidden_size(archive.meta.at("hidden_size").get<int64_t>())
                                 .input_scale(archive.meta.at("input_scale").get<double>())
                                 .accumulator(archive.meta.at("accumulator").get<bool>()));
  } catch (const nlohmann::json::exception&) {
    throw Error(path + ": damaged number-words model (its settings are missing or malformed)");
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  io::load_parameters(archive, *model, path);
  model->eval();
  return model;
}

NumberWordsBatch number_words_batch(const std::vector<int64_t>& numbers) {
  check(!numbers.empty(), "number words: no numbers to batch");
  const auto count = static_cast<int64_t>(numbers.size());
  NumberWordsBatch batch;
  batch.tokens = torch::zeros({count, kMaxWords}, torch::kLong);
  batch.lengths = torch::zeros({count}, torch::kLong);
  batch.targets = torch::zeros({count}, torch::kFloat);
  batch.prefix_targets = torch::zeros({count, kMaxWords}, torch::kFloat);
  batch.mask = torch::zeros({count, kMaxWords}, torch::kFloat);
  auto tokens = batch.tokens.accessor<int64_t, 2>();
  auto prefix_targets = batch.prefix_targets.accessor<float, 2>();
  auto mask = batch.mask.accessor<float, 2>();
  int64_t longest = 1;
  for (int64_t i = 0; i < count; ++i) {
    const auto ids = data::number_word_tokens(numbers[static_cast<size_t>(i)]);
    const auto values = prefix_values(numbers[static_cast<size_t>(i)]);
    for (size_t t = 0; t < ids.size(); ++t) {
      tokens[i][static_cast<int64_t>(t)] = ids[t];
      prefix_targets[i][static_cast<int64_t>(t)] = static_cast<float>(values[t]);
      mask[i][static_cast<int64_t>(t)] = 1.0f;
    }
    batch.lengths[i] = static_cast<int64_t>(ids.size());
    batch.targets[i] = static_cast<float>(numbers[static_cast<size_t>(i)]);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(ids.size()));
  }
  batch.tokens = batch.tokens.slice(1, 0, longest).contiguous();
  batch.prefix_targets = batch.prefix_targets.slice(1, 0, longest).contiguous();
  batch.mask = batch.mask.slice(1, 0, longest).contiguous();
  return batch;
}

std::vector<double> predict_prefixes(NumberWordsModel& model, const std::string& phrase) {
  const auto ids = data::phrase_tokens(phrase);
  torch::NoGradGuard no_grad;
  const auto tokens = torch::tensor(ids, torch::kLong).unsqueeze(0);
  const auto lengths = torch::tensor({static_cast<int64_t>(ids.size())}, torch::kLong);
  const auto output = model(tokens, lengths).to(torch::kDouble).contiguous();
  return std::vector<double>(output.data_ptr<double>(), output.data_ptr<double>() + output.numel());
}

std::vector<double> prefix_values(int64_t number) {
  const auto ids = data::number_word_tokens(number);
  std::vector<double> values;
  double value = 0.0;
  for (const int64_t id : ids) {
    if (id == 28)  // "hundred"
      value *= 100.0;
    else if (id < 20)
      value += static_cast<double>(id);
    else if (id < 28)
      value += static_cast<double>(10 * (id - 18));  // twenty is id 20
    values.push_back(value);                         // "and" keeps the value
  }
  return values;
}

// ---- configuration ----

NumberWordsConfig::NumberWordsConfig() : outputs(number_words_output_names()) {}

NumberWordsConfig NumberWordsConfig::paper() {
  return NumberWordsConfig();
}

NumberWordsConfig NumberWordsConfig::quick() {
  NumberWordsConfig config;
  config.outputs = {"linear", "nau"};
  config.seeds = 1;
  config.steps = 3'000;
  return config;
}

void NumberWordsConfig::validate() const {
  check(!outputs.empty(), "number words: needs at least one output layer");
  std::set<std::string> seen;
  for (const auto& output : outputs) {
    check_number_words_output(output);
    check(seen.insert(output).second,
          "number words: output layer '" + output + "' is listed twice");
  }
  check(!losses.empty(), "number words: needs at least one loss");
  std::set<std::string> seen_losses;
  for (const auto& loss : losses) {
    check_number_words_loss(loss);
    check(seen_losses.insert(loss).second, "number words: loss '" + loss + "' is listed twice");
  }
  check(seeds >= 1 && seeds <= kMaxSeeds, "number words: seeds must be in [1, " +
                                              std::to_string(kMaxSeeds) + "], got " +
                                              std::to_string(seeds));
  check(steps > 0, "number words: steps must be positive, got " + std::to_string(steps));
  check(eval_interval >= 1 && eval_interval <= steps,
        "number words: eval interval must be in [1, steps], got " + std::to_string(eval_interval));
  check_learning_rate(learning_rate, "number words: learning rate");
  check(embedding >= 1 && embedding <= kMaxEmbedding, "number words: embedding must be in [1, " +
                                                          std::to_string(kMaxEmbedding) +
                                                          "], got " + std::to_string(embedding));
  check(hidden_size >= 1 && hidden_size <= kMaxHidden, "number words: hidden size must be in [1, " +
                                                           std::to_string(kMaxHidden) + "], got " +
                                                           std::to_string(hidden_size));
  check(std::isfinite(input_scale) && input_scale > 0,
        "number words: input scale must be positive and finite, got " +
            format_significant(input_scale));
  check(threads >= 0, "number words: threads must be >= 0, got " + std::to_string(threads));
  data::split_number_words(0, train_size, validation_size);  // checks the sizes
}

// ---- training and evaluation ----

namespace {

struct Sets {
  NumberWordsBatch train, validation, test;
  std::vector<int64_t> test_numbers;
};

NumberWordsScore score(const torch::Tensor& output, const torch::Tensor& target) {
  const auto error = (output.to(torch::kDouble) - target.to(torch::kDouble)).abs();
  NumberWordsScore result;
  result.numbers = target.size(0);
  result.mean_absolute_error = error.mean().item<double>();
  // NaN never equals a target, so a diverged model scores 0.
  result.exact = output.to(torch::kDouble)
                     .round()
                     .eq(target.to(torch::kDouble))
                     .to(torch::kDouble)
                     .mean()
                     .item<double>();
  return result;
}

torch::Tensor last_outputs(NumberWordsModelImpl& model, const NumberWordsBatch& batch) {
  const auto prefixes = model.forward(batch.tokens, batch.lengths);
  return prefixes.select(1, prefixes.size(1) - 1);
}

NumberWordsRun train_model(const NumberWordsConfig& config, const std::string& output,
                           const std::string& loss_name, int64_t seed, const Sets& sets,
                           const std::vector<int64_t>& examples,
                           detail::ExperimentProgressCounter& counter) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t model_seed =
      derive_seed(derive_seed(config.seed, kInitializationStream), static_cast<uint64_t>(seed));
  auto build = [&] {
    return NumberWordsModel(NumberWordsModelOptions(output)
                                .embedding(config.embedding)
                                .hidden_size(config.hidden_size)
                                .input_scale(config.input_scale)
                                .accumulator(config.accumulator));
  };
  NumberWordsModel model = detail::build_seeded(model_seed, build);
  // The best model so far, as a second model of the same start whose parameters are copied
  // over. Not clone(): a clone re-initialises its copy from LibTorch's global generator before
  // copying, and a draw from another thread while a model is being built under build_seeded
  // would change that model's start.
  NumberWordsModel best_model = detail::build_seeded(model_seed, build);
  const auto parameters = model->parameters();
  const auto best_parameters = best_model->parameters();
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(config.learning_rate));
  const auto schedules = model->unit_schedules(config.steps);

  NumberWordsRun run;
  run.output = output;
  run.loss = loss_name;
  run.seed = seed;
  const bool prefix_loss = loss_name == "every-prefix";
  double best = std::numeric_limits<double>::infinity();
  int64_t reported = 0;
  for (int64_t step = 1; step <= config.steps; ++step) {
    model->train();
    const auto mse =
        prefix_loss
            ? (model->forward(sets.train.tokens, sets.train.lengths) - sets.train.prefix_targets)
                  .square()
                  .mul(sets.train.mask)
                  .sum()
                  .div(sets.train.mask.sum())
            : torch::mse_loss(last_outputs(*model, sets.train), sets.train.targets);
    const auto loss = mse + model->scheduled_regularization_loss(step, schedules);
    if (!std::isfinite(loss.item<double>())) {
      run.diverged = true;
      break;
    }
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    model->after_optimizer_step();
    run.steps_run = step;
    if (step % config.eval_interval == 0 || step == config.steps) {
      torch::NoGradGuard no_grad;
      model->eval();
      const double error =
          score(last_outputs(*model, sets.validation), sets.validation.targets).mean_absolute_error;
      if (std::isfinite(error) && error < best) {
        best = error;
        run.best_step = step;
        for (size_t p = 0; p < parameters.size(); ++p)
          best_parameters[p].copy_(parameters[p]);
      }
    }
    if (step % kProgressInterval == 0 || step == config.steps) {
      counter.add(output, step - reported);
      reported = step;
    }
  }
  if (reported < config.steps)
    counter.add(output, config.steps - reported);  // a diverged model's remaining steps

  torch::NoGradGuard no_grad;
  best_model->eval();
  run.model = best_model;
  run.train = score(last_outputs(*best_model, sets.train), sets.train.targets);
  run.validation = score(last_outputs(*best_model, sets.validation), sets.validation.targets);
  const auto test_output = last_outputs(*best_model, sets.test);
  run.test = score(test_output, sets.test.targets);
  for (int64_t digits = 1; digits <= kDigitClasses; ++digits) {
    std::vector<int64_t> rows;
    for (size_t i = 0; i < sets.test_numbers.size(); ++i) {
      if (digits_of(sets.test_numbers[i]) == digits)
        rows.push_back(static_cast<int64_t>(i));
    }
    if (rows.empty()) {
      run.test_mae_by_digits.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const auto index = torch::tensor(rows, torch::kLong);
    run.test_mae_by_digits.push_back(
        score(test_output.index_select(0, index), sets.test.targets.index_select(0, index))
            .mean_absolute_error);
  }
  for (const int64_t number : examples)
    run.example_prefixes.push_back(predict_prefixes(best_model, data::number_text(number)));
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace

NumberWordsResult run_number_words(const NumberWordsConfig& config,
                                   const ExperimentProgress& progress) {
  config.validate();
  const auto start = std::chrono::steady_clock::now();
  NumberWordsResult result;
  result.config = config;
  result.split = data::split_number_words(derive_seed(config.seed, kSplitStream), config.train_size,
                                          config.validation_size);
  for (const int64_t n : result.split.test) {
    if (static_cast<int64_t>(result.examples.size()) < kExamples &&
        data::number_word_tokens(n).size() >= 4)
      result.examples.push_back(n);
  }
  Sets sets;
  sets.train = number_words_batch(result.split.train);
  sets.validation = number_words_batch(result.split.validation);
  sets.test = number_words_batch(result.split.test);
  sets.test_numbers = result.split.test;

  const auto losses = static_cast<int64_t>(config.losses.size());
  const auto models = static_cast<int64_t>(config.outputs.size()) * losses * config.seeds;
  result.runs.resize(static_cast<size_t>(models));
  detail::ExperimentProgressCounter counter(progress, models * config.steps);
  const int64_t jobs = detail::thread_count(config.threads);
  detail::run_parallel(
      models, jobs,
      [&](int64_t m) {
        const auto& output = config.outputs[static_cast<size_t>(m / (losses * config.seeds))];
        const auto& loss = config.losses[static_cast<size_t>(m / config.seeds % losses)];
        result.runs[static_cast<size_t>(m)] =
            train_model(config, output, loss, m % config.seeds, sets, result.examples, counter);
      },
      [](int64_t) {});
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// ---- report ----

namespace {

// The runs of one output cell and loss, in seed order.
std::vector<const NumberWordsRun*> runs_of(const NumberWordsResult& result,
                                           const std::string& output, const std::string& loss) {
  std::vector<const NumberWordsRun*> runs;
  for (const auto& run : result.runs) {
    if (run.output == output && run.loss == loss)
      runs.push_back(&run);
  }
  return runs;
}

// The run of `output` with the lowest validation MAE (never the test's).
const NumberWordsRun* best_run(const NumberWordsResult& result, const std::string& output,
                               const std::string& loss) {
  const NumberWordsRun* best = nullptr;
  for (const auto* run : runs_of(result, output, loss)) {
    const double error = run->validation.mean_absolute_error;
    if (!best || (std::isfinite(error) && !(error >= best->validation.mean_absolute_error)))
      best = run;
  }
  return best;
}

}  // namespace

std::string number_words_table(const NumberWordsResult& result) {
  // 0-19 are all in training (the split's rule), so there are no 1-digit test numbers unless a
  // smaller training set is chosen.
  std::vector<int64_t> per_digits(kDigitClasses, 0);
  for (const int64_t n : result.split.test)
    ++per_digits[static_cast<size_t>(digits_of(n) - 1)];
  std::vector<std::string> header{"output layer", "loss",        "seeds",
                                  "train MAE",    "train exact", "valid. MAE",
                                  "valid. exact", "test MAE",    "test exact"};
  for (int64_t d = 1; d <= kDigitClasses; ++d) {
    header.push_back("test MAE, " + std::to_string(d) + (d == 1 ? " digit (" : " digits (") +
                     std::to_string(per_digits[static_cast<size_t>(d - 1)]) + ")");
  }
  header.push_back("best step");
  std::vector<std::vector<std::string>> rows;
  for (const auto& output : result.config.outputs) {
    for (const auto& loss : result.config.losses) {
      const auto runs = runs_of(result, output, loss);
      auto column = [&](auto&& get) {
        std::vector<double> values;
        for (const auto* run : runs)
          values.push_back(get(*run));
        return values;
      };
      std::vector<std::string> row{output, loss, std::to_string(runs.size())};
      for (auto member :
           {&NumberWordsRun::train, &NumberWordsRun::validation, &NumberWordsRun::test}) {
        row.push_back(format_mean_sd(
            column([&](const NumberWordsRun& r) { return (r.*member).mean_absolute_error; })));
        row.push_back(
            format_mean_sd(column([&](const NumberWordsRun& r) { return (r.*member).exact; }), 3,
                           100.0) +
            "%");
      }
      for (size_t d = 0; d < static_cast<size_t>(kDigitClasses); ++d) {
        row.push_back(per_digits[d] == 0 ? "-"
                                         : format_mean_sd(column([&](const NumberWordsRun& r) {
                                             return r.test_mae_by_digits[d];
                                           })));
      }
      row.push_back(format_mean_sd(
          column([&](const NumberWordsRun& r) { return static_cast<double>(r.best_step); })));
      rows.push_back(row);
    }
  }
  return markdown_table(header, rows);
}

std::string number_words_prefix_table(const NumberWordsResult& result) {
  std::vector<std::string> header{"number", "words so far", "value"};
  for (const auto& output : result.config.outputs) {
    for (const auto& loss : result.config.losses)
      header.push_back(output + ", " + loss);
  }
  std::vector<std::vector<std::string>> rows;
  for (size_t e = 0; e < result.examples.size(); ++e) {
    const int64_t number = result.examples[e];
    const auto words = data::number_words(number);
    const auto values = prefix_values(number);
    for (size_t t = 0; t < words.size(); ++t) {
      std::vector<std::string> prefix(words.begin(), words.begin() + static_cast<long>(t) + 1);
      std::vector<std::string> row{t == 0 ? std::to_string(number) : "", join(prefix, " "),
                                   format_significant(values[t], 4)};
      for (const auto& output : result.config.outputs) {
        for (const auto& loss : result.config.losses) {
          row.push_back(
              format_significant(best_run(result, output, loss)->example_prefixes[e][t], 4));
        }
      }
      rows.push_back(row);
    }
  }
  return markdown_table(header, rows);
}

namespace {

nlohmann::json config_json(const NumberWordsConfig& config) {
  return {{"outputs", config.outputs},
          {"seeds", config.seeds},
          {"steps", config.steps},
          {"batch", "the whole training set"},
          {"optimizer", "adam"},
          {"learning_rate", config.learning_rate},
          {"eval_interval", config.eval_interval},
          {"embedding", config.embedding},
          {"hidden_size", config.hidden_size},
          {"input_scale", config.input_scale},
          {"accumulator", config.accumulator},
          {"losses", config.losses},
          {"train_size", config.train_size},
          {"validation_size", config.validation_size},
          {"seed", config.seed}};
}

nlohmann::json score_json(const NumberWordsScore& score) {
  return {{"numbers", score.numbers},
          {"mean_absolute_error", score.mean_absolute_error},
          {"exact", score.exact}};
}

// One line per example: the words so far (x) against the best seed's output of each cell.
std::string prefix_plot(const NumberWordsResult& result) {
  LinePlot plot;
  plot.title = "Output after every word (test numbers; best seed of each output layer)";
  plot.x_label = "word position (the examples one after another)";
  plot.y_label = "output";
  std::vector<double> x, truth;
  double position = 0.0;
  for (const int64_t number : result.examples) {
    for (const double value : prefix_values(number)) {
      x.push_back(++position);
      truth.push_back(value);
    }
    position += 1.0;  // a gap between examples
  }
  plot.series.push_back({"value of the words so far", x, truth});
  for (const auto& output : result.config.outputs) {
    for (const auto& loss : result.config.losses) {
      std::vector<double> y;
      for (const auto& prefixes : best_run(result, output, loss)->example_prefixes)
        y.insert(y.end(), prefixes.begin(), prefixes.end());
      plot.series.push_back({output + ", " + loss, x, y});
    }
  }
  return render_svg(plot);
}

}  // namespace

ExperimentReport run_number_words_experiment(const ExperimentOptions& options,
                                             const ExperimentProgress& progress) {
  NumberWordsConfig config =
      options.quick ? NumberWordsConfig::quick() : NumberWordsConfig::paper();
  config.seed = options.seed;
  config.threads = options.threads;
  config.validate();
  const std::string base = options.output_dir + "/number-words";
  const std::string table_path = base + ".md";
  const std::string records_path = base + ".jsonl";
  const std::string plot_path = base + "-prefixes.svg";
  std::vector<std::string> model_paths;
  std::vector<std::pair<std::string, std::string>> model_variants;
  for (const auto& output : config.outputs) {
    for (const auto& loss : config.losses) {
      model_paths.push_back(base + "-" + output + "-" + loss + ".nalu");
      model_variants.emplace_back(output, loss);
    }
  }
  for (const auto& path : {table_path, records_path, plot_path})
    check_writable(path);
  for (const auto& path : model_paths)
    check_writable(path);

  const NumberWordsResult result = run_number_words(config, progress);

  std::string records;
  for (const auto& run : result.runs) {
    nlohmann::json record = {{"experiment", "number-words"},
                             {"version", kVersion},
                             {"output", run.output},
                             {"loss", run.loss},
                             {"seed", run.seed},
                             {"best_step", run.best_step},
                             {"steps_run", run.steps_run},
                             {"diverged", run.diverged},
                             {"train", score_json(run.train)},
                             {"validation", score_json(run.validation)},
                             {"test", score_json(run.test)},
                             {"test_mae_by_digits", run.test_mae_by_digits},
                             {"examples", result.examples},
                             {"example_prefixes", run.example_prefixes},
                             {"seconds", run.seconds},
                             {"split",
                              {{"seed", result.split.seed},
                               {"train", result.split.train},
                               {"validation", result.split.validation}}},
                             {"config", config_json(config)}};
    records += record.dump();
    records += "\n";
  }

  ExperimentReport report;
  const std::string setting =
      std::to_string(config.seeds) + " seeds per output layer and loss, " +
      std::to_string(config.steps) + " Adam steps (learning rate " +
      format_significant(config.learning_rate) +
      ") on all 169 training numbers; the step kept is the one with the lowest validation MAE; "
      "split seed " +
      std::to_string(result.split.seed) + ", experiment seed " + std::to_string(config.seed);
  const std::string caption =
      "Language to number: mean absolute error and exact answers (rounded output equals the "
      "number), mean ± standard deviation over seeds (" +
      setting + ")";
  const std::string table = number_words_table(result);
  report.tables.push_back({caption, table});
  const std::string prefix_caption =
      "Output after every word of the first test numbers with four or more words (the seed with "
      "the lowest validation MAE of each output layer)";
  const std::string prefix_table = number_words_prefix_table(result);
  report.tables.push_back({prefix_caption, prefix_table});

  // The reading, per loss: the best mean test MAE among the arithmetic cells against the Linear
  // cell's.
  report.summary = "Trained on " + std::to_string(result.split.train.size()) +
                   " numbers, tested on " + std::to_string(result.split.test.size()) + " others.";
  for (const auto& loss : config.losses) {
    double linear = std::numeric_limits<double>::quiet_NaN();
    std::string best_output;
    double best = std::numeric_limits<double>::infinity();
    for (const auto& output : config.outputs) {
      double sum = 0.0;
      const auto runs = runs_of(result, output, loss);
      for (const auto* run : runs)
        sum += run->test.mean_absolute_error;
      const double mean = sum / static_cast<double>(runs.size());
      if (output == "linear")
        linear = mean;
      else if (mean < best)
        best = mean, best_output = output;
    }
    if (!best_output.empty() && std::isfinite(linear)) {
      report.summary += " Loss " + loss + ": mean test MAE " + format_significant(best) + " (" +
                        best_output + ") against " + format_significant(linear) + " (linear).";
    }
  }

  write_file_atomically(table_path, "# " + caption + "\n\n" + table + "\n\n# " + prefix_caption +
                                        "\n\n" + prefix_table);
  write_file_atomically(records_path, records);
  write_file_atomically(plot_path, prefix_plot(result));
  report.files = {table_path, records_path, plot_path};
  for (size_t m = 0; m < model_paths.size(); ++m) {
    NumberWordsModel model =
        best_run(result, model_variants[m].first, model_variants[m].second)->model;
    save_number_words_model(model, model_paths[m]);
    report.files.push_back(model_paths[m]);
  }
  return report;
}

}  // namespace nalu

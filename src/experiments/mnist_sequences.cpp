// `nalu experiment mnist-count` and `nalu experiment mnist-add`: the NALU paper's Table 2. One
// model and one training path serve both tasks (the target is the only difference); the cores
// train side by side, each on one LibTorch thread. Evaluation runs the CNN once over the test
// images and builds every test sequence by gathering its rows, so sequences of 1000 digits cost
// no more CNN work than sequences of 10.
#include "nalu/experiments/mnist_sequences.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <thread>
#include <unordered_set>

#include "experiments/progress_counter.h"
#include "experiments/tensor_text.h"
#include "nalu/data/mnist.h"
#include "nalu/data/mnist_sequences.h"
#include "nalu/error.h"
#include "nalu/experiments/report.h"
#include "nalu/io/files.h"
#include "nalu/limits.h"
#include "nalu/strings.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/record.h"
#include "nalu/units/nau.h"
#include "nalu/version.h"
#include "parallel.h"
#include "random/seeded.h"

namespace nalu {

using detail::shape_text;

namespace {

// Streams of derive_seed(config.seed, stream). Every core starts from the same CNN weights and
// sees the same training batches; the test set of length L is drawn from stream
// derive_seed(derive_seed(seed, kTestStream), L), so the lengths' sets are independent.
constexpr uint64_t kSplitStream = 50;
constexpr uint64_t kInitializationStream = 51;
constexpr uint64_t kDataStream = 52;
constexpr uint64_t kTestStream = 53;

// The CNN: 28x28 -avg pool 2-> 14x14 -conv 5x5-> 10x10 -max pool 2-> 5x5 -conv 3x3-> 3x3. The
// first pooling makes it four times cheaper than a CNN on the full image; a digit keeps its shape
// at 14x14.
constexpr int64_t kInputPool = 2;
constexpr int64_t kConv1Channels = 8;
constexpr int64_t kConv1Kernel = 5;
constexpr int64_t kPool = 2;
constexpr int64_t kConv2Channels = 16;
constexpr int64_t kConv2Kernel = 3;
constexpr int64_t kCnnMaps = kConv2Channels * 3 * 3;
// The addition model's output is its readout times the largest digit, so that the core's state
// holds sum / 9: numbers of the size of the counts, which its weights reach in few steps.
constexpr double kAdditionOutputScale = 9.0;

// Training steps between progress events of one core.
constexpr int64_t kProgressInterval = 25;
// Training batches whose MSE is averaged into final_train_mse.
constexpr int64_t kLossWindow = 100;
// Rows per forward pass in evaluation: images through the CNN, sequences through the core.
constexpr int64_t kImageChunk = 1'000;
constexpr int64_t kSequenceChunk = 250;
// Caps that keep a mistyped setting from allocating gigabytes.
constexpr int64_t kMaxLength = 100'000;
constexpr int64_t kMaxFeatures = 1'024;
constexpr int64_t kMaxHidden = 1'024;
constexpr int64_t kMaxBatch = 10'000;

bool is_baseline_core(const std::string& core) {
  const auto& baselines = recurrent_baseline_names();
  return std::find(baselines.begin(), baselines.end(), core) != baselines.end();
}

// The regression target of `sequences`: counts [B, 10] or sums [B, 1], as float.
torch::Tensor targets_of(const data::MnistSequences& sequences, MnistSequenceTask task) {
  if (task == MnistSequenceTask::kCount)
    return sequences.counts.to(torch::kFloat);
  return sequences.sums.to(torch::kFloat).unsqueeze(1);
}

std::string count_text(int64_t value) {
  // 4000 -> "4,000"
  std::string digits = std::to_string(value);
  std::string text;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      text += ',';
    text += digits[i];
  }
  return text;
}

}  // namespace

// ---- tasks ----

std::string mnist_sequence_task_name(MnistSequenceTask task) {
  return task == MnistSequenceTask::kCount ? "count" : "add";
}

int64_t mnist_sequence_outputs(MnistSequenceTask task) {
  return task == MnistSequenceTask::kCount ? data::kMnistClasses : 1;
}

double mnist_sequence_output_scale(MnistSequenceTask task) {
  return task == MnistSequenceTask::kCount ? 1.0 : kAdditionOutputScale;
}

// ---- model ----

torch::nn::Sequential make_mnist_sequence_cnn(int64_t features) {
  check(features >= 1, "mnist cnn: features must be >= 1, got " + std::to_string(features));
  namespace nn = torch::nn;
  return nn::Sequential(nn::AvgPool2d(nn::AvgPool2dOptions(kInputPool)),
                        nn::Conv2d(nn::Conv2dOptions(1, kConv1Channels, kConv1Kernel)), nn::ReLU(),
                        nn::MaxPool2d(nn::MaxPool2dOptions(kPool)),
                        nn::Conv2d(nn::Conv2dOptions(kConv1Channels, kConv2Channels, kConv2Kernel)),
                        nn::ReLU(), nn::Flatten(), nn::Linear(kCnnMaps, features));
}

MnistSequenceModelImpl::MnistSequenceModelImpl(MnistSequenceModelOptions options_)
    : options(std::move(options_)) {
  reset();
}

int64_t MnistSequenceModelImpl::hidden_size() const {
  if (options.hidden_size() > 0)
    return options.hidden_size();
  return is_baseline_core(options.core()) ? kMnistSequenceBaselineHidden : outputs();
}

std::string MnistSequenceModelImpl::readout_name() const {
  if (!options.readout().empty())
    return options.readout();
  return is_baseline_core(options.core()) ? "linear" : "none";
}

void MnistSequenceModelImpl::reset() {
  const auto& o = options;
  check_recurrent_core(o.core());
  check(o.features() >= 1,
        "mnist sequence model: features must be >= 1, got " + std::to_string(o.features()));
  check(o.hidden_size() >= 0,
        "mnist sequence model: hidden size must be >= 0, got " + std::to_string(o.hidden_size()));
  const int64_t hidden = hidden_size();
  cnn = register_module("cnn", make_mnist_sequence_cnn(o.features()));
  core = register_module(
      "core", SequenceCore(SequenceCoreOptions(o.core(), o.features(), hidden)
                               .settings(o.settings())
                               .identity_recurrence(
                                   is_baseline_core(o.core()) ? 0.0 : o.identity_recurrence())));
  if (readout_name() == "none") {
    check(hidden == outputs(), "mnist sequence model: readout 'none' needs a hidden size of " +
                                   std::to_string(outputs()) + ", got " + std::to_string(hidden));
    readout = nullptr;
    return;
  }
  // ArithmeticHead checks the readout's name.
  readout = register_module(
      "readout",
      ArithmeticHead(
          ArithmeticHeadOptions(hidden, outputs()).units({readout_name()}).settings(o.settings())));
}

void MnistSequenceModelImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::MnistSequenceModel(task=" << mnist_sequence_task_name(options.task())
         << ", core=" << options.core() << ", features=" << options.features()
         << ", hidden_size=" << hidden_size() << ", readout=" << readout_name() << ")";
}

torch::Tensor MnistSequenceModelImpl::image_features(const torch::Tensor& images) {
  check(images.defined() && images.dim() == 4 && images.size(1) == 1 &&
            images.size(2) == data::kMnistRows && images.size(3) == data::kMnistColumns,
        "mnist sequence model: expected images [N, 1, 28, 28], got " + shape_text(images));
  return cnn->forward(images);
}

torch::Tensor MnistSequenceModelImpl::forward_features(const torch::Tensor& features) {
  check(features.defined() && features.dim() == 3 && features.size(0) > 0 && features.size(1) > 0 &&
            features.size(2) == options.features(),
        "mnist sequence model: expected features [batch, steps > 0, " +
            std::to_string(options.features()) + "], got " + shape_text(features));
  const auto last = core->forward_last(features);
  const auto output = readout ? readout->forward(last) : last;
  const double scale = mnist_sequence_output_scale(options.task());
  return scale == 1.0 ? output : output * scale;
}

torch::Tensor MnistSequenceModelImpl::forward(const torch::Tensor& images) {
  check(images.defined() && images.dim() == 5 && images.size(0) > 0 && images.size(1) > 0 &&
            images.size(2) == 1 && images.size(3) == data::kMnistRows &&
            images.size(4) == data::kMnistColumns,
        "mnist sequence model: expected image sequences [batch, steps > 0, 1, 28, 28], got " +
            shape_text(images));
  const int64_t batch = images.size(0);
  const int64_t steps = images.size(1);
  const auto features =
      image_features(images.reshape({batch * steps, 1, data::kMnistRows, data::kMnistColumns}));
  return forward_features(features.view({batch, steps, options.features()}));
}

std::vector<std::shared_ptr<ArithmeticUnit>> MnistSequenceModelImpl::units() const {
  auto result = core->units();
  if (!readout)
    return result;
  for (const auto& unit : readout->units()) {
    if (unit->unit_name() != "linear")
      result.push_back(unit);
  }
  return result;
}

// ---- configuration ----

MnistSequenceConfig::MnistSequenceConfig()
    : cores{"lstm", "gru", "rnn-tanh", "rnn-relu", "nac", "nalu"} {}

MnistSequenceConfig MnistSequenceConfig::paper(MnistSequenceTask task) {
  MnistSequenceConfig config;
  config.task = task;
  config.unit_learning_rate = task == MnistSequenceTask::kCount ? 3e-3 : 0.1;
  return config;
}

MnistSequenceConfig MnistSequenceConfig::quick(MnistSequenceTask task) {
  MnistSequenceConfig config = paper(task);
  config.cores = {"lstm", "nac", "nalu"};
  config.test_sequences = 200;
  return config;
}

void MnistSequenceConfig::validate() const {
  check(!cores.empty(), "mnist sequences: needs at least one core");
  std::set<std::string> seen;
  for (const auto& core : cores) {
    check_recurrent_core(core);  // throws, listing the known cores
    check(seen.insert(core).second, "mnist sequences: core '" + core + "' is listed twice");
  }
  auto check_length = [](int64_t length, const std::string& what) {
    check(length >= 1 && length <= kMaxLength, "mnist sequences: " + what + " must be in [1, " +
                                                   std::to_string(kMaxLength) + "], got " +
                                                   std::to_string(length));
  };
  check_length(train_length, "training length");
  check(!test_lengths.empty(), "mnist sequences: needs at least one test length");
  std::set<int64_t> lengths;
  for (auto length : test_lengths) {
    check_length(length, "test lengths");
    check(lengths.insert(length).second,
          "mnist sequences: test length " + std::to_string(length) + " is listed twice");
  }
  check(test_sequences >= 1 && test_sequences <= data::kMaxSequenceElements / *lengths.rbegin(),
        "mnist sequences: test sequences must be in [1, " +
            std::to_string(data::kMaxSequenceElements / *lengths.rbegin()) +
            "] for the longest test length, got " + std::to_string(test_sequences));
  check(steps > 0, "mnist sequences: steps must be positive, got " + std::to_string(steps));
  check(batch_size >= 1 && batch_size <= kMaxBatch, "mnist sequences: batch size must be in [1, " +
                                                        std::to_string(kMaxBatch) + "], got " +
                                                        std::to_string(batch_size));
  check(batch_size * train_length <=
            data::kMaxGatheredImageBytes / (data::kMnistPixels * int64_t{sizeof(float)}),
        "mnist sequences: a training batch of " + std::to_string(batch_size) + " x " +
            std::to_string(train_length) + " images would take more than " +
            std::to_string(data::kMaxGatheredImageBytes >> 20) + " MiB");
  check_learning_rate(learning_rate, "mnist sequences: learning rate");
  check_learning_rate(unit_learning_rate, "mnist sequences: unit learning rate");
  check(std::isfinite(identity_recurrence) && identity_recurrence >= 0,
        "mnist sequences: identity recurrence must be >= 0 and finite, got " +
            format_significant(identity_recurrence));
  check(std::isfinite(cell_sparsity) && cell_sparsity >= 0,
        "mnist sequences: cell sparsity must be >= 0 and finite, got " +
            format_significant(cell_sparsity));
  check(features >= 1 && features <= kMaxFeatures, "mnist sequences: features must be in [1, " +
                                                       std::to_string(kMaxFeatures) + "], got " +
                                                       std::to_string(features));
  check(baseline_hidden >= 1 && baseline_hidden <= kMaxHidden,
        "mnist sequences: baseline hidden size must be in [1, " + std::to_string(kMaxHidden) +
            "], got " + std::to_string(baseline_hidden));
  check(
      std::isfinite(test_fraction) && test_fraction > 0 && test_fraction < 1,
      "mnist sequences: test fraction must be in (0, 1), got " + format_significant(test_fraction));
  check(threads >= 0, "mnist sequences: threads must be >= 0, got " + std::to_string(threads));
}

// ---- training and evaluation ----

namespace {

struct Pools {
  data::MnistSplit split;
  std::vector<data::MnistSequences> test_sets;  // one per config.test_lengths
};

MnistSequenceModelOptions model_options(const MnistSequenceConfig& config,
                                        const std::string& core) {
  return MnistSequenceModelOptions(core, config.task)
      .features(config.features)
      .hidden_size(is_baseline_core(core) ? config.baseline_hidden : 0)
      .identity_recurrence(is_baseline_core(core) ? 0.0 : config.identity_recurrence);
}

// Adam with two groups: the arithmetic units' parameters at unit_learning_rate, the rest (CNN,
// LSTM / GRU / RNN, affine readout) at learning_rate.
torch::optim::Adam make_adam(MnistSequenceModelImpl& model, const MnistSequenceConfig& config) {
  std::unordered_set<const void*> unit_parameters;
  for (const auto& unit : model.units()) {
    for (const auto& parameter : unit->as_module().parameters())
      unit_parameters.insert(parameter.unsafeGetTensorImpl());
  }
  std::vector<torch::Tensor> units, others;
  for (const auto& parameter : model.parameters())
    (unit_parameters.count(parameter.unsafeGetTensorImpl()) ? units : others).push_back(parameter);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(others, std::make_unique<torch::optim::AdamOptions>(config.learning_rate));
  if (!units.empty()) {
    groups.emplace_back(units,
                        std::make_unique<torch::optim::AdamOptions>(config.unit_learning_rate));
  }
  return torch::optim::Adam(groups, torch::optim::AdamOptions(config.learning_rate));
}

// The cell weight of a unit core (recurrent_cell_weight); undefined for other cores.
torch::Tensor cell_weight_of(MnistSequenceModelImpl& model) {
  return model.core->is_unit_core() ? recurrent_cell_weight(model.core->cell->unit())
                                    : torch::Tensor();
}

MnistSequenceLengthResult evaluate_length(MnistSequenceModelImpl& model,
                                          const torch::Tensor& features,
                                          const data::MnistSequences& set, MnistSequenceTask task) {
  std::vector<torch::Tensor> outputs;
  for (int64_t begin = 0; begin < set.size(); begin += kSequenceChunk) {
    const auto indices = set.indices.slice(0, begin, std::min(set.size(), begin + kSequenceChunk));
    outputs.push_back(model.forward_features(data::gather_sequences(features, indices)));
  }
  const auto output = torch::cat(outputs).to(torch::kDouble);
  const auto target = targets_of(set, task).to(torch::kDouble);
  MnistSequenceLengthResult result;
  result.length = set.length();
  result.sequences = set.size();
  // NaN never equals a target, so a diverged model scores 0.
  result.accuracy = output.round().eq(target).all(1).to(torch::kDouble).mean().item<double>();
  result.mean_absolute_error = (output - target).abs().mean().item<double>();
  return result;
}

MnistSequenceCoreResult train_core(const MnistSequenceConfig& config, const std::string& core,
                                   const Pools& pools, detail::ExperimentProgressCounter& counter) {
  const auto start = std::chrono::steady_clock::now();
  MnistSequenceModel model =
      detail::build_seeded(derive_seed(config.seed, kInitializationStream),
                           [&] { return MnistSequenceModel(model_options(config, core)); });
  auto optimizer = make_adam(*model, config);
  const auto schedules = model->unit_schedules(config.steps);
  const data::MnistSequenceSampler sampler(pools.split.train, config.train_length,
                                           derive_seed(config.seed, kDataStream));

  MnistSequenceCoreResult result;
  result.core = core;
  result.readout = model->readout_name();
  result.hidden_size = model->hidden_size();
  for (const auto& parameter : model->parameters())
    result.parameters += parameter.numel();

  std::vector<double> recent;  // the last kLossWindow batches' MSE, as a ring
  model->train();
  int64_t reported = 0;
  for (int64_t step = 1; step <= config.steps; ++step) {
    const auto batch = sampler.batch(step - 1, config.batch_size);
    const auto output = model(data::gather_sequence_images(pools.split.train, batch.indices));
    const auto mse = torch::mse_loss(output, targets_of(batch, config.task));
    auto loss = mse + model->scheduled_regularization_loss(step, schedules);
    if (config.cell_sparsity > 0) {
      if (const auto weight = cell_weight_of(*model); weight.defined())
        loss = loss + config.cell_sparsity * functional::nau_regularizer(weight);
    }
    const double value = mse.item<double>();
    if (!std::isfinite(value) || !std::isfinite(loss.item<double>())) {
      result.diverged = true;
      break;
    }
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    model->after_optimizer_step();
    result.steps_run = step;
    if (static_cast<int64_t>(recent.size()) < kLossWindow)
      recent.push_back(value);
    else
      recent[static_cast<size_t>((step - 1) % kLossWindow)] = value;
    if (step % kProgressInterval == 0 || step == config.steps) {
      counter.add(core, step - reported);
      reported = step;
    }
  }
  if (reported < config.steps)
    counter.add(core, config.steps - reported);  // a diverged core's remaining steps
  result.final_train_mse = recent.empty() ? std::numeric_limits<double>::quiet_NaN()
                                          : std::accumulate(recent.begin(), recent.end(), 0.0) /
                                                static_cast<double>(recent.size());

  torch::NoGradGuard no_grad;
  if (const auto weight = cell_weight_of(*model); weight.defined()) {
    const auto block = weight.slice(1, config.features);  // the weights that read h_{t-1}
    const auto diagonal = block.diagonal();
    result.recurrence_diagonal_min = diagonal.min().item<double>();
    result.recurrence_diagonal_max = diagonal.max().item<double>();
    result.recurrence_off_diagonal_max =
        block.numel() > 1 ? (block - torch::diag(diagonal)).abs().max().item<double>() : 0.0;
  }
  model->eval();
  const auto& images = pools.split.test.images;
  std::vector<torch::Tensor> chunks;
  for (int64_t begin = 0; begin < images.size(0); begin += kImageChunk)
    chunks.push_back(model->image_features(
        images.slice(0, begin, std::min(images.size(0), begin + kImageChunk))));
  const auto features = torch::cat(chunks);  // [test images, features]
  for (const auto& set : pools.test_sets)
    result.lengths.push_back(evaluate_length(*model, features, set, config.task));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

MnistSequenceResult run_mnist_sequences(const MnistSequenceConfig& config,
                                        const ExperimentProgress& progress) {
  config.validate();
  const auto start = std::chrono::steady_clock::now();
  const std::string directory =
      config.mnist_dir.empty() ? data::default_mnist_dir().string() : config.mnist_dir;
  Pools pools;
  pools.split = data::load_mnist_split(directory, config.test_fraction,
                                       derive_seed(config.seed, kSplitStream));
  const uint64_t test_seed = derive_seed(config.seed, kTestStream);
  for (auto length : config.test_lengths) {
    pools.test_sets.push_back(
        data::make_mnist_sequence_set(pools.split.test, config.test_sequences, length,
                                      derive_seed(test_seed, static_cast<uint64_t>(length))));
  }

  MnistSequenceResult result;
  result.config = config;
  result.data_source = directory;
  result.train_images = pools.split.train.size();
  result.test_images = pools.split.test.size();
  result.cores.resize(config.cores.size());
  const auto cores = static_cast<int64_t>(config.cores.size());
  detail::ExperimentProgressCounter counter(progress, cores * config.steps);
  const int64_t jobs = detail::thread_count(config.threads);
  detail::run_parallel(
      cores, jobs,
      [&](int64_t c) {
        result.cores[static_cast<size_t>(c)] =
            train_core(config, config.cores[static_cast<size_t>(c)], pools, counter);
      },
      [](int64_t) {});
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// ---- report ----

std::string mnist_sequence_table(const MnistSequenceResult& result) {
  const auto& lengths = result.config.test_lengths;
  std::vector<std::string> header{"core"};
  for (const char* metric : {"accuracy", "MAE"}) {
    for (auto length : lengths) {
      std::string column = metric;
      column += ", T=";
      column += std::to_string(length);
      header.push_back(column);
    }
  }
  header.push_back("train MSE");
  std::vector<std::vector<std::string>> rows;
  for (const auto& core : result.cores) {
    std::string name = core.core;
    name += " (";
    name += std::to_string(core.hidden_size);
    name += ", ";
    name += core.readout;
    name += core.diverged ? ", diverged)" : ")";
    std::vector<std::string> row{name};
    for (const auto& length : core.lengths) {
      std::string accuracy = std::isfinite(length.accuracy)
                                 ? format_significant(100.0 * length.accuracy, 3)
                                 : std::string("nan");
      accuracy += "%";
      row.push_back(accuracy);
    }
    for (const auto& length : core.lengths)
      row.push_back(format_significant(length.mean_absolute_error));
    row.push_back(format_significant(core.final_train_mse));
    rows.push_back(row);
  }
  return markdown_table(header, rows);
}

namespace {

nlohmann::json config_json(const MnistSequenceConfig& config) {
  return {{"task", mnist_sequence_task_name(config.task)},
          {"cores", config.cores},
          {"train_length", config.train_length},
          {"test_lengths", config.test_lengths},
          {"test_sequences", config.test_sequences},
          {"steps", config.steps},
          {"batch_size", config.batch_size},
          {"optimizer", "adam"},
          {"learning_rate", config.learning_rate},
          {"unit_learning_rate", config.unit_learning_rate},
          {"features", config.features},
          {"identity_recurrence", config.identity_recurrence},
          {"cell_sparsity", config.cell_sparsity},
          {"baseline_hidden", config.baseline_hidden},
          {"test_fraction", config.test_fraction},
          {"seed", config.seed}};
}

ExperimentReport run_task_experiment(MnistSequenceTask task, const ExperimentOptions& options,
                                     const ExperimentProgress& progress) {
  MnistSequenceConfig config =
      options.quick ? MnistSequenceConfig::quick(task) : MnistSequenceConfig::paper(task);
  config.seed = options.seed;
  config.threads = options.threads;
  config.validate();
  std::string name = "mnist-";
  name += mnist_sequence_task_name(task);
  const std::string table_path = options.output_dir + "/" + name + ".md";
  const std::string records_path = options.output_dir + "/" + name + ".jsonl";
  for (const auto& path : {table_path, records_path})
    check_writable(path);

  const MnistSequenceResult result = run_mnist_sequences(config, progress);

  std::string records;
  for (const auto& core : result.cores) {
    nlohmann::json lengths = nlohmann::json::array();
    for (const auto& length : core.lengths) {
      lengths.push_back({{"length", length.length},
                         {"sequences", length.sequences},
                         {"accuracy", length.accuracy},
                         {"mean_absolute_error", length.mean_absolute_error}});
    }
    nlohmann::json record = {{"experiment", name},
                             {"version", kVersion},
                             {"core", core.core},
                             {"hidden_size", core.hidden_size},
                             {"readout", core.readout},
                             {"parameters", core.parameters},
                             {"diverged", core.diverged},
                             {"steps_run", core.steps_run},
                             {"final_train_mse", core.final_train_mse},
                             {"seconds", core.seconds},
                             {"lengths", lengths},
                             {"data",
                              {{"source", result.data_source},
                               {"train_images", result.train_images},
                               {"test_images", result.test_images}}},
                             {"config", config_json(config)}};
    if (std::isfinite(core.recurrence_diagonal_min)) {
      record["recurrence"] = {{"diagonal_min", core.recurrence_diagonal_min},
                              {"diagonal_max", core.recurrence_diagonal_max},
                              {"off_diagonal_max", core.recurrence_off_diagonal_max}};
    }
    records += record.dump();
    records += "\n";
  }

  ExperimentReport report;
  std::string caption = task == MnistSequenceTask::kCount
                            ? "MNIST digit counting: accuracy (all 10 rounded counts right) and "
                              "mean absolute error per count"
                            : "MNIST digit addition: accuracy (rounded sum right) and mean "
                              "absolute error of the sum";
  caption += ", by test sequence length T (trained on T=";
  caption += std::to_string(config.train_length);
  caption += ", ";
  caption += count_text(config.steps);
  caption += " Adam steps of ";
  caption += std::to_string(config.batch_size);
  caption += " sequences; ";
  caption += count_text(config.test_sequences);
  caption += " test sequences per length from ";
  caption += count_text(result.test_images);
  caption += " held-out digits; seed ";
  caption += std::to_string(config.seed);
  caption += "). Core column: hidden size, readout.";
  const std::string table = mnist_sequence_table(result);
  report.tables.push_back({caption, table});

  // The reading: the best unit core against the best LSTM / GRU / RNN at the longest length.
  const size_t longest =
      static_cast<size_t>(std::max_element(config.test_lengths.begin(), config.test_lengths.end()) -
                          config.test_lengths.begin());
  const MnistSequenceCoreResult* best_unit = nullptr;
  const MnistSequenceCoreResult* best_baseline = nullptr;
  for (const auto& core : result.cores) {
    auto& best = is_baseline_core(core.core) ? best_baseline : best_unit;
    const double error = core.lengths[longest].mean_absolute_error;
    if (std::isfinite(error) && (!best || error < best->lengths[longest].mean_absolute_error))
      best = &core;
  }
  report.summary = "Trained on sequences of " + std::to_string(config.train_length) +
                   " digits, tested on sequences of up to " +
                   std::to_string(config.test_lengths[longest]) + ".";
  auto describe = [&](const MnistSequenceCoreResult& core) {
    const auto& at = core.lengths[longest];
    return core.core + " reaches accuracy " + format_significant(100.0 * at.accuracy, 3) +
           "% and MAE " + format_significant(at.mean_absolute_error);
  };
  if (best_unit && best_baseline) {
    report.summary += " At length " + std::to_string(config.test_lengths[longest]) +
                      " the best arithmetic core, " + describe(*best_unit) +
                      "; the best LSTM / GRU / RNN core, " + describe(*best_baseline) + ".";
  }

  write_file_atomically(table_path, "# " + caption + "\n\n" + table);
  write_file_atomically(records_path, records);
  report.files = {table_path, records_path};
  return report;
}

}  // namespace

ExperimentReport run_mnist_count_experiment(const ExperimentOptions& options,
                                            const ExperimentProgress& progress) {
  return run_task_experiment(MnistSequenceTask::kCount, options, progress);
}

ExperimentReport run_mnist_add_experiment(const ExperimentOptions& options,
                                          const ExperimentProgress& progress) {
  return run_task_experiment(MnistSequenceTask::kAdd, options, progress);
}

}  // namespace nalu

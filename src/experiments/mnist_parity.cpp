// `nalu experiment mnist-parity`: the NALU paper's Table 4 ablation. Every (variant, replicate)
// network is trained on its own thread; replicate r's networks share their CNN and hidden-layer
// initialisation and their batches, so the variants differ only in the final layer.
#include "nalu/experiments/mnist_parity.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "experiments/progress_counter.h"
#include "nalu/data/mnist_sequences.h"
#include "nalu/error.h"
#include "nalu/experiments/report.h"
#include "nalu/io/files.h"
#include "nalu/limits.h"
#include "nalu/strings.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/record.h"
#include "nalu/units/nac.h"
#include "nalu/version.h"
#include "parallel.h"
#include "random/seeded.h"

namespace nalu {

namespace {

namespace nn = torch::nn;

// Streams of derive_seed(config.seed, stream). Replicate r builds its network from
// derive_seed(network, r) and draws its batches from derive_seed(data, r) in every variant; the
// network draws its CNN and hidden layer before its final layer, so those two start the same.
constexpr uint64_t kSplitStream = 50;
constexpr uint64_t kNetworkStream = 51;
constexpr uint64_t kDataStream = 52;
constexpr uint64_t kTestStream = 53;
constexpr int64_t kClasses = 2;  // even, odd
// Training steps between progress events of one network.
constexpr int64_t kProgressInterval = 50;
// Test rows evaluated at once.
constexpr int64_t kEvaluationChunk = 1'000;
// Caps that keep a mistyped option from allocating gigabytes or running for days.
constexpr int64_t kMaxDigits = 64;
constexpr int64_t kMaxReplicates = 1'000;
constexpr int64_t kMaxBatch = 4'096;
constexpr int64_t kMaxTestExamples = 1'000'000;

constexpr const char* kName = "mnist-parity";

// The parity of each row's digit sum, 1 for odd: the task's one definition of its target.
torch::Tensor odd_sums(const data::MnistSequences& rows) {
  return rows.sums.remainder(2);
}

// A share as a percentage with one decimal ("95.2"), "nan" when not finite.
std::string percent(double share) {
  if (!std::isfinite(share))
    return "nan";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", 100.0 * share);
  return text;
}

struct NetworkOutcome {
  double test_accuracy = std::numeric_limits<double>::quiet_NaN();
  double final_train_loss = std::numeric_limits<double>::quiet_NaN();
  double seconds = 0.0;
};

// Share of `rows` whose predicted parity is right, in chunks of kEvaluationChunk rows.
double test_accuracy(MnistParityNetworkImpl& network, const data::MnistImages& pool,
                     const data::MnistSequences& rows) {
  torch::NoGradGuard no_grad;
  network.eval();
  const auto targets = odd_sums(rows);
  int64_t correct = 0;
  for (int64_t begin = 0; begin < rows.size(); begin += kEvaluationChunk) {
    const int64_t end = std::min(rows.size(), begin + kEvaluationChunk);
    const auto indices = rows.indices.slice(0, begin, end);
    const auto logits = network.forward(data::gather_sequences(pool.images, indices));
    if (!torch::isfinite(logits).all().item<bool>())
      return std::numeric_limits<double>::quiet_NaN();
    correct +=
        network.output->predict(logits).eq(targets.slice(0, begin, end)).sum().item<int64_t>();
  }
  network.train();
  return static_cast<double>(correct) / static_cast<double>(rows.size());
}

NetworkOutcome train_network(const MnistParityConfig& config, const ParityVariant& variant,
                             int64_t replicate, const data::MnistSplit& split,
                             const data::MnistSequences& test_rows,
                             detail::ExperimentProgressCounter& counter) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = static_cast<uint64_t>(replicate);
  MnistParityNetwork network = detail::build_seeded(
      derive_seed(derive_seed(config.seed, kNetworkStream), r),
      [&] { return MnistParityNetwork(MnistParityNetworkOptions(config.digits, variant)); });
  torch::optim::Adam optimizer(network->parameters(),
                               torch::optim::AdamOptions(config.learning_rate));
  const data::MnistSequenceSampler sampler(split.train, config.digits,
                                           derive_seed(derive_seed(config.seed, kDataStream), r));
  const std::string stage = variant.name + " #" + std::to_string(replicate + 1);
  // The mean loss of the last tenth of the steps (at least one).
  const int64_t tail_begin = config.steps - std::max<int64_t>(1, config.steps / 10);
  double tail_loss = 0.0;
  bool finite = true;
  network->train();
  for (int64_t step = 0; step < config.steps; ++step) {
    const auto batch = sampler.batch(step, config.batch_size);
    const auto logits = network(data::gather_sequences(split.train.images, batch.indices));
    const auto loss = network->output->loss(logits, odd_sums(batch));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    network->after_optimizer_step();
    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
      finite = false;
      counter.add(stage, config.steps - step / kProgressInterval * kProgressInterval);
      break;
    }
    if (step >= tail_begin)
      tail_loss += value;
    if ((step + 1) % kProgressInterval == 0 || step + 1 == config.steps)
      counter.add(stage, (step + 1) % kProgressInterval == 0 ? kProgressInterval
                                                             : (step + 1) % kProgressInterval);
  }
  NetworkOutcome outcome;
  if (finite) {
    outcome.final_train_loss = tail_loss / static_cast<double>(config.steps - tail_begin);
    outcome.test_accuracy = test_accuracy(*network, split.test, test_rows);
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

void summarise(MnistParityVariantResult& result) {
  std::vector<double> finite;
  for (double accuracy : result.test_accuracy) {
    if (std::isfinite(accuracy))
      finite.push_back(accuracy);
  }
  result.diverged = static_cast<int64_t>(result.test_accuracy.size() - finite.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (finite.empty()) {
    result.mean_accuracy = result.std_accuracy = result.min_accuracy = result.max_accuracy = nan;
    return;
  }
  double sum = 0.0;
  for (double a : finite)
    sum += a;
  result.mean_accuracy = sum / static_cast<double>(finite.size());
  double squares = 0.0;
  for (double a : finite)
    squares += (a - result.mean_accuracy) * (a - result.mean_accuracy);
  result.std_accuracy =
      finite.size() > 1 ? std::sqrt(squares / static_cast<double>(finite.size() - 1)) : 0.0;
  result.min_accuracy = *std::min_element(finite.begin(), finite.end());
  result.max_accuracy = *std::max_element(finite.begin(), finite.end());
}

nlohmann::json config_json(const MnistParityConfig& config) {
  return {{"variants", config.variants},
          {"digits", config.digits},
          {"replicates", config.replicates},
          {"steps", config.steps},
          {"batch_size", config.batch_size},
          {"optimizer", "adam"},
          {"learning_rate", config.learning_rate},
          {"test_examples", config.test_examples},
          {"test_fraction", config.test_fraction},
          {"mnist_dir", config.mnist_dir},
          {"seed", config.seed}};
}

std::string parity_table(const MnistParityResult& result) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : result.variants) {
    std::string accuracies;
    for (size_t i = 0; i < v.test_accuracy.size(); ++i) {
      if (i)
        accuracies += ", ";
      accuracies += percent(v.test_accuracy[i]);
    }
    std::string mean = percent(v.mean_accuracy);
    mean += " ± ";
    mean += percent(v.std_accuracy);
    double loss = 0.0;
    int64_t finite = 0;
    for (double l : v.final_train_loss) {
      if (std::isfinite(l)) {
        loss += l;
        ++finite;
      }
    }
    rows.push_back(
        {v.variant.name, v.variant.formula, mean,
         percent(v.min_accuracy) + " – " + percent(v.max_accuracy), accuracies,
         finite ? format_significant(loss / static_cast<double>(finite)) : std::string("nan"),
         std::to_string(v.diverged)});
  }
  return markdown_table({"final layer", "computes", "test accuracy % (mean ± sd)", "min – max",
                         "per network", "final train loss", "diverged"},
                        rows,
                        {Align::kLeft, Align::kLeft, Align::kRight, Align::kRight, Align::kRight,
                         Align::kRight, Align::kRight});
}

}  // namespace

// ---- variants ----------------------------------------------------------------------------------

const std::vector<ParityVariant>& mnist_parity_variants() {
  static const std::vector<ParityVariant> kVariants = {
      {"affine", "W h + b", "linear", true, Activation::kNone},
      {"affine-no-bias", "W h", "linear", false, Activation::kNone},
      {"nac-weights-bias", "(tanh(W^) * sigmoid(M^)) h + b", "nac", true, Activation::kNone},
      {"nac", "(tanh(W^) * sigmoid(M^)) h", "nac", false, Activation::kNone},
      {"nac-sigmoid", "sigmoid((tanh(W^) * sigmoid(M^)) h)", "nac", false, Activation::kSigmoid},
  };
  return kVariants;
}

const ParityVariant& find_parity_variant(const std::string& name) {
  const auto& variants = mnist_parity_variants();
  std::vector<std::string> names;
  for (const auto& variant : variants)
    names.push_back(variant.name);
  return variants[find_name(names, name, "parity variant")];
}

// ---- ParityOutputLayer -------------------------------------------------------------------------

ParityOutputLayerImpl::ParityOutputLayerImpl(int64_t in_features_, int64_t classes_,
                                             ParityVariant variant_)
    : in_features(in_features_), classes(classes_), variant(std::move(variant_)) {
  reset();
}

void ParityOutputLayerImpl::reset() {
  check(variant.unit == "linear" || variant.unit == "nac",
        "parity output: unit must be 'linear' or 'nac', got '" + variant.unit + "'");
  // The unit never has a bias of its own: the variant's bias is this layer's, so that the
  // affine and the NAC variants get the same one.
  UnitSettings settings;
  settings.linear_bias = false;
  head = register_module("head", ArithmeticHead(ArithmeticHeadOptions(in_features, classes)
                                                    .units({variant.unit})
                                                    .task(HeadTask::kClassification)
                                                    .settings(settings)));
  if (variant.bias) {
    // torch::nn::Linear's bias initialisation.
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    bias = register_parameter("bias", torch::empty({classes}));
    torch::NoGradGuard no_grad;
    bias.uniform_(-bound, bound);
  } else {
    bias = torch::Tensor();
  }
  activation_ = torch::nn::AnyModule();
  if (variant.activation != Activation::kNone) {
    activation_ = make_activation(variant.activation);
    register_module("activation", activation_.ptr());
  }
}

void ParityOutputLayerImpl::pretty_print(std::ostream& stream) const {
  stream << "nalu::ParityOutputLayer(" << variant.name << ": " << variant.formula
         << ", in_features=" << in_features << ", classes=" << classes << ")";
}

torch::Tensor ParityOutputLayerImpl::forward(const torch::Tensor& hidden) {
  torch::Tensor y = head(hidden);
  if (bias.defined())
    y = y + bias;
  if (!activation_.is_empty())
    y = activation_.forward<torch::Tensor>(y);
  return y;
}

torch::Tensor ParityOutputLayerImpl::loss(const torch::Tensor& logits,
                                          const torch::Tensor& target) const {
  return head->loss(logits, target);
}

torch::Tensor ParityOutputLayerImpl::predict(const torch::Tensor& logits) const {
  return head->predict(logits);
}

torch::Tensor ParityOutputLayerImpl::weight() const {
  const auto unit = head->units().front();  // reset() allows only these two units
  if (const auto* nac = dynamic_cast<const NACImpl*>(&unit->as_module()))
    return nac->weight();
  return dynamic_cast<const LinearImpl&>(unit->as_module()).weight;
}

// ---- MnistParityNetwork ------------------------------------------------------------------------

MnistParityNetworkImpl::MnistParityNetworkImpl(MnistParityNetworkOptions options_)
    : options(std::move(options_)) {
  const auto& o = options;
  check(o.digits() >= 1 && o.digits() <= kMaxDigits, "parity network: digits must be in [1, " +
                                                         std::to_string(kMaxDigits) + "], got " +
                                                         std::to_string(o.digits()));
  check(o.digit_features() >= 1 && o.hidden() >= 1,
        "parity network: digit features and hidden size must be positive");
  // 28x28 -> conv 5x5 -> 24x24 -> pool -> 12x12 -> conv 5x5 -> 8x8 -> pool -> 4x4 (16 maps).
  constexpr int64_t kConvFeatures = 16 * 4 * 4;
  digit_encoder = register_module(
      "digit_encoder",
      nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 8, 5)), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Conv2d(nn::Conv2dOptions(8, 16, 5)), nn::ReLU(), nn::MaxPool2d(2),
                     nn::Flatten(), nn::Linear(kConvFeatures, o.digit_features()), nn::ReLU()));
  combiner = register_module(
      "combiner",
      nn::Sequential(nn::Linear(o.digits() * o.digit_features(), o.hidden()), nn::ReLU()));
  output = register_module("output", ParityOutputLayer(o.hidden(), kClasses, o.variant()));
}

torch::Tensor MnistParityNetworkImpl::hidden(const torch::Tensor& images) {
  const int64_t k = options.digits();
  check(images.defined(), "parity network: the images are an undefined tensor");
  check(images.dim() == 5 && images.size(1) == k && images.size(2) == 1 &&
            images.size(3) == data::kMnistRows && images.size(4) == data::kMnistColumns,
        "parity network: expected images [batch, " + std::to_string(k) + ", 1, 28, 28], got " +
            c10::str(images.sizes()));
  const int64_t batch = images.size(0);
  const auto per_digit = digit_encoder->forward(images.reshape({batch * k, 1, 28, 28}));
  return combiner->forward(per_digit.reshape({batch, k * options.digit_features()}));
}

torch::Tensor MnistParityNetworkImpl::forward(const torch::Tensor& images) {
  return output(hidden(images));
}

torch::Tensor mnist_parity_targets(const torch::Tensor& labels, const torch::Tensor& indices) {
  return odd_sums(data::mnist_sequence_targets(labels, indices));
}

// ---- config ------------------------------------------------------------------------------------

MnistParityConfig::MnistParityConfig() {
  for (const auto& variant : mnist_parity_variants())
    variants.push_back(variant.name);
}

MnistParityConfig MnistParityConfig::quick() {
  MnistParityConfig config;
  config.replicates = 3;
  config.steps = 1'000;
  config.test_examples = 2'000;
  return config;
}

void MnistParityConfig::validate() const {
  check(!variants.empty(), "mnist-parity: needs at least one variant");
  std::set<std::string> seen;
  for (const auto& name : variants) {
    find_parity_variant(name);  // throws, listing the known variants
    check(seen.insert(name).second, "mnist-parity: variant '" + name + "' is listed twice");
  }
  auto in_range = [](const char* what, int64_t value, int64_t low, int64_t high) {
    std::string message = "mnist-parity: ";
    message += what;
    message += " must be in [" + std::to_string(low) + ", " + std::to_string(high) + "], got ";
    message += std::to_string(value);
    check(value >= low && value <= high, message);
  };
  in_range("digits", digits, 1, kMaxDigits);
  in_range("replicates", replicates, 1, kMaxReplicates);
  in_range("batch size", batch_size, 1, kMaxBatch);
  in_range("test examples", test_examples, 1, kMaxTestExamples);
  check(steps > 0, "mnist-parity: steps must be positive, got " + std::to_string(steps));
  check_learning_rate(learning_rate, "mnist-parity: learning rate");
  check(std::isfinite(test_fraction) && test_fraction > 0 && test_fraction < 1,
        "mnist-parity: test fraction must be in (0, 1), got " + format_significant(test_fraction));
  check(threads >= 0, "mnist-parity: threads must be >= 0, got " + std::to_string(threads));
}

// ---- running -----------------------------------------------------------------------------------

MnistParityResult run_mnist_parity(const MnistParityConfig& config_in,
                                   const ExperimentProgress& progress) {
  config_in.validate();
  const auto start = std::chrono::steady_clock::now();
  MnistParityResult result;
  result.config = config_in;
  auto& config = result.config;
  if (config.mnist_dir.empty())
    config.mnist_dir = data::default_mnist_dir().string();

  const data::MnistSplit split = data::load_mnist_split(config.mnist_dir, config.test_fraction,
                                                        derive_seed(config.seed, kSplitStream));
  result.data_source = split.train.source;
  result.train_digits = split.train.size();
  result.test_digits = split.test.size();
  const data::MnistSequences test_rows = data::make_mnist_sequence_set(
      split.test, config.test_examples, config.digits, derive_seed(config.seed, kTestStream));
  result.test_odd_share = odd_sums(test_rows).to(torch::kDouble).mean().item<double>();

  const auto variants = static_cast<int64_t>(config.variants.size());
  const int64_t networks = variants * config.replicates;
  result.variants.resize(config.variants.size());
  for (int64_t v = 0; v < variants; ++v) {
    auto& out = result.variants[static_cast<size_t>(v)];
    out.variant = find_parity_variant(config.variants[static_cast<size_t>(v)]);
    out.test_accuracy.assign(static_cast<size_t>(config.replicates), 0.0);
    out.final_train_loss.assign(static_cast<size_t>(config.replicates), 0.0);
  }
  std::vector<NetworkOutcome> outcomes(static_cast<size_t>(networks));
  detail::ExperimentProgressCounter counter(progress, networks * config.steps);
  const int64_t jobs = detail::thread_count(config.threads);
  // Network n is variant n % variants of replicate n / variants: the variants of one replicate
  // run close together, so a partial run still compares like with like.
  detail::run_parallel(
      networks, jobs,
      [&](int64_t n) {
        const auto& variant = result.variants[static_cast<size_t>(n % variants)].variant;
        outcomes[static_cast<size_t>(n)] =
            train_network(config, variant, n / variants, split, test_rows, counter);
      },
      [](int64_t) {});
  for (int64_t n = 0; n < networks; ++n) {
    auto& out = result.variants[static_cast<size_t>(n % variants)];
    const auto r = static_cast<size_t>(n / variants);
    const auto& outcome = outcomes[static_cast<size_t>(n)];
    out.test_accuracy[r] = outcome.test_accuracy;
    out.final_train_loss[r] = outcome.final_train_loss;
    out.seconds += outcome.seconds;
  }
  for (auto& out : result.variants)
    summarise(out);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

ExperimentReport run_mnist_parity_experiment(const ExperimentOptions& options,
                                             const ExperimentProgress& progress) {
  MnistParityConfig config = options.quick ? MnistParityConfig::quick() : MnistParityConfig::full();
  config.seed = options.seed;
  config.threads = options.threads;
  config.validate();
  const std::string directory = options.output_dir;
  const std::string table_path = directory + "/mnist-parity.md";
  const std::string records_path = directory + "/mnist-parity.jsonl";
  for (const auto& path : {table_path, records_path})
    check_writable(path);

  const MnistParityResult result = run_mnist_parity(config, progress);

  std::string records;
  for (const auto& v : result.variants) {
    nlohmann::json record = {{"experiment", kName},
                             {"version", kVersion},
                             {"variant", v.variant.name},
                             {"formula", v.variant.formula},
                             {"test_accuracy", v.test_accuracy},
                             {"final_train_loss", v.final_train_loss},
                             {"mean_accuracy", v.mean_accuracy},
                             {"std_accuracy", v.std_accuracy},
                             {"min_accuracy", v.min_accuracy},
                             {"max_accuracy", v.max_accuracy},
                             {"diverged", v.diverged},
                             {"seconds", v.seconds},
                             {"data_source", result.data_source},
                             {"train_digits", result.train_digits},
                             {"test_digits", result.test_digits},
                             {"test_odd_share", result.test_odd_share},
                             {"config", config_json(result.config)}};
    records += record.dump();
    records += "\n";
  }

  const auto& c = result.config;
  std::string caption = "MNIST parity: is the sum of ";
  caption += std::to_string(c.digits);
  caption += " digits odd? Test accuracy over ";
  caption += std::to_string(c.replicates);
  caption += " networks per final layer (";
  caption += std::to_string(c.steps);
  caption += " Adam steps, lr ";
  caption += format_significant(c.learning_rate);
  caption += ", batch ";
  caption += std::to_string(c.batch_size);
  caption += ", ";
  caption += std::to_string(c.test_examples);
  caption += " test rows from ";
  caption += std::to_string(result.test_digits);
  caption += " held-out digits, seed ";
  caption += std::to_string(c.seed);
  caption += ")";
  const std::string table = parity_table(result);

  ExperimentReport report;
  report.tables.push_back({caption, table});
  report.summary = "Chance level (always guessing the more common parity of the test rows): " +
                   percent(std::max(result.test_odd_share, 1.0 - result.test_odd_share)) + "%.";
  const MnistParityVariantResult* best = nullptr;
  for (const auto& v : result.variants) {
    if (std::isfinite(v.mean_accuracy) && (!best || v.mean_accuracy > best->mean_accuracy))
      best = &v;
  }
  if (best) {
    report.summary += " Best mean test accuracy: " + best->variant.name + " (" +
                      percent(best->mean_accuracy) + "%).";
  }

  write_file_atomically(table_path, "# " + caption + "\n\n" + table);
  write_file_atomically(records_path, records);
  report.files = {table_path, records_path};
  return report;
}

}  // namespace nalu

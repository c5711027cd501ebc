// `nalu experiment identity`: the NALU paper's Figure 1. Every family's models are packed into
// one BatchedStack and trained with one Adam; the families run side by side.
#include "nalu/experiments/identity.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "experiments/progress_counter.h"
#include "nalu/error.h"
#include "nalu/experiments/report.h"
#include "nalu/io/files.h"
#include "nalu/limits.h"
#include "nalu/models/batched.h"
#include "nalu/strings.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/record.h"
#include "nalu/units/baselines.h"
#include "nalu/version.h"
#include "parallel.h"
#include "random/seeded.h"

namespace nalu {

namespace {

// Streams of derive_seed(config.seed, stream). Model m of every family is initialised from
// derive_seed(init, m): the MLP families start from the same affine weights, as the paper's
// identically initialised autoencoders do; every family sees the same training inputs.
constexpr uint64_t kInitializationStream = 40;
constexpr uint64_t kDataStream = 41;
constexpr uint64_t kNoiseStream = 42;  // RReLU's training-mode slopes
// Training steps between progress events of one family.
constexpr int64_t kProgressInterval = 100;
// Caps that keep a mistyped option from allocating gigabytes.
constexpr int64_t kMaxModels = 10'000;
constexpr int64_t kMaxBatch = 100'000;
constexpr int64_t kMaxGridPoints = 100'000;
constexpr int64_t kMaxHidden = 1'024;

constexpr const char* kNacFamily = "nac";

Stack make_identity_model(const std::string& family, const std::vector<int64_t>& hidden) {
  std::vector<int64_t> sizes{1};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(1);
  if (family == kNacFamily)
    return make_stack({"nac"}, sizes);
  UnitSettings settings;
  settings.mlp_activation = family;
  return make_stack({"mlp"}, sizes, settings);
}

std::string range_text(double low, double high) {
  std::string text = "[";
  text += format_significant(low, 4);
  text += ", ";
  text += format_significant(high, 4);
  text += "]";
  return text;
}

IdentityFamilyResult train_family(const IdentityConfig& config, const std::string& family,
                                  const torch::Tensor& grid, const torch::Tensor& inside,
                                  detail::ExperimentProgressCounter& counter) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t init_seed = derive_seed(config.seed, kInitializationStream);
  std::vector<Stack> models;
  for (int64_t m = 0; m < config.models; ++m) {
    models.push_back(detail::build_seeded(derive_seed(init_seed, static_cast<uint64_t>(m)), [&] {
      return make_identity_model(family, config.hidden);
    }));
  }
  BatchedStack batch(models, derive_seed(config.seed, kNoiseStream));
  torch::optim::Adam optimizer(batch->parameters(),
                               torch::optim::AdamOptions(config.learning_rate));
  auto generator = make_generator(derive_seed(config.seed, kDataStream));

  // Each model's loss is the MSE over its own batch; their sum keeps the models independent
  // (the gradient of model m's weights is that of its own loss; Adam acts element-wise).
  torch::Tensor per_model_mse;
  batch->train();
  for (int64_t step = 1; step <= config.steps; ++step) {
    const auto x = torch::empty({config.models, config.batch_size, 1})
                       .uniform_(config.train_low, config.train_high, generator);
    per_model_mse = (batch(x) - x).pow(2).mean({1, 2});
    optimizer.zero_grad();
    per_model_mse.sum().backward();
    optimizer.step();
    if (step % kProgressInterval == 0 || step == config.steps)
      counter.add(family,
                  step % kProgressInterval == 0 ? kProgressInterval : step % kProgressInterval);
  }

  IdentityFamilyResult result;
  result.family = family;
  result.models = config.models;
  torch::NoGradGuard no_grad;
  batch->eval();
  const int64_t points = grid.size(0);
  const auto x = grid.to(torch::kFloat).reshape({1, points, 1}).expand({config.models, points, 1});
  const auto error = (batch(x.contiguous()) - x).abs().squeeze(2).to(torch::kDouble);  // [M, G]
  // A model is finite when its weights and its outputs on the whole grid are.
  auto finite = torch::isfinite(error).all(1);
  for (const auto& parameter : batch->parameters())
    finite = finite.logical_and(torch::isfinite(parameter).reshape({config.models, -1}).all(1));
  result.diverged = config.models - finite.sum().item<int64_t>();

  const auto outside = inside.logical_not();
  const auto nan = std::numeric_limits<double>::quiet_NaN();
  auto masked_mean = [&](const torch::Tensor& values, const torch::Tensor& mask) {
    return mask.any().item<bool>() ? values.index({mask}).mean().item<double>() : nan;
  };
  for (int64_t m = 0; m < config.models; ++m) {
    const bool ok = finite[m].item<bool>();
    result.model_interpolation_mae.push_back(ok ? masked_mean(error[m], inside) : nan);
    result.model_extrapolation_mae.push_back(ok ? masked_mean(error[m], outside) : nan);
  }
  if (result.diverged < config.models) {
    const auto curve = error.index({finite}).mean(0);
    result.mean_absolute_error.assign(curve.data_ptr<double>(),
                                      curve.data_ptr<double>() + curve.numel());
    result.interpolation_mae = masked_mean(curve, inside);
    result.extrapolation_mae = masked_mean(curve, outside);
    result.final_train_mse =
        per_model_mse.detach().to(torch::kDouble).index({finite}).mean().item<double>();
  } else {
    result.mean_absolute_error.assign(static_cast<size_t>(points), nan);
    result.interpolation_mae = result.extrapolation_mae = result.final_train_mse = nan;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

nlohmann::json config_json(const IdentityConfig& config) {
  return {{"families", config.families},
          {"models", config.models},
          {"hidden", config.hidden},
          {"steps", config.steps},
          {"batch_size", config.batch_size},
          {"optimizer", "adam"},
          {"learning_rate", config.learning_rate},
          {"train_range", {config.train_low, config.train_high}},
          {"test_range", {config.test_low, config.test_high}},
          {"grid_points", config.grid_points},
          {"seed", config.seed}};
}

std::string identity_table(const IdentityResult& result) {
  const auto& c = result.config;
  std::vector<std::vector<std::string>> rows;
  for (const auto& family : result.families) {
    rows.push_back({family.family == kNacFamily ? "NAC (1-8-8-8-1 NAC stack)" : family.family,
                    std::to_string(family.models), std::to_string(family.diverged),
                    format_significant(family.interpolation_mae),
                    format_significant(family.extrapolation_mae),
                    format_significant(family.final_train_mse)});
  }
  std::string inside = "MAE, x in ";
  inside += range_text(c.train_low, c.train_high);
  std::string outside = "MAE, x in ";
  outside += range_text(c.test_low, c.test_high);
  outside += " outside it";
  return markdown_table({"activation", "models", "diverged", inside, outside, "final train MSE"},
                        rows);
}

}  // namespace

const std::vector<std::string>& identity_paper_activations() {
  static const std::vector<std::string> kNames = {
      "elu",  "hardtanh", "leaky-relu", "log-sigmoid", "prelu",    "relu", "relu6",     "rrelu",
      "selu", "sigmoid",  "softplus",   "softshrink",  "softsign", "tanh", "tanhshrink"};
  return kNames;
}

IdentityConfig::IdentityConfig() : families(identity_paper_activations()) {
  families.push_back(kNacFamily);
}

IdentityConfig IdentityConfig::quick() {
  IdentityConfig config;
  config.models = 10;
  config.steps = 2'000;
  return config;
}

void IdentityConfig::validate() const {
  check(!families.empty(), "identity: needs at least one family");
  std::set<std::string> seen;
  for (const auto& family : families) {
    if (family != kNacFamily)
      parse_activation(family);  // throws, listing the known activations
    check(seen.insert(family).second, "identity: family '" + family + "' is listed twice");
  }
  check(models > 0 && models <= kMaxModels, "identity: models per family must be in [1, " +
                                                std::to_string(kMaxModels) + "], got " +
                                                std::to_string(models));
  for (auto size : hidden) {
    check(size > 0 && size <= kMaxHidden, "identity: hidden sizes must be in [1, " +
                                              std::to_string(kMaxHidden) + "], got " +
                                              std::to_string(size));
  }
  check(steps > 0, "identity: steps must be positive, got " + std::to_string(steps));
  check(batch_size > 0 && batch_size <= kMaxBatch, "identity: batch size must be in [1, " +
                                                       std::to_string(kMaxBatch) + "], got " +
                                                       std::to_string(batch_size));
  check_learning_rate(learning_rate, "identity: learning rate");
  check(std::isfinite(train_low) && std::isfinite(train_high) && train_low < train_high,
        "identity: training range " + range_text(train_low, train_high) +
            " is empty, reversed or not finite");
  check(std::isfinite(test_low) && std::isfinite(test_high) && test_low < test_high,
        "identity: test range " + range_text(test_low, test_high) +
            " is empty, reversed or not finite");
  check(grid_points >= 2 && grid_points <= kMaxGridPoints,
        "identity: grid points must be in [2, " + std::to_string(kMaxGridPoints) + "], got " +
            std::to_string(grid_points));
  check(threads >= 0, "identity: threads must be >= 0, got " + std::to_string(threads));
  // Every model of a family trains as one batched network; at most every family at once.
  double weights = 0.0, widths = 2.0;
  int64_t previous = 1;
  for (auto size : hidden) {
    weights += static_cast<double>(previous) * static_cast<double>(size + 1);
    widths += static_cast<double>(size);
    previous = size;
  }
  weights += static_cast<double>(previous + 1);
  const auto parallel = static_cast<double>(families.size());
  const auto model_count = static_cast<double>(models);
  check_memory({"identity: the models in training",
                std::to_string(models) + " models per family, " + std::to_string(families.size()) +
                    " families, batch size " + std::to_string(batch_size) + ", grid points " +
                    std::to_string(grid_points),
                parallel * model_count *
                    (weights * 4.0 * 4.0 +
                     static_cast<double>(std::max(batch_size, grid_points)) * widths * 4.0 * 4.0)});
}

IdentityResult run_identity(const IdentityConfig& config, const ExperimentProgress& progress) {
  config.validate();
  const auto start = std::chrono::steady_clock::now();
  IdentityResult result;
  result.config = config;
  for (int64_t i = 0; i < config.grid_points; ++i) {
    result.grid.push_back(config.test_low + (config.test_high - config.test_low) *
                                                static_cast<double>(i) /
                                                static_cast<double>(config.grid_points - 1));
  }
  const auto grid = torch::tensor(result.grid, torch::kDouble);
  const auto inside = grid.ge(config.train_low).logical_and(grid.le(config.train_high));

  const auto families = static_cast<int64_t>(config.families.size());
  result.families.resize(config.families.size());
  detail::ExperimentProgressCounter counter(progress, families * config.steps);
  const int64_t jobs = detail::thread_count(config.threads);
  detail::run_parallel(
      families, jobs,
      [&](int64_t f) {
        result.families[static_cast<size_t>(f)] =
            train_family(config, config.families[static_cast<size_t>(f)], grid, inside, counter);
      },
      [](int64_t) {});
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

ExperimentReport run_identity_experiment(const ExperimentOptions& options,
                                         const ExperimentProgress& progress) {
  IdentityConfig config = options.quick ? IdentityConfig::quick() : IdentityConfig::paper();
  config.seed = options.seed;
  config.threads = options.threads;
  config.validate();
  const std::string directory = options.output_dir;
  const std::string svg_path = directory + "/identity.svg";
  const std::string table_path = directory + "/identity.md";
  const std::string records_path = directory + "/identity.jsonl";
  for (const auto& path : {svg_path, table_path, records_path})
    check_writable(path);

  const IdentityResult result = run_identity(config, progress);

  LinePlot plot;
  plot.title = "Identity: mean absolute error over " + std::to_string(config.models) +
               " models per activation";
  plot.x_label = "x";
  plot.y_label = "mean absolute error |f(x) - x|";
  plot.log_y = true;
  plot.bands.push_back({config.train_low, config.train_high, "training range"});
  for (const auto& family : result.families) {
    plot.series.push_back({family.family == kNacFamily ? "NAC" : family.family, result.grid,
                           family.mean_absolute_error});
  }

  std::string records;
  for (const auto& family : result.families) {
    nlohmann::json record = {{"experiment", "identity"},
                             {"version", kVersion},
                             {"family", family.family},
                             {"models", family.models},
                             {"diverged", family.diverged},
                             {"interpolation_mae", family.interpolation_mae},
                             {"extrapolation_mae", family.extrapolation_mae},
                             {"final_train_mse", family.final_train_mse},
                             {"seconds", family.seconds},
                             {"config", config_json(config)},
                             {"grid", result.grid},
                             {"mean_absolute_error", family.mean_absolute_error},
                             {"model_interpolation_mae", family.model_interpolation_mae},
                             {"model_extrapolation_mae", family.model_extrapolation_mae}};
    records += record.dump();
    records += "\n";
  }

  ExperimentReport report;
  std::string caption = "Mean absolute error of the trained identity, averaged over ";
  caption += std::to_string(config.models);
  caption += " models per activation (";
  caption += std::to_string(config.steps);
  caption += " Adam steps, lr ";
  caption += format_significant(config.learning_rate);
  caption += ", batch ";
  caption += std::to_string(config.batch_size);
  caption += ", seed ";
  caption += std::to_string(config.seed);
  caption += ")";
  const std::string table = identity_table(result);
  report.tables.push_back({caption, table});

  // The reading: the NAC against the best MLP outside the training range.
  const IdentityFamilyResult* nac = nullptr;
  const IdentityFamilyResult* best_mlp = nullptr;
  for (const auto& family : result.families) {
    if (family.family == kNacFamily) {
      nac = &family;
    } else if (std::isfinite(family.extrapolation_mae) &&
               (!best_mlp || family.extrapolation_mae < best_mlp->extrapolation_mae)) {
      best_mlp = &family;
    }
  }
  report.summary = "Trained on " + range_text(config.train_low, config.train_high) +
                   ", evaluated on " + range_text(config.test_low, config.test_high) + ".";
  if (nac && best_mlp) {
    report.summary += " Outside the training range the NAC's mean absolute error is " +
                      format_significant(nac->extrapolation_mae) + "; the best MLP (" +
                      best_mlp->family + ") reaches " +
                      format_significant(best_mlp->extrapolation_mae) + ".";
  }

  write_file_atomically(svg_path, render_svg(plot));
  write_file_atomically(table_path, "# " + caption + "\n\n" + table);
  write_file_atomically(records_path, records);
  report.files = {svg_path, table_path, records_path};
  return report;
}

}  // namespace nalu

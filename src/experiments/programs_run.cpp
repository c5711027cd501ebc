// `nalu experiment programs`: the NALU paper's program evaluation. Every model trains on fresh
// programs at each step (literals of 1 to train_digits digits); the step kept is the one with
// the lowest MAE on a validation set of the same range, and the test sets (literals of exactly
// d digits) meet only that model.
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
#include "nalu/experiments/programs.h"
#include "nalu/experiments/report.h"
#include "nalu/io/archive.h"
#include "nalu/io/files.h"
#include "nalu/limits.h"
#include "nalu/strings.h"
#include "nalu/tasks/arithmetic.h"
#include "nalu/train/record.h"
#include "nalu/version.h"
#include "parallel.h"
#include "random/seeded.h"

namespace nalu {

namespace {

// Streams of derive_seed(config.seed, stream). The training programs of (family f, seed s) come
// from derive_seed(derive_seed(derive_seed(config.seed, kTrainStream), f), s) and its step, the
// same for every variant, and so does the models' start (kInitializationStream): the variants of
// one family and seed see the same programs.
constexpr uint64_t kTrainStream = 70;
constexpr uint64_t kValidationStream = 71;
constexpr uint64_t kTestStream = 72;
constexpr uint64_t kExampleStream = 73;
constexpr uint64_t kInitializationStream = 74;

constexpr int64_t kMaxSeeds = 1'000;
constexpr int64_t kMaxBatch = 65'536;
constexpr int64_t kMaxPrograms = 1'000'000;
constexpr int64_t kMaxDigits = 9;
constexpr int64_t kProgressInterval = 50;
// Programs are scored in chunks of this many, to bound the memory of a long test set.
constexpr int64_t kScoreChunk = 2'000;
// Example programs per family: literals of these many digits (those in test_digits).
const std::vector<int64_t> kExampleDigits = {2, 4, 6};

data::ProgramShape shape_with_digits(data::ProgramFamily family, int64_t low, int64_t high) {
  data::ProgramShape shape = program_family_shape(family);
  shape.min_digits = low;
  shape.max_digits = high;
  return shape;
}

uint64_t family_seed(uint64_t root, uint64_t stream, data::ProgramFamily family) {
  return derive_seed(derive_seed(root, stream), static_cast<uint64_t>(family));
}

}  // namespace

std::string ProgramVariant::name() const {
  return program_input_name(input) + "/" + output;
}

std::vector<ProgramVariant> program_variants() {
  std::vector<ProgramVariant> variants;
  for (const auto input : {ProgramInput::kCharacters, ProgramInput::kValues}) {
    for (const auto& output : program_output_names())
      variants.push_back({input, output});
  }
  return variants;
}

data::ProgramShape program_family_shape(data::ProgramFamily family) {
  data::ProgramShape shape;
  shape.statements = family == data::ProgramFamily::kCombined ? 1 : 0;
  shape.nesting = 0;
  return shape;
}

// ---- configuration ----

ProgramsConfig::ProgramsConfig()
    : families(data::program_families()), variants(program_variants()) {}

ProgramsConfig ProgramsConfig::paper() {
  return ProgramsConfig();
}

ProgramsConfig ProgramsConfig::quick() {
  ProgramsConfig config;
  config.families = {data::ProgramFamily::kAddition};
  config.variants = {{ProgramInput::kCharacters, "linear"}, {ProgramInput::kValues, "nau"}};
  config.seeds = 1;
  config.steps = 2'000;
  config.eval_interval = 100;
  config.validation_size = 200;
  config.test_size = 200;
  return config;
}

void ProgramsConfig::validate() const {
  check(!families.empty(), "programs: needs at least one task family");
  std::set<data::ProgramFamily> seen_families(families.begin(), families.end());
  check(seen_families.size() == families.size(), "programs: a task family is listed twice");
  check(!variants.empty(), "programs: needs at least one model");
  std::set<std::string> seen;
  for (const auto& variant : variants) {
    find_name(program_output_names(), variant.output, "program output layer");
    check(seen.insert(variant.name()).second,
          "programs: model '" + variant.name() + "' is listed twice");
  }
  check(seeds >= 1 && seeds <= kMaxSeeds, "programs: seeds must be in [1, " +
                                              std::to_string(kMaxSeeds) + "], got " +
                                              std::to_string(seeds));
  check(steps > 0, "programs: steps must be positive, got " + std::to_string(steps));
  check(batch_size >= 1 && batch_size <= kMaxBatch, "programs: batch size must be in [1, " +
                                                        std::to_string(kMaxBatch) + "], got " +
                                                        std::to_string(batch_size));
  check(eval_interval >= 1 && eval_interval <= steps,
        "programs: eval interval must be in [1, steps], got " + std::to_string(eval_interval));
  check_learning_rate(learning_rate, "programs: learning rate");
  check(train_digits >= 1 && train_digits <= kMaxDigits,
        "programs: training digits must be in [1, " + std::to_string(kMaxDigits) + "], got " +
            std::to_string(train_digits));
  check(!test_digits.empty(), "programs: needs at least one test size");
  for (const int64_t digits : test_digits) {
    check(digits >= 1 && digits <= kMaxDigits, "programs: test digits must be in [1, " +
                                                   std::to_string(kMaxDigits) + "], got " +
                                                   std::to_string(digits));
  }
  check(validation_size >= 1 && validation_size <= kMaxPrograms && test_size >= 1 &&
            test_size <= kMaxPrograms,
        "programs: validation and test sizes must be in [1, " + std::to_string(kMaxPrograms) + "]");
  check(threads >= 0, "programs: threads must be >= 0, got " + std::to_string(threads));
  // The model's own checks (sizes, scale), before any training.
  ProgramModelOptions(ProgramInput::kValues, "linear")
      .embedding(embedding)
      .hidden_size(hidden_size)
      .channels(channels)
      .input_scale(input_scale)
      .validate();
}

// ---- training and evaluation ----

namespace {

// A family's fixed sets: validation (training range), one test set per digits and the examples.
struct FamilySets {
  std::vector<data::Program> validation;
  std::vector<std::vector<data::Program>> test;
  std::vector<data::Program> examples;
};

FamilySets family_sets(const ProgramsConfig& config, data::ProgramFamily family) {
  FamilySets sets;
  sets.validation = data::generate_programs(
      family, shape_with_digits(family, 1, config.train_digits), config.validation_size,
      family_seed(config.seed, kValidationStream, family));
  for (const int64_t digits : config.test_digits) {
    sets.test.push_back(data::generate_programs(
        family, shape_with_digits(family, digits, digits), config.test_size,
        derive_seed(family_seed(config.seed, kTestStream, family), static_cast<uint64_t>(digits))));
  }
  for (const int64_t digits : kExampleDigits) {
    if (std::find(config.test_digits.begin(), config.test_digits.end(), digits) ==
        config.test_digits.end())
      continue;
    sets.examples.push_back(
        data::generate_programs(family, shape_with_digits(family, digits, digits), 1,
                                derive_seed(family_seed(config.seed, kExampleStream, family),
                                            static_cast<uint64_t>(digits)))[0]);
  }
  // Every fixed program is checked by the independent evaluator (nalu/data/programs.h).
  auto checked = [](const std::vector<data::Program>& programs) {
    for (const auto& program : programs) {
      check(data::evaluate_program(program.text) == program.value,
            "programs: the evaluator disagrees with the generator on '" + program.text + "'");
    }
  };
  checked(sets.validation);
  for (const auto& test : sets.test)
    checked(test);
  checked(sets.examples);
  return sets;
}

// The model's outputs on `programs`, in chunks.
torch::Tensor outputs_of(ProgramModelImpl& model, const std::vector<data::Program>& programs) {
  std::vector<torch::Tensor> parts;
  for (size_t begin = 0; begin < programs.size(); begin += kScoreChunk) {
    const size_t end = std::min(programs.size(), begin + static_cast<size_t>(kScoreChunk));
    const std::vector<data::Program> chunk(programs.begin() + static_cast<long>(begin),
                                           programs.begin() + static_cast<long>(end));
    const auto batch = encode_programs(chunk, model.options.input());
    parts.push_back(model.forward(batch.tokens, batch.values, batch.lengths));
  }
  return torch::cat(parts);
}

ProgramScore score(const torch::Tensor& output, const std::vector<data::Program>& programs) {
  std::vector<double> values;
  for (const auto& program : programs)
    values.push_back(static_cast<double>(program.value));
  const auto target = torch::tensor(values, torch::kDouble);
  const auto predicted = output.to(torch::kDouble);
  ProgramScore result;
  result.programs = static_cast<int64_t>(programs.size());
  result.mean_absolute_error = (predicted - target).abs().mean().item<double>();
  // NaN never equals a value, so a diverged model scores 0.
  result.accuracy = predicted.round().eq(target).to(torch::kDouble).mean().item<double>();
  return result;
}

ProgramsRun train_model(const ProgramsConfig& config, data::ProgramFamily family,
                        const ProgramVariant& variant, int64_t seed, const FamilySets& sets,
                        detail::ExperimentProgressCounter& counter) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t model_seed = derive_seed(family_seed(config.seed, kInitializationStream, family),
                                          static_cast<uint64_t>(seed));
  const uint64_t data_seed =
      derive_seed(family_seed(config.seed, kTrainStream, family), static_cast<uint64_t>(seed));
  auto build = [&] {
    return ProgramModel(ProgramModelOptions(variant.input, variant.output)
                            .embedding(config.embedding)
                            .hidden_size(config.hidden_size)
                            .channels(config.channels)
                            .input_scale(config.input_scale));
  };
  ProgramModel model = detail::build_seeded(model_seed, build);
  // The best model so far: a second model of the same start whose parameters are copied over
  // (not clone(), which draws from LibTorch's global generator while other threads build).
  ProgramModel best_model = detail::build_seeded(model_seed, build);
  const auto parameters = model->parameters();
  const auto best_parameters = best_model->parameters();
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(config.learning_rate));
  const auto schedules = model->unit_schedules(config.steps);
  const data::ProgramShape train_shape = shape_with_digits(family, 1, config.train_digits);

  ProgramsRun run;
  run.family = family;
  run.variant = variant;
  run.seed = seed;
  double best = std::numeric_limits<double>::infinity();
  int64_t reported = 0;
  const std::string stage = data::program_family_name(family) + " " + variant.name();
  for (int64_t step = 1; step <= config.steps; ++step) {
    model->train();
    const auto programs =
        data::generate_programs(family, train_shape, config.batch_size,
                                derive_seed(data_seed, static_cast<uint64_t>(step)));
    const auto batch = encode_programs(programs, variant.input);
    const auto mse =
        torch::mse_loss(model->forward(batch.tokens, batch.values, batch.lengths), batch.targets);
    const auto regularization = model->scheduled_regularization_loss(step, schedules);
    const auto loss = mse + regularization;
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
          score(outputs_of(*model, sets.validation), sets.validation).mean_absolute_error;
      if (std::isfinite(error) && error < best) {
        best = error;
        run.best_step = step;
        for (size_t p = 0; p < parameters.size(); ++p)
          best_parameters[p].copy_(parameters[p]);
      }
    }
    if (step % kProgressInterval == 0 || step == config.steps) {
      counter.add(stage, step - reported);
      reported = step;
    }
  }
  if (reported < config.steps)
    counter.add(stage, config.steps - reported);  // a diverged model's remaining steps

  torch::NoGradGuard no_grad;
  best_model->eval();
  run.validation = score(outputs_of(*best_model, sets.validation), sets.validation);
  for (const auto& test : sets.test)
    run.test.push_back(score(outputs_of(*best_model, test), test));
  if (!sets.examples.empty()) {
    const auto outputs = outputs_of(*best_model, sets.examples).to(torch::kDouble).contiguous();
    run.example_outputs.assign(outputs.data_ptr<double>(),
                               outputs.data_ptr<double>() + outputs.numel());
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace

ProgramsResult run_programs(const ProgramsConfig& config, const ExperimentProgress& progress) {
  config.validate();
  const auto start = std::chrono::steady_clock::now();
  ProgramsResult result;
  result.config = config;
  std::vector<FamilySets> sets;
  for (const auto family : config.families) {
    sets.push_back(family_sets(config, family));
    result.examples.push_back(sets.back().examples);
  }
  const auto variants = static_cast<int64_t>(config.variants.size());
  const auto models = static_cast<int64_t>(config.families.size()) * variants * config.seeds;
  result.runs.resize(static_cast<size_t>(models));
  detail::ExperimentProgressCounter counter(progress, models * config.steps);
  const int64_t jobs = detail::thread_count(config.threads);
  detail::run_parallel(
      models, jobs,
      [&](int64_t m) {
        const auto f = static_cast<size_t>(m / (variants * config.seeds));
        const auto& variant = config.variants[static_cast<size_t>(m / config.seeds % variants)];
        result.runs[static_cast<size_t>(m)] =
            train_model(config, config.families[f], variant, m % config.seeds, sets[f], counter);
      },
      [](int64_t) {});
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// ---- report ----

namespace {

std::vector<const ProgramsRun*> runs_of(const ProgramsResult& result, data::ProgramFamily family,
                                        const ProgramVariant& variant) {
  std::vector<const ProgramsRun*> runs;
  for (const auto& run : result.runs) {
    if (run.family == family && run.variant.name() == variant.name())
      runs.push_back(&run);
  }
  return runs;
}

// The run with the lowest validation MAE (never the test's).
const ProgramsRun* best_run(const ProgramsResult& result, data::ProgramFamily family,
                            const ProgramVariant& variant) {
  const ProgramsRun* best = nullptr;
  for (const auto* run : runs_of(result, family, variant)) {
    const double error = run->validation.mean_absolute_error;
    if (!best || (std::isfinite(error) && !(error >= best->validation.mean_absolute_error)))
      best = run;
  }
  return best;
}

std::string digits_label(int64_t digits, int64_t train_digits) {
  return std::to_string(digits) + (digits == 1 ? " digit" : " digits") +
         (digits <= train_digits ? "" : " *");
}

// Per family and variant, one column per test digits: get(score) as mean ± sd over seeds.
std::string per_digits_table(const ProgramsResult& result, double scale, const std::string& unit,
                             double (*get)(const ProgramScore&)) {
  std::vector<std::string> header{"family", "model", "seeds"};
  for (const int64_t digits : result.config.test_digits)
    header.push_back(digits_label(digits, result.config.train_digits));
  std::vector<std::vector<std::string>> rows;
  for (const auto family : result.config.families) {
    for (const auto& variant : result.config.variants) {
      const auto runs = runs_of(result, family, variant);
      std::vector<std::string> row{data::program_family_name(family), variant.name(),
                                   std::to_string(runs.size())};
      for (size_t d = 0; d < result.config.test_digits.size(); ++d) {
        std::vector<double> values;
        for (const auto* run : runs)
          values.push_back(get(run->test[d]));
        row.push_back(format_mean_sd(values, 3, scale) + unit);
      }
      rows.push_back(row);
    }
  }
  return markdown_table(header, rows);
}

double accuracy_of(const ProgramScore& score) {
  return score.accuracy;
}

double error_of(const ProgramScore& score) {
  return score.mean_absolute_error;
}

}  // namespace

std::string programs_accuracy_table(const ProgramsResult& result) {
  return per_digits_table(result, 100.0, "%", &accuracy_of);
}

std::string programs_error_table(const ProgramsResult& result) {
  return per_digits_table(result, 1.0, "", &error_of);
}

std::string programs_example_table(const ProgramsResult& result) {
  std::vector<std::string> header{"family", "program", "value"};
  for (const auto& variant : result.config.variants)
    header.push_back(variant.name());
  std::vector<std::vector<std::string>> rows;
  for (size_t f = 0; f < result.config.families.size(); ++f) {
    const auto family = result.config.families[f];
    for (size_t e = 0; e < result.examples[f].size(); ++e) {
      const auto& program = result.examples[f][e];
      std::vector<std::string> row{data::program_family_name(family), "`" + program.text + "`",
                                   std::to_string(program.value)};
      for (const auto& variant : result.config.variants) {
        const double y = best_run(result, family, variant)->example_outputs[e];
        row.push_back(std::isfinite(y) ? format_significant(y, 9) : format_significant(y));
      }
      rows.push_back(row);
    }
  }
  return markdown_table(header, rows);
}

namespace {

nlohmann::json config_json(const ProgramsConfig& config) {
  std::vector<std::string> families, variants;
  for (const auto family : config.families)
    families.push_back(data::program_family_name(family));
  for (const auto& variant : config.variants)
    variants.push_back(variant.name());
  return {{"families", families},
          {"variants", variants},
          {"seeds", config.seeds},
          {"steps", config.steps},
          {"batch_size", config.batch_size},
          {"optimizer", "adam"},
          {"learning_rate", config.learning_rate},
          {"eval_interval", config.eval_interval},
          {"embedding", config.embedding},
          {"hidden_size", config.hidden_size},
          {"channels", config.channels},
          {"input_scale", config.input_scale},
          {"train_digits", config.train_digits},
          {"test_digits", config.test_digits},
          {"validation_size", config.validation_size},
          {"test_size", config.test_size},
          {"seed", config.seed}};
}

nlohmann::json score_json(const ProgramScore& score) {
  return {{"programs", score.programs},
          {"accuracy", score.accuracy},
          {"mean_absolute_error", score.mean_absolute_error}};
}

nlohmann::json shape_json(const data::ProgramShape& shape) {
  return {{"statements", shape.statements}, {"nesting", shape.nesting}};
}

// Accuracy against digits for one family: one line per variant (mean over seeds).
std::string accuracy_plot(const ProgramsResult& result, data::ProgramFamily family) {
  LinePlot plot;
  plot.title = "Programs, " + data::program_family_name(family) +
               ": accuracy against digits per literal (mean over seeds)";
  plot.x_label = "digits per literal";
  plot.y_label = "accuracy (%)";
  std::vector<double> x;
  for (const int64_t digits : result.config.test_digits)
    x.push_back(static_cast<double>(digits));
  for (const auto& variant : result.config.variants) {
    const auto runs = runs_of(result, family, variant);
    std::vector<double> y;
    for (size_t d = 0; d < result.config.test_digits.size(); ++d) {
      double sum = 0.0;
      for (const auto* run : runs)
        sum += run->test[d].accuracy;
      y.push_back(100.0 * sum / static_cast<double>(runs.size()));
    }
    plot.series.push_back({variant.name(), x, y});
  }
  plot.bands.push_back(
      {0.5, static_cast<double>(result.config.train_digits) + 0.5, "training range"});
  return render_svg(plot);
}

}  // namespace

ExperimentReport run_programs_experiment(const ExperimentOptions& options,
                                         const ExperimentProgress& progress) {
  ProgramsConfig config = options.quick ? ProgramsConfig::quick() : ProgramsConfig::paper();
  config.seed = options.seed;
  config.threads = options.threads;
  config.validate();
  const std::string base = options.output_dir + "/programs";
  const std::string table_path = base + ".md";
  const std::string records_path = base + ".jsonl";
  std::vector<std::string> plot_paths;
  for (const auto family : config.families)
    plot_paths.push_back(base + "-" + data::program_family_name(family) + ".svg");
  for (const auto& path : {table_path, records_path})
    check_writable(path);
  for (const auto& path : plot_paths)
    check_writable(path);

  const ProgramsResult result = run_programs(config, progress);

  std::string records;
  for (const auto& run : result.runs) {
    std::vector<nlohmann::json> test;
    for (size_t d = 0; d < run.test.size(); ++d) {
      nlohmann::json entry = score_json(run.test[d]);
      entry["digits"] = config.test_digits[d];
      test.push_back(entry);
    }
    nlohmann::json record = {{"experiment", "programs"},
                             {"version", kVersion},
                             {"family", data::program_family_name(run.family)},
                             {"shape", shape_json(program_family_shape(run.family))},
                             {"input", program_input_name(run.variant.input)},
                             {"output", run.variant.output},
                             {"seed", run.seed},
                             {"best_step", run.best_step},
                             {"steps_run", run.steps_run},
                             {"diverged", run.diverged},
                             {"validation", score_json(run.validation)},
                             {"test", test},
                             {"example_outputs", run.example_outputs},
                             {"seconds", run.seconds},
                             {"config", config_json(config)}};
    records += record.dump();
    records += "\n";
  }

  ExperimentReport report;
  const std::string setting =
      std::to_string(config.seeds) + (config.seeds == 1 ? " seed" : " seeds") +
      " per family and model, " + std::to_string(config.steps) + " Adam steps (learning rate " +
      format_significant(config.learning_rate) + ") of " + std::to_string(config.batch_size) +
      " fresh programs with literals of 1-" + std::to_string(config.train_digits) +
      " digits; the step kept is the one with the lowest MAE on " +
      std::to_string(config.validation_size) + " validation programs of that range; " +
      std::to_string(config.test_size) + " test programs per family and digits (* outside the " +
      "training range); seed " + std::to_string(config.seed);
  const std::string accuracy_caption =
      "Programs: accuracy (rounded output equals the printed value), mean ± standard deviation "
      "over seeds (" +
      setting + ")";
  const std::string error_caption =
      "Programs: mean absolute error, mean ± standard deviation "
      "over seeds (same runs)";
  const std::string example_caption =
      "Example test programs and each model's answer (the seed with the lowest validation MAE)";
  const std::string accuracy_table = programs_accuracy_table(result);
  const std::string error_table = programs_error_table(result);
  const std::string example_table = programs_example_table(result);
  report.tables.push_back({accuracy_caption, accuracy_table});
  report.tables.push_back({error_caption, error_table});
  report.tables.push_back({example_caption, example_table});

  // The reading: per family, the best variant's mean accuracy on the longest test literals
  // against the characters-form LSTM baseline's.
  const size_t longest = config.test_digits.size() - 1;
  report.summary = "Trained on literals of at most " + std::to_string(config.train_digits) +
                   " digits. Mean accuracy at " + std::to_string(config.test_digits[longest]) +
                   " digits:";
  for (const auto family : config.families) {
    std::string parts;
    for (const auto& variant : config.variants) {
      double sum = 0.0;
      const auto runs = runs_of(result, family, variant);
      for (const auto* run : runs)
        sum += run->test[longest].accuracy;
      parts += (parts.empty() ? "" : ", ") + variant.name() + " " +
               format_significant(100.0 * sum / static_cast<double>(runs.size())) + "%";
    }
    report.summary += " " + data::program_family_name(family) + ": " + parts + ".";
  }

  write_file_atomically(table_path, "# " + accuracy_caption + "\n\n" + accuracy_table + "\n\n# " +
                                        error_caption + "\n\n" + error_table + "\n\n# " +
                                        example_caption + "\n\n" + example_table);
  write_file_atomically(records_path, records);
  report.files = {table_path, records_path};
  for (size_t f = 0; f < config.families.size(); ++f) {
    write_file_atomically(plot_paths[f], accuracy_plot(result, config.families[f]));
    report.files.push_back(plot_paths[f]);
  }
  return report;
}

}  // namespace nalu

// `nalu fit`.
#include "fit_command.h"

#include <cstdio>

#include "format.h"
#include "interrupt.h"
#include "nalu/error.h"
#include "nalu/io/csv.h"
#include "nalu/io/files.h"
#include "nalu/strings.h"
#include "nalu/sweep/bench.h"
#include "nalu/sweep/fit.h"
#include "nalu/train/fused.h"

namespace nalu::cli {

CLI::App* add_fit_command(CLI::App& app, FitFlags& f) {
  auto* cmd = app.add_subcommand(
      "fit", "Learn an arithmetic formula from a CSV table (sums, products, ratios, powers)");
  cmd->footer(
      "The rows whose inputs are largest in magnitude (--holdout of them) are held out; of the\n"
      "rest, --validation are drawn for model selection and the others train. Every unit spec\n"
      "is trained with --seeds seeds, side by side; the first spec (simplest first) whose\n"
      "formula fits every in-range row is kept, else the model with the lowest validation\n"
      "error. The verdict is exact when the formula reproduces every held-out row within\n"
      "--rtol, approximate when the model or formula is within --approximate (relative RMS)\n"
      "there. Constant terms are not learned: the units compute sums, differences, products,\n"
      "ratios and integer powers of the inputs.\n"
      "Examples:\n"
      "  nalu fit data.csv --target y\n"
      "  nalu fit data.csv --target force --inputs mass,acceleration --output fit.json\n"
      "  nalu fit data.csv -t y --units nau,nau+nmu --seeds 5 --save-model y.model");
  cmd->add_option("file", f.file, "CSV file with a header row")->required();
  cmd->add_option("--target,-t", f.target, "The column to predict")->required();
  cmd->add_option("--inputs", f.inputs, "Input columns, comma separated (default: all others)")
      ->delimiter(',');
  cmd->add_option("--units", f.units,
                  "Unit specs to try, simplest first, comma separated, layers joined by '+' "
                  "(default: nau, nmu, nau+nmu, nmu+nau, nau+nmu+nau, real-npu:improved, nmru)");
  cmd->add_option("--seeds", f.seeds, "Seeds per unit spec")->capture_default_str();
  cmd->add_option("--seed", f.seed, "The first seed")->capture_default_str();
  cmd->add_option("--hidden", f.hidden, "Width of each hidden layer of specs of several layers")
      ->capture_default_str();
  cmd->add_option("--iterations", f.iterations, "Training steps per run")->capture_default_str();
  cmd->add_option("--batch-size", f.batch_size, "Rows per step")->capture_default_str();
  cmd->add_option("--lr", f.learning_rate, "Adam's learning rate")->capture_default_str();
  cmd->add_option("--holdout", f.holdout, "Share of rows held out (largest inputs)")
      ->capture_default_str();
  cmd->add_option("--validation", f.validation, "Share of the other rows used for selection")
      ->capture_default_str();
  cmd->add_option("--split-seed", f.split_seed, "Seed of the validation draw")
      ->capture_default_str();
  cmd->add_option("--jobs,-j", f.jobs, "Runs in parallel (default: one per core)");
  cmd->add_option("--engine", f.engine, "auto, fused or torch")
      ->check(CLI::IsMember(engine_names()))
      ->capture_default_str();
  cmd->add_option("--rtol", f.rtol, "A formula fits a row within rtol * (|y| + rms(y))")
      ->capture_default_str();
  cmd->add_option("--approximate", f.approximate,
                  "Largest held-out relative RMS error of an approximate fit")
      ->capture_default_str();
  cmd->add_option("--save-model", f.save_model, "Write the chosen model to this file");
  cmd->add_option("--output,-o", f.output, "Write the fit (every run, the choice) as JSON");
  cmd->add_flag("--quiet,-q", f.quiet, "No progress on stderr");
  return cmd;
}

int run_fit_command(const FitFlags& f) {
  // Everything that can be refused is refused before training, and nothing is written before
  // the end.
  if (!f.output.empty())
    check_writable(f.output);
  if (!f.save_model.empty())
    check_writable(f.save_model);
  const io::Table table = io::read_csv(f.file);

  FitOptions options;
  if (!f.units.empty())
    options.units = parse_unit_specs(f.units);
  options.seeds = f.seeds;
  options.first_seed = f.seed;
  options.hidden = f.hidden;
  options.iterations = f.iterations;
  options.batch_size = f.batch_size;
  options.learning_rate = f.learning_rate;
  options.split.holdout_fraction = f.holdout;
  options.split.validation_fraction = f.validation;
  options.split.seed = f.split_seed;
  options.jobs = f.jobs;
  options.engine = f.engine;
  options.rtol = f.rtol;
  options.approximate = f.approximate;
  options.stop = &install_stop_handlers();
  options.save_model = f.save_model;

  auto on_run = [&](const FitRun& run, int64_t done, int64_t total) {
    if (f.quiet)
      return;
    // The table and the request passed their checks once a run is done.
    if (done == 1) {
      std::fprintf(stderr, "%s: %lld rows; fitting %s: %zu unit specs x %lld seeds\n",
                   f.file.c_str(), static_cast<long long>(table.rows()), f.target.c_str(),
                   options.units.size(), static_cast<long long>(options.seeds));
    }
    std::string what =
        run.status == "ok"
            ? "validation error " + short_number(run.validation_error) +
                  (run.formula_fits_in_range ? ", formula fits in range" : ", formula does not fit")
            : run.status;
    std::fprintf(stderr, "[%lld/%lld] %s seed %llu: %s (%.1f s)\n", static_cast<long long>(done),
                 static_cast<long long>(total), join(split(run.unit, ','), "+").c_str(),
                 static_cast<unsigned long long>(run.seed), what.c_str(), run.wall_seconds);
  };
  const FitResult result = fit_table(table, f.target, f.inputs, options, on_run);
  const auto& data = *result.data;
  const FitRun& chosen = result.chosen();

  std::printf("%s: %lld rows; %s from %s\n", f.file.c_str(), static_cast<long long>(result.rows),
              result.target.c_str(), join(result.inputs, ", ").c_str());
  std::printf("held out: %zu rows with max |input| >= %s; validation %zu rows, training %zu\n",
              data.holdout_rows.size(), short_number(data.holdout_magnitude).c_str(),
              data.validation_rows.size(), data.training_rows.size());
  std::printf("chosen: %s seed %llu (%s engine), validation error %s (relative RMS)\n",
              join(split(chosen.unit, ','), "+").c_str(),
              static_cast<unsigned long long>(chosen.seed), chosen.engine.c_str(),
              short_number(chosen.validation_error).c_str());
  if (chosen.status == "ok") {
    std::printf("formula (max distance from rounded weights %s):\n",
                short_number(chosen.formula.max_rounding_error).c_str());
    for (const auto& line : result.lines())
      std::printf("  %s\n", line.c_str());
    std::printf("python/sympy:\n");
    for (const auto& line : result.ascii_lines())
      std::printf("  %s\n", line.c_str());
    std::printf("held-out rows: formula error %s, model error %s (relative RMS)\n",
                short_number(chosen.formula_holdout_error).c_str(),
                short_number(chosen.holdout_error).c_str());
  }
  std::string verdict = "verdict: " + verdict_text(result.verdict);
  if (result.verdict == FitVerdict::kExact) {
    verdict += " (the formula reproduces all " + std::to_string(data.holdout_rows.size()) +
               " held-out rows within " + short_number(options.rtol) + ")";
  } else if (result.verdict == FitVerdict::kApproximate) {
    verdict += " (within " + short_number(options.approximate) +
               " on the held-out rows, but the formula does not reproduce them)";
  } else {
    verdict +=
        " (no model is within " + short_number(options.approximate) + " on the held-out rows)";
  }
  std::printf("%s\n", verdict.c_str());
  if (!f.save_model.empty())
    std::printf("model: %s\n", f.save_model.c_str());
  if (!f.output.empty()) {
    write_file_atomically(f.output, fit_to_json(result, options).dump(2) + "\n");
    std::printf("record: %s\n", f.output.c_str());
  }
  return 0;
}

}  // namespace nalu::cli

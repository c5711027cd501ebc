#include "experiment_command.h"

#include <cstdio>

#include "interrupt.h"
#include "nalu/error.h"
#include "nalu/experiments/experiment.h"
#include "nalu/train/checkpoint.h"
#include "progress.h"

namespace nalu::cli {

CLI::App* add_experiment_command(CLI::App& app, ExperimentFlags& f) {
  auto* command = app.add_subcommand(
      "experiment", "Run one of the papers' experiments (tables, plots and raw records)");
  command->footer(
      "Files go to --output (default results/NAME under the current directory), which is\n"
      "created if missing; the tables are also printed. --quick runs the reduced size\n"
      "(minutes on 2 cores) instead of the paper's.\n"
      "Examples:\n"
      "  nalu experiment --list\n"
      "  nalu experiment identity --quick\n"
      "  nalu experiment identity --seed 1 --output out/identity --threads 2");
  command->add_option("name", f.name, "Experiment to run (see --list)");
  command->add_flag("--list", f.list, "List the experiments and exit");
  command->add_flag("--quick", f.quick, "Reduced size instead of the paper's");
  command->add_option("--seed", f.seed, "Seed of every random choice")->capture_default_str();
  command->add_option("--output,-o", f.output, "Directory for the files [results/NAME]");
  command->add_option("--progress", f.progress, "auto, bar, lines or none")->capture_default_str();
  command->add_option("--threads,-j", f.threads, "Models trained side by side; 0: one per core")
      ->capture_default_str();
  return command;
}

namespace {

int list_experiments() {
  for (const auto& experiment : experiment_catalog()) {
    std::printf("%-12s %s\n             %s\n", experiment.name.c_str(), experiment.title.c_str(),
                experiment.description.c_str());
  }
  return 0;
}

}  // namespace

int run_experiment_command(const ExperimentFlags& f) {
  if (f.list || f.name == "list")
    return list_experiments();
  check(!f.name.empty(), "experiment: name one (see 'nalu experiment --list')");
  find_experiment(f.name);  // unknown names fail before anything else
  ProgressPrinter progress(parse_progress_mode(f.progress));
  ExperimentOptions options;
  options.quick = f.quick;
  options.seed = f.seed;
  options.output_dir = f.output;
  options.threads = f.threads;
  ExperimentReport report;
  const std::atomic<bool>& stop = install_stop_handlers();
  try {
    report = run_experiment(f.name, options, [&](const ExperimentEvent& event) {
      // A signal stops the experiment at its next progress point (nothing is written yet).
      if (stop.load(std::memory_order_relaxed))
        throw Interrupted(event.done, "", "experiment " + f.name + " stopped before it finished");
      progress.items(event.stage, event.done, event.total, event.elapsed_seconds);
    });
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();
  for (const auto& table : report.tables)
    std::printf("%s\n\n%s\n", table.caption.c_str(), table.markdown.c_str());
  if (!report.summary.empty())
    std::printf("%s\n\n", report.summary.c_str());
  for (const auto& file : report.files)
    std::printf("wrote %s\n", file.c_str());
  std::printf("time: %s (%.1f s)\n", format_duration(report.wall_seconds).c_str(),
              report.wall_seconds);
  return 0;
}

}  // namespace nalu::cli

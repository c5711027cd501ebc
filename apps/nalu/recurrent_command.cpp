#include "recurrent_command.h"

#include <cstdio>
#include <thread>

#include "interrupt.h"
#include "nalu/error.h"
#include "nalu/io/files.h"
#include "nalu/strings.h"
#include "nalu/train/record.h"
#include "nalu/train/recurrent_grid.h"

namespace nalu::cli {

CLI::App* add_recurrent_command(CLI::App& app, RecurrentFlags& f) {
  auto* command = app.add_subcommand(
      "recurrent", "Recurrent arithmetic (NALU paper): NAC/NALU cells against LSTM and RNN");
  command->footer(
      "Train on sequences of --train-length steps, extrapolate to --extrapolation-length steps\n"
      "(a and b grow with the length). Errors are normalised: 100 = the untrained model, 0 = "
      "perfect.\n"
      "Examples:\n"
      "  nalu recurrent --ops add,mul --cores nac,nalu,lstm,rnn-relu --seeds 3\n"
      "  nalu recurrent --ops add --cores nac,lstm --iterations 5000 --baseline-hidden 16\n"
      "  nalu recurrent --ops add,sub --cores nac,nau,lstm --range=-2:2 --learning-rate 0.05\n"
      "  nalu recurrent --ops add --cores nau,lstm --seeds 5 --iterations 20000 -o runs.jsonl\n"
      "On the default U[1, 2] every core first learns the mean target; zero-mean values\n"
      "(--range=-2:2) show the accumulating cells extrapolating within 2,000 steps.");
  command->add_option("--ops", f.operations, "Operations, comma separated")->capture_default_str();
  command
      ->add_option("--cores", f.cores,
                   "Cores, comma separated: a unit (nac, nalu, nau, ...) as a recurrent cell, "
                   "or lstm, gru, rnn-relu, rnn-tanh")
      ->capture_default_str();
  command->add_option("--seeds", f.seeds, "Seeds per (operation, core)")->capture_default_str();
  command->add_option("--iterations", f.iterations, "Steps per run")->capture_default_str();
  command
      ->add_option("--train-length", f.train_length,
                   "Steps of the training and interpolation sequences")
      ->capture_default_str();
  command
      ->add_option("--extrapolation-length", f.extrapolation_length,
                   "Steps of the extrapolation sequences")
      ->capture_default_str();
  command->add_option("--hidden", f.hidden, "Hidden size of every core")->capture_default_str();
  command->add_option("--baseline-hidden", f.baseline_hidden,
                      "Hidden size of the lstm/gru/rnn cores (default: --hidden)");
  command->add_option("--learning-rate", f.learning_rate, "Adam's learning rate (default 0.01)");
  command->add_option("--batch-size", f.batch_size, "Sequences per step (default 64)");
  command->add_option("--eval-interval", f.eval_interval, "Steps between evaluations");
  command->add_option("--eval-size", f.eval_size, "Sequences per evaluation set (default 1000)");
  command->add_option("--input-size", f.input_size, "Elements per step (default 10)");
  command->add_option("--range", f.range, "Values of the training sequences (default 1:2)");
  command->add_option("--extrapolation-range", f.extrapolation_range,
                      "Values of the extrapolation sequences (default: --range)");
  command->add_option("--jobs,-j", f.jobs, "Runs in parallel (default: one per core)");
  command->add_option("--format", f.format, "Table format: markdown or csv")->capture_default_str();
  command->add_option("--output,-o", f.output,
                      "JSON Lines records, one per run with its history (written at the end)");
  command->add_flag("--quiet,-q", f.quiet, "No per-run progress lines");
  return command;
}

int run_recurrent_command(const RecurrentFlags& f) {
  RecurrentGrid grid;
  grid.operations = parse_operations(f.operations);
  grid.cores = split(f.cores, ',');
  grid.seeds = f.seeds;
  grid.baseline_hidden_size = f.baseline_hidden;
  auto& base = grid.base;
  base.iterations = f.iterations;
  base.hidden_size = f.hidden;
  base.task.train_length = f.train_length;
  base.task.interpolation_length = f.train_length;
  base.task.extrapolation_length = f.extrapolation_length;
  if (f.learning_rate)
    base.optimizer.learning_rate = *f.learning_rate;
  if (f.batch_size)
    base.batch_size = *f.batch_size;
  if (f.eval_interval)
    base.eval_interval = *f.eval_interval;
  if (f.eval_size)
    base.task.evaluation_size = *f.eval_size;
  if (f.input_size)
    base.task.input_size = *f.input_size;
  if (f.range) {
    base.task.interpolation = Range::parse(*f.range);
    base.task.extrapolation = base.task.interpolation;
  }
  if (f.extrapolation_range)
    base.task.extrapolation = Range::parse(*f.extrapolation_range);
  // Check the format before hours of training, not after.
  find_name({"markdown", "csv"}, f.format, "table format");
  check(f.jobs >= 0, "--jobs must be >= 0, got " + std::to_string(f.jobs));
  if (!f.output.empty())
    check_writable(f.output);

  // Bad settings fail before the first line of progress.
  const auto configs = grid.expand();
  for (const auto& config : configs)
    config.validate();
  const int64_t jobs =
      f.jobs > 0 ? f.jobs
                 : std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  if (!f.quiet) {
    std::fprintf(stderr, "recurrent: %zu runs on %lld jobs\n", configs.size(),
                 static_cast<long long>(jobs));
  }
  const auto runs = run_recurrent_grid(
      grid, jobs,
      [&](const RecurrentRun& run, int64_t finished, int64_t total) {
        if (f.quiet)
          return;
        std::string what = run.diverged ? std::string("diverged") : std::string();
        if (!run.diverged) {
          char buffer[96];
          std::snprintf(buffer, sizeof buffer, "interpolation MSE %.3g, extrapolation MSE %.3g",
                        run.best_interpolation_mse, run.best_extrapolation_mse);
          what = buffer;
        }
        std::fprintf(stderr, "[%lld/%lld] %s/%s/seed=%llu: %s\n", static_cast<long long>(finished),
                     static_cast<long long>(total), operation_name(run.op).c_str(),
                     run.core.c_str(), static_cast<unsigned long long>(run.seed), what.c_str());
      },
      &install_stop_handlers());
  if (!f.output.empty()) {
    write_file_atomically(f.output, recurrent_records(grid, runs));
    if (!f.quiet)
      std::fprintf(stderr, "wrote %s\n", f.output.c_str());
  }
  std::fputs(render_recurrent_table(summarize_recurrent(runs), f.format).c_str(), stdout);
  return 0;
}

}  // namespace nalu::cli

#include "bench_command.h"

#include <cstdio>
#include <sstream>
#include <thread>

#include "interrupt.h"

#include "nalu/error.h"
#include "nalu/io/files.h"
#include "nalu/strings.h"
#include "nalu/sweep/bench.h"
#include "nalu/sweep/records.h"
#include "nalu/sweep/table.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/record.h"

namespace nalu::cli {

namespace {

int run_merge(const BenchFlags& flags) {
  auto merged = merge_records(flags.inputs);
  std::string text;
  for (auto& record : merged) {
    thin_history(record, flags.history_every);
    text += record.dump() + "\n";
  }
  if (flags.merge_output.empty()) {
    std::fputs(text.c_str(), stdout);
  } else {
    write_file_atomically(flags.merge_output, text);
    std::fprintf(stderr, "merged %zu runs into %s\n", merged.size(), flags.merge_output.c_str());
  }
  return 0;
}

int run_table(const BenchFlags& flags) {
  const auto records = merge_records(flags.inputs);
  std::fputs(render_table(summarize(records, flags.pool_ranges), flags.format).c_str(), stdout);
  return 0;
}

}  // namespace

CLI::App* add_bench_command(CLI::App& app, BenchFlags& f) {
  auto* bench = app.add_subcommand("bench", "Train a grid of runs and report success rates");
  bench->require_subcommand(0, 1);
  bench->footer(
      "Presets: demo (about a minute), nau-table1, nalu-table1, ranges, division.\n"
      "Examples:\n"
      "  nalu bench --preset demo\n"
      "  nalu bench --preset nau-table1 --seeds 10 --iterations 50000 --output t1.jsonl\n"
      "  nalu bench --preset nau-table1 --shard 3/8 --output shard3.jsonl   # one of 8 machines\n"
      "  nalu bench --preset division --units 'nmru|real-npu:improved'   # keep the better one\n"
      "  nalu bench merge shard*.jsonl --output all.jsonl && nalu bench table all.jsonl");
  bench->add_option("--preset", f.preset, "demo, nau-table1, nalu-table1, ranges or division")
      ->capture_default_str();
  bench->add_option("--ops", f.operations,
                    "Operations to run, comma separated (default: the preset's)");
  bench->add_option("--units", f.units,
                    "Units to run, comma separated; 'nau+nmu' names layers, 'mlp:relu6' an MLP's "
                    "activation, 'nmru|real-npu:improved' trains both on each training set and "
                    "keeps the one with the lower interpolation error (default: the preset's)");
  bench->add_option("--seeds", f.seeds, "Seeds per cell (default: the preset's)");
  bench->add_option("--iterations", f.iterations,
                    "Steps per run (default: the preset's); the preset's regulariser schedule is "
                    "stretched to match");
  bench->add_option("--eval-interval", f.eval_interval, "Steps between evaluations");
  bench->add_option("--input-size", f.input_size, "Input size of the static task");
  bench->add_option("--init", f.init,
                    "NAC/NALU initialisation: xavier, truncated-normal or reference (the NAU "
                    "paper's NAC start) (default: the preset's)");
  bench->add_option("--jobs,-j", f.jobs, "Runs in parallel (default: one per core)");
  bench
      ->add_option("--engine", f.engine,
                   "auto, fused or torch; auto uses the fused engine wherever it applies")
      ->capture_default_str();
  bench->add_option("--output,-o", f.output,
                    "Append one JSON record per finished run to this file");
  bench->add_flag("--resume", f.resume, "Skip the runs already recorded in --output");
  bench->add_option("--shard", f.shard, "Run only shard I of N (0-based), e.g. 2/8");
  bench->add_option("--format", f.format, "Table format: markdown, csv or json")
      ->capture_default_str();
  bench->add_flag("--quiet,-q", f.quiet, "No per-run progress lines");
  bench->add_option("--checkpoint-dir", f.checkpoint_dir,
                    "Checkpoint the runs in flight here (every --checkpoint-every steps and on "
                    "Ctrl-C / SIGTERM); with --resume they continue where they stopped");
  bench->add_option("--checkpoint-every", f.checkpoint_every,
                    "Steps between checkpoints [each run's evaluation interval]");
  bench
      ->add_option("--on-nan", f.on_nan,
                   "stop (the run is recorded as diverged) or rollback (to the last good state "
                   "with half the learning rate)")
      ->check(CLI::IsMember(non_finite_policy_names()))
      ->capture_default_str();
  const char* history_help =
      "Keep every N-th evaluation of each run's history in the records (the first and the "
      "last always; 1 keeps all)";
  bench->add_option("--history-every", f.history_every, history_help)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bench->add_flag("--no-shared-batches", f.no_shared_batches,
                  "Train every run on its own; by default the fused runs of one range and "
                  "seed (every operation) train together on one thread, each batch's inputs "
                  "drawn once for all of them (the same records, faster)");

  auto* merge = bench->add_subcommand("merge", "Merge record files (e.g. shards), each run once");
  merge->add_option("files", f.inputs, "JSON Lines record files")->required();
  merge->add_option("--output,-o", f.merge_output,
                    "Write the merged records here (default: stdout)");
  merge->add_option("--history-every", f.history_every, history_help)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  auto* table = bench->add_subcommand("table", "Print the success table of record files");
  table->add_option("files", f.inputs, "JSON Lines record files")->required();
  table->add_option("--format", f.format, "markdown, csv or json")->capture_default_str();
  table->add_flag("--pool-ranges", f.pool_ranges,
                  "One row per operation and unit over all its ranges (the division paper's "
                  "average over its 225 training sets)");
  return bench;
}

int run_bench_command(CLI::App& bench, const BenchFlags& f) {
  if (bench.got_subcommand("merge"))
    return run_merge(f);
  if (bench.got_subcommand("table"))
    return run_table(f);

  BenchGrid grid = bench_preset(f.preset);
  BenchOverrides overrides;
  if (f.operations)
    overrides.operations = parse_operations(*f.operations);
  if (f.units)
    overrides.units = parse_unit_specs(*f.units);
  overrides.seeds = f.seeds;
  overrides.iterations = f.iterations;
  overrides.eval_interval = f.eval_interval;
  overrides.input_size = f.input_size;
  if (f.init)
    overrides.init = parse_init(*f.init);
  overrides.engine = f.engine;
  apply_overrides(grid, overrides);
  check(!f.resume || !f.output.empty(), "--resume needs --output (the file to resume)");
  check(f.checkpoint_dir.empty() || !f.output.empty(),
        "--checkpoint-dir needs --output (the records to resume from)");

  std::vector<BenchRun> runs = expand(grid);
  if (!f.shard.empty()) {
    const auto [index, count] = parse_shard(f.shard);
    runs = shard(runs, index, count);
  }
  std::vector<nlohmann::json> records;
  if (!f.output.empty()) {
    check_writable(f.output);
    const auto existing = read_records(f.output, /*missing_ok=*/true);
    if (!existing.empty() && !f.resume) {
      throw Error("'" + f.output + "' already holds " + std::to_string(existing.size()) +
                  " records: pass --resume to continue that bench, or choose another file");
    }
    ResumePlan plan = plan_resume(std::move(runs), existing);
    records = std::move(plan.recorded);
    runs = std::move(plan.remaining);
    if (f.resume && !f.quiet) {
      std::fprintf(stderr, "resuming: %zu runs already recorded, %zu to go\n", records.size(),
                   runs.size());
    }
  }

  const int64_t jobs =
      f.jobs > 0 ? f.jobs
                 : std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  if (!f.quiet) {
    std::fprintf(stderr, "bench %s: %zu runs on %lld jobs\n", grid.name.c_str(), runs.size(),
                 static_cast<long long>(jobs));
  }
  if (!f.output.empty())
    check_free_space(f.output, records_bytes_estimate(runs, f.history_every), "the records file");
  BenchControl control;
  control.checkpoint_dir = f.checkpoint_dir;
  control.checkpoint_interval = f.checkpoint_every;
  control.on_non_finite = parse_non_finite_policy(f.on_nan);
  control.history_every = f.history_every;
  control.share_batches = !f.no_shared_batches;
  control.stop = &install_stop_handlers();
  const size_t total = records.size() + runs.size();
  auto on_record = [&](const nlohmann::json& record) {
    if (!f.output.empty())
      append_record(f.output, record);
    records.push_back(record);
    if (!f.quiet) {
      const auto& bench_metrics = record["bench"];
      const auto& best = record.contains("best") ? record["best"] : nlohmann::json();
      const bool ok = bench_metrics.value("success", false);
      const std::string kept = bench_metrics.contains("selected")
                                   ? ", kept " + bench_metrics["selected"].get<std::string>()
                                   : std::string();
      std::fprintf(
          stderr, "[%zu/%zu] %s: %s (extrapolation MSE %s%s)\n", records.size(), total,
          record["run_id"].get<std::string>().c_str(),
          record.value("status", "") == "diverged" ? "diverged"
          : ok                                     ? "success"
                                                   : "failure",
          best.contains("extrapolation_mse") ? best["extrapolation_mse"].dump().c_str() : "-",
          kept.c_str());
    }
  };
  try {
    run_bench(runs, jobs, on_record, {}, control);
  } catch (const Interrupted&) {
    std::string message = "bench interrupted: ";
    message += std::to_string(records.size());
    message += " of ";
    message += std::to_string(total);
    message += " runs recorded in ";
    message += f.output.empty() ? std::string("(no --output)") : f.output;
    if (!f.checkpoint_dir.empty()) {
      message += "; the runs in flight are checkpointed in ";
      message += f.checkpoint_dir;
    }
    throw Interrupted(0, f.checkpoint_dir, message);
  }
  std::fputs(render_table(summarize(records), f.format).c_str(), stdout);
  return 0;
}

}  // namespace nalu::cli

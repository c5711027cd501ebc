// The recurrent arithmetic grid, its summary and its table.
#include "nalu/train/recurrent_grid.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nalu/error.h"
#include "nalu/metrics/success.h"
#include "nalu/strings.h"
#include "nalu/train/checkpoint.h"
#include "parallel.h"

namespace nalu {

namespace {

bool is_baseline(const std::string& core) {
  const auto& names = recurrent_baseline_names();
  return std::find(names.begin(), names.end(), core) != names.end();
}

double mean(const std::vector<double>& values) {
  if (values.empty())
    return NAN;
  double total = 0.0;
  for (double value : values)
    total += value;
  return total / static_cast<double>(values.size());
}

// The NALU paper's normalised error, or NaN where it is undefined (no runs, or a step-0 error
// that is 0 or not finite).
double normalized_or_nan(double model_error, double random_error) {
  if (std::isnan(model_error) || !std::isfinite(random_error) || random_error <= 0)
    return NAN;
  return normalized_error(model_error, random_error);
}

std::string format_cell(double value) {
  if (std::isnan(value))
    return "-";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", value);
  return buffer;
}

}  // namespace

std::vector<RecurrentConfig> RecurrentGrid::expand() const {
  const int64_t cells = static_cast<int64_t>(operations.size() * cores.size());
  check_memory({"recurrent: the plan",
                std::to_string(cells) + " cells x " + std::to_string(seeds) + " seeds",
                static_cast<double>(cells) * static_cast<double>(seeds) *
                    static_cast<double>(sizeof(RecurrentConfig) + 1024)});
  std::vector<RecurrentConfig> configs;
  for (const auto op : operations) {
    for (const auto& core : cores) {
      for (int64_t seed = 0; seed < seeds; ++seed) {
        RecurrentConfig config = base;
        config.task.op = op;
        config.core = core;
        config.seed = static_cast<uint64_t>(seed);
        if (baseline_hidden_size && is_baseline(core))
          config.hidden_size = *baseline_hidden_size;
        configs.push_back(config);
      }
    }
  }
  return configs;
}

RecurrentRun run_recurrent(const RecurrentConfig& config, const std::atomic<bool>* stop) {
  RecurrentRun run;
  run.op = config.task.op;
  run.core = config.core;
  run.seed = config.seed;
  ProgressCallback on_progress;
  if (stop != nullptr) {
    on_progress = [stop](const ProgressEvent& event) {
      if (stop->load(std::memory_order_relaxed)) {
        throw Interrupted(event.step, "",
                          "stopped at step " + std::to_string(event.step) + " of a recurrent run");
      }
    };
  }
  try {
    const TrainResult result = train_recurrent(config, on_progress);
    const auto& initial = result.history.front();
    run.initial_interpolation_mse = initial.interpolation_mse;
    run.initial_extrapolation_mse = initial.extrapolation_mse;
    run.best_interpolation_mse = result.best.interpolation_mse;
    run.best_extrapolation_mse = result.best.extrapolation_mse;
  } catch (const NumericalError& error) {
    run.diverged = true;
    run.error = error.what();
  }
  return run;
}

std::vector<RecurrentRun> run_recurrent_grid(
    const RecurrentGrid& grid, int64_t jobs,
    const std::function<void(const RecurrentRun&, int64_t, int64_t)>& on_run,
    const std::atomic<bool>* stop) {
  check(jobs > 0, "recurrent: jobs must be positive, got " + std::to_string(jobs));
  check(grid.seeds > 0, "recurrent: seeds must be positive, got " + std::to_string(grid.seeds));
  check(!grid.operations.empty(), "recurrent: no operation given");
  check(!grid.cores.empty(), "recurrent: no core given");
  if (grid.baseline_hidden_size) {
    check(*grid.baseline_hidden_size > 0, "recurrent: baseline hidden size must be positive, got " +
                                              std::to_string(*grid.baseline_hidden_size));
  }
  const auto configs = grid.expand();
  for (const auto& config : configs)
    config.validate();
  const int64_t total = static_cast<int64_t>(configs.size());
  std::vector<RecurrentRun> runs(configs.size());
  int64_t finished = 0;
  detail::run_parallel(
      total, jobs,
      [&](int64_t i) {
        runs[static_cast<size_t>(i)] = run_recurrent(configs[static_cast<size_t>(i)], stop);
      },
      [&](int64_t i) {
        ++finished;
        if (on_run)
          on_run(runs[static_cast<size_t>(i)], finished, total);
      });
  return runs;
}

std::vector<RecurrentRow> summarize_recurrent(const std::vector<RecurrentRun>& runs) {
  std::vector<RecurrentRow> rows;
  for (const auto& run : runs) {
    const bool seen = std::any_of(rows.begin(), rows.end(), [&](const RecurrentRow& row) {
      return row.op == run.op && row.core == run.core;
    });
    if (seen)
      continue;
    RecurrentRow row;
    row.op = run.op;
    row.core = run.core;
    std::vector<double> initial_interpolation, initial_extrapolation, best_interpolation,
        best_extrapolation;
    for (const auto& other : runs) {
      if (other.op != run.op || other.core != run.core)
        continue;
      ++row.runs;
      if (other.diverged) {
        ++row.diverged;
        continue;
      }
      initial_interpolation.push_back(other.initial_interpolation_mse);
      initial_extrapolation.push_back(other.initial_extrapolation_mse);
      best_interpolation.push_back(other.best_interpolation_mse);
      best_extrapolation.push_back(other.best_extrapolation_mse);
    }
    row.interpolation_error =
        normalized_or_nan(mean(best_interpolation), mean(initial_interpolation));
    row.extrapolation_error =
        normalized_or_nan(mean(best_extrapolation), mean(initial_extrapolation));
    row.median_extrapolation_mse = median(best_extrapolation);
    rows.push_back(row);
  }
  return rows;
}

std::string render_recurrent_table(const std::vector<RecurrentRow>& rows,
                                   const std::string& format) {
  find_name({"markdown", "csv"}, format, "table format");
  const std::vector<std::string> header = {"op",
                                           "core",
                                           "runs",
                                           "diverged",
                                           "interpolation error",
                                           "extrapolation error",
                                           "median extrapolation MSE"};
  std::string text;
  const bool markdown = format == "markdown";
  const std::string separator = markdown ? " | " : ",";
  auto line = [&](const std::vector<std::string>& cells) {
    text += markdown ? "| " : "";
    text += join(cells, separator);
    text += markdown ? " |\n" : "\n";
  };
  line(header);
  if (markdown) {
    text += "|---|---|---:|---:|---:|---:|---:|\n";
  }
  for (const auto& row : rows) {
    line({operation_name(row.op), row.core, std::to_string(row.runs), std::to_string(row.diverged),
          format_cell(row.interpolation_error), format_cell(row.extrapolation_error),
          format_cell(row.median_extrapolation_mse)});
  }
  if (markdown) {
    text +=
        "\nErrors are the NALU paper's normalised error: 100 * mean best MSE / mean MSE of "
        "the randomly initialised model (0 is perfect, 100 is no better than at the start).\n";
  }
  return text;
}

}  // namespace nalu

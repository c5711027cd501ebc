// The recurrent arithmetic grid, its summary and its table.
#include "nalu/train/recurrent_grid.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "nalu/error.h"
#include "nalu/metrics/success.h"
#include "nalu/strings.h"
#include "nalu/train/checkpoint.h"
#include "nalu/train/record.h"
#include "nalu/version.h"
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

// The lowest interpolation MSE among the evaluations at or before `step`; NaN if none.
double lowest_until(const std::vector<Evaluation>& history, int64_t step) {
  double lowest = NAN;
  for (const auto& evaluation : history) {
    if (evaluation.step <= step && !(evaluation.interpolation_mse >= lowest))
      lowest = evaluation.interpolation_mse;
  }
  return lowest;
}

// The run's gain over its last quarter of steps, in normalised-error points; NaN if undefined.
double last_quarter_gain(const RecurrentRun& run) {
  if (run.history.empty() || !(run.initial_interpolation_mse > 0) ||
      !std::isfinite(run.initial_interpolation_mse))
    return NAN;
  const int64_t last = run.history.back().step;
  const double at_three_quarters = lowest_until(run.history, last - last / 4);
  const double at_end = lowest_until(run.history, last);
  return 100.0 * (at_three_quarters - at_end) / run.initial_interpolation_mse;
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
    run.history = result.history;
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
        best_extrapolation, gains;
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
      const double gain = last_quarter_gain(other);
      if (!std::isnan(gain))
        gains.push_back(gain);
    }
    row.interpolation_error =
        normalized_or_nan(mean(best_interpolation), mean(initial_interpolation));
    row.extrapolation_error =
        normalized_or_nan(mean(best_extrapolation), mean(initial_extrapolation));
    row.median_extrapolation_mse = median(best_extrapolation);
    row.last_quarter_gain = mean(gains);
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
                                           "median extrapolation MSE",
                                           "last-quarter gain"};
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
    text += "|---|---|---:|---:|---:|---:|---:|---:|\n";
  }
  for (const auto& row : rows) {
    line({operation_name(row.op), row.core, std::to_string(row.runs), std::to_string(row.diverged),
          format_cell(row.interpolation_error), format_cell(row.extrapolation_error),
          format_cell(row.median_extrapolation_mse), format_cell(row.last_quarter_gain)});
  }
  if (markdown) {
    text +=
        "\nErrors are the NALU paper's normalised error: 100 * mean best MSE / mean MSE of "
        "the randomly initialised model (0 is perfect, 100 is no better than at the start). "
        "Last-quarter gain: how many points of normalised interpolation error the last quarter "
        "of the steps still gained (mean over runs); near 0 once the runs have flattened.\n";
  }
  return text;
}

std::string recurrent_records(const RecurrentGrid& grid, const std::vector<RecurrentRun>& runs) {
  const auto configs = grid.expand();
  check(configs.size() == runs.size(), "recurrent records: " + std::to_string(runs.size()) +
                                           " runs for a grid of " + std::to_string(configs.size()));
  std::string text;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto& run = runs[i];
    const auto& config = configs[i];
    std::vector<nlohmann::json> history;
    for (const auto& evaluation : run.history)
      history.push_back(evaluation_to_json(evaluation));
    nlohmann::json record = {{"kind", "recurrent"},
                             {"nalu_version", kVersion},
                             {"operation", operation_name(run.op)},
                             {"core", run.core},
                             {"seed", run.seed},
                             {"config",
                              {{"iterations", config.iterations},
                               {"hidden_size", config.hidden_size},
                               {"optimizer", config.optimizer.name},
                               {"learning_rate", config.optimizer.learning_rate},
                               {"batch_size", config.batch_size},
                               {"eval_interval", config.eval_interval},
                               {"input_size", config.task.input_size},
                               {"train_length", config.task.train_length},
                               {"extrapolation_length", config.task.extrapolation_length},
                               {"range", config.task.interpolation.str()},
                               {"extrapolation_range", config.task.extrapolation.str()},
                               {"evaluation_size", config.task.evaluation_size}}},
                             {"diverged", run.diverged},
                             {"initial",
                              {{"interpolation_mse", json_number(run.initial_interpolation_mse)},
                               {"extrapolation_mse", json_number(run.initial_extrapolation_mse)}}},
                             {"best",
                              {{"interpolation_mse", json_number(run.best_interpolation_mse)},
                               {"extrapolation_mse", json_number(run.best_extrapolation_mse)}}},
                             {"history", history}};
    if (run.diverged)
      record["error"] = run.error;
    text += record.dump();
    text += "\n";
  }
  return text;
}

}  // namespace nalu

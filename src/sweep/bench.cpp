// Bench grids, presets, sharding and the parallel runner.
#include "nalu/sweep/bench.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "nalu/error.h"
#include "nalu/io/archive.h"
#include "nalu/limits.h"
#include "nalu/metrics/success.h"
#include "nalu/strings.h"
#include "nalu/sweep/records.h"
#include "nalu/train/fused.h"
#include "nalu/train/record.h"
#include "nalu/train/trainer.h"
#include "nalu/units/registry.h"
#include "parallel.h"

namespace nalu {

namespace {

RangePair range_pair(const std::string& interpolation, const std::string& extrapolation) {
  return {Range::parse(interpolation), Range::parse(extrapolation)};
}

// Madsen & Johansen's Table 1 regulariser, for every layer: lambda 10 from step 10^6 to 2*10^6
// of a 5*10^6-step run.
constexpr RegularizerSchedule kTable1Regularizer{10.0, 1'000'000, 2'000'000};

// A unit spec's ":variant": "mlp:relu6" is an MLP with that activation, "real-npu:improved"
// the improved Real NPU.
void apply_variant(UnitSettings& settings, const std::string& units, const std::string& variant) {
  if (units == "mlp") {
    settings.mlp_activation = variant;
  } else if (units == "real-npu" && variant == "improved") {
    settings.npu_improved = true;
  } else {
    throw Error("unit spec '" + units + ":" + variant +
                "': a variant after ':' is an activation for mlp (mlp:relu6) or 'improved' for "
                "real-npu");
  }
}

}  // namespace

void apply_unit_spec(RunConfig& config, const std::string& spec, int64_t hidden) {
  const auto colon = spec.find(':');
  std::string units = spec.substr(0, colon);
  if (colon != std::string::npos)
    apply_variant(config.model.settings, units, spec.substr(colon + 1));
  config.model.units = split(units, ',');
  if (config.model.units.size() > 1)
    config.model.hidden.assign(config.model.units.size() - 1, hidden);
}

namespace {

// The configuration of one model of a bench cell: the grid's base with the cell's operation,
// range and seed, and `spec`'s units ("nau,nmu"; "mlp:relu6" with a variant).
RunConfig member_config(const BenchGrid& grid, Operation op, const RangePair& range,
                        const std::string& spec, int64_t seed) {
  RunConfig config = grid.base;
  config.task_options.op = op;
  config.task_options.interpolation = range.interpolation;
  config.task_options.extrapolation = range.extrapolation;
  apply_unit_spec(config, spec,
                  grid.base.model.hidden.empty() ? 2 : grid.base.model.hidden.front());
  if (grid.adjust)
    grid.adjust(config);
  config.seed = static_cast<uint64_t>(seed);
  config.validate();
  return config;
}

// The models of a unit spec: "nmru|real-npu:improved" -> {"nmru", "real-npu:improved"}.
std::vector<std::string> selection_members(const std::string& spec) {
  check(!spec.empty() && spec.front() != '|' && spec.back() != '|' &&
            spec.find("||") == std::string::npos,
        "bench: an empty unit spec in '" + spec + "' (a '|' at an end or two in a row?)");
  std::vector<std::string> members = split(spec, '|');
  for (size_t i = 0; i < members.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      check(members[i] != members[j],
            "bench: unit spec '" + spec + "' names '" + members[i] + "' twice");
  }
  return members;
}

}  // namespace

std::string RangePair::label() const {
  return interpolation.str() + "->" + extrapolation.str();
}

const std::vector<std::string>& bench_preset_names() {
  static const std::vector<std::string> kNames = {"demo", "nau-table1", "nalu-table1", "ranges",
                                                  "division"};
  return kNames;
}

BenchGrid bench_preset(const std::string& name) {
  BenchGrid grid;
  grid.name = name;
  const RangePair standard = range_pair("1:2", "2:6");
  std::function<void(RunConfig&)> unit_adjust;  // a preset's per-unit training settings
  if (name == "demo") {
    // The main job, under a minute on 2 cores: NAU on addition and NMU on multiplication, 10
    // seeds each, through Table 1's regularised phase (lambda 10 ramped over the second fifth
    // of the run), beside the baselines that fit [1, 2] but do not extrapolate to [2, 6] (a
    // two-layer NALU, the reference Linear layer with bias, a ReLU6 MLP), on a 10-input version
    // of the static task.
    constexpr int64_t kDemoIterations = 200'000;
    grid.base.task_options.input_size = 10;
    grid.base.training.iterations = kDemoIterations;
    grid.base.training.eval_interval = 1'000;
    grid.base.training.regularizer = RegularizerSchedule{10.0, 80'000, 160'000};
    grid.base.task_options.evaluation_size = 2'000;
    grid.operations = {Operation::kAdd, Operation::kMul};
    grid.units = {"nau", "nmu", "nalu", "linear", "mlp"};
    grid.ranges = {standard};
    grid.seeds = 10;
    grid.include = [](Operation op, const std::string& unit) {
      return !(op == Operation::kAdd && unit == "nmu") && !(op == Operation::kMul && unit == "nau");
    };
  } else if (name == "nau-table1") {
    // Madsen & Johansen, ICLR 2020, Table 1: 100 seeds, 5*10^6 steps, lambda 10 over [1e6, 2e6].
    grid.base.training.iterations = 5'000'000;
    grid.base.training.eval_interval = 1'000;
    grid.base.training.regularizer = kTable1Regularizer;
    grid.operations = {Operation::kAdd, Operation::kSub, Operation::kMul, Operation::kDiv};
    grid.units = {"nau", "nmu", "nac", "nac-mul", "nalu", "linear", "nmru", "nru"};
    grid.ranges = {standard};
    grid.seeds = 100;
    // The units that divide (Mistry, Hare & Farrahi 2021, after NAU) fill the ÷ row, behind an
    // NAU as the NMU is, with Table 1's training settings.
    grid.include = [](Operation op, const std::string& unit) {
      return op == Operation::kDiv || (unit != "nmru" && unit != "nru");
    };
  } else if (name == "nalu-table1") {
    // Trask et al. 2018, Table 1 (static): ReLU6 MLP, MLP without activation, NAC, NALU on the
    // six operations; reported as normalised error.
    grid.base.training.iterations = 1'000'000;
    grid.base.training.eval_interval = 1'000;
    grid.operations = {Operation::kAdd, Operation::kSub,    Operation::kMul,
                       Operation::kDiv, Operation::kSquare, Operation::kSqrt};
    grid.units = {"mlp:relu6", "mlp:none", "nac", "nalu"};
    grid.ranges = {standard};
    grid.seeds = 10;
  } else if (name == "ranges") {
    // Madsen & Johansen's range sweep for multiplication.
    grid.base.training.iterations = 5'000'000;
    grid.base.training.eval_interval = 1'000;
    grid.base.training.regularizer = kTable1Regularizer;
    grid.operations = {Operation::kMul};
    grid.units = {"nmu", "nac-mul", "nalu", "linear"};
    grid.ranges = {range_pair("-2:-1", "-6:-2"), range_pair("-2:2", "-6:-2,2:6"),
                   range_pair("0:1", "1:5"),     range_pair("0.1:0.2", "0.2:2"),
                   range_pair("1:2", "2:6"),     range_pair("1.1:1.2", "1.2:6"),
                   range_pair("10:20", "20:40")};
    grid.seeds = 100;
  } else if (name == "division") {
    // Mistry, Hare & Farrahi's division benchmark with input redundancy: 10 inputs, a and b
    // two neighbouring ones (placed by the dataset seed), y = a / b, one layer, 10^5 steps,
    // their nine ranges, 25 seeds, success when the extrapolation MSE at the best
    // interpolation step is below 10^-5. Each unit trains as its authors trained it.
    grid.base.task_options.input_size = 10;
    grid.base.task_options.subset_ratio = 0.1;
    grid.base.task_options.overlap_ratio = 0.0;
    grid.base.model.hidden = {};
    grid.base.training.iterations = 100'000;
    grid.base.training.eval_interval = 1'000;
    grid.operations = {Operation::kDiv};
    grid.units = {"nmru", "nru", "real-npu", "real-npu:improved"};
    grid.ranges = {range_pair("-20:-10", "-40:-20"),
                   range_pair("-2:-1", "-6:-2"),
                   range_pair("-1.2:-1.1", "-6.1:-1.2"),
                   range_pair("-0.2:-0.1", "-2:-0.2"),
                   range_pair("-2:2", "-6:-2,2:6"),
                   range_pair("0.1:0.2", "0.2:2"),
                   range_pair("1:2", "2:6"),
                   range_pair("1.1:1.2", "1.2:6"),
                   range_pair("10:20", "20:40")};
    grid.seeds = 25;
    grid.success_threshold = 1e-5;
    unit_adjust = [](RunConfig& config) {
      const auto& units = config.model.units;
      if (units == std::vector<std::string>{"nmru"}) {
        config.optimizer.learning_rate = 1e-2;
        config.optimizer.clip_grad_norm = 1.0;
      } else if (units == std::vector<std::string>{"real-npu"}) {
        config.optimizer.learning_rate = 5e-3;
      }
    };
  } else {
    find_name(bench_preset_names(), name, "bench preset");
    throw Error("bench preset '" + name + "' has no grid");
  }
  // Madsen & Johansen's Linear baseline (stable-nalu's BasicLayer with a linear activation):
  // a bias, zero at the start, and Xavier-uniform weights. Without the bias it solves
  // subtraction far more often than their 7%.
  grid.adjust = [unit_adjust](RunConfig& config) {
    if (config.model.units == std::vector<std::string>{"linear"}) {
      config.model.settings.linear_bias = true;
      config.model.settings.linear_init = LinearInit::kReference;
    }
    if (unit_adjust)
      unit_adjust(config);
  };
  return grid;
}

void set_iterations(BenchGrid& grid, int64_t iterations) {
  check(iterations > 0, "bench: iterations must be positive, got " + std::to_string(iterations));
  auto& training = grid.base.training;
  if (training.regularizer) {
    const double factor =
        static_cast<double>(iterations) / static_cast<double>(training.iterations);
    training.regularizer->start =
        static_cast<int64_t>(static_cast<double>(training.regularizer->start) * factor);
    training.regularizer->end =
        static_cast<int64_t>(static_cast<double>(training.regularizer->end) * factor);
  }
  training.iterations = iterations;
  training.eval_interval = std::min(training.eval_interval, iterations);
}

void apply_overrides(BenchGrid& grid, const BenchOverrides& overrides) {
  if (overrides.operations)
    grid.operations = *overrides.operations;
  if (overrides.units)
    grid.units = *overrides.units;
  if (overrides.seeds)
    grid.seeds = *overrides.seeds;
  if (overrides.iterations)
    set_iterations(grid, *overrides.iterations);
  // After the iterations, which clamp the interval to the run's length.
  if (overrides.eval_interval)
    grid.base.training.eval_interval = *overrides.eval_interval;
  if (overrides.input_size)
    grid.base.task_options.input_size = *overrides.input_size;
  if (overrides.init)
    grid.base.model.settings.init = *overrides.init;
  if (overrides.engine)
    grid.base.engine = *overrides.engine;
}

std::vector<std::string> parse_unit_specs(const std::string& text) {
  std::vector<std::string> specs;
  for (auto spec : split(text, ',')) {
    for (auto& c : spec)
      c = c == '+' ? ',' : c;
    specs.push_back(spec);
  }
  return specs;
}

ResumePlan plan_resume(std::vector<BenchRun> runs, const std::vector<nlohmann::json>& existing) {
  const auto done = recorded_ids(existing);
  ResumePlan plan;
  for (auto& run : runs) {
    if (!done.contains(run.id)) {
      plan.remaining.push_back(std::move(run));
      continue;
    }
    for (const auto& record : existing) {
      if (record.contains("run_id") && record["run_id"] == run.id)
        plan.recorded.push_back(record);
    }
  }
  return plan;
}

double records_bytes_estimate(const std::vector<BenchRun>& runs, int64_t history_every) {
  double bytes = 0.0;
  for (const auto& run : runs)
    bytes += record_bytes_estimate(run.config.training, history_every);
  return bytes;
}

std::vector<BenchRun> expand(const BenchGrid& grid) {
  check(!grid.operations.empty(), "bench: no operation given");
  check(!grid.units.empty(), "bench: no unit given");
  check(!grid.ranges.empty(), "bench: no range given");
  check(grid.seeds > 0, "bench: seeds must be positive, got " + std::to_string(grid.seeds));
  // The plan is built whole: refuse one the machine cannot hold before building it.
  int64_t cells = 0;
  for (const auto op : grid.operations) {
    for (const auto& unit_spec : grid.units)
      cells += !grid.include || grid.include(op, unit_spec) ? 1 : 0;
  }
  cells *= static_cast<int64_t>(grid.ranges.size());
  const double planned = static_cast<double>(cells) * static_cast<double>(grid.seeds);
  check_memory({"bench: the plan",
                std::to_string(cells) + " cells x " + std::to_string(grid.seeds) + " seeds",
                planned * static_cast<double>(sizeof(BenchRun) + 1024)});
  std::vector<BenchRun> runs;
  for (const auto op : grid.operations) {
    for (const auto& range : grid.ranges) {
      for (const auto& unit_spec : grid.units) {
        if (grid.include && !grid.include(op, unit_spec))
          continue;
        const std::vector<std::string> members = selection_members(unit_spec);
        for (int64_t seed = 0; seed < grid.seeds; ++seed) {
          std::vector<BenchCandidate> candidates;
          for (const auto& member : members)
            candidates.push_back({member, member_config(grid, op, range, member, seed)});
          RunConfig config = candidates.front().config;
          if (candidates.size() == 1)
            candidates.clear();
          BenchRun run;
          run.candidates = std::move(candidates);
          run.index = static_cast<int64_t>(runs.size());
          // A start other than the default is part of the cell's name, so that its records
          // never merge with (or resume as) the default's.
          run.unit = config.model.settings.init == Init::kXavierUniform
                         ? unit_spec
                         : unit_spec + " init=" + init_name(config.model.settings.init);
          run.range = range.label();
          run.id = operation_name(op) + "/" + run.unit + "/" + range.label() +
                   "/seed=" + std::to_string(seed) +
                   "/it=" + std::to_string(config.training.iterations);
          run.config = std::move(config);
          run.success_threshold = grid.success_threshold;
          runs.push_back(std::move(run));
        }
      }
    }
  }
  return runs;
}

std::pair<int64_t, int64_t> parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  int64_t index = -1, count = 0;
  try {
    check(slash != std::string::npos, "");
    size_t used = 0;
    index = std::stoll(text.substr(0, slash), &used);
    check(used == slash, "");
    count = std::stoll(text.substr(slash + 1), &used);
    check(used == text.size() - slash - 1, "");
  } catch (const std::exception&) {
    throw Error("shard '" + text + "': expected I/N with whole numbers, e.g. 0/4");
  }
  check(count > 0 && index >= 0 && index < count,
        "shard '" + text + "': needs 0 <= I < N, e.g. 0/4 ... 3/4");
  return {index, count};
}

std::vector<BenchRun> shard(const std::vector<BenchRun>& runs, int64_t index, int64_t count) {
  check(count > 0 && index >= 0 && index < count, "shard: needs 0 <= index < count");
  std::vector<BenchRun> selected;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (static_cast<int64_t>(i) % count == index)
      selected.push_back(runs[i]);
  }
  return selected;
}

std::string bench_checkpoint_path(const std::string& directory, const std::string& id) {
  std::string name;
  for (const char c : id)
    name +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == '-' ? c : '_';
  const uint64_t hash = io::fnv1a64(id);
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, "-%08llx.ckpt", static_cast<unsigned long long>(hash >> 32));
  name += suffix;
  return (std::filesystem::path(directory) / name).string();
}

namespace {

// The record of `config` trained by `train`, filling `bench` with the success metrics against
// `threshold`; a run that diverges gives a failure record.
nlohmann::json train_for_bench(const RunConfig& config, const std::function<TrainResult()>& train,
                               double threshold, nlohmann::json& bench) {
  nlohmann::json record;
  try {
    const TrainResult result = train();
    const SuccessSummary summary = summarize_success(result, threshold);
    record = make_record(config, result);
    bench["success"] = summary.success;
    bench["solved_at"] = summary.solved_at ? nlohmann::json(*summary.solved_at) : nlohmann::json();
    const auto& initial = result.history.front();
    bench["initial_interpolation_mse"] = initial.interpolation_mse;
    bench["initial_extrapolation_mse"] = initial.extrapolation_mse;
  } catch (const NumericalError& error) {
    record = make_failure_record(config, "diverged", error.what());
    bench["success"] = false;
    bench["solved_at"] = nullptr;
  }
  return record;
}

double best_metric(const nlohmann::json& record, const char* name) {
  if (record.value("status", "") == "diverged" || !record.contains("best") ||
      !record["best"].is_object() || !record["best"].contains(name) ||
      !record["best"][name].is_number())
    return INFINITY;
  const double value = record["best"][name].get<double>();
  return std::isnan(value) ? INFINITY : value;
}

// Where candidate `member` of a selection run checkpoints: its own file beside the run's.
std::string candidate_checkpoint_path(const std::string& directory, const BenchRun& run,
                                      size_t member) {
  return bench_checkpoint_path(directory, run.id + "#" + run.candidates[member].unit);
}

}  // namespace

size_t select_candidate(const std::vector<nlohmann::json>& records) {
  check(!records.empty(), "select_candidate: no candidate records");
  size_t kept = 0;
  for (size_t i = 1; i < records.size(); ++i) {
    if (best_metric(records[i], "interpolation_mse") <
        best_metric(records[kept], "interpolation_mse"))
      kept = i;
  }
  return kept;
}

namespace {

void check_not_stopped(const BenchControl& control, const std::string& what) {
  if (control.stop != nullptr && control.stop->load())
    throw Interrupted(0, "", "interrupted before " + what + " started");
}

// A bench run's RunControl, without its checkpoint file.
RunControl run_control(const BenchControl& bench_control) {
  RunControl control;
  control.stop = bench_control.stop;
  control.on_non_finite = bench_control.on_non_finite;
  control.checkpoint_interval = bench_control.checkpoint_interval;
  control.resume = !bench_control.checkpoint_dir.empty();
  return control;
}

// The bench fields every record of `run` starts with.
nlohmann::json bench_fields(const BenchRun& run, double threshold) {
  return {{"threshold", threshold},
          {"operation", operation_name(run.config.task_options.op)},
          {"unit", run.unit},
          {"range", run.range},
          {"index", run.index}};
}

double run_threshold(const BenchRun& run) {
  return run.success_threshold.value_or(epsilon_perfect_threshold(make_task(run.config)));
}

void finish_record(nlohmann::json& record, nlohmann::json bench, const BenchRun& run,
                   const BenchControl& control) {
  thin_history(record, control.history_every);
  record["run_id"] = run.id;
  record["bench"] = std::move(bench);
}

// The key under which a run trains in one pass with others (fused::batch_key); empty for a
// selection run, whose candidates train one after another.
std::string shared_batch_key(const BenchRun& run) {
  return run.candidates.empty() ? fused::batch_key(run.config) : std::string();
}

}  // namespace

std::vector<std::vector<size_t>> batch_groups(const std::vector<BenchRun>& runs, bool share,
                                              int64_t jobs) {
  std::vector<std::vector<size_t>> groups;
  std::map<std::string, size_t> group_of_key;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::string key = share ? shared_batch_key(runs[i]) : std::string();
    if (key.empty()) {
      groups.push_back({i});
      continue;
    }
    const auto [it, added] = group_of_key.emplace(std::move(key), groups.size());
    if (added)
      groups.emplace_back();
    groups[it->second].push_back(i);
  }
  // Fewer items than threads would leave threads idle: split the largest group in two until
  // every thread has one (or every run is alone).
  while (static_cast<int64_t>(groups.size()) < jobs) {
    auto largest = std::max_element(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
      return a.size() < b.size();
    });
    if (largest == groups.end() || largest->size() < 2)
      break;
    const auto half = static_cast<std::ptrdiff_t>(largest->size() / 2);
    std::vector<size_t> second(largest->begin() + half, largest->end());
    largest->erase(largest->begin() + half, largest->end());
    groups.push_back(std::move(second));
  }
  return groups;
}

std::vector<nlohmann::json> run_bench_group(const std::vector<BenchRun>& runs,
                                            const BenchControl& bench_control) {
  if (runs.size() == 1)
    return {run_bench_record(runs.front(), bench_control)};
  check_not_stopped(bench_control, "runs " + runs.front().id + " ...");
  std::vector<RunConfig> configs;
  std::vector<RunControl> controls;
  for (const auto& run : runs) {
    check(run.candidates.empty(),
          "bench: selection run " + run.id + " cannot train with shared batches");
    configs.push_back(run.config);
    controls.push_back(run_control(bench_control));
    if (controls.back().resume)
      controls.back().checkpoint = bench_checkpoint_path(bench_control.checkpoint_dir, run.id);
  }
  auto outcomes = fused::train_together(configs, controls);
  std::vector<nlohmann::json> records;
  for (size_t i = 0; i < runs.size(); ++i) {
    const double threshold = run_threshold(runs[i]);
    nlohmann::json bench = bench_fields(runs[i], threshold);
    auto record = train_for_bench(
        runs[i].config,
        [&] {
          if (outcomes[i].error)
            std::rethrow_exception(outcomes[i].error);
          return std::move(*outcomes[i].result);
        },
        threshold, bench);
    finish_record(record, std::move(bench), runs[i], bench_control);
    records.push_back(std::move(record));
  }
  return records;
}

nlohmann::json run_bench_record(const BenchRun& run, const BenchControl& bench_control) {
  check_not_stopped(bench_control, "run " + run.id);
  RunControl control = run_control(bench_control);
  const double threshold = run_threshold(run);
  nlohmann::json bench = bench_fields(run, threshold);
  nlohmann::json record;
  if (run.candidates.empty()) {
    if (control.resume)
      control.checkpoint = bench_checkpoint_path(bench_control.checkpoint_dir, run.id);
    record = train_for_bench(
        run.config, [&] { return nalu::run(run.config, {}, control); }, threshold, bench);
  } else {
    // Every candidate trains on the same task (one seed); a finished candidate's checkpoint
    // stays until the run's record is out, so an interrupted selection resumes where it was.
    std::vector<nlohmann::json> records, metrics;
    for (size_t i = 0; i < run.candidates.size(); ++i) {
      if (control.resume)
        control.checkpoint = candidate_checkpoint_path(bench_control.checkpoint_dir, run, i);
      nlohmann::json candidate_bench = bench;
      const RunConfig& config = run.candidates[i].config;
      records.push_back(train_for_bench(
          config, [&] { return nalu::run(config, {}, control); }, threshold, candidate_bench));
      metrics.push_back(std::move(candidate_bench));
    }
    const size_t kept = select_candidate(records);
    auto summary = nlohmann::json::array();
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& timing = records[i].value("timing", nlohmann::json::object());
      summary.push_back(
          {{"unit", run.candidates[i].unit},
           {"status", records[i].value("status", "")},
           {"success", metrics[i]["success"]},
           {"solved_at", metrics[i]["solved_at"]},
           {"interpolation_mse", json_number(best_metric(records[i], "interpolation_mse"))},
           {"extrapolation_mse", json_number(best_metric(records[i], "extrapolation_mse"))},
           {"wall_seconds", timing.value("wall_seconds", nlohmann::json())}});
    }
    record = std::move(records[kept]);
    bench = std::move(metrics[kept]);
    bench["selected"] = run.candidates[kept].unit;
    bench["candidates"] = std::move(summary);
  }
  finish_record(record, std::move(bench), run, bench_control);
  return record;
}

void run_bench(const std::vector<BenchRun>& runs, int64_t jobs,
               const std::function<void(const nlohmann::json&)>& on_record,
               const std::function<void(int64_t, int64_t)>& on_run_progress,
               const BenchControl& control) {
  check(control.history_every >= 1,
        "bench: history_every must be at least 1, got " + std::to_string(control.history_every));
  if (!control.checkpoint_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(control.checkpoint_dir, error);
    check(std::filesystem::is_directory(control.checkpoint_dir),
          "cannot create the checkpoint directory '" + control.checkpoint_dir + "'");
  }
  for (const auto& run : runs) {
    run.config.validate();
    resolve_engine(run.config);  // "fused" for a model it cannot train fails before any run
    for (const auto& candidate : run.candidates)
      resolve_engine(candidate.config);
  }
  const int64_t total = static_cast<int64_t>(runs.size());
  // Each work item is a group of runs that train in one pass (a single run when they share no
  // batches); its records come out together.
  const auto groups = batch_groups(runs, control.share_batches, jobs);
  std::vector<std::vector<nlohmann::json>> records(groups.size());
  int64_t finished = 0;
  detail::run_parallel(
      static_cast<int64_t>(groups.size()), jobs,
      [&](int64_t g) {
        std::vector<BenchRun> group;
        for (const size_t i : groups[g])
          group.push_back(runs[i]);
        records[g] = run_bench_group(group, control);
      },
      [&](int64_t g) {
        for (size_t k = 0; k < groups[g].size(); ++k) {
          const BenchRun& run = runs[groups[g][k]];
          on_record(records[g][k]);
          // The record is out: the run's checkpoint is not needed any more.
          if (!control.checkpoint_dir.empty()) {
            std::error_code ignored;
            std::filesystem::remove(bench_checkpoint_path(control.checkpoint_dir, run.id), ignored);
            for (size_t member = 0; member < run.candidates.size(); ++member) {
              std::filesystem::remove(
                  candidate_checkpoint_path(control.checkpoint_dir, run, member), ignored);
            }
          }
          records[g][k] = nlohmann::json();  // the caller has it now
          ++finished;
          if (on_run_progress)
            on_run_progress(finished, total);
        }
      });
}

}  // namespace nalu

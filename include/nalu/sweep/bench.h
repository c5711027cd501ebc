// Benchmarks the way the field reports them: a grid of runs (operations x units x ranges x
// seeds), each ending in one JSON record, summarised into success rates with confidence
// intervals. A bench is a deterministic list of runs, so it can be split into shards that run
// on different machines and merged afterwards.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nalu/train/checkpoint.h"
#include "nalu/train/config.h"

namespace nalu {

/// A training range and the extrapolation range it is tested on.
struct RangePair {
  Range interpolation;
  Range extrapolation;
  std::string label() const;  // "1:2 -> 2:6"
};

/// The grid of a bench. `base` holds every setting the grid does not vary.
struct BenchGrid {
  std::string name;  // the preset's name, or "custom"
  RunConfig base;
  std::vector<Operation> operations;
  /// Model unit specs: "nmu", "nau,nmu", "mlp", ... A spec of several joined by '|'
  /// ("nmru|real-npu:improved") is a selection: each is trained on the run's training set and
  /// the record keeps the one with the lowest interpolation error (see BenchRun::candidates).
  std::vector<std::string> units;
  std::vector<RangePair> ranges;
  int64_t seeds = 10;  // seeds 0 .. seeds - 1
  /// Per-unit overrides applied on top of `base`, e.g. "linear" -> bias off.
  std::function<void(RunConfig&)> adjust;
  /// Which (operation, unit) cells to run; all when unset.
  std::function<bool(Operation, const std::string&)> include;
  /// A fixed extrapolation-MSE threshold for success instead of the ε-perfect one
  /// (epsilon_perfect_threshold): Mistry, Hare & Farrahi's division benchmark uses 10^-5.
  std::optional<double> success_threshold;
};

/// One model of a selection run (a unit spec joined by '|'): its spec and its configuration.
struct BenchCandidate {
  std::string unit;  // e.g. "real-npu:improved"
  RunConfig config;
};

/// One run of a bench: its configuration and a stable identifier, the key for --resume and
/// merging ("mul/nmu/1:2->2:6/seed=3/it=5000000").
struct BenchRun {
  std::string id;
  std::string unit;   // the grid's unit spec, e.g. "nmu" or "mlp:relu6"
  std::string range;  // RangePair::label()
  int64_t index = 0;  // position in the whole grid (kept by shard), orders tables
  RunConfig config;   // a selection's first candidate
  std::optional<double> success_threshold;  // BenchGrid::success_threshold
  /// For a selection ("nmru|real-npu:improved"), every model it trains, all with the run's seed
  /// and so the same training batches and evaluation sets; empty for a single model. The
  /// record is the candidate with the lowest interpolation MSE at its best step (select_candidate):
  /// model selection on in-range data only, as a user without extrapolation data would do it.
  std::vector<BenchCandidate> candidates;
};

/// Names of the presets: demo, nau-table1, nalu-table1, ranges.
const std::vector<std::string>& bench_preset_names();
/// The grid of a preset (see docs/results.md for what each reproduces).
BenchGrid bench_preset(const std::string& name);

/// Sets the grid's run length; a regulariser schedule the preset fixed is stretched with it
/// (scaled_to_run), so a reduced run regularises at the same point of its course.
void set_iterations(BenchGrid& grid, int64_t iterations);

/// What a command line changes in a preset's grid; an unset field keeps the preset's value.
struct BenchOverrides {
  std::optional<std::vector<Operation>> operations;
  std::optional<std::vector<std::string>> units;  // unit specs, as BenchGrid::units
  std::optional<int64_t> seeds;
  std::optional<int64_t> iterations;  // through set_iterations, so schedules stretch with it
  std::optional<int64_t> eval_interval;
  std::optional<int64_t> input_size;
  std::optional<Init> init;
  std::optional<std::string> engine;
};

/// Overlays `overrides` on `grid`.
///
/// Example:
/// ```
/// nalu::BenchGrid grid = nalu::bench_preset("nau-table1");
/// nalu::BenchOverrides overrides;
/// overrides.units = nalu::parse_unit_specs("nau+nmu,mlp:relu6");
/// overrides.seeds = 3;
/// nalu::apply_overrides(grid, overrides);
/// ```
void apply_overrides(BenchGrid& grid, const BenchOverrides& overrides);

/// Unit specs as a command line writes them: comma separated, the layers of one model joined by
/// '+' ("nau+nmu,mlp:relu6" -> {"nau,nmu", "mlp:relu6"}), the models of a selection by '|'
/// ("nmru|real-npu:improved" stays one spec).
std::vector<std::string> parse_unit_specs(const std::string& text);

/// Sets `config`'s model to one model of a unit spec: "nau,nmu" (one unit per layer, each hidden
/// layer `hidden` wide), "mlp:relu6" (an MLP with that activation), "real-npu:improved" (the
/// improved Real NPU). A spec of one unit keeps config's hidden sizes. Throws nalu::Error for an
/// unknown variant.
void apply_unit_spec(RunConfig& config, const std::string& spec, int64_t hidden);

/// Every run of the grid, in a fixed order (operation, range, unit, seed).
std::vector<BenchRun> expand(const BenchGrid& grid);
/// The runs with index % count == index_of_shard: shard `index` of `count` (0-based).
std::vector<BenchRun> shard(const std::vector<BenchRun>& runs, int64_t index, int64_t count);
/// Parses "I/N" (0 <= I < N) into {I, N}; throws nalu::Error.
std::pair<int64_t, int64_t> parse_shard(const std::string& text);

/// A bench continued from the records of an earlier, interrupted invocation.
struct ResumePlan {
  std::vector<nlohmann::json> recorded;  // the records of runs already done, in run order
  std::vector<BenchRun> remaining;       // the runs still to do, in run order
};

/// Splits `runs` into those `existing` already records (by run id) and those still to do.
/// Records of runs outside `runs` (another shard's, another grid's) are left out of both.
ResumePlan plan_resume(std::vector<BenchRun> runs, const std::vector<nlohmann::json>& existing);

/// About how many bytes the records of `runs` take, each keeping every history_every-th
/// evaluation (record_bytes_estimate summed over the runs).
double records_bytes_estimate(const std::vector<BenchRun>& runs, int64_t history_every);

/// Checkpoints and stop requests for a bench (see RunControl).
///
/// Example:
/// ```
/// nalu::BenchControl control;
/// control.checkpoint_dir = "bench.ckpt";  // one checkpoint per run in flight
/// control.stop = &stop;                   // set from a signal handler
/// nalu::run_bench(runs, 2, on_record, {}, control);
/// ```
struct BenchControl {
  /// Directory for the runs' checkpoints (one file per run in flight, removed once its record
  /// is out); empty writes none. A run whose checkpoint is there resumes from it.
  std::string checkpoint_dir;
  int64_t checkpoint_interval = 0;  // 0: each run's eval_interval
  /// When it reads true, the runs in flight checkpoint and stop, no new run starts, and
  /// run_bench throws Interrupted.
  const std::atomic<bool>* stop = nullptr;
  NonFinitePolicy on_non_finite = NonFinitePolicy::kStop;
  /// Each record keeps every history_every-th evaluation of its history (nalu::thin_history);
  /// 1 keeps them all. The table's figures (success, solved-at step) come from the whole
  /// history before it is thinned.
  int64_t history_every = 1;
  /// Runs that draw the same inputs (fused::batch_key: the units and operations of one range
  /// and seed) train in one pass on one thread, each batch drawn once for all of them
  /// (fused::train_together). Their results are the same either way; only the timing differs
  /// (a record's timing.runs_in_pass counts the pass's runs, which share its wall time).
  bool share_batches = true;
};

/// Where run `id`'s checkpoint lives in `directory`: its id made file-safe, plus a hash of it.
std::string bench_checkpoint_path(const std::string& directory, const std::string& id);

/// Runs `runs` on `jobs` threads (each with one LibTorch thread). Calls `on_record` (serialised,
/// from the calling threads) with each run's record as it finishes - also for runs that
/// diverged, whose record says so. Records carry the bench metrics: epsilon-perfect threshold,
/// success, solved-at step and the normalised errors. Throws nalu::Error for bad settings
/// before any run starts. `on_run_progress`, if set, is called with (finished, total).
void run_bench(const std::vector<BenchRun>& runs, int64_t jobs,
               const std::function<void(const nlohmann::json&)>& on_record,
               const std::function<void(int64_t, int64_t)>& on_run_progress = {},
               const BenchControl& control = {});

/// Which of a selection's records to keep: the index of the lowest best-step interpolation MSE
/// (record["best"]["interpolation_mse"]); a diverged record or one without it counts as
/// infinite, and ties go to the earlier candidate. Throws nalu::Error for an empty list.
size_t select_candidate(const std::vector<nlohmann::json>& records);

/// A single run's record with bench metrics, computed on the calling thread. A selection's
/// record is its kept candidate's, with bench.selected naming it and bench.candidates listing
/// every candidate's unit, status, success, errors and wall time.
nlohmann::json run_bench_record(const BenchRun& run, const BenchControl& control = {});

/// How run_bench splits `runs` into work items for `jobs` threads: with `share`, the runs that
/// fused::batch_key puts together form one item (in the order of their first run), every other
/// run an item of its own, and while there are fewer items than `jobs` the largest is split in
/// two; without `share`, one item per run. Indices into `runs`.
std::vector<std::vector<size_t>> batch_groups(const std::vector<BenchRun>& runs, bool share,
                                              int64_t jobs = 1);

/// The records of a group of batch_groups, trained in one pass (fused::train_together) on the
/// calling thread, in the group's order; a group of one is run_bench_record.
std::vector<nlohmann::json> run_bench_group(const std::vector<BenchRun>& runs,
                                            const BenchControl& control = {});

}  // namespace nalu

// The self-describing JSON record of a run: configuration, version, seed, metrics over time,
// final and best metrics, the learned formula and timing.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "nalu/train/config.h"
#include "nalu/train/trainer.h"

namespace nalu {

/// `value` as JSON, or null when it is NaN or infinite (JSON has neither).
nlohmann::json json_number(double value);

nlohmann::json config_to_json(const RunConfig& config);
/// The inverse of config_to_json: config_from_json(config_to_json(c)) describes the same run.
/// Strict: a missing field, a wrong type or an unknown name throws nalu::Error naming the field
/// ("config: 'task.input_size' must be an integer"), and the result is validate()d.
RunConfig config_from_json(const nlohmann::json& json);
nlohmann::json evaluation_to_json(const Evaluation& evaluation);
/// {"lines": pretty lines, "max_rounding_error", "exact", "ascii": the lines in ASCII,
///  "simplifications": [{"where", "what", "max_deviation"}], "max_simplification_deviation",
///  "literal_lines" and "literal_ascii": the formula before simplification (the same lines when
///  nothing was simplified)}.
nlohmann::json formula_to_json(const Formula& formula);

/// A record for a finished run; `status` is "ok".
nlohmann::json make_record(const RunConfig& config, const TrainResult& result);
/// About how many bytes a run's record takes (its history of evaluations: about 300 bytes of
/// JSON each, estimated high) when it keeps every `history_every`-th evaluation; for the
/// free-space checks before a run or a bench starts.
double record_bytes_estimate(const TrainingConfig& training, int64_t history_every = 1);
/// Keeps every `every`-th entry of `record`'s "history" (the first and the last always) and
/// notes `every` in the record as "history_every"; 1 leaves the record as it is. Long runs'
/// records are mostly history (a 5*10^6-step run evaluated every 1,000 steps writes about
/// 1 MB of it): thinned, a grid's records stay small enough to keep beside its table.
/// Throws nalu::Error for `every` < 1.
void thin_history(nlohmann::json& record, int64_t every);
/// A record for a run that stopped with an error (status "diverged" or "error").
nlohmann::json make_failure_record(const RunConfig& config, const std::string& status,
                                   const std::string& message);

}  // namespace nalu

// JSON Lines files of run records: reading (strictly: a malformed line is an error with its line
// number), appending one record per finished run, and merging shards without losing or
// duplicating a run.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <set>
#include <string>
#include <vector>

namespace nalu {

/// Every record in a JSON Lines file; a missing file reads as empty when `missing_ok`.
/// Throws nalu::Error naming the file and line for anything that is not a JSON object.
std::vector<nlohmann::json> read_records(const std::string& path, bool missing_ok = false);

/// Every record in JSON Lines text read from `in` (blank lines are skipped); `source` names the
/// text in errors ("source:line: ..."). read_records is this over a file.
///
/// Example:
///   std::istringstream in("{\"run_id\": \"a\"}\n{\"run_id\": \"b\"}\n");
///   auto records = nalu::parse_records(in, "inline");  // two records
std::vector<nlohmann::json> parse_records(std::istream& in, const std::string& source);

/// The run ids already recorded in `records` (the "run_id" field).
std::set<std::string> recorded_ids(const std::vector<nlohmann::json>& records);

/// Appends `record` as one line to `path` and flushes it to disk, so that a bench interrupted
/// at any point keeps every finished run.
void append_record(const std::string& path, const nlohmann::json& record);

/// Records of several files, each run once: a run id seen twice keeps its first record, and
/// records without a run id are rejected. Returns the merged records in first-seen order.
std::vector<nlohmann::json> merge_records(const std::vector<std::string>& paths);

}  // namespace nalu

// Bench summaries and their markdown / CSV / JSON rendering.
#include "nalu/sweep/table.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "nalu/error.h"
#include "nalu/metrics/success.h"

namespace nalu {

namespace {

double number_or_nan(const nlohmann::json& value) {
  return value.is_number() ? value.get<double>() : NAN;
}

const nlohmann::json& field(const nlohmann::json& record, const char* a, const char* b) {
  static const nlohmann::json kNull;
  if (!record.contains(a) || !record[a].is_object() || !record[a].contains(b))
    return kNull;
  return record[a][b];
}

// Typed fields of record `number` (1-based, for the message), `fallback` when absent. Records
// can come from hand-edited or damaged files, so a field of the wrong type is a nalu::Error.
const nlohmann::json& typed_field(const nlohmann::json& object, const char* key, int64_t number,
                                  bool (nlohmann::json::*has_type)() const noexcept,
                                  const char* type) {
  const auto& value = object[key];
  if (!(value.*has_type)()) {
    std::string message = "table: record ";
    message += std::to_string(number);
    message += ": '";
    message += key;
    message += "' must be ";
    message += type;
    throw Error(message);
  }
  return value;
}

std::string text_or(const nlohmann::json& object, const char* key, int64_t number,
                    const char* fallback) {
  if (!object.contains(key))
    return fallback;
  return typed_field(object, key, number, &nlohmann::json::is_string, "a string")
      .get<std::string>();
}

bool flag_or(const nlohmann::json& object, const char* key, int64_t number, bool fallback) {
  if (!object.contains(key))
    return fallback;
  return typed_field(object, key, number, &nlohmann::json::is_boolean, "true or false").get<bool>();
}

int64_t integer_or(const nlohmann::json& object, const char* key, int64_t number,
                   int64_t fallback) {
  if (!object.contains(key))
    return fallback;
  return typed_field(object, key, number, &nlohmann::json::is_number_integer, "an integer")
      .get<int64_t>();
}

std::string fixed(double value, const char* format) {
  if (std::isnan(value))
    return "-";
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string csv_escape(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos)
    return text;
  std::string out = "\"";
  for (char c : text) {
    out += c;
    if (c == '"')
      out += c;
  }
  out += '"';
  return out;
}

}  // namespace

std::vector<BenchRow> summarize(const std::vector<nlohmann::json>& records, bool pool_ranges) {
  struct Group {
    BenchRow row;
    std::set<std::string> ranges;
    std::vector<double> solved_at, sparsity, extrapolation;
    double best_interpolation = 0, best_extrapolation = 0, initial_interpolation = 0,
           initial_extrapolation = 0;
    int64_t trained = 0;  // runs with both best and initial errors
    int64_t first_index = INT64_MAX;
  };
  std::vector<std::string> order;
  std::map<std::string, Group> groups;
  int64_t number = 0;
  for (const auto& record : records) {
    ++number;
    check(record.contains("bench") && record["bench"].is_object(),
          "table: a record has no bench metrics (was it written by nalu bench?)");
    const auto& bench = record["bench"];
    const std::string operation = text_or(bench, "operation", number, "?");
    const std::string unit = text_or(bench, "unit", number, "?");
    const std::string range = text_or(bench, "range", number, "?");
    const std::string key = operation + "\x1f" + unit + "\x1f" + (pool_ranges ? "" : range);
    auto [it, inserted] = groups.try_emplace(key);
    Group& g = it->second;
    if (inserted) {
      order.push_back(key);
      g.row.operation = operation;
      g.row.unit = unit;
      g.row.range = range;
    }
    ++g.row.runs;
    g.ranges.insert(range);
    g.first_index = std::min(g.first_index, integer_or(bench, "index", number, INT64_MAX));
    const bool success = flag_or(bench, "success", number, false);
    const bool diverged = text_or(record, "status", number, "") == "diverged";
    if (diverged)
      ++g.row.diverged;
    if (success) {
      ++g.row.successes;
      g.solved_at.push_back(number_or_nan(bench.value("solved_at", nlohmann::json())));
      g.sparsity.push_back(number_or_nan(field(record, "best", "sparsity_error")));
    }
    const double best_extrapolation = number_or_nan(field(record, "best", "extrapolation_mse"));
    g.extrapolation.push_back(diverged ? INFINITY : best_extrapolation);
    const double best_interpolation = number_or_nan(field(record, "best", "interpolation_mse"));
    const double initial_interpolation =
        number_or_nan(bench.value("initial_interpolation_mse", nlohmann::json()));
    const double initial_extrapolation =
        number_or_nan(bench.value("initial_extrapolation_mse", nlohmann::json()));
    if (std::isfinite(best_interpolation) && std::isfinite(best_extrapolation) &&
        std::isfinite(initial_interpolation) && std::isfinite(initial_extrapolation)) {
      g.best_interpolation += best_interpolation;
      g.best_extrapolation += best_extrapolation;
      g.initial_interpolation += initial_interpolation;
      g.initial_extrapolation += initial_extrapolation;
      ++g.trained;
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](const auto& left, const auto& right) {
    return groups[left].first_index < groups[right].first_index;
  });
  std::vector<BenchRow> rows;
  for (const auto& key : order) {
    Group& g = groups[key];
    BenchRow row = g.row;
    if (pool_ranges)
      row.range = std::to_string(g.ranges.size()) + (g.ranges.size() == 1 ? " range" : " ranges");
    row.success_rate = static_cast<double>(row.successes) / static_cast<double>(row.runs);
    const auto interval = wilson_interval(row.successes, row.runs);
    row.success_low = interval.low;
    row.success_high = interval.high;
    row.median_solved_at = median(g.solved_at);
    row.median_sparsity_error = median(g.sparsity);
    row.median_extrapolation_mse = median(g.extrapolation);
    // The NALU paper's normalisation: mean error over seeds relative to the randomly
    // initialised models' mean error (step 0 of the same runs).
    const bool normalizable =
        g.trained > 0 && g.initial_interpolation > 0 && g.initial_extrapolation > 0;
    row.interpolation_normalized_error =
        normalizable ? normalized_error(g.best_interpolation, g.initial_interpolation) : NAN;
    row.extrapolation_normalized_error =
        normalizable ? normalized_error(g.best_extrapolation, g.initial_extrapolation) : NAN;
    rows.push_back(row);
  }
  return rows;
}

std::string render_table(const std::vector<BenchRow>& rows, const std::string& format) {
  if (format == "json") {
    auto out = nlohmann::json::array();
    auto num = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
    for (const auto& r : rows) {
      out.push_back({{"operation", r.operation},
                     {"unit", r.unit},
                     {"range", r.range},
                     {"runs", r.runs},
                     {"successes", r.successes},
                     {"diverged", r.diverged},
                     {"success_rate", r.success_rate},
                     {"success_interval", {r.success_low, r.success_high}},
                     {"median_solved_at", num(r.median_solved_at)},
                     {"median_sparsity_error", num(r.median_sparsity_error)},
                     {"median_extrapolation_mse", num(r.median_extrapolation_mse)},
                     {"interpolation_normalized_error", num(r.interpolation_normalized_error)},
                     {"extrapolation_normalized_error", num(r.extrapolation_normalized_error)}});
    }
    return out.dump(2) + "\n";
  }
  const bool csv = format == "csv";
  check(csv || format == "markdown",
        "unknown table format '" + format + "' (known: markdown, csv, json)");
  const std::vector<std::string> header = {"operation",
                                           "unit",
                                           "range",
                                           "runs",
                                           "success",
                                           "95% CI",
                                           "median solved at",
                                           "median sparsity err",
                                           "median extrap. MSE",
                                           "interp. norm. err",
                                           "extrap. norm. err",
                                           "diverged"};
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (csv) {
        if (i > 0)
          out += ',';
        out += csv_escape(cells[i]);
      } else {
        out += "| ";
        for (const char c : cells[i])  // a selection's unit ("nmru|nru") keeps its column
          out += c == '|' ? std::string("\\|") : std::string(1, c);
        out += ' ';
      }
    }
    out += csv ? "\n" : "|\n";
  };
  emit(header);
  if (!csv) {
    for (size_t i = 0; i < header.size(); ++i)
      out += i < 3 ? "|---" : "|--:";
    out += "|\n";
  }
  for (const auto& r : rows) {
    emit({r.operation, r.unit, r.range, std::to_string(r.runs),
          fixed(100 * r.success_rate, "%.0f%%"),
          fixed(100 * r.success_low, "%.0f") + "–" + fixed(100 * r.success_high, "%.0f%%"),
          fixed(r.median_solved_at, "%.0f"), fixed(r.median_sparsity_error, "%.2g"),
          fixed(r.median_extrapolation_mse, "%.3g"),
          fixed(r.interpolation_normalized_error, "%.3g"),
          fixed(r.extrapolation_normalized_error, "%.3g"), std::to_string(r.diverged)});
  }
  return out;
}

}  // namespace nalu

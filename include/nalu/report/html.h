// A results page from run records: one self-contained HTML file (inline SVG, CSS and a little
// JavaScript, nothing fetched) for bench records (success rates with Wilson intervals, solved-at
// steps, extrapolation errors, learning curves, learned formulas, the command and provenance)
// and experiment records (their scalar metrics as tables and their series as line plots), or the
// figures alone as SVG documents. Deterministic: the same records give the same bytes.
// LibTorch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace nalu {

/// The records of one JSON Lines file, under the name the report shows for it.
struct RecordFile {
  std::string name;  // as given on the command line, e.g. "docs/results/demo-fb2dae3.jsonl"
  std::vector<nlohmann::json> records;
};

struct ReportOptions {
  std::string title = "nalu results";
  /// Names of the bench presets (nalu::bench_preset_names()): a bench file whose base name
  /// starts with one is shown as run with `--preset NAME` (records do not name their preset).
  std::vector<std::string> preset_names;
  /// Most points per learning curve; longer histories are thinned evenly, the first and the
  /// last evaluation kept, so that a page of thousands of runs stays a few megabytes.
  int max_curve_points = 80;
};

/// One figure of a report.
struct ReportFigure {
  std::string name;     // unique within the report, of [a-z0-9-], e.g. "demo-fb2dae3-success"
  std::string caption;  // one sentence: what is drawn
  std::string svg;      // a standalone SVG document
  /// Elements of class "mark" in `svg`: one per success dot (with its whisker), per point of a
  /// strip, per line of a line plot. The HTML page checks this count when it loads.
  int64_t marks = 0;
};

/// Every figure of the report of `files`, in page order. Throws nalu::Error naming the file for
/// a file without records or with a record that cannot be read (a field of the wrong type).
///
/// Example:
/// ```
/// nalu::RecordFile file{"demo.jsonl", nalu::read_records("demo.jsonl")};
/// for (const auto& figure : nalu::report_figures({file}))
///   nalu::write_file_atomically("figures/" + figure.name + ".svg", figure.svg);
/// ```
std::vector<ReportFigure> report_figures(const std::vector<RecordFile>& files,
                                         const ReportOptions& options = {});

/// The whole page: per file, its provenance, tables and figures. The page's script counts each
/// figure's marks against the count written here and records the result and any script error
/// on <body> (data-errors, data-charts, data-checked), so a headless browser can check it.
/// Throws as report_figures.
std::string render_html_report(const std::vector<RecordFile>& files,
                               const ReportOptions& options = {});

}  // namespace nalu

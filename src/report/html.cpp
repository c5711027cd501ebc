// The results page: sections of tables and figures built from run records, written as one HTML
// file or as separate SVG figures.
#include "nalu/report/html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "nalu/error.h"
#include "nalu/experiments/report.h"
#include "nalu/metrics/success.h"
#include "nalu/strings.h"
#include "nalu/sweep/table.h"
#include "nalu/version.h"
#include "report/row_chart.h"

namespace nalu {

namespace {

using nlohmann::json;

// A piece of a section: HTML, or a figure (drawn half width when `half`).
struct Block {
  std::string html;
  std::optional<ReportFigure> figure;
  bool half = false;
};

struct Section {
  std::string id, title, intro;  // intro: HTML
  std::vector<Block> blocks;
};

// Names that stay the same for the same input: a unit's colour (by first appearance over all
// files) and unique figure names.
struct PageState {
  std::map<std::string, size_t> unit_colours;
  std::set<std::string> figure_names;

  const std::string& colour_of(const std::string& unit) {
    const auto [it, inserted] = unit_colours.try_emplace(unit, unit_colours.size());
    return plot_colour(it->second);
  }
  std::string unique_name(const std::string& wanted) {
    std::string name = wanted;
    for (int n = 2; !figure_names.insert(name).second; ++n)
      name = wanted + "-" + std::to_string(n);
    return name;
  }
};

// `text` as a name of [a-z0-9-]: other characters become '-', runs of them one.
std::string slug(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const char lower = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9'))
      out += lower;
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out.empty() ? "records" : out;
}

// The file name without its directories and its ".jsonl".
std::string stem(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  for (const std::string suffix : {".jsonl", ".json"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix))
      return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

// A git commit named in a file name, as the project names its result files
// ("division-e66cb9b.jsonl"): the last dash-separated part of 7 to 40 hex digits with a digit.
std::string commit_in_name(const std::string& path) {
  const std::string name = stem(path);
  std::string best;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('-', start), name.size());
    const std::string part = name.substr(start, end - start);
    const bool hex = part.size() >= 7 && part.size() <= 40 &&
                     part.find_first_not_of("0123456789abcdef") == std::string::npos &&
                     part.find_first_of("0123456789") != std::string::npos;
    if (hex)
      best = part;
    start = end + 1;
  }
  return best;
}

std::string text_of(const json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object[key].is_string())
    return object[key].get<std::string>();
  return "";
}

// object[key], or null when `object` is not an object or has no `key` (operator[] of a const
// json must not be given a missing key).
const json& child(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object())
    return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

double number_of(const json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object[key].is_number())
    return object[key].get<double>();
  return NAN;
}

// A shell word: quoted when it holds anything but letters, digits and -_.,:/=+
std::string shell_word(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-_.,:/=+") == std::string::npos)
    return word;
  std::string out = "'";
  for (const char c : word)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The value at fraction `p` of sorted `values`, interpolating between neighbours.
double quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return NAN;
  const double at = p * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(std::floor(at));
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (at - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

// Curves of several runs (x, y pairs) summarised at each x that any run has: the median and the
// quartiles over the runs that have a finite y there. At most `max_points` x values are kept,
// evenly spread, the first and the last among them.
PlotSeries summarize_curves(const std::vector<std::vector<std::pair<double, double>>>& runs,
                            int max_points) {
  std::map<double, std::vector<double>> at;
  for (const auto& run : runs) {
    for (const auto& [x, y] : run) {
      auto& values = at[x];
      if (std::isfinite(y))
        values.push_back(y);
    }
  }
  std::vector<double> xs;
  for (const auto& entry : at)
    xs.push_back(entry.first);
  std::vector<double> kept;
  const size_t limit = static_cast<size_t>(std::max(2, max_points));
  if (xs.size() <= limit) {
    kept = xs;
  } else {
    for (size_t i = 0; i < limit; ++i)
      kept.push_back(xs[i * (xs.size() - 1) / (limit - 1)]);
  }
  PlotSeries series;
  for (const double x : kept) {
    std::vector<double> values = at[x];
    std::sort(values.begin(), values.end());
    series.x.push_back(x);
    series.y.push_back(median(values));
    if (runs.size() > 1) {
      series.low.push_back(quantile(values, 0.25));
      series.high.push_back(quantile(values, 0.75));
    }
  }
  return series;
}

bool has_drawable_point(const LinePlot& plot) {
  for (const auto& series : plot.series) {
    for (const double y : series.y) {
      if (std::isfinite(y) && (!plot.log_y || y > 0))
        return true;
    }
  }
  return false;
}

ReportFigure line_figure(LinePlot plot, const std::string& name, const std::string& caption) {
  plot.id = name;
  ReportFigure figure{name, caption, render_svg(plot), static_cast<int64_t>(plot.series.size())};
  return figure;
}

ReportFigure row_figure(const report::RowChart& chart, const std::string& caption) {
  ReportFigure figure{chart.id, caption, "", 0};
  figure.svg = report::render_row_chart(chart, figure.marks);
  return figure;
}

// An HTML table; in a table of class "numbers" the first `text_columns` columns are text, left
// aligned, and the others numbers.
std::string html_table(const std::vector<std::string>& header,
                       const std::vector<std::vector<std::string>>& rows,
                       const std::string& css_class = "", size_t text_columns = 0) {
  std::string html = "<div class=\"table-wrap\"><table";
  if (!css_class.empty())
    html += " class=\"" + css_class + "\"";
  html += "><thead><tr>";
  for (const auto& cell : header)
    html += "<th>" + escape_xml(cell) + "</th>";
  html += "</tr></thead><tbody>\n";
  for (const auto& row : rows) {
    html += "<tr>";
    for (size_t c = 0; c < row.size(); ++c)
      html += (c < text_columns ? "<td class=\"text\">" : "<td>") + escape_xml(row[c]) + "</td>";
    html += "</tr>\n";
  }
  return html + "</tbody></table></div>\n";
}

std::string code_block(const std::string& text) {
  return "<pre><code>" + escape_xml(text) + "</code></pre>\n";
}

std::string percent(double fraction) {
  return format_significant(100.0 * fraction, 3) + "%";
}

// ---- bench records -------------------------------------------------------------------------

std::string cell_key(const std::string& operation, const std::string& unit,
                     const std::string& range) {
  return operation + "\x1f" + unit + "\x1f" + range;
}

std::string formula_of(const json& record) {
  for (const char* key : {"final_formula", "formula"}) {
    if (!record.contains(key) || !record[key].is_object())
      continue;
    const json& formula = record[key];
    for (const char* form : {"lines", "ascii"}) {
      if (formula.contains(form) && formula[form].is_array()) {
        std::vector<std::string> lines;
        for (const auto& line : formula[form])
          lines.push_back(line.is_string() ? line.get<std::string>() : line.dump());
        return join(lines, "; ");
      }
    }
  }
  const std::string status = text_of(record, "status");
  return status.empty() || status == "ok" ? "(no formula recorded)" : "(" + status + ")";
}

// An equivalent `nalu bench` command line: records name neither their preset nor their command,
// so the preset is taken from the file name where it starts with one, and the grid from the
// records (operations, units, seeds, run length, evaluation interval, input size).
std::string bench_command(const RecordFile& file, const std::vector<const json*>& records,
                          const ReportOptions& options) {
  std::vector<std::string> operations, units;
  std::set<int64_t> seeds;
  const json* config = nullptr;
  int64_t history_every = 1;
  for (const json* record : records) {
    const json& bench = (*record)["bench"];
    for (auto [list, key] : {std::pair{&operations, "operation"}, std::pair{&units, "unit"}}) {
      const std::string value = text_of(bench, key);
      if (!value.empty() && std::find(list->begin(), list->end(), value) == list->end())
        list->push_back(value);
    }
    if (record->contains("seed") && (*record)["seed"].is_number_integer())
      seeds.insert((*record)["seed"].get<int64_t>());
    if (config == nullptr && record->contains("config") && (*record)["config"].is_object())
      config = &(*record)["config"];
    if (record->contains("history_every") && (*record)["history_every"].is_number_integer())
      history_every = (*record)["history_every"].get<int64_t>();
  }
  std::vector<std::string> words = {"nalu", "bench"};
  const std::string name = stem(file.name);
  std::string preset;
  for (const auto& candidate : options.preset_names) {
    if (name.starts_with(candidate) && candidate.size() > preset.size())
      preset = candidate;
  }
  if (!preset.empty())
    words.insert(words.end(), {"--preset", preset});
  words.insert(words.end(), {"--ops", join(operations, ","), "--units", join(units, ",")});
  if (!seeds.empty())
    words.insert(words.end(), {"--seeds", std::to_string(seeds.size())});
  if (config != nullptr) {
    const json& training = config->value("training", json::object());
    const json& task = config->value("task", json::object());
    if (training.contains("iterations"))
      words.insert(words.end(), {"--iterations", training["iterations"].dump()});
    if (training.contains("eval_interval"))
      words.insert(words.end(), {"--eval-interval", training["eval_interval"].dump()});
    if (task.contains("input_size"))
      words.insert(words.end(), {"--input-size", task["input_size"].dump()});
    const std::string engine = text_of(*config, "engine");
    if (!engine.empty() && engine != "auto")
      words.insert(words.end(), {"--engine", engine});
  }
  if (history_every > 1)
    words.insert(words.end(), {"--history-every", std::to_string(history_every)});
  words.insert(words.end(), {"--output", name + ".jsonl"});
  std::string command;
  for (const auto& word : words)
    command += (command.empty() ? "" : " ") + shell_word(word);
  return command;
}

// Where the records came from: the file, the version, the commit, statuses, time, command and
// the first run's configuration.
std::string bench_provenance(const RecordFile& file, const std::vector<const json*>& records,
                             const ReportOptions& options) {
  std::set<std::string> versions;
  std::map<std::string, int64_t> statuses;
  double seconds = 0;
  const json* config = nullptr;
  for (const json* record : records) {
    const std::string version = text_of(*record, "nalu_version");
    versions.insert(version.empty() ? "(not recorded)" : version);
    const std::string status = text_of(*record, "status");
    ++statuses[status.empty() ? "ok" : status];
    if (record->contains("timing"))
      seconds += std::isfinite(number_of((*record)["timing"], "wall_seconds"))
                     ? number_of((*record)["timing"], "wall_seconds")
                     : 0.0;
    if (config == nullptr && record->contains("config"))
      config = &(*record)["config"];
  }
  std::vector<std::string> status_parts;
  for (const auto& [status, count] : statuses)
    status_parts.push_back(std::to_string(count) + " " + status);
  const std::string commit = commit_in_name(file.name);
  std::vector<std::vector<std::string>> rows = {
      {"file", file.name},
      {"records", std::to_string(records.size()) + " (" + join(status_parts, ", ") + ")"},
      {"nalu version", join(std::vector<std::string>(versions.begin(), versions.end()), ", ")},
      {"commit", commit.empty() ? "not recorded (records carry no commit)"
                                : commit + " (from the file name; records carry no commit)"},
      {"training time", format_significant(seconds, 3) + " s summed over runs"}};
  std::string html = html_table({"", ""}, rows, "facts");
  html += "<p>Equivalent command (reconstructed from the records):</p>\n";
  html += code_block(bench_command(file, records, options));
  if (config != nullptr) {
    html += "<details><summary>Configuration of the first run</summary>\n" +
            code_block(config->dump(2)) + "</details>\n";
  }
  return html;
}

struct Cell {
  BenchRow row;
  std::vector<const json*> runs;
};

// Rows of a chart for each cell, with the cell's label and colour.
report::ChartRow chart_row(const Cell& cell, bool with_range, PageState& state) {
  report::ChartRow row;
  row.label = cell.row.operation + "  " + cell.row.unit;
  if (with_range)
    row.label += "  [" + cell.row.range + "]";
  row.colour = state.colour_of(cell.row.unit);
  return row;
}

std::vector<Block> success_blocks(const std::vector<BenchRow>& rows, const std::string& name,
                                  const std::string& title, bool with_range, PageState& state) {
  report::RowChart chart;
  chart.id = state.unique_name(name);
  chart.title = title;
  chart.x_label = "success rate";
  chart.x_min = 0;
  chart.x_max = 1;
  chart.centre_label = "successes / runs, with the Wilson 95% interval";
  for (const auto& r : rows) {
    report::ChartRow row;
    row.label = r.operation + "  " + r.unit + (with_range ? "  [" + r.range + "]" : "");
    row.colour = state.colour_of(r.unit);
    row.centre = r.success_rate;
    row.low = r.success_low;
    row.high = r.success_high;
    row.note = std::to_string(r.successes) + "/" + std::to_string(r.runs);
    row.tooltip = r.operation + " " + r.unit + " " + r.range + ": " + row.note + " succeeded (" +
                  percent(r.success_rate) + ", 95% interval " + percent(r.success_low) + " to " +
                  percent(r.success_high) + "), " + std::to_string(r.diverged) + " diverged";
    chart.rows.push_back(row);
  }
  return {Block{"",
                row_figure(chart, title + ": dots are the share of seeds that succeeded, "
                                          "whiskers the Wilson 95% interval."),
                false}};
}

std::vector<Block> distribution_blocks(const std::vector<Cell>& cells, const std::string& base,
                                       bool with_range, PageState& state) {
  report::RowChart solved;
  solved.id = state.unique_name(base + "-solved-at");
  solved.title = "Solved at: the first evaluation below the success threshold";
  solved.x_label = "step";
  solved.x_min = 0;
  solved.median_label = "median";
  report::RowChart extrapolation;
  extrapolation.id = state.unique_name(base + "-extrapolation");
  extrapolation.title = "Extrapolation error of each run (at its lowest interpolation error)";
  extrapolation.x_label = "extrapolation MSE";
  extrapolation.log_x = true;
  extrapolation.median_label = "median";
  extrapolation.reference_label = "success threshold";
  for (const auto& cell : cells) {
    report::ChartRow solved_row = chart_row(cell, with_range, state);
    report::ChartRow error_row = solved_row;
    int64_t missing = 0;
    for (const json* run : cell.runs) {
      const json& bench = (*run)["bench"];
      const double at = number_of(bench, "solved_at");
      if (std::isfinite(at))
        solved_row.points.push_back(at);
      const double iterations = number_of(child(child(*run, "config"), "training"), "iterations");
      if (std::isfinite(iterations))
        solved.x_max = std::isnan(solved.x_max) ? iterations : std::max(solved.x_max, iterations);
      const double error =
          run->contains("best") ? number_of((*run)["best"], "extrapolation_mse") : NAN;
      if (std::isfinite(error) && error > 0)
        error_row.points.push_back(error);
      else
        ++missing;
      if (std::isnan(error_row.reference))
        error_row.reference = number_of(bench, "threshold");
    }
    solved_row.median = cell.row.median_solved_at;
    solved_row.note =
        solved_row.points.empty() ? "none" : "n=" + std::to_string(solved_row.points.size());
    solved_row.tooltip = solved_row.label + ": median solved at step " +
                         format_significant(cell.row.median_solved_at, 6) + " over " +
                         std::to_string(solved_row.points.size()) + " successful runs";
    error_row.median = cell.row.median_extrapolation_mse;
    error_row.note = missing > 0 ? std::to_string(missing) + " n/a" : "";
    error_row.tooltip =
        error_row.label + ": median extrapolation MSE " +
        format_significant(cell.row.median_extrapolation_mse, 3) + ", threshold " +
        format_significant(error_row.reference, 3) +
        (missing > 0 ? ", " + std::to_string(missing) + " runs without a finite error" : "");
    solved.rows.push_back(solved_row);
    extrapolation.rows.push_back(error_row);
  }
  return {Block{"",
                row_figure(solved,
                           "Each dot is one successful run; the dark tick is the "
                           "median over the cell's successful runs."),
                false},
          Block{"",
                row_figure(extrapolation,
                           "Each dot is one run (diverged runs and runs without a finite "
                           "error are counted on the right); red: the success threshold."),
                false}};
}

// Learning curves: per operation and range, interpolation and extrapolation MSE against the
// step, the median over seeds per unit with the interquartile band.
std::vector<Block> curve_blocks(const std::vector<Cell>& cells, const std::string& base,
                                bool with_range, PageState& state, const ReportOptions& options) {
  std::vector<std::string> panels;
  std::map<std::string, std::vector<const Cell*>> by_panel;
  for (const auto& cell : cells) {
    const std::string panel = cell.row.operation + (with_range ? "  [" + cell.row.range + "]" : "");
    if (!by_panel.contains(panel))
      panels.push_back(panel);
    by_panel[panel].push_back(&cell);
  }
  std::vector<Block> blocks;
  for (const auto& panel : panels) {
    for (const auto& [metric, label] : {std::pair{"interpolation_mse", "interpolation MSE"},
                                        std::pair{"extrapolation_mse", "extrapolation MSE"}}) {
      LinePlot plot;
      plot.title = panel + ": " + label;
      plot.x_label = "step";
      plot.y_label = label;
      plot.log_y = true;
      plot.width = 600;
      plot.height = 360;
      double threshold = NAN, last_step = NAN, first_step = NAN;
      for (const Cell* cell : by_panel[panel]) {
        std::vector<std::vector<std::pair<double, double>>> runs;
        for (const json* run : cell->runs) {
          if (!run->contains("history") || !(*run)["history"].is_array())
            continue;
          std::vector<std::pair<double, double>> curve;
          for (const auto& evaluation : (*run)["history"]) {
            const double step = number_of(evaluation, "step");
            if (std::isfinite(step))
              curve.emplace_back(step, number_of(evaluation, metric));
          }
          if (!curve.empty()) {
            first_step = std::isnan(first_step) ? curve.front().first
                                                : std::min(first_step, curve.front().first);
            last_step = std::isnan(last_step) ? curve.back().first
                                              : std::max(last_step, curve.back().first);
            runs.push_back(std::move(curve));
          }
          if (std::isnan(threshold))
            threshold = number_of((*run)["bench"], "threshold");
        }
        if (runs.empty())
          continue;
        PlotSeries series = summarize_curves(runs, options.max_curve_points);
        series.label = cell->row.unit + " (" + std::to_string(runs.size()) +
                       (runs.size() == 1 ? " run)" : " runs)");
        series.colour = state.colour_of(cell->row.unit);
        plot.series.push_back(std::move(series));
      }
      if (std::string(metric) == "extrapolation_mse" && std::isfinite(threshold) &&
          std::isfinite(first_step) && !plot.series.empty()) {
        PlotSeries line("success threshold", {first_step, last_step}, {threshold, threshold});
        line.colour = "#999999";
        plot.series.push_back(std::move(line));
      }
      if (plot.series.empty() || !has_drawable_point(plot))
        continue;
      const std::string name =
          state.unique_name(base + "-curve-" + slug(panel) + "-" + slug(metric).substr(0, 13));
      blocks.push_back(
          Block{"",
                line_figure(plot, name,
                            plot.title + ": median over seeds per unit, band from the first to the "
                                         "third quartile."),
                true});
    }
  }
  return blocks;
}

std::string formula_table(const std::vector<Cell>& cells, bool with_range) {
  constexpr size_t kShown = 4;
  constexpr size_t kLongest = 160;
  std::vector<std::vector<std::string>> rows;
  for (const auto& cell : cells) {
    std::vector<std::string> order;
    std::map<std::string, int64_t> counts;
    for (const json* run : cell.runs) {
      const std::string formula = formula_of(*run);
      if (counts[formula]++ == 0)
        order.push_back(formula);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](const auto& a, const auto& b) { return counts[a] > counts[b]; });
    const std::string label =
        cell.row.operation + " " + cell.row.unit + (with_range ? " [" + cell.row.range + "]" : "");
    for (size_t i = 0; i < std::min(order.size(), kShown); ++i) {
      std::string formula = order[i];
      if (formula.size() > kLongest) {
        // Cut at a character boundary: formulas hold UTF-8 ("·", "σ", "⁻¹").
        size_t cut = kLongest;
        while (cut > 0 && (static_cast<unsigned char>(formula[cut]) & 0xC0) == 0x80)
          --cut;
        formula.resize(cut);
        formula += " …";
      }
      rows.push_back({i == 0 ? label : "", std::to_string(counts[order[i]]), formula});
    }
    if (order.size() > kShown) {
      rows.push_back({"", std::to_string(cell.runs.size()) + " runs",
                      std::to_string(order.size() - kShown) + " other formulas"});
    }
  }
  return "<h3>Learned formulas</h3>\n<p>The distinct formulas of the final models, per cell, "
         "most frequent first.</p>\n" +
         html_table({"cell", "runs", "final formula"}, rows, "formulas");
}

std::string unit_legend(const std::vector<Cell>& cells, PageState& state) {
  std::vector<std::string> units;
  for (const auto& cell : cells) {
    if (std::find(units.begin(), units.end(), cell.row.unit) == units.end())
      units.push_back(cell.row.unit);
  }
  std::string html = "<p class=\"legend\">Units: ";
  for (const auto& unit : units) {
    html += "<span class=\"key\"><span class=\"swatch\" style=\"background:" +
            escape_xml(state.colour_of(unit)) + "\"></span>" + escape_xml(unit) + "</span> ";
  }
  return html + "</p>\n";
}

Section bench_section(const RecordFile& file, const std::vector<json>& records,
                      const ReportOptions& options, PageState& state) {
  const std::vector<BenchRow> rows = summarize(records);
  std::map<std::string, size_t> where;
  std::vector<Cell> cells;
  for (const auto& row : rows) {
    where[cell_key(row.operation, row.unit, row.range)] = cells.size();
    cells.push_back({row, {}});
  }
  std::vector<const json*> all;
  std::set<std::string> ranges;
  for (const auto& record : records) {
    const json& bench = record["bench"];
    const auto key =
        cell_key(text_of(bench, "operation").empty() ? "?" : text_of(bench, "operation"),
                 text_of(bench, "unit").empty() ? "?" : text_of(bench, "unit"),
                 text_of(bench, "range").empty() ? "?" : text_of(bench, "range"));
    cells[where.at(key)].runs.push_back(&record);
    ranges.insert(cells[where.at(key)].row.range);
    all.push_back(&record);
  }
  for (auto& cell : cells) {
    for (const json* run : cell.runs) {
      if (run->contains("config") && !(*run)["config"].is_object())
        throw Error("a record's 'config' is not an object");
    }
  }
  const bool with_range = ranges.size() > 1;
  const std::string base = slug(stem(file.name));
  Section section;
  section.id = state.unique_name(base);
  section.title = "Bench: " + stem(file.name);
  section.intro = "<p>" + std::to_string(records.size()) + " runs in " +
                  std::to_string(cells.size()) + " cells (operation × unit" +
                  (with_range ? " × range" : "") + ")" +
                  (with_range ? ", " + std::to_string(ranges.size()) + " ranges"
                              : ", range " + escape_xml(*ranges.begin())) +
                  ".</p>\n" + unit_legend(cells, state);
  section.blocks.push_back({"<h3>Success rate</h3>\n", std::nullopt, false});
  for (auto& block :
       success_blocks(rows, base + "-success", "Success rate per cell", with_range, state))
    section.blocks.push_back(std::move(block));
  if (with_range) {
    for (auto& block : success_blocks(summarize(records, true), base + "-success-pooled",
                                      "Success rate over all ranges", false, state))
      section.blocks.push_back(std::move(block));
  }
  section.blocks.push_back({"<h3>Solved-at steps and extrapolation errors</h3>\n", {}, false});
  for (auto& block : distribution_blocks(cells, base, with_range, state))
    section.blocks.push_back(std::move(block));
  section.blocks.push_back({"<h3>Learning curves</h3>\n", {}, false});
  for (auto& block : curve_blocks(cells, base, with_range, state, options))
    section.blocks.push_back(std::move(block));
  section.blocks.push_back({formula_table(cells, with_range), {}, false});
  section.blocks.push_back(
      {"<h3>Provenance</h3>\n" + bench_provenance(file, all, options), {}, false});
  return section;
}

// ---- experiment and other records ----------------------------------------------------------

// What kind of records a non-bench record is: its experiment, else its kind.
std::string record_kind(const json& record) {
  const std::string experiment = text_of(record, "experiment");
  if (!experiment.empty())
    return experiment;
  const std::string kind = text_of(record, "kind");
  return kind.empty() ? "records" : kind;
}

bool is_identity_field(const std::string& key) {
  static const std::set<std::string> kNot = {"experiment", "version", "nalu_version",
                                             "kind",       "status",  "run_id",
                                             "formula",    "error",   "data_source"};
  return !kNot.contains(key);
}

// The string fields that tell a group's records apart (e.g. "family", "variant"), in key order.
std::vector<std::string> identity_fields(const std::vector<const json*>& records) {
  std::vector<std::string> fields;
  std::map<std::string, std::set<std::string>> values;
  for (const json* record : records) {
    for (const auto& [key, value] : record->items()) {
      if (value.is_string() && value.get<std::string>().size() <= 40 && is_identity_field(key)) {
        if (!values.contains(key))
          fields.push_back(key);
        values[key].insert(value.get<std::string>());
      }
    }
  }
  std::erase_if(fields, [&](const std::string& key) { return values[key].size() < 2; });
  std::sort(fields.begin(), fields.end());
  return fields;
}

std::string identity_of(const json& record, const std::vector<std::string>& fields) {
  std::vector<std::string> parts;
  for (const auto& field : fields)
    parts.push_back(text_of(record, field.c_str()));
  return parts.empty() ? "all" : join(parts, " / ");
}

// Numeric arrays shorter than this, without a "grid" to plot them against, are a few values
// (one per replicate, a few examples) rather than a series: the table shows their mean.
constexpr size_t kShortestSeries = 10;

bool is_numeric_array(const json& value) {
  return value.is_array() && std::all_of(value.begin(), value.end(), [](const json& v) {
           return v.is_number() || v.is_null();
         });
}

bool has_grid_for(const json& record, const json& value) {
  return record.contains("grid") && record["grid"].is_array() &&
         record["grid"].size() == value.size();
}

// The scalar metrics of a record: top-level numbers and booleans, those one object deep
// ("test.exact"), and the means of short numeric arrays ("test_accuracy (mean)"), but not the
// configuration.
std::vector<std::pair<std::string, json>> scalars_of(const json& record) {
  std::vector<std::pair<std::string, json>> scalars;
  for (const auto& [key, value] : record.items()) {
    if (key == "config" || key == "seed")
      continue;
    if (value.is_number() || value.is_boolean()) {
      scalars.emplace_back(key, value);
    } else if (value.is_object()) {
      for (const auto& [inner, inner_value] : value.items()) {
        if (inner_value.is_number() || inner_value.is_boolean())
          scalars.emplace_back(key + "." + inner, inner_value);
      }
    } else if (is_numeric_array(value) && !value.empty() && value.size() < kShortestSeries &&
               !has_grid_for(record, value) && key != "grid") {
      std::vector<double> values;
      for (const auto& v : value)
        values.push_back(v.is_number() ? v.get<double>() : NAN);
      double sum = 0;
      size_t finite = 0;
      for (const double v : values) {
        if (std::isfinite(v)) {
          sum += v;
          ++finite;
        }
      }
      scalars.emplace_back(key + " (mean)",
                           finite > 0 ? json(sum / static_cast<double>(finite)) : json());
    }
  }
  return scalars;
}

std::string scalar_text(const json& value) {
  if (value.is_null())
    return "-";
  if (value.is_boolean())
    return value.get<bool>() ? "yes" : "no";
  if (value.is_number_integer())
    return value.dump();
  return format_significant(value.get<double>(), 4);
}

// The records' scalar metrics, one row per record; a metric with the same value in every record
// (a step count, a size) is given once above the table instead of in a column.
std::string scalar_table(const std::vector<const json*>& records,
                         const std::vector<std::string>& fields) {
  std::vector<std::string> columns;
  std::map<std::string, std::set<std::string>> values;
  std::vector<std::map<std::string, std::string>> cells;
  bool seeds = false;
  for (const json* record : records) {
    seeds = seeds || record->contains("seed");
    auto& row = cells.emplace_back();
    for (const auto& [name, value] : scalars_of(*record)) {
      if (!values.contains(name))
        columns.push_back(name);
      row[name] = scalar_text(value);
      values[name].insert(row[name]);
    }
  }
  std::vector<std::string> constant;
  if (records.size() > 1) {
    std::erase_if(columns, [&](const std::string& column) {
      const bool everywhere = std::all_of(cells.begin(), cells.end(),
                                          [&](const auto& row) { return row.contains(column); });
      if (!everywhere || values[column].size() != 1)
        return false;
      constant.push_back(column + " " + *values[column].begin());
      return true;
    });
  }
  std::vector<std::string> header = fields;
  if (seeds)
    header.push_back("seed");
  header.insert(header.end(), columns.begin(), columns.end());
  std::vector<std::vector<std::string>> rows;
  for (size_t r = 0; r < records.size(); ++r) {
    std::vector<std::string> row;
    for (const auto& field : fields)
      row.push_back(text_of(*records[r], field.c_str()));
    if (seeds)
      row.push_back(records[r]->contains("seed") ? (*records[r])["seed"].dump() : "");
    for (const auto& column : columns)
      row.push_back(cells[r].contains(column) ? cells[r].at(column) : "");
    rows.push_back(std::move(row));
  }
  std::string html;
  if (!constant.empty())
    html += "<p>The same in every record: " + escape_xml(join(constant, ", ")) + ".</p>\n";
  return html + html_table(header, rows, "numbers", fields.size());
}

// One record's curve of a named series.
struct Curve {
  std::string plot, x_label, identity;
  std::vector<std::pair<double, double>> points;
};

const char* const kXKeys[] = {"step", "length", "digits", "time", "update", "epoch", "x"};

// The series in a record: numeric arrays (against a "grid" array of the same size, else the
// index) and arrays of objects with an x-like key ("lengths": accuracy against length).
std::vector<Curve> curves_of(const json& record, const std::string& identity) {
  std::vector<Curve> curves;
  for (const auto& [key, value] : record.items()) {
    if (!value.is_array() || value.size() < 2 || key == "grid")
      continue;
    if (is_numeric_array(value)) {
      const bool against_grid = has_grid_for(record, value);
      if (!against_grid && value.size() < kShortestSeries)
        continue;  // a few values: the table shows their mean
      Curve curve{key, against_grid ? "grid" : "index in '" + key + "'", identity, {}};
      for (size_t i = 0; i < value.size(); ++i) {
        const double x =
            against_grid ? number_of(json{{"x", record["grid"][i]}}, "x") : static_cast<double>(i);
        if (std::isfinite(x))
          curve.points.emplace_back(x, value[i].is_number() ? value[i].get<double>() : NAN);
      }
      curves.push_back(std::move(curve));
      continue;
    }
    if (!std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_object(); }))
      continue;
    const char* x_key = nullptr;
    for (const char* candidate : kXKeys) {
      if (std::all_of(value.begin(), value.end(),
                      [&](const json& v) { return std::isfinite(number_of(v, candidate)); })) {
        x_key = candidate;
        break;
      }
    }
    if (x_key == nullptr)
      continue;
    std::vector<std::string> metrics;
    for (const auto& [inner, inner_value] : value.front().items()) {
      if (inner != x_key && (inner_value.is_number() || inner_value.is_null()))
        metrics.push_back(inner);
    }
    for (const auto& metric : metrics) {
      Curve curve{key + ": " + metric, x_key, identity, {}};
      for (const auto& element : value)
        curve.points.emplace_back(number_of(element, x_key), number_of(element, metric.c_str()));
      curves.push_back(std::move(curve));
    }
  }
  return curves;
}

std::vector<Block> experiment_plots(const std::vector<const json*>& records,
                                    const std::vector<std::string>& fields, const std::string& base,
                                    PageState& state, const ReportOptions& options) {
  // plot name -> identity -> runs' curves, each in first-seen order.
  std::vector<std::string> plots;
  std::map<std::string, std::string> x_labels;
  std::map<std::string, std::vector<std::string>> identities;
  std::map<std::string, std::map<std::string, std::vector<std::vector<std::pair<double, double>>>>>
      runs;
  for (const json* record : records) {
    for (auto& curve : curves_of(*record, identity_of(*record, fields))) {
      if (!x_labels.contains(curve.plot)) {
        plots.push_back(curve.plot);
        x_labels[curve.plot] = curve.x_label;
      }
      auto& by_identity = runs[curve.plot];
      if (!by_identity.contains(curve.identity))
        identities[curve.plot].push_back(curve.identity);
      by_identity[curve.identity].push_back(std::move(curve.points));
    }
  }
  std::vector<Block> blocks;
  for (const auto& name : plots) {
    // Many lines are split into one plot per value of the first identity field.
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    const auto& ids = identities[name];
    if (ids.size() > 10 && fields.size() > 1) {
      for (const auto& id : ids) {
        const std::string head = id.substr(0, id.find(" / "));
        if (groups.empty() || std::none_of(groups.begin(), groups.end(),
                                           [&](const auto& g) { return g.first == head; }))
          groups.push_back({head, {}});
        for (auto& group : groups) {
          if (group.first == head)
            group.second.push_back(id);
        }
      }
    } else {
      groups.push_back({"", ids});
    }
    for (const auto& [head, members] : groups) {
      LinePlot plot;
      plot.title = name + (head.empty() ? "" : " (" + fields.front() + " " + head + ")");
      plot.x_label = x_labels[name];
      plot.y_label = name.substr(name.find(": ") == std::string::npos ? 0 : name.find(": ") + 2);
      plot.width = 600;
      plot.height = 360;
      double low = INFINITY, high = 0;
      bool positive = true, varies = false;
      double first = NAN;
      for (size_t i = 0; i < members.size(); ++i) {
        const auto& member_runs = runs[name][members[i]];
        PlotSeries series = summarize_curves(member_runs, options.max_curve_points);
        series.label =
            members[i] +
            (member_runs.size() > 1 ? " (n=" + std::to_string(member_runs.size()) + ")" : "");
        if (!head.empty() && members[i].size() > head.size() + 3)
          series.label = series.label.substr(head.size() + 3);
        for (const double y : series.y) {
          if (!std::isfinite(y))
            continue;
          positive = positive && y > 0;
          low = std::min(low, y);
          high = std::max(high, y);
          varies = varies || (!std::isnan(first) && y != first);
          first = std::isnan(first) ? y : first;
        }
        plot.series.push_back(std::move(series));
      }
      if (!varies)
        continue;  // a constant (a count, a size) says nothing as a curve
      plot.log_y = positive && high / low > 100;
      if (!has_drawable_point(plot))
        continue;
      const std::string figure_name = state.unique_name(base + "-" + slug(plot.title));
      blocks.push_back(
          Block{"",
                line_figure(plot, figure_name,
                            plot.title + (records.size() > ids.size()
                                              ? ": median over the records of each line, band from "
                                                "the first to the third quartile."
                                              : ": one line per record.")),
                true});
    }
  }
  return blocks;
}

Section experiment_section(const RecordFile& file, const std::string& kind,
                           const std::vector<const json*>& records, const ReportOptions& options,
                           PageState& state) {
  const std::vector<std::string> fields = identity_fields(records);
  const std::string base = slug(stem(file.name) + "-" + kind);
  Section section;
  section.id = state.unique_name(base);
  const bool experiment = !text_of(*records.front(), "experiment").empty();
  section.title = (experiment ? "Experiment: " : "Records: ") + kind + " (" + stem(file.name) + ")";
  section.intro = "<p>" + std::to_string(records.size()) + " records" +
                  (fields.empty() ? "" : ", told apart by " + escape_xml(join(fields, ", "))) +
                  ".</p>\n";
  section.blocks.push_back(
      {"<h3>Metrics per record</h3>\n" + scalar_table(records, fields), {}, false});
  auto plots = experiment_plots(records, fields, base, state, options);
  if (!plots.empty())
    section.blocks.push_back({"<h3>Series</h3>\n", {}, false});
  for (auto& block : plots)
    section.blocks.push_back(std::move(block));
  // Provenance: versions, commit, command and configuration.
  std::set<std::string> versions;
  for (const json* record : records) {
    std::string version = text_of(*record, "version");
    if (version.empty())
      version = text_of(*record, "nalu_version");
    versions.insert(version.empty() ? "(not recorded)" : version);
  }
  const std::string commit = commit_in_name(file.name);
  std::string html = html_table(
      {"", ""},
      {{"file", file.name},
       {"nalu version", join(std::vector<std::string>(versions.begin(), versions.end()), ", ")},
       {"commit", commit.empty() ? "not recorded (records carry no commit)"
                                 : commit + " (from the file name; records carry no commit)"}},
      "facts");
  if (experiment) {
    std::string command = "nalu experiment " + shell_word(kind);
    if (stem(file.name).find("quick") != std::string::npos)
      command += " --quick";
    const json& config = records.front()->value("config", json::object());
    if (config.contains("seed") && config["seed"].is_number_integer() &&
        config["seed"].get<int64_t>() != 0)
      command += " --seed " + config["seed"].dump();
    html += "<p>Equivalent command (reconstructed; --quick when the file name says so):</p>\n" +
            code_block(command);
  }
  if (records.front()->contains("config")) {
    html += "<details><summary>Configuration of the first record</summary>\n" +
            code_block((*records.front())["config"].dump(2)) + "</details>\n";
  }
  section.blocks.push_back({"<h3>Provenance</h3>\n" + html, {}, false});
  return section;
}

std::vector<Section> build_sections(const std::vector<RecordFile>& files,
                                    const ReportOptions& options) {
  PageState state;
  std::vector<Section> sections;
  for (const auto& file : files) {
    try {
      check(!file.records.empty(), "no records");
      std::vector<json> bench;
      std::vector<std::string> kinds;
      std::map<std::string, std::vector<const json*>> others;
      for (const auto& record : file.records) {
        check(record.is_object(), "a record is not a JSON object");
        if (record.contains("bench")) {
          check(record["bench"].is_object(), "a record's 'bench' is not an object");
          bench.push_back(record);
          continue;
        }
        const std::string kind = record_kind(record);
        if (!others.contains(kind))
          kinds.push_back(kind);
        others[kind].push_back(&record);
      }
      if (!bench.empty())
        sections.push_back(bench_section(file, bench, options, state));
      for (const auto& kind : kinds)
        sections.push_back(experiment_section(file, kind, others[kind], options, state));
    } catch (const Error& e) {
      throw Error(file.name + ": " + e.what());
    } catch (const json::exception& e) {
      throw Error(file.name + ": a record has a field of an unexpected type (" +
                  std::string(e.what()) + ")");
    }
  }
  return sections;
}

// The SVG document without its XML declaration, to sit inside HTML.
std::string inline_svg(const std::string& svg) {
  if (svg.starts_with("<?xml"))
    return svg.substr(svg.find('\n') + 1);
  return svg;
}

const char* const kStyle = R"(
:root { --ink: #1d2330; --muted: #5b6472; --line: #d9dee5; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
  sans-serif; color: var(--ink); background: #f3f5f8; }
header { background: #1d2330; color: white; padding: 22px 40px 18px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; }
header p { margin: 0; color: #c9d1dc; font-size: 14px; }
nav { padding: 10px 40px; background: white; border-bottom: 1px solid var(--line);
  font-size: 14px; }
nav a { margin-right: 18px; color: var(--accent); text-decoration: none; }
main { max-width: 1280px; margin: 0 auto; padding: 18px 40px 40px; }
section { background: white; border: 1px solid var(--line); border-radius: 8px;
  padding: 8px 28px 24px; margin: 18px 0; }
h2 { font-size: 20px; margin: 16px 0 4px; }
h3 { font-size: 16px; margin: 22px 0 6px; color: #2b3445; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 10px; }
figure { margin: 8px 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 2px; }
figure.mismatch { outline: 3px solid #d62728; }
.legend .key { margin-right: 14px; white-space: nowrap; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 50%;
  margin-right: 5px; vertical-align: -1px; }
.table-wrap { overflow: auto; max-height: 560px; }
.table-wrap th { position: sticky; top: 0; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left;
  vertical-align: top; }
th { background: #f0f3f7; font-weight: 600; }
table.numbers td { font-variant-numeric: tabular-nums; text-align: right; }
table.numbers td.text { text-align: left; }
table.formulas td:nth-child(3) { font-family: "DejaVu Sans Mono", Menlo, monospace; }
table.facts th { display: none; }
table.facts td:first-child { color: var(--muted); width: 130px; }
pre { background: #f0f3f7; padding: 8px 12px; border-radius: 6px; overflow-x: auto;
  font-size: 13px; white-space: pre-wrap; }
details summary { cursor: pointer; color: var(--accent); font-size: 14px; }
.howto { font-size: 14px; color: var(--muted); }
)";

// Counts each figure's marks against the count the page was written with, and records script
// errors, on <body>: data-errors, data-charts, data-mismatches, data-checked.
const char* const kScript = R"(
(function () {
  var body = document.body;
  try {
    var charts = document.querySelectorAll('[data-chart]');
    var mismatches = 0;
    for (var i = 0; i < charts.length; i++) {
      var counted = charts[i].querySelectorAll('.mark').length;
      charts[i].setAttribute('data-counted', String(counted));
      if (String(counted) !== charts[i].getAttribute('data-marks')) {
        mismatches++;
        charts[i].classList.add('mismatch');
      }
    }
    body.setAttribute('data-charts', String(charts.length));
    body.setAttribute('data-mismatches', String(mismatches));
  } catch (e) {
    window.naluErrors++;
  }
  body.setAttribute('data-errors', String(window.naluErrors));
  body.setAttribute('data-checked', '1');
})();
)";

}  // namespace

std::vector<ReportFigure> report_figures(const std::vector<RecordFile>& files,
                                         const ReportOptions& options) {
  std::vector<ReportFigure> figures;
  for (auto& section : build_sections(files, options)) {
    for (auto& block : section.blocks) {
      if (block.figure)
        figures.push_back(std::move(*block.figure));
    }
  }
  return figures;
}

std::string render_html_report(const std::vector<RecordFile>& files, const ReportOptions& options) {
  const std::vector<Section> sections = build_sections(files, options);
  size_t records = 0;
  std::vector<std::string> names;
  for (const auto& file : files) {
    records += file.records.size();
    names.push_back(file.name.substr(file.name.find_last_of('/') + 1));
  }
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<title>" + escape_xml(options.title) + "</title>\n<style>" + kStyle + "</style>\n";
  // Script errors anywhere on the page are counted from the start.
  html +=
      "<script>window.naluErrors = 0; window.addEventListener('error', function () { "
      "window.naluErrors++; if (document.body) document.body.setAttribute('data-errors', "
      "String(window.naluErrors)); });</script>\n";
  html += "</head>\n<body data-errors=\"0\" data-checked=\"0\">\n<header><h1>" +
          escape_xml(options.title) + "</h1>\n<p>" + std::to_string(records) + " records from " +
          escape_xml(join(names, ", ")) + "; page written by nalu " + kVersion + ".</p></header>\n";
  html += "<nav>";
  for (const auto& section : sections)
    html += "<a href=\"#" + section.id + "\">" + escape_xml(section.title) + "</a>";
  html += "</nav>\n<main>\n";
  html +=
      "<p class=\"howto\">How to read the figures: a dot with whiskers is a success rate (the "
      "share of seeds whose extrapolation error fell below the threshold) with its Wilson 95% "
      "interval; small dots are single runs, a dark tick their median, a red tick the success "
      "threshold; lines are medians over seeds with a band from the first to the third "
      "quartile. Colours stand for units throughout. Hover over a mark for its numbers.</p>\n";
  for (const auto& section : sections) {
    html += "<section id=\"" + section.id + "\">\n<h2>" + escape_xml(section.title) + "</h2>\n" +
            section.intro;
    bool in_grid = false;
    for (const auto& block : section.blocks) {
      const bool half = block.figure && block.half;
      if (half != in_grid) {
        html += half ? "<div class=\"grid\">\n" : "</div>\n";
        in_grid = half;
      }
      html += block.html;
      if (block.figure) {
        html += "<figure class=\"chart\" id=\"" + block.figure->name + "\" data-chart=\"" +
                block.figure->name + "\" data-marks=\"" + std::to_string(block.figure->marks) +
                "\">\n" + inline_svg(block.figure->svg) + "<figcaption>" +
                escape_xml(block.figure->caption) + "</figcaption></figure>\n";
      }
    }
    if (in_grid)
      html += "</div>\n";
    html += "</section>\n";
  }
  html += "</main>\n<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace nalu

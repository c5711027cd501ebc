// Dot and strip charts, one row per cell, as hand-written SVG.
#include "report/row_chart.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <sstream>

#include "nalu/error.h"
#include "nalu/experiments/report.h"

namespace nalu::report {

namespace {

std::string px(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

// Where values land: the axis range on the axis scale (log10 on log axes) and the pixel span.
struct Axis {
  bool log = false;
  double low = 0, high = 1;
  double left = 0, right = 0;
  std::vector<double> ticks;  // on the axis scale

  double scaled(double x) const {
    if (!std::isfinite(x) || (log && x <= 0))
      return std::numeric_limits<double>::quiet_NaN();
    return log ? std::log10(x) : x;
  }
  double sx(double x) const {
    const double t = std::clamp(scaled(x), low, high);
    return left + (t - low) / (high - low) * (right - left);
  }
  bool drawable(double x) const { return !std::isnan(scaled(x)); }
};

Axis make_axis(const RowChart& chart, double left, double right) {
  Axis axis;
  axis.log = chart.log_x;
  axis.left = left;
  axis.right = right;
  double low = std::numeric_limits<double>::infinity(), high = -low;
  auto take = [&](double x) {
    const double t = axis.scaled(x);
    if (!std::isnan(t)) {
      low = std::min(low, t);
      high = std::max(high, t);
    }
  };
  for (const auto& row : chart.rows) {
    for (const double x : row.points)
      take(x);
    for (const double x : {row.centre, row.low, row.high, row.median, row.reference})
      take(x);
  }
  if (!std::isnan(axis.scaled(chart.x_min)))
    low = axis.scaled(chart.x_min);
  if (!std::isnan(axis.scaled(chart.x_max)))
    high = axis.scaled(chart.x_max);
  if (!std::isfinite(low)) {
    low = 0;
    high = 1;
  }
  if (axis.log) {
    low = std::floor(low);
    high = std::max(std::ceil(high), low + 1);
    const int every = std::max(1, static_cast<int>(high - low + 9) / 10);
    for (double t = low; t <= high; t += every)
      axis.ticks.push_back(t);
  } else {
    if (high == low) {
      low -= 1;
      high += 1;
    }
    axis.ticks = nice_ticks(low, high, 8);
  }
  axis.low = low;
  axis.high = high;
  return axis;
}

std::string tick_label(const Axis& axis, double t) {
  if (!axis.log)
    return format_significant(t, 6);  // steps in full: "150000", not "1.5e+05"
  const int decade = static_cast<int>(std::lround(t));
  return decade >= -2 && decade <= 3 ? format_significant(std::pow(10.0, decade), 3)
                                     : "1e" + std::to_string(decade);
}

}  // namespace

std::string render_row_chart(const RowChart& chart, int64_t& marks) {
  check(!chart.rows.empty(), "report: chart '" + chart.title + "' has no rows");
  size_t label_chars = 0;
  for (const auto& row : chart.rows)
    label_chars = std::max(label_chars, row.label.size());
  const bool strip = std::any_of(chart.rows.begin(), chart.rows.end(),
                                 [](const ChartRow& row) { return !row.points.empty(); });
  const double row_height = strip ? 22 : 19;
  const double left = std::clamp(16.0 + 6.4 * static_cast<double>(label_chars), 110.0, 420.0);
  const double right = chart.width - 84.0;
  const double top = 58;
  const double bottom = top + row_height * static_cast<double>(chart.rows.size());
  const double height = bottom + 54;
  const Axis axis = make_axis(chart, left + 8, right - 8);

  std::ostringstream svg;
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << chart.width << "\" height=\""
      << px(height) << "\" viewBox=\"0 0 " << chart.width << " " << px(height)
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect x=\"0\" y=\"0\" width=\"" << chart.width << "\" height=\"" << px(height)
      << "\" fill=\"white\"/>\n";
  svg << "<text x=\"" << px(left) << "\" y=\"22\" font-size=\"15\">" << escape_xml(chart.title)
      << "</text>\n";

  // The legend under the title: what each kind of mark means.
  double legend_x = left;
  const double legend_y = 42;
  svg << "<g font-size=\"11\" fill=\"#333333\">\n";
  if (!chart.centre_label.empty()) {
    svg << "<line x1=\"" << px(legend_x) << "\" y1=\"" << px(legend_y) << "\" x2=\""
        << px(legend_x + 22) << "\" y2=\"" << px(legend_y) << "\" stroke=\"#555555\"/>"
        << "<circle cx=\"" << px(legend_x + 11) << "\" cy=\"" << px(legend_y)
        << "\" r=\"4\" fill=\"#555555\"/>\n";
    svg << "<text x=\"" << px(legend_x + 28) << "\" y=\"" << px(legend_y + 4) << "\">"
        << escape_xml(chart.centre_label) << "</text>\n";
    legend_x += 40 + 6.0 * static_cast<double>(chart.centre_label.size());
  }
  if (!chart.median_label.empty()) {
    svg << "<line x1=\"" << px(legend_x + 4) << "\" y1=\"" << px(legend_y - 7) << "\" x2=\""
        << px(legend_x + 4) << "\" y2=\"" << px(legend_y + 7)
        << "\" stroke=\"#222222\" stroke-width=\"2\"/>\n";
    svg << "<text x=\"" << px(legend_x + 12) << "\" y=\"" << px(legend_y + 4) << "\">"
        << escape_xml(chart.median_label) << "</text>\n";
    legend_x += 28 + 6.0 * static_cast<double>(chart.median_label.size());
  }
  if (!chart.reference_label.empty()) {
    svg << "<line x1=\"" << px(legend_x + 4) << "\" y1=\"" << px(legend_y - 7) << "\" x2=\""
        << px(legend_x + 4) << "\" y2=\"" << px(legend_y + 7)
        << "\" stroke=\"#d62728\" stroke-width=\"2\"/>\n";
    svg << "<text x=\"" << px(legend_x + 12) << "\" y=\"" << px(legend_y + 4) << "\">"
        << escape_xml(chart.reference_label) << "</text>\n";
  }
  svg << "</g>\n";

  // Row stripes, grid and tick labels.
  for (size_t r = 0; r < chart.rows.size(); r += 2) {
    svg << "<rect x=\"" << px(left) << "\" y=\"" << px(top + row_height * static_cast<double>(r))
        << "\" width=\"" << px(right - left) << "\" height=\"" << px(row_height)
        << "\" fill=\"#f4f6f8\"/>\n";
  }
  svg << "<g stroke=\"#dddddd\">\n";
  for (const double t : axis.ticks) {
    const double x = axis.left + (t - axis.low) / (axis.high - axis.low) * (axis.right - axis.left);
    svg << "<line x1=\"" << px(x) << "\" y1=\"" << px(top) << "\" x2=\"" << px(x) << "\" y2=\""
        << px(bottom) << "\"/>\n";
  }
  svg << "</g>\n<g font-size=\"11\" fill=\"#333333\" text-anchor=\"middle\">\n";
  for (const double t : axis.ticks) {
    const double x = axis.left + (t - axis.low) / (axis.high - axis.low) * (axis.right - axis.left);
    svg << "<text x=\"" << px(x) << "\" y=\"" << px(bottom + 16) << "\">"
        << escape_xml(tick_label(axis, t)) << "</text>\n";
  }
  svg << "</g>\n";
  svg << "<rect x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(right - left)
      << "\" height=\"" << px(bottom - top) << "\" fill=\"none\" stroke=\"#333333\"/>\n";
  svg << "<text x=\"" << px((left + right) / 2) << "\" y=\"" << px(bottom + 40)
      << "\" text-anchor=\"middle\">"
      << escape_xml(chart.x_label + (chart.log_x ? " (log scale)" : "")) << "</text>\n";

  marks = 0;
  for (size_t r = 0; r < chart.rows.size(); ++r) {
    const ChartRow& row = chart.rows[r];
    const double y = top + row_height * (static_cast<double>(r) + 0.5);
    const std::string colour = escape_xml(row.colour.empty() ? plot_colour(0) : row.colour);
    const std::string title = "<title>" + escape_xml(row.tooltip) + "</title>";
    svg << "<text x=\"" << px(left - 8) << "\" y=\"" << px(y + 4) << "\" text-anchor=\"end\">"
        << escape_xml(row.label) << "</text>\n";
    svg << "<text x=\"" << px(right + 8) << "\" y=\"" << px(y + 4)
        << "\" font-size=\"11\" fill=\"#555555\">" << escape_xml(row.note) << "</text>\n";
    if (axis.drawable(row.reference)) {
      svg << "<line x1=\"" << px(axis.sx(row.reference)) << "\" y1=\"" << px(y - row_height / 2)
          << "\" x2=\"" << px(axis.sx(row.reference)) << "\" y2=\"" << px(y + row_height / 2)
          << "\" stroke=\"#d62728\" stroke-width=\"2\"/>\n";
    }
    // Points jittered up and down by the golden ratio's fractions, so that equal values stay
    // visible and the same input draws the same picture.
    size_t drawn = 0;
    for (const double value : row.points) {
      if (!axis.drawable(value))
        continue;
      const double jitter = std::fmod(static_cast<double>(drawn) * 0.6180339887, 1.0) - 0.5;
      ++drawn;
      svg << "<circle class=\"mark\" cx=\"" << px(axis.sx(value)) << "\" cy=\""
          << px(y + jitter * row_height * 0.6) << "\" r=\"2.6\" fill=\"" << colour
          << "\" fill-opacity=\"0.6\">" << title << "</circle>\n";
      ++marks;
    }
    if (axis.drawable(row.median)) {
      svg << "<line x1=\"" << px(axis.sx(row.median)) << "\" y1=\"" << px(y - row_height * 0.42)
          << "\" x2=\"" << px(axis.sx(row.median)) << "\" y2=\"" << px(y + row_height * 0.42)
          << "\" stroke=\"#222222\" stroke-width=\"2\"/>\n";
    }
    if (axis.drawable(row.centre)) {
      const double low = axis.sx(row.low), high = axis.sx(row.high);
      svg << "<g class=\"mark\" stroke=\"" << colour << "\" fill=\"" << colour << "\">" << title
          << "<line x1=\"" << px(low) << "\" y1=\"" << px(y) << "\" x2=\"" << px(high) << "\" y2=\""
          << px(y) << "\" stroke-width=\"1.6\"/>"
          << "<line x1=\"" << px(low) << "\" y1=\"" << px(y - 4) << "\" x2=\"" << px(low)
          << "\" y2=\"" << px(y + 4) << "\"/>"
          << "<line x1=\"" << px(high) << "\" y1=\"" << px(y - 4) << "\" x2=\"" << px(high)
          << "\" y2=\"" << px(y + 4) << "\"/>"
          << "<circle cx=\"" << px(axis.sx(row.centre)) << "\" cy=\"" << px(y)
          << "\" r=\"4.5\" stroke=\"white\"/></g>\n";
      ++marks;
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace nalu::report

// Markdown tables and hand-written SVG line plots for experiment reports.
#include "nalu/experiments/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "nalu/error.h"
#include "nalu/strings.h"

namespace nalu {

namespace {

std::string escape_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

// A pixel coordinate with two decimals.
std::string px(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  return buffer;
}

// Distinct colours (Tableau 10 and its lighter partners), then dash patterns when there are
// more lines than colours.
const std::vector<std::string>& palette() {
  static const std::vector<std::string> kColours = {
      "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
      "#bcbd22", "#17becf", "#393b79", "#e7ba52", "#637939", "#ad494a", "#a55194", "#6b6ecf"};
  return kColours;
}
const std::vector<std::string>& dashes() {
  static const std::vector<std::string> kDashes = {"", "7 3", "2 2", "9 3 2 3"};
  return kDashes;
}

}  // namespace

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const std::string& plot_colour(size_t index) {
  return palette()[index % palette().size()];
}

std::vector<double> nice_ticks(double low, double high, int target) {
  const double raw = (high - low) / std::max(1, target);
  if (!(raw > 0))
    return {low};
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double factor : {1.0, 2.0, 5.0, 10.0}) {
    step = factor * magnitude;
    if (step >= raw)
      break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(low / step - 1e-9) * step; t <= high + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string format_significant(double value, int digits) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.*g", std::max(1, digits), value);
  return buffer;
}

std::string format_mean_sd(const std::vector<double>& values, int digits, double scale) {
  check(!values.empty(), "format_mean_sd: no values");
  double mean = 0.0;
  for (const double v : values)
    mean += v * scale;
  mean /= static_cast<double>(values.size());
  double variance = 0.0;
  for (const double v : values)
    variance += (v * scale - mean) * (v * scale - mean);
  const double sd =
      values.size() > 1 ? std::sqrt(variance / static_cast<double>(values.size() - 1)) : 0.0;
  return format_significant(mean, digits) + " ± " + format_significant(sd, 2);
}

std::string markdown_table(const std::vector<std::string>& header,
                           const std::vector<std::vector<std::string>>& rows,
                           const std::vector<Align>& align) {
  check(!header.empty(), "table: needs at least one column");
  check(align.empty() || align.size() == header.size(),
        "table: " + std::to_string(header.size()) + " columns but " + std::to_string(align.size()) +
            " alignments");
  auto line = [](const std::vector<std::string>& cells) {
    std::vector<std::string> escaped;
    for (const auto& cell : cells)
      escaped.push_back(escape_cell(cell));
    std::string text = "| ";
    text += join(escaped, " | ");
    text += " |\n";
    return text;
  };
  std::string text = line(header);
  text += "|";
  for (size_t c = 0; c < header.size(); ++c) {
    const Align a = align.empty() ? (c == 0 ? Align::kLeft : Align::kRight) : align[c];
    text += a == Align::kRight ? "--:|" : "---|";
  }
  text += "\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    check(rows[r].size() == header.size(), "table: row " + std::to_string(r) + " has " +
                                               std::to_string(rows[r].size()) +
                                               " cells, expected " + std::to_string(header.size()));
    text += line(rows[r]);
  }
  return text;
}

namespace {

// Where a plot's data lands: the axis ranges (y on the axis scale: log10 for log plots), the
// ticks and the pixel box of the plot area.
struct PlotFrame {
  bool log_y = false;
  double x_low = 0, x_high = 0, y_low = 0, y_high = 0;
  std::vector<double> x_ticks, y_ticks;  // y on the axis scale
  double left = 78, top = 42, right = 0, bottom = 0;
  static constexpr double kLegendWidth = 190;

  // y on the axis scale; NaN when it cannot be drawn.
  double scaled(double y) const {
    if (!std::isfinite(y) || (log_y && y <= 0))
      return std::numeric_limits<double>::quiet_NaN();
    return log_y ? std::log10(y) : y;
  }
  double sx(double x) const { return left + (x - x_low) / (x_high - x_low) * (right - left); }
  double sy(double t) const { return bottom - (t - y_low) / (y_high - y_low) * (bottom - top); }
};

// Checks the plot and finds its ranges, ticks and layout (title on top, axis labels left and
// below, legend on the right).
PlotFrame frame_plot(const LinePlot& plot) {
  check(plot.width >= 200 && plot.height >= 150,
        "plot: size must be at least 200 x 150 pixels, got " + std::to_string(plot.width) + " x " +
            std::to_string(plot.height));
  check(!plot.series.empty(), "plot: no series to draw");
  PlotFrame f;
  f.log_y = plot.log_y;
  double x_low = std::numeric_limits<double>::infinity(), x_high = -x_low;
  double y_low = x_low, y_high = -x_low;
  for (const auto& series : plot.series) {
    check(series.x.size() == series.y.size(),
          "plot: series '" + series.label + "' has " + std::to_string(series.x.size()) +
              " x values but " + std::to_string(series.y.size()) + " y values");
    check((series.low.empty() && series.high.empty()) ||
              (series.low.size() == series.x.size() && series.high.size() == series.x.size()),
          "plot: series '" + series.label + "' has a band of another size than its x values");
    for (size_t i = 0; i < series.x.size(); ++i) {
      check(std::isfinite(series.x[i]), "plot: series '" + series.label + "' has a non-finite x");
      const double y = f.scaled(series.y[i]);
      if (std::isnan(y))
        continue;
      x_low = std::min(x_low, series.x[i]);
      x_high = std::max(x_high, series.x[i]);
      y_low = std::min(y_low, y);
      y_high = std::max(y_high, y);
      if (!series.low.empty()) {
        for (const double edge : {f.scaled(series.low[i]), f.scaled(series.high[i])}) {
          if (!std::isnan(edge)) {
            y_low = std::min(y_low, edge);
            y_high = std::max(y_high, edge);
          }
        }
      }
    }
  }
  check(std::isfinite(y_low), "plot: no point can be drawn (every y is non-finite" +
                                  std::string(plot.log_y ? " or <= 0 on the log axis)" : ")"));
  if (x_high == x_low) {
    x_low -= 1;
    x_high += 1;
  }
  if (plot.log_y) {
    y_low = std::floor(y_low);
    y_high = std::max(std::ceil(y_high), y_low + 1);
    const int decades = static_cast<int>(y_high - y_low);
    const int every = std::max(1, (decades + 7) / 8);
    for (double t = y_low; t <= y_high; t += every)
      f.y_ticks.push_back(t);
  } else {
    if (y_high == y_low) {
      y_low -= 1;
      y_high += 1;
    }
    const double pad = 0.05 * (y_high - y_low);
    y_low -= pad;
    y_high += pad;
    f.y_ticks = nice_ticks(y_low, y_high, 6);
  }
  f.x_ticks = nice_ticks(x_low, x_high, 8);
  f.x_low = x_low;
  f.x_high = x_high;
  f.y_low = y_low;
  f.y_high = y_high;
  f.right = plot.width - PlotFrame::kLegendWidth - 16;
  f.bottom = plot.height - 58;
  check(f.right - f.left > 40 && f.bottom - f.top > 40, "plot: too small for its legend");
  return f;
}

// The SVG header, the title and the clip path of the plot area.
void draw_page(std::ostringstream& svg, const LinePlot& plot, const PlotFrame& f) {
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << std::to_string(plot.width)
      << "\" height=\"" << std::to_string(plot.height) << "\" viewBox=\"0 0 "
      << std::to_string(plot.width) << " " << std::to_string(plot.height)
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect x=\"0\" y=\"0\" width=\"" << std::to_string(plot.width) << "\" height=\""
      << std::to_string(plot.height) << "\" fill=\"white\"/>\n";
  svg << "<text x=\"" << px((f.left + f.right) / 2)
      << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" << escape_xml(plot.title)
      << "</text>\n";
  svg << "<clipPath id=\"" << escape_xml(plot.id) << "-area\"><rect x=\"" << px(f.left) << "\" y=\""
      << px(f.top) << "\" width=\"" << px(f.right - f.left) << "\" height=\""
      << px(f.bottom - f.top) << "\"/></clipPath>\n";
}

// Bands, grid, tick labels, the frame and the axis labels.
void draw_axes(std::ostringstream& svg, const LinePlot& plot, const PlotFrame& f) {
  const double left = f.left, right = f.right, top = f.top, bottom = f.bottom;
  for (const auto& band : plot.bands) {
    const double low = std::clamp(f.sx(band.low), left, right);
    const double high = std::clamp(f.sx(band.high), left, right);
    if (high > low) {
      svg << "<rect x=\"" << px(low) << "\" y=\"" << px(top) << "\" width=\"" << px(high - low)
          << "\" height=\"" << px(bottom - top) << "\" fill=\"#4a90d9\" fill-opacity=\"0.10\"/>\n";
    }
  }
  svg << "<g stroke=\"#dddddd\" stroke-width=\"1\">\n";
  for (double t : f.x_ticks)
    svg << "<line x1=\"" << px(f.sx(t)) << "\" y1=\"" << px(top) << "\" x2=\"" << px(f.sx(t))
        << "\" y2=\"" << px(bottom) << "\"/>\n";
  for (double t : f.y_ticks)
    svg << "<line x1=\"" << px(left) << "\" y1=\"" << px(f.sy(t)) << "\" x2=\"" << px(right)
        << "\" y2=\"" << px(f.sy(t)) << "\"/>\n";
  svg << "</g>\n";
  svg << "<g font-size=\"11\" fill=\"#333333\">\n";
  for (double t : f.x_ticks)
    svg << "<text x=\"" << px(f.sx(t)) << "\" y=\"" << px(bottom + 16)
        << "\" text-anchor=\"middle\">" << escape_xml(format_significant(t, 6)) << "</text>\n";
  for (double t : f.y_ticks) {
    const double value = plot.log_y ? std::pow(10.0, t) : t;
    svg << "<text x=\"" << px(left - 6) << "\" y=\"" << px(f.sy(t) + 4) << "\" text-anchor=\"end\">"
        << escape_xml(format_significant(value, plot.log_y ? 6 : 4)) << "</text>\n";
  }
  svg << "</g>\n";
  svg << "<rect x=\"" << px(left) << "\" y=\"" << px(top) << "\" width=\"" << px(right - left)
      << "\" height=\"" << px(bottom - top) << "\" fill=\"none\" stroke=\"#333333\"/>\n";
  svg << "<text x=\"" << px((left + right) / 2) << "\" y=\"" << px(bottom + 40)
      << "\" text-anchor=\"middle\">" << escape_xml(plot.x_label) << "</text>\n";
  svg << "<text transform=\"translate(18 " << px((top + bottom) / 2)
      << ") rotate(-90)\" text-anchor=\"middle\">"
      << escape_xml(plot.y_label + (plot.log_y ? " (log scale)" : "")) << "</text>\n";
}

// The colour of series s.
const std::string& series_colour(const LinePlot& plot, size_t s) {
  return plot.series[s].colour.empty() ? plot_colour(s) : plot.series[s].colour;
}

// The stroke colour and dash pattern of series s.
std::string series_style(const LinePlot& plot, size_t s) {
  std::string text = "stroke=\"";
  text += escape_xml(series_colour(plot, s));
  text += "\"";
  const auto& dash = dashes()[(s / palette().size()) % dashes().size()];
  if (!dash.empty()) {
    text += " stroke-dasharray=\"";
    text += dash;
    text += "\"";
  }
  return text;
}

// The shaded band between a series' low and high values, one polygon per run of points where
// both are drawable.
void draw_band(std::ostringstream& svg, const PlotSeries& series, const std::string& colour,
               const PlotFrame& f) {
  std::vector<std::string> upper, lower;
  auto flush = [&] {
    if (upper.size() > 1) {
      std::reverse(lower.begin(), lower.end());
      svg << "<polygon points=\"" << join(upper, " ") << " " << join(lower, " ") << "\" fill=\""
          << escape_xml(colour) << "\" fill-opacity=\"0.12\" stroke=\"none\"/>\n";
    }
    upper.clear();
    lower.clear();
  };
  for (size_t i = 0; i < series.low.size(); ++i) {
    const double low = f.scaled(series.low[i]), high = f.scaled(series.high[i]);
    if (std::isnan(low) || std::isnan(high)) {
      flush();
      continue;
    }
    upper.push_back(px(f.sx(series.x[i])) + "," + px(f.sy(high)));
    lower.push_back(px(f.sx(series.x[i])) + "," + px(f.sy(low)));
  }
  flush();
}

// One polyline per run of drawable points of each series (a lone point is a dot).
void draw_series(std::ostringstream& svg, const LinePlot& plot, const PlotFrame& f) {
  svg << "<g clip-path=\"url(#" << escape_xml(plot.id)
      << "-area)\" fill=\"none\" stroke-width=\"1.6\">\n";
  for (size_t s = 0; s < plot.series.size(); ++s) {
    const auto& series = plot.series[s];
    svg << "<g class=\"mark\" " << series_style(plot, s) << "><title>" << escape_xml(series.label)
        << "</title>\n";
    draw_band(svg, series, series_colour(plot, s), f);
    std::vector<std::string> points;
    auto flush = [&] {
      if (points.size() == 1) {
        const auto comma = points.front().find(',');
        svg << "<circle cx=\"" << points.front().substr(0, comma) << "\" cy=\""
            << points.front().substr(comma + 1) << "\" r=\"1.5\"/>\n";
      } else if (points.size() > 1) {
        svg << "<polyline points=\"" << join(points, " ") << "\"/>\n";
      }
      points.clear();
    };
    for (size_t i = 0; i < series.x.size(); ++i) {
      const double y = f.scaled(series.y[i]);
      if (std::isnan(y)) {
        flush();
        continue;
      }
      points.push_back(px(f.sx(series.x[i])) + "," + px(f.sy(y)));
    }
    flush();
    svg << "</g>\n";
  }
  svg << "</g>\n";
}

// The legend: bands, then one entry per series.
void draw_legend(std::ostringstream& svg, const LinePlot& plot, const PlotFrame& f) {
  const double legend_x = f.right + 16;
  double legend_y = f.top + 6;
  const double row = std::min(
      18.0, (f.bottom - f.top) / static_cast<double>(plot.series.size() + plot.bands.size() + 1));
  svg << "<g font-size=\"11\">\n";
  for (const auto& band : plot.bands) {
    svg << "<rect x=\"" << px(legend_x) << "\" y=\"" << px(legend_y - 5)
        << "\" width=\"24\" height=\"10\" fill=\"#4a90d9\" fill-opacity=\"0.25\"/>\n";
    svg << "<text x=\"" << px(legend_x + 30) << "\" y=\"" << px(legend_y + 4) << "\">"
        << escape_xml(band.label) << "</text>\n";
    legend_y += row;
  }
  for (size_t s = 0; s < plot.series.size(); ++s) {
    svg << "<line x1=\"" << px(legend_x) << "\" y1=\"" << px(legend_y) << "\" x2=\""
        << px(legend_x + 24) << "\" y2=\"" << px(legend_y) << "\" stroke-width=\"2\" "
        << series_style(plot, s) << "/>\n";
    svg << "<text x=\"" << px(legend_x + 30) << "\" y=\"" << px(legend_y + 4) << "\">"
        << escape_xml(plot.series[s].label) << "</text>\n";
    legend_y += row;
  }
  svg << "</g>\n";
}

}  // namespace

std::string render_svg(const LinePlot& plot) {
  const PlotFrame frame = frame_plot(plot);
  std::ostringstream svg;
  draw_page(svg, plot, frame);
  draw_axes(svg, plot, frame);  // bands under everything else
  draw_series(svg, plot, frame);
  draw_legend(svg, plot, frame);
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace nalu

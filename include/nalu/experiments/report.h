// Rendering experiment results without a plotting library: markdown tables and SVG line plots
// (log or linear y axis, a legend, shaded x ranges such as the training range). LibTorch-free.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace nalu {

/// Column alignment of a markdown table.
enum class Align { kLeft, kRight };

/// A markdown table: header, separator with alignments, rows. `align` has one entry per column
/// or is empty (first column left, the others right). Throws nalu::Error for a row or `align`
/// whose size differs from the header's; '|' in cells is escaped.
///
/// Example:
/// ```
/// nalu::markdown_table({"unit", "MAE"}, {{"nac", "0.001"}, {"relu6", "12.3"}});
/// ```
std::string markdown_table(const std::vector<std::string>& header,
                           const std::vector<std::vector<std::string>>& rows,
                           const std::vector<Align>& align = {});

/// `value` with `digits` significant digits ("0.00123", "1.2e+04"); "nan", "inf".
std::string format_significant(double value, int digits = 3);

/// "mean ± sd" of `values` times `scale`: the mean with `digits` significant digits, the sample
/// standard deviation with 2 (0 for a single value), e.g. "42.8 ± 1.9". Throws nalu::Error for
/// no values.
std::string format_mean_sd(const std::vector<double>& values, int digits = 3, double scale = 1.0);

/// `text` with '&', '<', '>' and '"' replaced by XML entities, for SVG and HTML text and
/// attribute values.
std::string escape_xml(const std::string& text);

/// The colour of the `index`-th line of a plot ("#1f77b4", ...): 16 distinct colours, then the
/// same again (render_svg dashes those lines).
const std::string& plot_colour(size_t index);

/// Axis ticks at multiples of a 1-2-5 step covering [low, high], about `target` of them.
std::vector<double> nice_ticks(double low, double high, int target);

/// One line of a plot. Points with a non-finite y (or y <= 0 on a log axis) are left out and
/// break the line. `low` and `high`, when given (one per x), shade the band between them under
/// the line, e.g. the quartiles around a median over seeds.
struct PlotSeries {
  // A constructor rather than an aggregate, so that {label, x, y} leaves the band and the
  // colour empty without -Wmissing-field-initializers.
  PlotSeries(std::string label_ = {}, std::vector<double> x_ = {}, std::vector<double> y_ = {})
      : label(std::move(label_)), x(std::move(x_)), y(std::move(y_)) {}
  std::string label;
  std::vector<double> x, y;
  std::vector<double> low, high;  // empty, or one per x
  std::string colour;             // empty: plot_colour of the series' position
};

/// A shaded band over the x range [low, high], labelled in the legend.
struct PlotBand {
  double low = 0.0, high = 0.0;
  std::string label;
};

/// A line plot.
///
/// Example:
/// ```
/// nalu::LinePlot plot;
/// plot.title = "Mean absolute error";
/// plot.x_label = "x";
/// plot.y_label = "MAE";
/// plot.log_y = true;
/// plot.series.push_back({"relu6", xs, errors});
/// plot.bands.push_back({-5, 5, "training range"});
/// std::string svg = nalu::render_svg(plot);
/// ```
struct LinePlot {
  std::string title, x_label, y_label;
  bool log_y = false;
  std::vector<PlotSeries> series;
  std::vector<PlotBand> bands;
  int width = 900, height = 560;  // pixels, legend included
  /// Prefix of the ids inside the SVG; plots inlined into one HTML page need distinct ones.
  std::string id = "plot";
};

/// The plot as a standalone SVG document; each series is one group with class "mark". Throws
/// nalu::Error for no series, x and y (or a band) of different sizes, no plottable point,
/// non-finite x, or a size under 200 x 150 pixels.
std::string render_svg(const LinePlot& plot);

}  // namespace nalu

// Dot and strip charts with one labelled row per cell (operation x unit x range): a success
// rate as a dot with its interval's whiskers, or a run's values as jittered points with a
// median and a reference tick. The report's own figures; line plots come from render_svg.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace nalu::report {

struct ChartRow {
  std::string label;                           // left of the row
  std::string note;                            // right of the row, e.g. "7/10"
  std::string colour;                          // of the row's marks
  std::string tooltip;                         // shown on hovering the row's marks
  std::vector<double> points;                  // one mark each; undrawable values are left out
  double centre = NAN, low = NAN, high = NAN;  // a dot with whiskers: one mark
  double median = NAN;                         // a dark tick over the points
  double reference = NAN;                      // a red tick, e.g. the success threshold
};

struct RowChart {
  std::string id, title, x_label;
  bool log_x = false;
  double x_min = NAN, x_max = NAN;  // the axis range; from the data where NaN
  std::vector<ChartRow> rows;
  std::string centre_label, median_label, reference_label;  // legend entries, when used
  int width = 900;
};

/// The chart as a standalone SVG document, and the number of its marks. Throws nalu::Error for
/// a chart without rows.
std::string render_row_chart(const RowChart& chart, int64_t& marks);

}  // namespace nalu::report

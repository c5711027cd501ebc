// Markdown tables and SVG plots of experiment reports: layout, escaping, well-formed XML, lines
// broken at undrawable points, and errors for what cannot be drawn.
#include "nalu/experiments/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "nalu/error.h"
#include "test_util.h"
#include "xml_util.h"

namespace nalu {
namespace {

using testing::well_formed;

size_t count(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<size_t>(std::count(names.begin(), names.end(), name));
}

TEST(FormatMeanSd, GivesMeanAndSampleDeviation) {
  EXPECT_EQ(nalu::format_mean_sd({1.0, 2.0, 3.0}), "2 ± 1");
  EXPECT_EQ(nalu::format_mean_sd({0.25, 0.75}, 3, 100.0), "50 ± 35");
  EXPECT_EQ(nalu::format_mean_sd({7.0}), "7 ± 0");
  EXPECT_THROW(nalu::format_mean_sd({}), nalu::Error);
}

TEST(MarkdownTable, AlignsAndEscapes) {
  EXPECT_EQ(markdown_table({"unit", "MAE"}, {{"nac", "0.001"}, {"a|b", "12"}}),
            "| unit | MAE |\n|---|--:|\n| nac | 0.001 |\n| a\\|b | 12 |\n");
  EXPECT_EQ(markdown_table({"a", "b"}, {}, {Align::kRight, Align::kLeft}),
            "| a | b |\n|--:|---|\n");
  EXPECT_THROW_WITH(markdown_table({"a", "b"}, {{"1"}}), "table: row 0 has 1 cells, expected 2");
  EXPECT_THROW_WITH(markdown_table({"a"}, {}, {Align::kLeft, Align::kLeft}),
                    "table: 1 columns but 2 alignments");
  EXPECT_EQ(format_significant(0.0012345), "0.00123");
  EXPECT_EQ(format_significant(std::nan("")), "nan");
}

TEST(SvgPlot, IsWellFormedWithOneLinePerSeries) {
  LinePlot plot;
  plot.title = "errors <x> & \"y\"";
  plot.x_label = "x";
  plot.y_label = "MAE";
  plot.log_y = true;
  plot.bands.push_back({-5, 5, "training range"});
  for (int s = 0; s < 20; ++s) {  // more series than colours
    PlotSeries series{"series " + std::to_string(s) + " <&>", {}, {}};
    for (int i = -20; i <= 20; ++i) {
      series.x.push_back(i);
      series.y.push_back(std::pow(10.0, s % 5) * (1 + std::abs(i)));
    }
    plot.series.push_back(series);
  }
  const std::string svg = render_svg(plot);
  std::vector<std::string> elements;
  ASSERT_TRUE(well_formed(svg, elements)) << svg;
  EXPECT_EQ(elements.front(), "svg");
  EXPECT_EQ(count(elements, "polyline"), 20u);
  EXPECT_NE(svg.find("errors &lt;x&gt; &amp; &quot;y&quot;"), std::string::npos);
  EXPECT_NE(svg.find("series 19 &lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);  // series 16..19 are dashed
  EXPECT_NE(svg.find("training range"), std::string::npos);
}

TEST(SvgPlot, BreaksLinesAtPointsItCannotDraw) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  LinePlot plot;
  plot.log_y = true;
  // Non-finite and non-positive values (on a log axis) split the line in three parts; a lone
  // point becomes a dot.
  plot.series.push_back({"a", {0, 1, 2, 3, 4, 5, 6, 7}, {1, 2, nan, 3, 4, 0, 5, -1}});
  std::vector<std::string> elements;
  ASSERT_TRUE(well_formed(render_svg(plot), elements));
  EXPECT_EQ(count(elements, "polyline"), 2u);
  EXPECT_EQ(count(elements, "circle"), 1u);
  plot.log_y = false;  // 0 and -1 are drawable on a linear axis
  elements.clear();
  ASSERT_TRUE(well_formed(render_svg(plot), elements));
  EXPECT_EQ(count(elements, "polyline"), 2u);
  EXPECT_EQ(count(elements, "circle"), 0u);
}

TEST(SvgPlot, RejectsWhatCannotBeDrawn) {
  LinePlot plot;
  EXPECT_THROW_WITH(render_svg(plot), "plot: no series to draw");
  plot.series.push_back({"a", {0, 1}, {1}});
  EXPECT_THROW_WITH(render_svg(plot), "plot: series 'a' has 2 x values but 1 y values");
  plot.series[0] = {"a", {0, 1}, {-1, 0}};
  plot.log_y = true;
  EXPECT_THROW_WITH(render_svg(plot), "plot: no point can be drawn");
  plot.series[0] = {"a", {0, std::nan("")}, {1, 2}};
  EXPECT_THROW_WITH(render_svg(plot), "plot: series 'a' has a non-finite x");
  plot.series[0] = {"a", {0, 1}, {1, 2}};
  plot.width = 10;
  EXPECT_THROW_WITH(render_svg(plot), "plot: size must be at least 200 x 150 pixels");
}

}  // namespace
}  // namespace nalu

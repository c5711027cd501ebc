// The results page of `nalu report` from synthetic records: the marks of each figure (one dot per
// cell, one point per run, one line per unit with thinned points), escaping, determinism,
// experiment records, and errors that name the file.
#include "nalu/report/html.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nalu/error.h"
#include "test_util.h"
#include "xml_util.h"

namespace nalu {
namespace {

using nlohmann::json;
using testing::well_formed;

size_t occurrences(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++count;
  return count;
}

// A bench record as `nalu bench` writes it, with `evaluations` evaluations in its history.
json bench_record(const std::string& operation, const std::string& unit, const std::string& range,
                  int seed, bool success, int evaluations = 11,
                  const std::string& formula = "y0 = x0 + x1") {
  static int index = 0;
  json history = json::array();
  for (int e = 0; e < evaluations; ++e) {
    const double error = std::pow(10.0, -e % 8) * (seed + 1);
    history.push_back({{"step", e * 100},
                       {"interpolation_mse", error},
                       {"extrapolation_mse", 10 * error},
                       {"train_loss", error}});
  }
  const double extrapolation = success ? 1e-9 * (seed + 1) : 0.5 * (seed + 1);
  return {{"bench",
           {{"operation", operation},
            {"unit", unit},
            {"range", range},
            {"index", index++},
            {"success", success},
            {"solved_at", success ? json(300 * (seed + 1)) : json()},
            {"threshold", 1e-5}}},
          {"best", {{"interpolation_mse", 1e-10}, {"extrapolation_mse", extrapolation}}},
          {"final_formula", {{"lines", {formula}}}},
          {"history", history},
          {"config",
           {{"seed", seed},
            {"engine", "auto"},
            {"task", {{"input_size", 2}}},
            {"training", {{"iterations", 1000}, {"eval_interval", 100}}}}},
          {"kind", "train"},
          {"nalu_version", "0.1.0"},
          {"run_id", operation + "/" + unit + "/" + range + "/seed=" + std::to_string(seed)},
          {"seed", seed},
          {"status", "ok"}};
}

// add: nau 3/3, nmu 1/3; mul: nmu 0/2 — three cells, eight runs, four successes.
RecordFile demo_file() {
  RecordFile file{"results/demo-abc1234.jsonl", {}};
  for (int seed = 0; seed < 3; ++seed)
    file.records.push_back(bench_record("add", "nau", "1:2->2:6", seed, true));
  for (int seed = 0; seed < 3; ++seed)
    file.records.push_back(bench_record("add", "nmu", "1:2->2:6", seed, seed == 0));
  for (int seed = 0; seed < 2; ++seed)
    file.records.push_back(bench_record("mul", "nmu", "1:2->2:6", seed, false));
  return file;
}

const ReportFigure& figure_named(const std::vector<ReportFigure>& figures,
                                 const std::string& name) {
  for (const auto& figure : figures) {
    if (figure.name == name)
      return figure;
  }
  static const ReportFigure kNone;
  ADD_FAILURE() << "no figure " << name;
  return kNone;
}

TEST(HtmlReport, DrawsOneDotPerCellAndOnePointPerRun) {
  const auto figures = report_figures({demo_file()});
  for (const auto& figure : figures) {
    std::vector<std::string> elements;
    ASSERT_TRUE(well_formed(figure.svg, elements)) << figure.name;
    EXPECT_EQ(occurrences(figure.svg, "class=\"mark\""), static_cast<size_t>(figure.marks))
        << figure.name;
  }
  EXPECT_EQ(figure_named(figures, "demo-abc1234-success").marks, 3);
  EXPECT_EQ(figure_named(figures, "demo-abc1234-solved-at").marks, 4);      // the successes
  EXPECT_EQ(figure_named(figures, "demo-abc1234-extrapolation").marks, 8);  // every run
  // The success chart labels each cell and gives its count.
  const std::string& success = figure_named(figures, "demo-abc1234-success").svg;
  EXPECT_NE(success.find(">3/3<"), std::string::npos);
  EXPECT_NE(success.find(">1/3<"), std::string::npos);
  EXPECT_NE(success.find(">0/2<"), std::string::npos);
  // Learning curves: one panel per operation and metric, one line per unit (and the threshold).
  EXPECT_EQ(figure_named(figures, "demo-abc1234-curve-add-interpolation").marks, 2);
  EXPECT_EQ(figure_named(figures, "demo-abc1234-curve-add-extrapolation").marks, 3);
  EXPECT_EQ(figure_named(figures, "demo-abc1234-curve-mul-interpolation").marks, 1);
}

TEST(HtmlReport, ThinsLongHistories) {
  RecordFile file{"long.jsonl", {}};
  for (int seed = 0; seed < 2; ++seed)
    file.records.push_back(bench_record("add", "nau", "1:2->2:6", seed, true, 1000));
  ReportOptions options;
  options.max_curve_points = 50;
  const auto figures = report_figures({file}, options);
  const auto& curve = figure_named(figures, "long-curve-add-interpolation");
  // One polyline of 50 points (the history's values are all drawable on the log axis).
  const auto at = curve.svg.find("<polyline points=\"");
  ASSERT_NE(at, std::string::npos);
  const std::string points = curve.svg.substr(at, curve.svg.find('"', at + 18) - at);
  EXPECT_EQ(occurrences(points, ","), 50u);
  EXPECT_EQ(occurrences(curve.svg, "<polyline"), 1u);
  EXPECT_EQ(occurrences(curve.svg, "<polygon"), 1u);  // the quartile band of the two seeds
}

TEST(HtmlReport, PoolsRangesAndLabelsThemWhenThereAreSeveral) {
  RecordFile file{"ranges.jsonl", {}};
  for (const std::string range : {"1:2->2:6", "-2:-1->-6:-2"}) {
    for (int seed = 0; seed < 2; ++seed)
      file.records.push_back(bench_record("mul", "nmu", range, seed, seed == 0));
  }
  const auto figures = report_figures({file});
  EXPECT_EQ(figure_named(figures, "ranges-success").marks, 2);
  EXPECT_EQ(figure_named(figures, "ranges-success-pooled").marks, 1);
  EXPECT_NE(figure_named(figures, "ranges-success").svg.find("[-2:-1-&gt;-6:-2]"),
            std::string::npos);
  EXPECT_NE(figure_named(figures, "ranges-success-pooled").svg.find(">2/4<"), std::string::npos);
}

TEST(HtmlReport, EscapesTextFromRecords) {
  RecordFile file{"odd <&\">.jsonl", {}};
  file.records.push_back(
      bench_record("add", "u<&\"", "1:2->2:6", 0, true, 5, "y0 = x0 < x1 & \"x2\""));
  const std::string html = render_html_report({file});
  EXPECT_EQ(html.find("u<&\""), std::string::npos);
  EXPECT_EQ(html.find("x0 < x1"), std::string::npos);
  EXPECT_NE(html.find("u&lt;&amp;&quot;"), std::string::npos);
  EXPECT_NE(html.find("y0 = x0 &lt; x1 &amp; &quot;x2&quot;"), std::string::npos);
  EXPECT_NE(html.find("odd &lt;&amp;&quot;&gt;.jsonl"), std::string::npos);
  for (const auto& figure : report_figures({file})) {
    std::vector<std::string> elements;
    EXPECT_TRUE(well_formed(figure.svg, elements)) << figure.name;
  }
}

TEST(HtmlReport, IsTheSameForTheSameRecords) {
  const RecordFile file = demo_file();
  const std::string html = render_html_report({file});
  EXPECT_EQ(html, render_html_report({file}));
  EXPECT_EQ(occurrences(html, "data-chart=\""), report_figures({file}).size());
  // Provenance: the commit from the file name and an equivalent command.
  EXPECT_NE(html.find("abc1234 (from the file name"), std::string::npos);
  EXPECT_NE(html.find("nalu bench --ops add,mul --units nau,nmu --seeds 3 --iterations 1000 "
                      "--eval-interval 100 --input-size 2 --output demo-abc1234.jsonl"),
            std::string::npos);
  ReportOptions options;
  options.preset_names = {"demo", "division"};
  EXPECT_NE(render_html_report({file}, options).find("nalu bench --preset demo --ops"),
            std::string::npos);
}

TEST(HtmlReport, ShowsExperimentRecordsAsTablesAndSeries) {
  RecordFile file{"toy-quick.jsonl", {}};
  for (const std::string family : {"a", "b"}) {
    for (int seed = 0; seed < 2; ++seed) {
      json lengths = json::array();
      for (int length = 1; length <= 4; ++length)
        lengths.push_back(
            {{"length", length}, {"accuracy", 1.0 / length + seed}, {"sequences", 10}});
      json curve = json::array();
      for (int i = 0; i < 12; ++i)
        curve.push_back(i * i + seed);
      file.records.push_back({{"experiment", "toy"},
                              {"family", family},
                              {"seed", seed},
                              {"seconds", 1.5},
                              {"test", {{"exact", 0.25 * seed}}},
                              {"lengths", lengths},
                              {"curve", curve},
                              {"replicates", {0.5, 0.7}},
                              {"config", {{"seed", 0}}},
                              {"version", "0.1.0"}});
    }
  }
  const auto figures = report_figures({file});
  // "lengths: accuracy" and "curve"; the constant "lengths: sequences" is left out, and the two
  // replicates are no series (the table has their mean).
  ASSERT_EQ(figures.size(), 2u);
  const auto& accuracy = figure_named(figures, "toy-quick-toy-lengths-accuracy");
  EXPECT_EQ(accuracy.marks, 2);  // one line per family, the median of its two seeds
  EXPECT_NE(accuracy.svg.find("a (n=2)"), std::string::npos);
  EXPECT_EQ(figure_named(figures, "toy-quick-toy-curve").marks, 2);
  const std::string html = render_html_report({file});
  EXPECT_NE(html.find("<th>test.exact</th>"), std::string::npos);
  // What every record has alike is said once, not given a column.
  EXPECT_NE(html.find("The same in every record: replicates (mean) 0.6, seconds 1.5."),
            std::string::npos);
  EXPECT_EQ(html.find("<th>seconds</th>"), std::string::npos);
  EXPECT_NE(html.find("nalu experiment toy --quick"), std::string::npos);
}

TEST(HtmlReport, NamesTheFileOfBadInput) {
  EXPECT_THROW_WITH(render_html_report({RecordFile{"empty.jsonl", {}}}), "empty.jsonl: no records");
  RecordFile bad = demo_file();
  bad.name = "bad.jsonl";
  bad.records[1]["bench"]["success"] = "yes";
  EXPECT_THROW_WITH(render_html_report({bad}), "bad.jsonl: table: record 2: 'success' must be");
  bad.records[1] = json::array();
  EXPECT_THROW_WITH(report_figures({bad}), "bad.jsonl: a record is not a JSON object");
}

}  // namespace
}  // namespace nalu

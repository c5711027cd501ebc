// nalu::fit_table: formulas of several shapes, written into CSV files here, are recovered
// exactly (the printed Python form, evaluated by the test's own parser, reproduces every row),
// tables without an arithmetic formula are not called exact, and bad requests are refused
// before any training.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "formula_eval.h"
#include "nalu/io/csv.h"
#include "nalu/sweep/fit.h"
#include "test_util.h"

namespace {

using Row = std::vector<double>;

// A CSV file of `rows` rows: inputs x0..x{n-1} uniform in [low, high), and y = f(x), written
// with 17 significant digits and read back as a user's file would be.
nalu::io::Table make_table(const nalu::testing::TempDir& dir, int64_t inputs, double low,
                           double high, const std::function<double(const Row&)>& f,
                           int64_t rows = 400, uint32_t seed = 1) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<double> uniform(low, high);
  std::ostringstream text;
  text.precision(17);
  for (int64_t i = 0; i < inputs; ++i)
    text << "x" << i << ",";
  text << "y\n";
  for (int64_t r = 0; r < rows; ++r) {
    Row x;
    for (int64_t i = 0; i < inputs; ++i) {
      x.push_back(uniform(engine));
      text << x.back() << ",";
    }
    text << f(x) << "\n";
  }
  const auto path = (dir.path / "table.csv").string();
  std::ofstream(path) << text.str();
  return nalu::io::read_csv(path);
}

nalu::FitOptions quick_options() {
  nalu::FitOptions options;
  options.jobs = 2;
  return options;
}

// Fits y with the default unit specs and checks the verdict, the printed formula (one of
// `pretty`: terms and factors may come in either order), and that the ASCII form reproduces
// every row of the table.
void expect_recovered(const nalu::io::Table& table, const std::vector<std::string>& pretty) {
  const auto fit = nalu::fit_table(table, "y", {}, quick_options());
  ASSERT_EQ(fit.verdict, nalu::FitVerdict::kExact)
      << "chosen " << fit.chosen().unit << ": " << fit.lines().back();
  EXPECT_NE(std::find(pretty.begin(), pretty.end(), fit.lines().back()), pretty.end())
      << fit.lines().back();
  const auto ascii = fit.ascii_lines();
  const int64_t inputs = static_cast<int64_t>(table.columns.size()) - 1;
  for (int64_t r = 0; r < table.rows(); ++r) {
    Row x;
    for (int64_t i = 0; i < inputs; ++i)
      x.push_back(table.at(r, i));
    const double y = table.at(r, inputs);
    const double value = nalu::testing::AsciiEvaluator::run(ascii, x).front();
    ASSERT_NEAR(value, y, 1e-9 * (std::abs(y) + 1)) << "row " << r << ": " << ascii.back();
  }
}

TEST(Fit, RecoversASignedSum) {
  nalu::testing::TempDir dir;
  expect_recovered(make_table(dir, 3, -10, 10, [](const Row& x) { return x[0] + x[1] - x[2]; }),
                   {"y = x0 + x1 − x2"});
}

TEST(Fit, RecoversAProduct) {
  nalu::testing::TempDir dir;
  expect_recovered(make_table(dir, 3, 1, 10, [](const Row& x) { return x[0] * x[2]; }),
                   {"y = x0 · x2"});
}

TEST(Fit, RecoversAProductOfASum) {
  nalu::testing::TempDir dir;
  expect_recovered(make_table(dir, 3, 1, 10, [](const Row& x) { return (x[0] + x[1]) * x[2]; }),
                   {"y = (x0 + x1) · x2", "y = x2 · (x0 + x1)"});
}

TEST(Fit, RecoversARatio) {
  nalu::testing::TempDir dir;
  expect_recovered(make_table(dir, 2, 1, 10, [](const Row& x) { return x[0] / x[1]; }),
                   {"y = x0 · x1⁻¹"});
}

TEST(Fit, RecoversASquareMinusAnInput) {
  nalu::testing::TempDir dir;
  expect_recovered(make_table(dir, 2, -5, 5, [](const Row& x) { return x[0] * x[0] - x[1]; }),
                   {"y = −x1 + x0²"});
}

TEST(Fit, RecoversASumOfAProduct) {
  nalu::testing::TempDir dir;
  expect_recovered(make_table(dir, 3, 1, 10, [](const Row& x) { return x[0] * x[1] + x[2]; }),
                   {"y = x0 · x1 + x2", "y = x2 + x0 · x1"});
}

TEST(Fit, CallsNoFormulaExactWhereThereIsNone) {
  nalu::testing::TempDir dir;
  const auto fit =
      nalu::fit_table(make_table(dir, 2, 1, 10, [](const Row& x) { return std::sin(x[0]) + x[1]; }),
                      "y", {}, quick_options());
  EXPECT_EQ(fit.verdict, nalu::FitVerdict::kNone) << fit.lines().back();
  // Noise of 0.1%: the product is found, but not exactly.
  std::mt19937 engine(3);
  std::normal_distribution<double> noise(0.0, 1e-3);
  const auto noisy = nalu::fit_table(
      make_table(dir, 2, 1, 10, [&](const Row& x) { return x[0] * x[1] * (1 + noise(engine)); }),
      "y", {}, quick_options());
  EXPECT_EQ(noisy.verdict, nalu::FitVerdict::kApproximate) << noisy.lines().back();
  EXPECT_EQ(noisy.lines().back(), "y = x0 · x1");
}

TEST(Fit, NamesColumnsAndPicksInputs) {
  const auto table = nalu::io::parse_csv(
      "mass (kg),unused,2nd,y\n1,5,2,2\n2,1,3,6\n3,7,1,3\n4,2,2,8\n5,3,4,20\n6,9,1,6\n7,1,2,14\n"
      "8,4,3,24\n9,2,1,9\n10,8,2,20\n",
      "t.csv");
  nalu::FitOptions options = quick_options();
  options.units = {"nmu"};
  options.seeds = 2;
  options.iterations = 20'000;
  const auto fit = nalu::fit_table(table, "y", {"mass (kg)", "2nd"}, options);
  EXPECT_EQ(fit.inputs, (std::vector<std::string>{"mass (kg)", "2nd"}));
  EXPECT_EQ(fit.runs.size(), 2u);
  EXPECT_EQ(fit.lines().back(), "y = mass (kg) · 2nd") << fit.chosen().formula.str();
  EXPECT_EQ(fit.ascii_lines().back(), "y = mass_kg*_2nd");
  const auto json = nalu::fit_to_json(fit, options);
  EXPECT_EQ(json["kind"], "fit");
  EXPECT_EQ(json["verdict"], "exact");
  EXPECT_EQ(json["split"]["holdout"], 2);
  EXPECT_EQ(json["chosen"]["config"]["task"]["name"], "table");
}

TEST(Fit, BothEnginesTrainATableAlike) {
  nalu::testing::TempDir dir;
  const auto table = make_table(
      dir, 3, 1, 10, [](const Row& x) { return x[0] * x[1]; }, 200);
  nalu::FitOptions options = quick_options();
  options.units = {"nau,nmu"};
  options.seeds = 1;
  options.iterations = 3'000;
  options.engine = "torch";
  const auto torch_fit = nalu::fit_table(table, "y", {}, options);
  options.engine = "fused";
  const auto fused_fit = nalu::fit_table(table, "y", {}, options);
  ASSERT_EQ(torch_fit.chosen().engine, "torch");
  ASSERT_EQ(fused_fit.chosen().engine, "fused");
  // The same batches and evaluation rows: the same trajectory up to float rounding.
  EXPECT_NEAR(fused_fit.chosen().validation_mse, torch_fit.chosen().validation_mse,
              1e-3 * torch_fit.chosen().validation_mse);
  EXPECT_NEAR(fused_fit.chosen().holdout_mse, torch_fit.chosen().holdout_mse,
              1e-3 * torch_fit.chosen().holdout_mse);
}

TEST(Fit, PythonNamesAreIdentifiers) {
  EXPECT_EQ(nalu::python_name("mass (kg)"), "mass_kg");
  EXPECT_EQ(nalu::python_name("2nd"), "_2nd");
  EXPECT_EQ(nalu::python_name("exp"), "exp_");
  EXPECT_EQ(nalu::python_name("lambda"), "lambda_");
  EXPECT_EQ(nalu::python_name("a-b"), "a_b");
  EXPECT_EQ(nalu::python_name("%"), "_");
}

TEST(Fit, RefusesBadRequestsBeforeTraining) {
  const auto table = nalu::io::parse_csv("a,b,y\n1,2,3\n2,3,5\n3,4,7\n4,5,9\n", "t.csv");
  nalu::FitOptions options;
  EXPECT_THROW_WITH(nalu::fit_table(table, "z", {}, options),
                    "no column 'z'; the table has a, b, y");
  EXPECT_THROW_WITH(nalu::fit_table(table, "y", {"a", "a"}, options), "named twice");
  EXPECT_THROW_WITH(nalu::fit_table(table, "y", {"a", "y"}, options), "'y' is the target");
  EXPECT_THROW_WITH(nalu::fit_table(table, "y", {"q"}, options), "no column 'q'");
  const auto only = nalu::io::parse_csv("y\n1\n2\n3\n", "t.csv");
  EXPECT_THROW_WITH(nalu::fit_table(only, "y", {}, options), "only the target column");
  const auto few = nalu::io::parse_csv("a,y\n1,2\n2,3\n", "t.csv");
  EXPECT_THROW_WITH(nalu::fit_table(few, "y", {}, options), "2 rows are too few");
  const auto huge = nalu::io::parse_csv("a,y\n1,2\n2,3\n3,1e39\n", "t.csv");
  EXPECT_THROW_WITH(nalu::fit_table(huge, "y", {}, options),
                    "row 3, column 'y': 1e+39 is beyond single precision");
  options.units = {"nmru|nau"};
  EXPECT_THROW_WITH(nalu::fit_table(table, "y", {}, options), "list them with commas");
  options.units = {"nau,bogus"};
  EXPECT_THROW_WITH(nalu::fit_table(table, "y", {}, options), "unit spec 'nau,bogus'");
  options.units = {"nau"};
  options.seeds = 0;
  EXPECT_THROW_WITH(nalu::fit_table(table, "y", {}, options), "seeds must be positive");
}

}  // namespace

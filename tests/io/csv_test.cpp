// CSV tables of numbers: what parses, and an error naming the line and column for every kind of
// bad table.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nalu/error.h"
#include "nalu/io/csv.h"
#include "test_util.h"

namespace {

using nalu::io::parse_csv;

TEST(Csv, ParsesHeaderAndNumbers) {
  const auto t = parse_csv("a,b,y\n1,2,3\n-4.5,+6e2,1e-3\n", "t.csv");
  ASSERT_EQ(t.columns, (std::vector<std::string>{"a", "b", "y"}));
  ASSERT_EQ(t.rows(), 2);
  EXPECT_EQ(t.at(0, 2), 3.0);
  EXPECT_EQ(t.at(1, 0), -4.5);
  EXPECT_EQ(t.at(1, 1), 600.0);
  EXPECT_EQ(t.at(1, 2), 1e-3);
  EXPECT_EQ(t.column("b"), 1);
}

TEST(Csv, AcceptsQuotesCrLfBomBlankLinesAndSpaces) {
  const auto t = parse_csv(
      "\xEF\xBB\xBF\"mass, kg\", \"say \"\"hi\"\"\" ,y\r\n"
      "\r\n"
      " 1 , \"2\" ,3\r\n"
      "\n"
      "4,5,6",
      "t.csv");
  ASSERT_EQ(t.columns, (std::vector<std::string>{"mass, kg", "say \"hi\"", "y"}));
  ASSERT_EQ(t.rows(), 2);
  EXPECT_EQ(t.at(0, 0), 1.0);
  EXPECT_EQ(t.at(0, 1), 2.0);
  EXPECT_EQ(t.at(1, 2), 6.0);
}

TEST(Csv, ReadsNumbersExactly) {
  const auto t = parse_csv("x\n0.1\n3.141592653589793\n1.7976931348623157e308\n", "t.csv");
  EXPECT_EQ(t.at(0, 0), 0.1);
  EXPECT_EQ(t.at(1, 0), 3.141592653589793);
  EXPECT_EQ(t.at(2, 0), 1.7976931348623157e308);
}

TEST(Csv, BadTablesNameTheLineAndColumn) {
  EXPECT_THROW_WITH(parse_csv("", "t.csv"), "t.csv: empty file");
  EXPECT_THROW_WITH(parse_csv("\n  \n", "t.csv"), "t.csv: empty file");
  EXPECT_THROW_WITH(parse_csv("a,b\n", "t.csv"), "t.csv: the table has a header but no rows");
  EXPECT_THROW_WITH(parse_csv("a,b\n1,2\n3\n", "t.csv"),
                    "t.csv:3: the row has 1 cells, the header 2");
  EXPECT_THROW_WITH(parse_csv("a,b\n1,2,3\n", "t.csv"), "t.csv:2: the row has 3 cells");
  EXPECT_THROW_WITH(parse_csv("a,b\n1,2\n\n3,x1\n", "t.csv"),
                    "t.csv:4:2 (column 'b'): 'x1' is not a number");
  EXPECT_THROW_WITH(parse_csv("a,b\n1,2abc\n", "t.csv"), "'2abc' is not a number");
  EXPECT_THROW_WITH(parse_csv("a,b\n1,\n", "t.csv"), "t.csv:2:2 (column 'b'): empty cell");
  EXPECT_THROW_WITH(parse_csv("a,b\n,1\n", "t.csv"), "t.csv:2:1 (column 'a'): empty cell");
  EXPECT_THROW_WITH(parse_csv("a,b\n1,nan\n", "t.csv"), "'nan' is not a finite number");
  EXPECT_THROW_WITH(parse_csv("a,b\n-inf,1\n", "t.csv"), "'-inf' is not a finite number");
  EXPECT_THROW_WITH(parse_csv("a,b\n1e999,1\n", "t.csv"), "out of the range of a double");
  EXPECT_THROW_WITH(parse_csv("a,a\n1,2\n", "t.csv"),
                    "t.csv:1:2: the header names column 'a' twice");
  EXPECT_THROW_WITH(parse_csv("a,,c\n1,2,3\n", "t.csv"), "t.csv:1:2: the header has an empty");
  EXPECT_THROW_WITH(parse_csv("a,b\n1,\"2\n", "t.csv"), "t.csv:2: a quoted cell is never closed");
  EXPECT_THROW_WITH(parse_csv("a,b\n1,\"2\"x\n", "t.csv"), "t.csv:2:2: text after a closing quote");
  const auto t = parse_csv("a,b\n1,2\n", "t.csv");
  EXPECT_THROW_WITH(t.column("z"), "no column 'z'; the table has a, b");
}

TEST(Csv, ReadsFilesAndRefusesMissingOnes) {
  nalu::testing::TempDir dir;
  const auto path = (dir.path / "t.csv").string();
  std::ofstream(path) << "a,y\n1,2\n";
  EXPECT_EQ(nalu::io::read_csv(path).at(0, 1), 2.0);
  EXPECT_THROW_WITH(nalu::io::read_csv((dir.path / "none.csv").string()), "cannot read");
  EXPECT_THROW_WITH(nalu::io::read_csv(dir.path.string()), "a directory");
}

}  // namespace

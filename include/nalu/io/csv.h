// Reading a numeric table from CSV (RFC 4180: a header row, comma-separated cells, cells quoted
// with '"' when they hold a comma, a quote or a line break). Every cell below the header must be
// a finite number. Errors name the file, the line and the column.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nalu::io {

/// A table of numbers with named columns, stored row-major.
struct Table {
  std::vector<std::string> columns;
  std::vector<double> values;  // rows() * columns.size()

  int64_t rows() const;
  double at(int64_t row, int64_t column) const;
  /// The index of column `name`; throws nalu::Error naming the columns there are.
  int64_t column(const std::string& name) const;
};

/// Parses CSV `text`; `source` names it in errors ("data.csv:4:2 (column 'b'): 'abc' is not a
/// number"). Throws nalu::Error for an empty text, a header without names or with a name twice,
/// a row whose cell count differs from the header's, an empty or non-numeric cell, NaN or an
/// infinite value, an unterminated quote, and a table without data rows. Lines are counted from
/// 1 (the header); blank lines are skipped; "\r\n" line ends and a UTF-8 byte order mark are
/// accepted; spaces around a cell are ignored.
///
/// Example:
/// ```
/// nalu::io::Table table = nalu::io::parse_csv("a,b,y\n1,2,3\n2,5,7\n", "inline");
/// double y = table.at(1, table.column("y"));  // 7
/// ```
Table parse_csv(std::string_view text, const std::string& source);
/// Reads and parses the file at `path`; throws nalu::Error when it cannot be read.
Table read_csv(const std::string& path);

}  // namespace nalu::io

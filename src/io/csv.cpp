// CSV tables of numbers (csv.h).
#include "nalu/io/csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "nalu/error.h"
#include "nalu/strings.h"

namespace nalu::io {

namespace {

// One cell as written and the line it starts on.
struct Cell {
  std::string text;
  int64_t line = 0;
  bool quoted = false;
};

// Splits `text` into records of cells, following RFC 4180's quoting; skips blank lines.
class Reader {
 public:
  Reader(std::string_view text, const std::string& source) : text_(text), source_(source) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF")
      text_.remove_prefix(3);
  }

  // The next record's cells, or false at the end of the text.
  bool next(std::vector<Cell>& cells, int64_t& line) {
    cells.clear();
    // Blank lines (nothing or only spaces) between records are skipped.
    while (at_ < text_.size()) {
      size_t end = at_;
      while (end < text_.size() && (text_[end] == ' ' || text_[end] == '\t' || text_[end] == '\r'))
        ++end;
      if (end < text_.size() && text_[end] != '\n')
        break;
      at_ = end == text_.size() ? end : end + 1;
      ++line_;
    }
    if (at_ >= text_.size())
      return false;
    line = line_;
    Cell cell;
    cell.line = line_;
    bool after_quote = false;  // a quoted cell ended; only spaces may follow before ',' or '\n'
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '"' && !after_quote && trimmed_empty(cell.text) && !cell.quoted) {
        cell.quoted = true;
        cell.text.clear();
        read_quoted(cell);
        after_quote = true;
      } else if (c == ',') {
        cells.push_back(std::move(cell));
        cell = Cell{};
        cell.line = line_;
        after_quote = false;
      } else if (c == '\n') {
        ++line_;
        cells.push_back(std::move(cell));
        return true;
      } else if (c == '\r' && (at_ == text_.size() || text_[at_] == '\n')) {
        // part of a "\r\n" line end
      } else if (after_quote) {
        if (c != ' ' && c != '\t')
          fail(line_, cells.size(), "text after a closing quote");
      } else {
        cell.text += c;
      }
    }
    cells.push_back(std::move(cell));
    return true;
  }

  [[noreturn]] void fail(int64_t line, size_t column, const std::string& what) const {
    throw Error(source_ + ":" + std::to_string(line) + ":" + std::to_string(column + 1) + ": " +
                what);
  }

 private:
  static bool trimmed_empty(const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; });
  }

  // The rest of a quoted cell after its opening quote: "" is a quote, the cell may span lines.
  void read_quoted(Cell& cell) {
    const int64_t start = line_;
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '"') {
        if (at_ < text_.size() && text_[at_] == '"') {
          cell.text += '"';
          ++at_;
          continue;
        }
        return;
      }
      if (c == '\n')
        ++line_;
      cell.text += c;
    }
    throw Error(source_ + ":" + std::to_string(start) + ": a quoted cell is never closed");
  }

  std::string_view text_;
  const std::string& source_;
  size_t at_ = 0;
  int64_t line_ = 1;
};

std::string trim(const std::string& text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos)
    return "";
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

// A cell shown in an error: quoted, and cut short when long.
std::string shown(const std::string& text) {
  return "'" + (text.size() > 40 ? text.substr(0, 37) + "..." : text) + "'";
}

}  // namespace

int64_t Table::rows() const {
  return columns.empty() ? 0 : static_cast<int64_t>(values.size() / columns.size());
}

double Table::at(int64_t row, int64_t column) const {
  return values[static_cast<size_t>(row) * columns.size() + static_cast<size_t>(column)];
}

int64_t Table::column(const std::string& name) const {
  const auto found = std::find(columns.begin(), columns.end(), name);
  if (found == columns.end())
    throw Error("no column '" + name + "'; the table has " + join(columns, ", "));
  return found - columns.begin();
}

Table parse_csv(std::string_view text, const std::string& source) {
  Reader reader(text, source);
  std::vector<Cell> cells;
  int64_t line = 0;
  if (!reader.next(cells, line))
    throw Error(source + ": empty file (a header row and at least one row of numbers expected)");

  Table table;
  std::set<std::string> names;
  for (size_t c = 0; c < cells.size(); ++c) {
    std::string name = cells[c].quoted ? cells[c].text : trim(cells[c].text);
    if (name.empty())
      reader.fail(line, c, "the header has an empty column name");
    if (!names.insert(name).second)
      reader.fail(line, c, "the header names column '" + name + "' twice");
    table.columns.push_back(std::move(name));
  }

  while (reader.next(cells, line)) {
    if (cells.size() != table.columns.size()) {
      throw Error(source + ":" + std::to_string(line) + ": the row has " +
                  std::to_string(cells.size()) + " cells, the header " +
                  std::to_string(table.columns.size()));
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string cell = trim(cells[c].text);
      const std::string where = source + ":" + std::to_string(cells[c].line) + ":" +
                                std::to_string(c + 1) + " (column '" + table.columns[c] + "'): ";
      if (cell.empty())
        throw Error(where + "empty cell");
      double value = 0.0;
      const char* begin = cell.data();
      const char* end = begin + cell.size();
      if (*begin == '+')
        ++begin;  // from_chars takes no leading '+'
      const auto [stop, error] = std::from_chars(begin, end, value);
      if (error == std::errc::result_out_of_range)
        throw Error(where + shown(cell) + " is out of the range of a double");
      if (error != std::errc() || stop != end)
        throw Error(where + shown(cell) + " is not a number");
      if (!std::isfinite(value))
        throw Error(where + shown(cell) + " is not a finite number");
      table.values.push_back(value);
    }
  }
  if (table.values.empty())
    throw Error(source + ": the table has a header but no rows of numbers");
  return table;
}

Table read_csv(const std::string& path) {
  std::error_code error;
  check(!std::filesystem::is_directory(path, error), "cannot read '" + path + "': a directory");
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), "cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  check(!in.bad(), "cannot read '" + path + "'");
  return parse_csv(text.str(), path);
}

}  // namespace nalu::io

// libFuzzer target for CSV tables as `nalu fit` reads them: parse the text, look up its columns
// and check what a parsed table promises (a rectangle of finite numbers under unique names).
// Any input must either go through or fail with one nalu::Error; another exception, a crash,
// undefined behaviour or a broken promise is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "fuzz_util.h"
#include "nalu/error.h"
#include "nalu/io/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto table = nalu::io::parse_csv(nalu::fuzz::as_text(data, size), "fuzz-input");
    const std::set<std::string> names(table.columns.begin(), table.columns.end());
    if (table.columns.empty() || names.size() != table.columns.size() || table.rows() < 1 ||
        table.values.size() != static_cast<size_t>(table.rows()) * table.columns.size())
      std::abort();
    for (const double value : table.values) {
      if (!std::isfinite(value))
        std::abort();
    }
    for (size_t c = 0; c < table.columns.size(); ++c) {
      if (table.column(table.columns[c]) != static_cast<int64_t>(c))
        std::abort();
    }
  } catch (const nalu::Error&) {
    // Bad input, reported the way the library promises.
  }
  return 0;
}

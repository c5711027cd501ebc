// libFuzzer target for JSON Lines record files as `nalu bench table` reads them: parse the
// records, collect their run ids, summarise and render the table. Any input must either go
// through or fail with one nalu::Error; another exception, a crash, undefined behaviour or a
// huge allocation is a finding.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "nalu/error.h"
#include "nalu/sweep/records.h"
#include "nalu/sweep/table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const auto records = nalu::parse_records(in, "fuzz-input");
    nalu::recorded_ids(records);
    const auto rows = nalu::summarize(records);
    for (const char* format : {"markdown", "csv", "json"})
      nalu::render_table(rows, format);
  } catch (const nalu::Error&) {
    // Bad input, reported the way the library promises.
  }
  return 0;
}

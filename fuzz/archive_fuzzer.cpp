// libFuzzer target for nalu's binary archives (checkpoints and saved models): parse the input as
// it is and with its checksum fixed up, read every array by its type, and check that what was
// parsed survives a write and a second read. Any input must parse or fail with one nalu::Error;
// another exception, a crash, undefined behaviour or a huge allocation is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "nalu/error.h"
#include "nalu/io/archive.h"

namespace {

void read_every_array(const nalu::io::Archive& archive) {
  for (const auto& array : archive.arrays) {
    switch (array.dtype) {
      case nalu::io::DType::kFloat32:
        array.floats();
        break;
      case nalu::io::DType::kFloat64:
        array.doubles();
        break;
      case nalu::io::DType::kInt64:
        array.int64s();
        break;
      case nalu::io::DType::kUInt8:
        break;
    }
  }
}

void parse_and_round_trip(const std::string& bytes) {
  nalu::io::Archive archive;
  try {
    archive = nalu::io::Archive::parse(bytes, "fuzz-input");
  } catch (const nalu::Error&) {
    return;  // bad input, reported the way the library promises
  }
  read_every_array(archive);
  // An archive that was read must write and read back with the same arrays; a failure here is
  // a reader that accepted what the writer cannot express.
  const auto again = nalu::io::Archive::parse(archive.serialize(), "round trip");
  if (again.kind != archive.kind || again.arrays.size() != archive.arrays.size())
    __builtin_trap();
  for (size_t i = 0; i < archive.arrays.size(); ++i) {
    const auto &a = archive.arrays[i], &b = again.arrays[i];
    if (a.name != b.name || a.dtype != b.dtype || a.shape != b.shape || a.bytes != b.bytes)
      __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(nalu::fuzz::as_text(data, size));
  parse_and_round_trip(input);
  parse_and_round_trip(nalu::fuzz::with_archive_checksum(input));
  return 0;
}

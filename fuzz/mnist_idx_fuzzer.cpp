// libFuzzer target for the MNIST IDX reader (nalu::data::load_mnist_idx), plain or gzip. The
// first input byte picks the file under test, the rest is its content: even, the images file
// (with a labels file of as many zero labels as its header announces, up to 4096); odd, the
// labels file (with an images file of one blank image). Any input must load or fail with one
// nalu::Error; another exception, a crash, undefined behaviour or a huge allocation is a
// finding. The reader takes only paths, hence the files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "nalu/data/mnist.h"
#include "nalu/error.h"

namespace {

std::string big_endian(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

// A labels file announcing `count` labels, all 0.
std::string zero_labels(uint32_t count) {
  return big_endian(0x00000801) + big_endian(count) + std::string(count, '\0');
}

// An images file holding one blank 28x28 image.
std::string one_blank_image() {
  return big_endian(0x00000803) + big_endian(1) + big_endian(28) + big_endian(28) +
         std::string(nalu::data::kMnistPixels, '\0');
}

// The image count an images file's header announces, when it is plain and small enough to
// write as many labels; otherwise 1 (the reader then finds the mismatch or fails earlier).
uint32_t announced_images(std::string_view images) {
  constexpr uint32_t kMaxLabels = 4096;
  if (images.size() < 8)
    return 1;
  const auto* bytes = reinterpret_cast<const unsigned char*>(images.data());
  const uint32_t count = (uint32_t{bytes[4]} << 24) | (uint32_t{bytes[5]} << 16) |
                         (uint32_t{bytes[6]} << 8) | uint32_t{bytes[7]};
  return count <= kMaxLabels ? count : 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nalu::fuzz::ScratchDir scratch;
  if (size == 0)
    return 0;
  const bool fuzz_labels = data[0] % 2 == 1;
  const std::string_view content = nalu::fuzz::as_text(data + 1, size - 1);
  const std::string images = scratch.write(
      "images-idx3-ubyte", fuzz_labels ? std::string_view(one_blank_image()) : content);
  const std::string labels = scratch.write(
      "labels-idx1-ubyte",
      fuzz_labels ? content : std::string_view(zero_labels(announced_images(content))));
  try {
    const auto digits = nalu::data::load_mnist_idx(images, labels);
    digits.validate();
    digits.class_counts();
  } catch (const nalu::Error&) {
    // Bad input, reported the way the library promises.
  }
  return 0;
}

// PNG encoding through libpng's simplified API (nalu/io/png.h).
#include "nalu/io/png.h"

#include <png.h>

#include <string>

#include "nalu/error.h"

namespace nalu::io {

std::string encode_png(int64_t width, int64_t height, const std::vector<uint8_t>& rgb) {
  constexpr int64_t kLargest = 1 << 16;
  check(width >= 1 && height >= 1 && width <= kLargest && height <= kLargest,
        "png: the image must be 1 to 65536 pixels per side, got " + std::to_string(width) + " x " +
            std::to_string(height));
  check(static_cast<int64_t>(rgb.size()) == width * height * 3,
        "png: expected " + std::to_string(width * height * 3) + " bytes of RGB, got " +
            std::to_string(rgb.size()));
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  png_alloc_size_t bytes = 0;
  // First call: the size of the encoding; second: the encoding.
  check(png_image_write_to_memory(&image, nullptr, &bytes, 0, rgb.data(), 0, nullptr) != 0,
        std::string("png: ") + image.message);
  std::string out(bytes, '\0');
  check(png_image_write_to_memory(&image, out.data(), &bytes, 0, rgb.data(), 0, nullptr) != 0,
        std::string("png: ") + image.message);
  out.resize(bytes);
  return out;
}

}  // namespace nalu::io

// PNG images from 8-bit RGB pixels (libpng), for figures that are pictures rather than plots:
// the grid world's episode strips. LibTorch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nalu::io {

/// The PNG encoding of `rgb` (row-major, 3 bytes per pixel, height rows of width pixels).
/// Throws nalu::Error for a size under 1 x 1 or over 2^16 per side, or a buffer whose size is
/// not width * height * 3.
std::string encode_png(int64_t width, int64_t height, const std::vector<uint8_t>& rgb);

}  // namespace nalu::io

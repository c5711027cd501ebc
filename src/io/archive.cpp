// nalu's binary container (include/nalu/io/archive.h).
#include "nalu/io/archive.h"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "nalu/error.h"
#include "nalu/io/files.h"

namespace nalu::io {

static_assert(std::endian::native == std::endian::little,
              "nalu archives store little-endian bytes and are read by memcpy");

namespace {

constexpr char kMagic[8] = {'N', 'A', 'L', 'U', 'A', 'R', 'C', 'H'};
constexpr size_t kPrefix = 24;  // magic, version, reserved, header length
constexpr size_t kChecksum = 8;
// No nalu archive comes near this; a larger file is not one of ours.
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;

template <typename T>
void append_pod(std::string& out, T value) {
  char buffer[sizeof(T)];
  std::memcpy(buffer, &value, sizeof(T));
  out.append(buffer, sizeof(T));
}

template <typename T>
T read_pod(std::string_view bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

DType parse_dtype(const std::string& name, const std::string& what) {
  for (const DType d : {DType::kFloat32, DType::kFloat64, DType::kInt64, DType::kUInt8}) {
    if (name == dtype_name(d))
      return d;
  }
  throw Error(what + ": unknown array type '" + name + "'");
}

template <typename T>
std::vector<T> values_of(const Array& array, DType expected, const std::string& what) {
  if (array.dtype != expected) {
    std::string message = what;
    message += ": array '";
    message += array.name;
    message += "' holds ";
    message += dtype_name(array.dtype);
    message += ", not ";
    message += dtype_name(expected);
    throw Error(message);
  }
  std::vector<T> values(array.bytes.size() / sizeof(T));
  if (!values.empty())
    std::memcpy(values.data(), array.bytes.data(), values.size() * sizeof(T));
  return values;
}

template <typename T>
Array make_array(const std::string& name, DType dtype, const std::vector<T>& values,
                 std::vector<int64_t> shape) {
  Array array;
  array.name = name;
  array.dtype = dtype;
  array.shape =
      shape.empty() ? std::vector<int64_t>{static_cast<int64_t>(values.size())} : std::move(shape);
  array.bytes.assign(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  return array;
}

// Elements of `shape`, or -1 when a dimension is negative or the product overflows `limit`.
int64_t checked_numel(const std::vector<int64_t>& shape, uint64_t limit) {
  uint64_t count = 1;
  for (const int64_t d : shape) {
    if (d < 0)
      return -1;
    if (d != 0 && count > limit / static_cast<uint64_t>(d))
      return -1;
    count *= static_cast<uint64_t>(d);
  }
  return static_cast<int64_t>(count);
}

}  // namespace

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return "f32";
    case DType::kFloat64:
      return "f64";
    case DType::kInt64:
      return "i64";
    case DType::kUInt8:
      return "u8";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return 4;
    case DType::kFloat64:
    case DType::kInt64:
      return 8;
    case DType::kUInt8:
      return 1;
  }
  return 1;
}

int64_t Array::numel() const {
  return static_cast<int64_t>(bytes.size() / dtype_size(dtype));
}

std::vector<float> Array::floats() const {
  return values_of<float>(*this, DType::kFloat32, "archive");
}
std::vector<double> Array::doubles() const {
  return values_of<double>(*this, DType::kFloat64, "archive");
}
std::vector<int64_t> Array::int64s() const {
  return values_of<int64_t>(*this, DType::kInt64, "archive");
}

void Archive::add_array(Array array) {
  check(!has(array.name), source + ": array '" + array.name + "' added twice");
  const int64_t numel = checked_numel(array.shape, std::numeric_limits<uint32_t>::max());
  check(numel >= 0 && static_cast<uint64_t>(numel) * dtype_size(array.dtype) == array.bytes.size(),
        source + ": array '" + array.name + "' has a shape that does not match its values");
  arrays.push_back(std::move(array));
}

void Archive::add(const std::string& name, const std::vector<float>& values,
                  std::vector<int64_t> shape) {
  add_array(make_array(name, DType::kFloat32, values, std::move(shape)));
}
void Archive::add(const std::string& name, const std::vector<double>& values,
                  std::vector<int64_t> shape) {
  add_array(make_array(name, DType::kFloat64, values, std::move(shape)));
}
void Archive::add(const std::string& name, const std::vector<int64_t>& values,
                  std::vector<int64_t> shape) {
  add_array(make_array(name, DType::kInt64, values, std::move(shape)));
}
void Archive::add_bytes(const std::string& name, std::string bytes) {
  Array array;
  array.name = name;
  array.dtype = DType::kUInt8;
  array.shape = {static_cast<int64_t>(bytes.size())};
  array.bytes = std::move(bytes);
  add_array(std::move(array));
}

bool Archive::has(const std::string& name) const {
  for (const auto& array : arrays) {
    if (array.name == name)
      return true;
  }
  return false;
}

const Array& Archive::get(const std::string& name) const {
  for (const auto& array : arrays) {
    if (array.name == name)
      return array;
  }
  throw Error(source + ": no array '" + name + "'");
}

std::string Archive::serialize() const {
  nlohmann::json table = nlohmann::json::array();
  uint64_t offset = 0;
  for (const auto& array : arrays) {
    table.push_back({{"name", array.name},
                     {"dtype", dtype_name(array.dtype)},
                     {"shape", array.shape},
                     {"offset", offset},
                     {"bytes", array.bytes.size()}});
    offset += array.bytes.size();
  }
  const nlohmann::json header = {{"kind", kind}, {"meta", meta}, {"arrays", table}};
  const std::string text = header.dump();
  std::string out(kMagic, sizeof kMagic);
  append_pod<uint32_t>(out, kVersion);
  append_pod<uint32_t>(out, 0);
  append_pod<uint64_t>(out, text.size());
  out += text;
  for (const auto& array : arrays)
    out += array.bytes;
  append_pod<uint64_t>(out, fnv1a64(out));
  return out;
}

Archive Archive::parse(std::string_view bytes, const std::string& what) {
  check(bytes.size() >= kPrefix + kChecksum && std::memcmp(bytes.data(), kMagic, 8) == 0,
        what + ": not a nalu archive (no NALUARCH signature)");
  const auto version = read_pod<uint32_t>(bytes, 8);
  if (version != kVersion) {
    throw Error(what + ": archive format version " + std::to_string(version) +
                "; this nalu reads version " + std::to_string(kVersion));
  }
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksum);
  check(read_pod<uint64_t>(bytes, body.size()) == fnv1a64(body),
        what + ": damaged archive (checksum mismatch: truncated or corrupted)");
  const auto header_bytes = read_pod<uint64_t>(bytes, 16);
  check(header_bytes <= body.size() - kPrefix,
        what + ": damaged archive (header longer than the file)");
  const std::string_view data = body.substr(kPrefix + header_bytes);

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(body.substr(kPrefix, header_bytes));
  } catch (const nlohmann::json::exception&) {
    throw Error(what + ": damaged archive (its header is not valid JSON)");
  }
  const auto bad = [&](const std::string& why) {
    return Error(what + ": bad archive header: " + why);
  };
  if (!header.is_object() || !header.contains("kind") || !header["kind"].is_string() ||
      !header.contains("meta") || !header["meta"].is_object() || !header.contains("arrays") ||
      !header["arrays"].is_array())
    throw bad("expected an object with kind, meta and arrays");

  Archive archive(header["kind"].get<std::string>());
  archive.source = what;
  archive.meta = std::move(header["meta"]);
  std::set<std::string> names;
  for (const auto& entry : header["arrays"]) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
        !entry.contains("dtype") || !entry["dtype"].is_string() || !entry.contains("shape") ||
        !entry["shape"].is_array() || !entry.contains("offset") ||
        !entry["offset"].is_number_unsigned() || !entry.contains("bytes") ||
        !entry["bytes"].is_number_unsigned())
      throw bad("an array entry lacks name, dtype, shape, offset or bytes");
    Array array;
    array.name = entry["name"].get<std::string>();
    check(names.insert(array.name).second,
          what + ": bad archive header: array '" + array.name + "' appears twice");
    array.dtype = parse_dtype(entry["dtype"].get<std::string>(), what);
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_integer())
        throw bad("array '" + array.name + "' has a non-integer dimension");
      array.shape.push_back(d.get<int64_t>());
    }
    const auto offset = entry["offset"].get<uint64_t>();
    const auto size = entry["bytes"].get<uint64_t>();
    const int64_t numel = checked_numel(array.shape, data.size());
    if (offset > data.size() || size > data.size() - offset || numel < 0 ||
        static_cast<uint64_t>(numel) * dtype_size(array.dtype) != size)
      throw bad("array '" + array.name + "' does not fit the file or its shape");
    array.bytes.assign(data.substr(offset, size));
    archive.arrays.push_back(std::move(array));
  }
  return archive;
}

void write_archive(const std::string& path, const Archive& archive) {
  write_file_atomically(path, archive.serialize());
}

Archive read_archive(const std::string& path, const std::string& kind) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file)
    throw Error("cannot read '" + path + "': " + std::strerror(errno));
  const std::streamoff size = file.tellg();
  check(size >= 0, "cannot read '" + path + "'");
  check(static_cast<uint64_t>(size) <= kMaxFileBytes,
        path + ": " + std::to_string(size) + " bytes is larger than any nalu archive");
  std::string bytes(static_cast<size_t>(size), '\0');
  file.seekg(0);
  check(static_cast<bool>(file.read(bytes.data(), size)), "cannot read '" + path + "'");
  Archive archive = Archive::parse(bytes, path);
  if (!kind.empty() && archive.kind != kind) {
    throw Error(path + ": a nalu " + (archive.kind.empty() ? "(unnamed)" : archive.kind) +
                " archive, not a " + kind);
  }
  return archive;
}

}  // namespace nalu::io

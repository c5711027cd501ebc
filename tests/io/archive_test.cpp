// nalu's binary container: round trips, and every kind of damage gives one clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "nalu/error.h"
#include "nalu/io/archive.h"

namespace {

using nalu::io::Archive;

Archive sample() {
  Archive archive("checkpoint");
  archive.meta["step"] = 1234;
  archive.meta["engine"] = "fused";
  archive.add("weights", std::vector<float>{0.5f, -1.0f, NAN, -0.0f, 1e-30f, 3e38f}, {2, 3});
  archive.add("history", std::vector<double>{1.0, NAN, -INFINITY});
  archive.add("counts", std::vector<int64_t>{7, -1});
  archive.add_bytes("generator", std::string("\0\1\2\3", 4));
  archive.add("empty", std::vector<float>{});
  return archive;
}

std::string error_of(const std::string& bytes) {
  try {
    Archive::parse(bytes, "x.ckpt");
  } catch (const nalu::Error& e) {
    return e.what();
  }
  return "";
}

// Rewrites the trailing checksum so that a deliberate edit inside the file is not caught by it
// and reaches the structural checks.
std::string reseal(std::string bytes) {
  const uint64_t hash = nalu::io::fnv1a64(std::string_view(bytes).substr(0, bytes.size() - 8));
  std::memcpy(bytes.data() + bytes.size() - 8, &hash, 8);
  return bytes;
}

TEST(Archive, RoundTripsEveryTypeBitForBit) {
  const Archive original = sample();
  const Archive back = Archive::parse(original.serialize(), "x.ckpt");
  EXPECT_EQ(back.kind, "checkpoint");
  EXPECT_EQ(back.meta, original.meta);
  ASSERT_EQ(back.arrays.size(), original.arrays.size());
  for (size_t i = 0; i < back.arrays.size(); ++i) {
    EXPECT_EQ(back.arrays[i].name, original.arrays[i].name);
    EXPECT_EQ(back.arrays[i].shape, original.arrays[i].shape);
    EXPECT_EQ(back.arrays[i].bytes, original.arrays[i].bytes) << back.arrays[i].name;
  }
  const auto weights = back.get("weights").floats();
  ASSERT_EQ(weights.size(), 6u);
  EXPECT_TRUE(std::isnan(weights[2]));
  EXPECT_TRUE(std::signbit(weights[3]));
  EXPECT_EQ(weights[5], 3e38f);
  EXPECT_EQ(back.get("counts").int64s(), (std::vector<int64_t>{7, -1}));
  EXPECT_TRUE(std::isinf(back.get("history").doubles()[2]));
  EXPECT_EQ(back.get("generator").bytes, std::string("\0\1\2\3", 4));
  // The same content serialises to the same bytes: saved models can be compared with cmp.
  EXPECT_EQ(sample().serialize(), original.serialize());
}

TEST(Archive, WrongTypeOrMissingArrayIsAnError) {
  const Archive back = Archive::parse(sample().serialize(), "x.ckpt");
  EXPECT_THROW(back.get("weights").doubles(), nalu::Error);
  try {
    back.get("nope");
    FAIL();
  } catch (const nalu::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no array 'nope'"), std::string::npos) << e.what();
  }
  Archive archive("x");
  EXPECT_THROW(archive.add("a", std::vector<float>{1, 2, 3}, {2, 2}), nalu::Error);
  archive.add("a", std::vector<float>{1});
  EXPECT_THROW(archive.add("a", std::vector<float>{1}), nalu::Error);
}

TEST(Archive, EveryTruncationIsRejected) {
  const std::string bytes = sample().serialize();
  for (size_t length = 0; length < bytes.size(); ++length) {
    const std::string message = error_of(bytes.substr(0, length));
    EXPECT_FALSE(message.empty()) << "truncated to " << length << " bytes was accepted";
  }
}

TEST(Archive, EveryFlippedByteIsRejected) {
  const std::string bytes = sample().serialize();
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x20);
    EXPECT_FALSE(error_of(damaged).empty()) << "flipping byte " << i << " was not detected";
  }
}

TEST(Archive, NamesTheProblem) {
  EXPECT_NE(error_of("hello world, this is not an archive at all").find("not a nalu archive"),
            std::string::npos);
  std::string bytes = sample().serialize();
  std::string newer = bytes;
  newer[8] = 2;
  EXPECT_NE(error_of(reseal(newer)).find("format version 2; this nalu reads version 1"),
            std::string::npos)
      << error_of(reseal(newer));
  std::string damaged = bytes;
  damaged[bytes.size() / 2] ^= 1;
  EXPECT_NE(error_of(damaged).find("checksum mismatch"), std::string::npos);
}

TEST(Archive, HostileHeadersFailWithoutHugeAllocations) {
  // A well-sealed file whose header claims an array far larger than the file.
  Archive archive("checkpoint");
  archive.add("w", std::vector<float>{1, 2});
  std::string bytes = archive.serialize();
  const std::string needle = "[2]";
  const auto at = bytes.find(needle);
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, needle.size(), "[9]");
  EXPECT_NE(error_of(reseal(bytes)).find("does not fit"), std::string::npos);

  // A header length near 2^64.
  std::string huge = archive.serialize();
  const uint64_t length = ~uint64_t{0} - 3;
  std::memcpy(huge.data() + 16, &length, 8);
  EXPECT_NE(error_of(reseal(huge)).find("header longer than the file"), std::string::npos);

  // Shapes whose product overflows.
  Archive other("checkpoint");
  other.add("w", std::vector<float>{1});
  std::string overflow = other.serialize();
  const auto shape = overflow.find("[1]");
  ASSERT_NE(shape, std::string::npos);
  overflow.replace(shape, 3, "[4294967296,4294967296]");
  // The header grew: fix its length field, then the checksum.
  uint64_t header = 0;
  std::memcpy(&header, overflow.data() + 16, 8);
  header += std::string("[4294967296,4294967296]").size() - 3;
  std::memcpy(overflow.data() + 16, &header, 8);
  EXPECT_NE(error_of(reseal(overflow)).find("does not fit"), std::string::npos)
      << error_of(reseal(overflow));
}

TEST(Archive, FilesAreWrittenAtomicallyAndKindIsChecked) {
  const auto dir = std::filesystem::temp_directory_path() / "nalu_archive_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "run.ckpt").string();
  nalu::io::write_archive(path, sample());
  EXPECT_EQ(nalu::io::read_archive(path, "checkpoint").meta["step"], 1234);
  try {
    nalu::io::read_archive(path, "model");
    FAIL();
  } catch (const nalu::Error& e) {
    EXPECT_NE(std::string(e.what()).find("a nalu checkpoint archive, not a model"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(nalu::io::read_archive((dir / "missing.ckpt").string()), nalu::Error);
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir))
    ++files;
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace

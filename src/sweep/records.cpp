// JSON Lines record files.
#include "nalu/sweep/records.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "nalu/error.h"

namespace nalu {

std::vector<nlohmann::json> read_records(const std::string& path, bool missing_ok) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    check(missing_ok, "cannot read '" + path + "': no such file");
    return {};
  }
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "cannot read '" + path + "': " + std::strerror(errno));
  return parse_records(in, path);
}

std::vector<nlohmann::json> parse_records(std::istream& in, const std::string& source) {
  std::vector<nlohmann::json> records;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    check(!record.is_discarded(), source + ":" + std::to_string(number) +
                                      ": not valid JSON (a truncated or corrupted record?)");
    check(record.is_object(),
          source + ":" + std::to_string(number) + ": a record must be a JSON object");
    records.push_back(std::move(record));
  }
  return records;
}

std::set<std::string> recorded_ids(const std::vector<nlohmann::json>& records) {
  std::set<std::string> ids;
  for (const auto& record : records) {
    if (record.contains("run_id") && record["run_id"].is_string())
      ids.insert(record["run_id"]);
  }
  return ids;
}

void append_record(const std::string& path, const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  check(fd >= 0, "cannot write '" + path + "': " + std::strerror(errno));
  // One write() of the whole line: with O_APPEND it lands after every earlier record.
  const ssize_t written = ::write(fd, line.data(), line.size());
  const int saved_errno = errno;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  check(written == static_cast<ssize_t>(line.size()),
        "cannot write '" + path + "': " + std::strerror(written < 0 ? saved_errno : ENOSPC));
  check(synced, "cannot write '" + path + "': " + std::strerror(errno));
}

std::vector<nlohmann::json> merge_records(const std::vector<std::string>& paths) {
  check(!paths.empty(), "merge: no input file given");
  std::vector<nlohmann::json> merged;
  std::set<std::string> seen;
  for (const auto& path : paths) {
    for (auto& record : read_records(path)) {
      check(record.contains("run_id") && record["run_id"].is_string(),
            path + ": a record has no run_id (is it a bench record?)");
      if (seen.insert(record["run_id"].get<std::string>()).second)
        merged.push_back(std::move(record));
    }
  }
  return merged;
}

}  // namespace nalu

// Every numeric flag of every subcommand, driven in-process through nalu::cli::run with values
// at and around the limits of the types behind them (docs/reliability.md, "Limits"). Each
// command must either refuse the value (exit code 2, one line on stderr), or run, and then its
// record says what was asked. A run that the value makes long (two billion iterations, say) is
// stopped after a few seconds as Ctrl-C would stop it, and must then end cleanly (exit 130,
// one line).
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "interrupt.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// 1, then the limits: 0, -1, 2^31 - 1, 2^31, 2^32, 2^63 - 1, NaN, +-inf, 1e308, non-numbers,
// and the first values past int64 and uint64.
const std::vector<std::string> kValues = {"1",
                                          "0",
                                          "-1",
                                          "2147483647",
                                          "2147483648",
                                          "4294967296",
                                          "9223372036854775807",
                                          "9223372036854775808",
                                          "18446744073709551616",
                                          "nan",
                                          "inf",
                                          "-inf",
                                          "1e308",
                                          "abc",
                                          "1.5",
                                          ""};

struct Outcome {
  int code = -1;
  std::string out, err;
};

// Runs one command; after `patience` seconds asks it to stop, as a first Ctrl-C would.
Outcome run_cli(const std::vector<std::string>& args, double patience) {
  std::vector<const char*> argv{"nalu"};
  for (const auto& arg : args)
    argv.push_back(arg.c_str());
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mutex);
    if (!finished.wait_for(lock, std::chrono::duration<double>(patience), [&] { return done; }))
      nalu::cli::request_stop();
  });
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  Outcome outcome;
  outcome.code = nalu::cli::run(static_cast<int>(argv.size()), argv.data());
  std::fflush(nullptr);
  outcome.out = testing::internal::GetCapturedStdout();
  outcome.err = testing::internal::GetCapturedStderr();
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
  }
  finished.notify_all();
  watchdog.join();
  return outcome;
}

size_t line_count(const std::string& text) {
  size_t lines = 0;
  for (char c : text)
    lines += c == '\n' ? 1 : 0;
  return lines;
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::vector<json> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<json> records;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty())
      records.push_back(json::parse(line));
  }
  return records;
}

// What the record of an accepted value must hold; empty: nothing beyond exit code 0.
using RecordCheck = std::function<void(const std::string& value, const Outcome& outcome)>;

struct FlagCase {
  std::string flag;
  RecordCheck check;
  bool may_diverge = false;  // --inject-nan: a NaN at step V is the flag's purpose
};

// Exact equality of a record field with the number the flag was given.
void expect_integer(const json& field, const std::string& value) {
  ASSERT_TRUE(field.is_number_integer()) << field.dump();
  if (value.front() == '-')
    EXPECT_EQ(field.get<int64_t>(), std::stoll(value));
  else
    EXPECT_EQ(field.get<uint64_t>(), std::stoull(value));
}

void expect_real(const json& field, const std::string& value) {
  ASSERT_TRUE(field.is_number()) << field.dump();
  EXPECT_EQ(field.get<double>(), std::strtod(value.c_str(), nullptr));
}

class CliFlags : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("nalu_flags_" + std::to_string(::getpid()) + "_" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Every value of kValues on every flag; `base` makes an accepted run take well under a second.
  void sweep(const std::vector<std::string>& base, const std::vector<FlagCase>& cases,
             const fs::path& record, double patience = 3.0) {
    int accepted = 0, refused = 0, stopped = 0;
    for (const auto& c : cases) {
      for (const auto& value : kValues) {
        fs::remove_all(record);
        // The flag replaces the base's value of it, if the base sets one.
        std::vector<std::string> args;
        for (size_t i = 0; i < base.size(); ++i) {
          if (base[i] == c.flag)
            ++i;
          else
            args.push_back(base[i]);
        }
        args.push_back(c.flag + "=" + value);
        const Outcome outcome = run_cli(args, patience);
        if (std::getenv("NALU_FLAGS_DEBUG") != nullptr) {
          std::fprintf(stderr, "%s=%s -> %d %s", c.flag.c_str(), value.c_str(), outcome.code,
                       outcome.err.c_str());
        }
        SCOPED_TRACE(c.flag + "=" + value + " -> exit " + std::to_string(outcome.code) +
                     ", stderr: " + outcome.err.substr(0, 300));
        if (outcome.code == 2) {
          ++refused;
          EXPECT_EQ(line_count(outcome.err), 1u);
          EXPECT_EQ(outcome.err.rfind("nalu: error: ", 0), 0u);
          continue;
        }
        if (outcome.code == 130) {
          // Stopped by the watchdog: the value asked for a long run, and it stopped cleanly.
          ++stopped;
          EXPECT_EQ(line_count(outcome.err), 1u);
          EXPECT_TRUE(outcome.err.find("stopped") != std::string::npos ||
                      outcome.err.find("interrupted") != std::string::npos);
          continue;
        }
        if (outcome.code == 1 && c.may_diverge) {
          EXPECT_NE(outcome.err.find("diverged"), std::string::npos);
          continue;
        }
        ASSERT_EQ(outcome.code, 0);
        ++accepted;
        if (c.check)
          c.check(value, outcome);
      }
    }
    // The sweep reached both sides: some values ran, some were refused.
    EXPECT_GT(accepted + stopped, 0);
    EXPECT_GT(refused, 0);
  }

  fs::path dir_;
};

TEST_F(CliFlags, TrainRefusesOrRecordsEveryValue) {
  const fs::path record = dir_ / "run.json";
  const std::vector<std::string> base = {"train", "--op",         "add",      "--unit",
                                         "nau",   "--input-size", "4",        "--iterations",
                                         "3",     "--eval-size",  "16",       "--eval-interval",
                                         "2",     "-q",           "--output", record.string()};
  auto field = [record](std::vector<std::string> path, bool real = false) -> RecordCheck {
    return [record, path, real](const std::string& value, const Outcome&) {
      json node = read_json(record)["config"];
      for (const auto& key : path)
        node = node.at(key);
      real ? expect_real(node, value) : expect_integer(node, value);
    };
  };
  const std::vector<FlagCase> cases = {
      {"--input-size", field({"task", "input_size"})},
      {"--layers",
       [record](const std::string& value, const Outcome&) {
         EXPECT_EQ(read_json(record)["config"]["model"]["sizes"].size(),
                   static_cast<size_t>(std::stoll(value)) + 1);
       }},
      {"--hidden",
       [record](const std::string& value, const Outcome&) {
         expect_integer(read_json(record)["config"]["model"]["sizes"][1], value);
       }},
      {"--batch-size", field({"training", "batch_size"})},
      {"--iterations", field({"training", "iterations"})},
      {"--eval-interval", field({"training", "eval_interval"})},
      {"--eval-size", field({"task", "evaluation_size"})},
      {"--subset-ratio", field({"task", "subset_ratio"}, true)},
      {"--overlap-ratio", field({"task", "overlap_ratio"}, true)},
      {"--lr", field({"optimizer", "learning_rate"}, true)},
      {"--momentum", field({"optimizer", "momentum"}, true)},
      {"--epsilon", field({"model", "epsilon"}, true)},
      {"--reg-scale", field({"training", "regularizer", "scale"}, true)},
      {"--reg-start", field({"training", "regularizer", "start"})},
      {"--reg-end", field({"training", "regularizer", "end"})},
      {"--checkpoint-every", {}},
      {"--seed", field({"seed"})},
      {"--inject-nan", {}, true},
  };
  sweep(base, cases, record);
}

TEST_F(CliFlags, BenchRefusesOrRecordsEveryValue) {
  const fs::path record = dir_ / "bench.jsonl";
  const std::vector<std::string> base = {
      "bench", "--preset", "demo", "--ops",        "add",      "--units",
      "nau",   "--seeds",  "1",    "--iterations", "3",        "--input-size",
      "4",     "--jobs",   "1",    "-q",           "--output", record.string()};
  auto field = [record](std::vector<std::string> path) -> RecordCheck {
    return [record, path](const std::string& value, const Outcome&) {
      const auto records = read_lines(record);
      ASSERT_FALSE(records.empty());
      for (const auto& r : records) {
        json node = r["config"];
        for (const auto& key : path)
          node = node.at(key);
        expect_integer(node, value);
      }
    };
  };
  const std::vector<FlagCase> cases = {
      {"--seeds",
       [record](const std::string& value, const Outcome&) {
         EXPECT_EQ(read_lines(record).size(), static_cast<size_t>(std::stoll(value)));
       }},
      {"--iterations", field({"training", "iterations"})},
      {"--eval-interval", field({"training", "eval_interval"})},
      {"--input-size", field({"task", "input_size"})},
      {"--jobs", {}},
      {"--checkpoint-every", {}},
  };
  sweep(base, cases, record);
}

TEST_F(CliFlags, RecurrentRefusesOrReportsEveryValue) {
  const std::vector<std::string> base = {
      "recurrent", "--ops",        "add", "--cores",        "nac,lstm", "--seeds",
      "1",         "--iterations", "3",   "--train-length", "2",        "--extrapolation-length",
      "3",         "--eval-size",  "8",   "--batch-size",   "4",        "--input-size",
      "4",         "--hidden",     "2",   "--jobs",         "1",        "-q"};
  // The table has one row per core, each with the seeds asked for.
  const RecordCheck table = [](const std::string&, const Outcome& outcome) {
    EXPECT_NE(outcome.out.find("| add | nac |"), std::string::npos) << outcome.out;
    EXPECT_NE(outcome.out.find("| add | lstm |"), std::string::npos) << outcome.out;
  };
  const std::vector<FlagCase> cases = {
      {"--seeds", table},         {"--iterations", table},
      {"--train-length", table},  {"--extrapolation-length", table},
      {"--hidden", table},        {"--baseline-hidden", table},
      {"--learning-rate", table}, {"--batch-size", table},
      {"--eval-interval", table}, {"--eval-size", table},
      {"--input-size", table},    {"--jobs", table},
  };
  sweep(base, cases, dir_ / "none");
}

TEST_F(CliFlags, EvalAndExperimentRefuseOrRunEveryValue) {
  const fs::path model = dir_ / "model.pt";
  const Outcome trained =
      run_cli({"train", "--op", "add", "--unit", "nau", "--input-size", "4", "--iterations", "3",
               "--eval-size", "16", "-q", "--save-model", model.string()},
              60.0);
  ASSERT_EQ(trained.code, 0) << trained.err;
  const fs::path out = dir_ / "eval.json";
  sweep({"eval", "--model", model.string(), "--output", out.string()},
        {{"--eval-size",
          [out](const std::string& value, const Outcome&) {
            expect_integer(read_json(out)["config"]["task"]["evaluation_size"], value);
          }}},
        out);
  // An experiment runs for seconds or minutes: every accepted value is stopped after one.
  sweep({"experiment", "identity", "--quick", "--progress", "none", "--output",
         (dir_ / "identity").string()},
        {{"--seed", {}}, {"--threads", {}}}, dir_ / "identity", 1.0);
}

}  // namespace

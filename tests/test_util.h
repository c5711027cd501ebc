// Small helpers shared by nalu's tests: setting hand-chosen weights, comparing tensors with a
// readable failure message, catching an exception's message, and a scratch directory.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "nalu/strings.h"
#include "nalu/train/config.h"

namespace nalu::testing {

/// A static-task run small enough for a unit test: 10 inputs, 500 evaluation rows, batches of
/// 64, 1,000 steps evaluated every 100, seed 4.
inline RunConfig small_run_config(const std::string& units, Operation op,
                                  const std::string& engine) {
  RunConfig config;
  config.task_options.op = op;
  config.task_options.input_size = 10;
  config.task_options.evaluation_size = 500;
  config.model.units = split(units, ',');
  config.training.iterations = 1000;
  config.training.eval_interval = 100;
  config.training.batch_size = 64;
  config.seed = 4;
  config.engine = engine;
  return config;
}

/// Overwrites a parameter in place (so the unit keeps using it) with `values` of the same shape.
inline void assign(torch::Tensor& parameter, const torch::Tensor& values) {
  torch::NoGradGuard no_grad;
  ASSERT_EQ(parameter.sizes(), values.sizes());
  parameter.copy_(values);
}

/// Float [rows, columns] tensor from rows of values, e.g. matrix({{1, 0, -1}}).
inline torch::Tensor matrix(const std::vector<std::vector<double>>& rows) {
  std::vector<float> flat;
  for (const auto& row : rows)
    flat.insert(flat.end(), row.begin(), row.end());
  const auto columns = rows.empty() ? 0 : static_cast<int64_t>(rows.front().size());
  return torch::tensor(flat).reshape({static_cast<int64_t>(rows.size()), columns});
}

/// |actual - expected| <= atol + rtol * |expected| everywhere, shapes equal.
inline ::testing::AssertionResult close_to(const torch::Tensor& actual,
                                           const torch::Tensor& expected, double atol,
                                           double rtol = 0.0) {
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " differs from expected " << expected.sizes();
  }
  const auto a = actual.detach().to(torch::kDouble);
  const auto e = expected.detach().to(torch::kDouble);
  if (torch::allclose(a, e, rtol, atol))
    return ::testing::AssertionSuccess();
  std::ostringstream text;
  text << "max |difference| " << (a - e).abs().max().item<double>() << "\nactual:\n"
       << a << "\nexpected:\n"
       << e;
  return ::testing::AssertionFailure() << text.str();
}

inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

/// The message of the `Exception` that `action` throws; fails the test when it throws nothing.
/// Other exception types propagate (and fail the test as unexpected).
template <typename Exception, typename Action>
std::string message_of(Action&& action) {
  try {
    action();
  } catch (const Exception& error) {
    if constexpr (std::is_base_of_v<c10::Error, Exception>) {
      return error.what_without_backtrace();
    } else {
      return error.what();
    }
  }
  ADD_FAILURE() << "expected an exception, none was thrown";
  return "";
}

/// The message of the nalu::Error / c10::Error / std::exception `fn` throws; fails the test
/// when it throws nothing.
inline std::string error_message(const std::function<void()>& fn) {
  try {
    return message_of<c10::Error>(fn);
  } catch (const std::exception& e) {
    return e.what();
  }
}

/// A fresh directory for the running test, removed with everything in it at the end of scope.
/// Named after the process and the test, so tests running side by side never share one.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "nalu-test-";
    name += std::to_string(::getpid());
    name += "-";
    name += test->test_suite_name();
    name += "-";
    name += test->name();
    path = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace nalu::testing

/// Expects `statement` to throw with a message containing `text`.
#define EXPECT_THROW_WITH(statement, text)                                                \
  do {                                                                                    \
    const std::string nalu_message_ = ::nalu::testing::error_message([&] { statement; }); \
    EXPECT_NE(nalu_message_.find(text), std::string::npos)                                \
        << "message: '" << nalu_message_ << "' lacks '" << (text) << "'";                 \
  } while (0)

// Small helpers shared by nalu's tests.
#pragma once

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace nalu::testing {

/// The message of the nalu::Error / c10::Error / std::exception `fn` throws; fails the test
/// when it throws nothing.
inline std::string error_message(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  } catch (const std::exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

}  // namespace nalu::testing

/// Expects `statement` to throw with a message containing `text`.
#define EXPECT_THROW_WITH(statement, text)                                                \
  do {                                                                                    \
    const std::string nalu_message_ = ::nalu::testing::error_message([&] { statement; }); \
    EXPECT_NE(nalu_message_.find(text), std::string::npos)                                \
        << "message: '" << nalu_message_ << "' lacks '" << (text) << "'";                 \
  } while (0)

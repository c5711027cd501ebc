// nalu's exception types. The library reports bad input and numerical faults by throwing;
// it never prints or exits. Messages are one line, prefixed by what was being checked.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace nalu {

/// Invalid configuration or input: an unknown name, a size <= 0, an empty range, ...
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Training produced a non-finite value. `step` is the optimisation step (1-based) at which it
/// was seen and `parameter` the first parameter (by its module path) that was not finite, or
/// "loss" when every parameter was finite but the loss was not.
class NumericalError : public Error {
 public:
  NumericalError(int64_t step, std::string parameter, const std::string& what)
      : Error(what), step_(step), parameter_(std::move(parameter)) {}
  int64_t step() const { return step_; }
  const std::string& parameter() const { return parameter_; }

 private:
  int64_t step_;
  std::string parameter_;
};

/// Throws nalu::Error with `message` unless `condition` holds.
inline void check(bool condition, const std::string& message) {
  if (!condition)
    throw Error(message);
}

}  // namespace nalu

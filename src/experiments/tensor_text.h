// Tensor shapes in error messages (internal to the library).
#pragma once

#include <torch/torch.h>

#include <sstream>
#include <string>

namespace nalu::detail {

/// "[2, 3, 28, 28]", or "an undefined tensor".
inline std::string shape_text(const torch::Tensor& tensor) {
  if (!tensor.defined())
    return "an undefined tensor";
  std::ostringstream text;
  text << tensor.sizes();
  return text.str();
}

}  // namespace nalu::detail

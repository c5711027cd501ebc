// A torch module's parameters in a nalu archive (nalu/io/archive.h), so that saved models of any
// kind share one format: each named parameter as an f32 array under its name.
#pragma once

#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "nalu/io/archive.h"

namespace nalu::io {

/// Adds every named parameter of `module` to `archive` as f32, bit for bit for float modules.
void add_parameters(Archive& archive, const torch::nn::Module& module);

/// Copies the archive's arrays into `module`'s parameters of the same names. Throws nalu::Error
/// ("<path>: ...") when the counts, a name or a shape differ.
void load_parameters(const Archive& archive, torch::nn::Module& module, const std::string& path);

/// `module`'s parameters in registration order as one flat float vector (the fused engine's
/// layout and a checkpoint's).
std::vector<float> flat_parameters(const torch::nn::Module& module);
/// The inverse; throws nalu::Error when the count differs.
void load_flat_parameters(torch::nn::Module& module, const std::vector<float>& values);

}  // namespace nalu::io

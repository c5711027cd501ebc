// Module parameters in and out of a nalu archive.
#include "nalu/io/module_archive.h"

#include <torch/torch.h>

#include "nalu/error.h"

namespace nalu::io {

void add_parameters(Archive& archive, const torch::nn::Module& module) {
  for (const auto& item : module.named_parameters()) {
    const auto flat = item.value().detach().to(torch::kFloat).contiguous();
    archive.add(item.key(),
                std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel()),
                flat.sizes().vec());
  }
}

void load_parameters(const Archive& archive, torch::nn::Module& module, const std::string& path) {
  torch::NoGradGuard no_grad;
  auto parameters = module.named_parameters();
  check(parameters.size() == archive.arrays.size(),
        path + ": " + std::to_string(archive.arrays.size()) + " parameters for a model of " +
            std::to_string(parameters.size()));
  for (auto& item : parameters) {
    const Array& array = archive.get(item.key());
    check(array.shape == item.value().sizes().vec(),
          path + ": parameter '" + item.key() + "' has the wrong shape");
    const auto values = array.floats();
    item.value().copy_(
        torch::from_blob(const_cast<float*>(values.data()), item.value().sizes(), torch::kFloat));
  }
}

std::vector<float> flat_parameters(const torch::nn::Module& model) {
  std::vector<float> values;
  for (const auto& p : model.parameters()) {
    const auto flat = p.detach().to(torch::kFloat).contiguous();
    values.insert(values.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  }
  return values;
}

void load_flat_parameters(torch::nn::Module& model, const std::vector<float>& values) {
  torch::NoGradGuard no_grad;
  size_t offset = 0;
  const auto parameters = model.parameters();
  for (const auto& p : parameters)
    offset += static_cast<size_t>(p.numel());
  check(offset == values.size(), "parameters: " + std::to_string(values.size()) +
                                     " values for a model of " + std::to_string(offset));
  offset = 0;
  for (auto p : parameters) {
    p.copy_(torch::from_blob(const_cast<float*>(values.data() + offset), p.sizes(), torch::kFloat));
    offset += static_cast<size_t>(p.numel());
  }
}

}  // namespace nalu::io

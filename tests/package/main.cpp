// Uses an installed nalu: a NAU inside torch::nn::Sequential, and the formula it computes.
#include <nalu/nalu.h>
#include <torch/torch.h>

#include <iostream>

int main() {
  nalu::NAU nau(3, 1);
  {
    torch::NoGradGuard no_grad;
    nau->weight.copy_(torch::tensor({{1.0f, -1.0f, 0.0f}}));
  }
  torch::nn::Sequential model(nau);
  const auto y = model->forward(torch::tensor({{5.0f, 2.0f, 7.0f}}));
  const std::string formula = nau->formula().str();
  std::cout << "nalu " << nalu::kVersion << ": " << formula << " -> " << y.item<float>() << "\n";
  return formula == "y0 = x0 − x1" && y.item<float>() == 3.0f ? 0 : 1;
}

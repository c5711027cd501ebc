// One step of an LSTM cell given its input projection (internal to the library). A sequence
// model whose inputs come from a small vocabulary takes the projection x W_ih^T + b_ih once per
// vocabulary entry (a [V, 4H] table) and picks rows per step, instead of a [B, E] x [E, 4H]
// product per step. Same parameters and gate order (input, forget, cell, output) as
// torch::nn::LSTMCell.
#pragma once

#include <torch/torch.h>

namespace nalu::detail {

/// The table of input projections of every row of `embedding` [V, E]: [V, 4H], from the first E
/// input columns of the cell (a cell may read further inputs beside the embedding, whose
/// projections the caller adds).
inline torch::Tensor lstm_input_table(const torch::nn::LSTMCellImpl& cell,
                                      const torch::Tensor& embedding) {
  return torch::addmm(cell.bias_ih, embedding, cell.weight_ih.slice(1, 0, embedding.size(1)).t());
}

/// Advances (h, c) [B, H] by one step whose input projection is `projection` [B, 4H].
inline void lstm_step(const torch::nn::LSTMCellImpl& cell, const torch::Tensor& projection,
                      torch::Tensor& h, torch::Tensor& c) {
  const auto gates = projection + torch::addmm(cell.bias_hh, h, cell.weight_hh.t());
  const auto parts = gates.chunk(4, 1);
  c = torch::sigmoid(parts[1]) * c + torch::sigmoid(parts[0]) * torch::tanh(parts[2]);
  h = torch::sigmoid(parts[3]) * torch::tanh(c);
}

}  // namespace nalu::detail

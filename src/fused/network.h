// A stack of fused layers: the fused counterpart of nalu::make_stack, with activation buffers
// sized once for the largest batch, the MSE loss, the scheduled regularisers and the copying of
// parameters to and from the LibTorch model of the same architecture.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layer.h"

namespace torch::nn {
class Module;
}

namespace nalu::fused {

/// Rows of a training batch of `batch_size` rows with `input_size` inputs that are drawn and
/// pushed through forward and backward together, so that they stay in the L1 cache: 32 rows of
/// 100 floats (12.5 KiB), at least one row and at most the batch.
int training_block_rows(int64_t input_size, int64_t batch_size);

class Network {
 public:
  /// The layers make_stack(units, sizes, settings) would build; throws nalu::Error when one of
  /// them has no fused implementation (unsupported_reason says which beforehand).
  Network(const std::vector<std::string>& units, const std::vector<int64_t>& sizes,
          const UnitSettings& settings, int max_batch);

  /// Empty when the fused engine implements every layer, else why not.
  static std::string unsupported_reason(const std::vector<std::string>& units,
                                        const std::vector<int64_t>& sizes,
                                        const UnitSettings& settings);

  /// Copies the parameters of `model` (a LibTorch module of the same architecture, in
  /// parameters() order) into this network, or this network's into `model`.
  void load(const torch::nn::Module& model);
  void store(torch::nn::Module& model) const;

  std::vector<float>& parameters() { return params_; }
  std::vector<float>& gradients() { return grads_; }
  size_t depth() const { return layers_.size(); }
  int max_batch() const { return max_batch_; }

  /// The first layer takes the logs of its inputs from `logs` where they hold them (a batch
  /// that runs train on together, an evaluation set); null computes them all here.
  void share_input_logs(InputLogs* logs) { layers_.front()->share_input_logs(logs); }

  /// Recomputes what the layers derive from the parameters; call after they change.
  void prepare();
  /// The output [B] (one output) for x [B, in], B <= max_batch.
  const float* forward(int B, const float* x);
  /// Sets the gradients to those of the MSE of forward(B, x) against target [B] and returns
  /// that MSE.
  double mse_gradients(int B, const float* x, const float* target);
  /// Sets the gradients to zero.
  void zero_gradients();
  /// Adds the gradient of the MSE over a batch of `batch_size` rows from `rows` of its rows
  /// (x [rows, in], target [rows]); returns their sum of squared errors. The per-row gradient of
  /// an MSE does not depend on the other rows, so a batch can be processed in blocks that stay
  /// in the L1 cache.
  double accumulate_mse_gradients(int rows, int batch_size, const float* x, const float* target);
  /// Adds lambda[l] * R_l of every layer to the loss gradients and returns the sum.
  double regularize(const std::vector<double>& lambdas);
  /// Clamps the parameters as each unit's after_optimizer_step() does.
  void project();
  /// Training (the default) or evaluation mode for every layer, as Module::train() and eval().
  void set_training(bool training);

 private:
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<size_t> offsets_;  // where each layer's parameters start in params_
  std::vector<float> params_, grads_;
  std::vector<std::vector<float>> activations_;  // outputs of each layer [max_batch, out]
  std::vector<std::vector<float>> deltas_;       // dL/d(input of layer l), l >= 1
  std::vector<float> output_delta_;
  int max_batch_;
};

}  // namespace nalu::fused

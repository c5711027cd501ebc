// One layer of the fused engine: hand-written forward, backward, regulariser and projection
// over raw float buffers. A layer's parameters are slices of the network's flat parameter
// vector, in the order and shapes in which the LibTorch unit of the same name registers them,
// so that parameters copy one-to-one between the engines.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "nalu/units/stack.h"

namespace nalu::fused {

/// log(|x| + eps) of inputs that networks take more than once: a training batch that several
/// networks take in turn (the runs fused::train_together trains on one batch), or a fixed
/// evaluation set that is evaluated every few thousand steps. The first layer that asks for a
/// block computes it, with the kernel and range it would use for itself, and later requests
/// reuse it. Memory for the logs is taken at the first request, so inputs that no layer takes
/// the logs of cost nothing.
class InputLogs {
 public:
  /// New inputs `input` [size floats]: forgets the logs of the last ones.
  void reset(const float* input, size_t size) {
    input_ = input;
    size_ = size;
    done_.clear();
  }
  /// log(|x[k]| + eps) for k < n when x[0, n) lies in the inputs, computed at the first call for
  /// this block and eps; null for any other x (another set, a run's own batch) or for a block
  /// another eps or length took first.
  const float* find(const kernels::Table& kernels, const float* x, int n, float eps) {
    const std::less<const float*> before;
    if (input_ == nullptr || before(x, input_) || before(input_ + size_, x + n))
      return nullptr;
    const auto offset = static_cast<size_t>(x - input_);
    const size_t end = offset + static_cast<size_t>(n);
    for (const auto& block : done_) {
      if (block.offset == offset && block.n == n && block.eps == eps)
        return values_.data() + offset;
      if (block.offset < end && offset < block.offset + static_cast<size_t>(block.n))
        return nullptr;  // overlaps a block computed otherwise
    }
    if (values_.size() < size_)
      values_.resize(size_);  // before any block of these inputs is handed out
    kernels.log_abs_eps(n, x, eps, values_.data() + offset);
    done_.push_back({offset, n, eps});
    return values_.data() + offset;
  }

 private:
  struct Block {
    size_t offset;
    int n;
    float eps;
  };
  const float* input_ = nullptr;
  size_t size_ = 0;
  std::vector<float> values_;
  std::vector<Block> done_;
};

class Layer {
 public:
  Layer(int in, int out, int max_batch) : in_(in), out_(out), max_batch_(max_batch) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  int in() const { return in_; }
  int out() const { return out_; }
  /// Number of floats of each parameter tensor, in LibTorch's registration order.
  virtual std::vector<int64_t> parameter_sizes() const = 0;

  /// Called once after the parameters change (each step, after loading): derive whatever the
  /// forward pass needs from them (e.g. the NAC weight tanh(W_hat) * sigmoid(M_hat)).
  virtual void prepare(const float* params) { (void)params; }
  /// y [B, out] from x [B, in], B <= max_batch. May cache what backward() needs.
  virtual void forward(int B, const float* params, const float* x, float* y) = 0;
  /// After forward(B, params, x, y): adds dL/dparams to grads, and writes dL/dx to dx
  /// (overwriting) unless dx is null. dy is dL/dy [B, out].
  virtual void backward(int B, const float* params, const float* x, const float* y, const float* dy,
                        float* grads, float* dx) = 0;
  /// Adds scale * dR/dparams to grads and returns scale * R (R as the LibTorch unit's
  /// regularization_loss(1)). Units without a regulariser return 0.
  virtual double regularize(const float* params, double scale, float* grads) {
    (void)params, (void)scale, (void)grads;
    return 0.0;
  }
  /// The projection after each optimiser step (clamping), as after_optimizer_step().
  virtual void project(float* params) { (void)params; }

  /// Training or evaluation mode, as the LibTorch module's train() and eval(): the units that
  /// compute differently in evaluation (NRU, NMRU) read it; the others ignore it.
  void set_training(bool training) { training_ = training; }
  bool is_training() const { return training_; }

  /// Logs of the inputs that this (first) layer may share with other networks' first layers;
  /// null shares none.
  void share_input_logs(InputLogs* logs) { input_logs_ = logs; }

 protected:
  /// log(|x| + eps) of x [n]: from the shared input logs when they hold x, else computed into
  /// `own`; the same values either way.
  const float* log_abs_eps(int n, const float* x, float eps, float* own) {
    if (input_logs_ != nullptr) {
      if (const float* shared = input_logs_->find(k_, x, n, eps))
        return shared;
    }
    k_.log_abs_eps(n, x, eps, own);
    return own;
  }

  const kernels::Table& k_ = kernels::table();
  int in_, out_, max_batch_;
  bool training_ = true;
  InputLogs* input_logs_ = nullptr;
};

/// LibTorch's sign() and sgn() of a real number, which abs() backward uses too: 0 at zero (either
/// sign). Branch-free, so that loops over it vectorise (and do not mispredict on inputs of random
/// sign).
inline float sign_of(float v) {
  return static_cast<float>(v > 0.0f) - static_cast<float>(v < 0.0f);
}

/// The regularisers the units share, over the n weights w: each adds scale * dR/dw to grads
/// and returns scale * R (layers_nau_nmu.cpp).
///   nau_regularize: R = mean(min(|w|, 1 - |w|)), towards -1, 0 and 1 (NAU, NRU);
///   nmu_regularize: R = mean(min(w, 1 - w)), towards 0 and 1 (NMU, NMRU).
double nau_regularize(const float* w, int n, double scale, float* grads);
double nmu_regularize(const float* w, int n, double scale, float* grads);

/// The fused layer for LibTorch unit `name` (as make_unit builds it), or null when the fused
/// engine has none for it with these settings; `why` then says why.
std::unique_ptr<Layer> make_layer(const std::string& name, int in, int out,
                                  const UnitSettings& settings, int max_batch, std::string* why);

/// The layers of each family (layers_*.cpp); make_layer dispatches to them. Each returns null
/// for names it does not know.
std::unique_ptr<Layer> make_additive_layer(const std::string& name, int in, int out,
                                           const UnitSettings& settings, int max_batch,
                                           std::string* why);  // nau, nmu
std::unique_ptr<Layer> make_nac_layer(const std::string& name, int in, int out,
                                      const UnitSettings& settings, int max_batch,
                                      std::string* why);  // nac, nac-mul, nalu, inalu
std::unique_ptr<Layer> make_power_layer(const std::string& name, int in, int out,
                                        const UnitSettings& settings, int max_batch,
                                        std::string* why);  // npu, real-npu
std::unique_ptr<Layer> make_division_layer(const std::string& name, int in, int out,
                                           const UnitSettings& settings, int max_batch,
                                           std::string* why);  // nru, nmru
std::unique_ptr<Layer> make_baseline_layer(const std::string& name, int in, int out,
                                           const std::vector<int64_t>& hidden,
                                           const UnitSettings& settings, int max_batch,
                                           std::string* why);  // linear, mlp

}  // namespace nalu::fused

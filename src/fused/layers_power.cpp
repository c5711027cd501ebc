// NPU and RealNPU (Heim, van Gerven & Kruijt, NeurIPS 2020) for the fused engine.
//
// With the gate clamped into [0, 1] in the forward pass, g = min(max(gate, 0), 1) per input
// (as Heim et al. define it; the gradient passes where 0 <= gate <= 1, as LibTorch's clamp's),
// r = g (|x| + eps) + (1 - g) and k = g pi [x < 0]:
//   NPU:     y = exp(A) cos(P), A = log(r) W_re^T - k W_im^T, P = log(r) W_im^T + k W_re^T
//   RealNPU: y = exp(A) cos(P), A = log(r) W_re^T,            P = k W_re^T
// log(r) and k are kept stacked as Z = [log r; k] [2B, I], so that one matmul with 2B rows
// gives both log(r) W^T and k W^T, and one accumulation gives both halves of dW.
// The improved RealNPU (Mistry, Hare & Farrahi) also clamps the parameters themselves after each
// step, the gate to [0, 1] and W_re to [-1, 1], and regularises with
// mean|1 - |W_re|| + mean(min(|g|, |1 - g|)) instead of the L1 norm.
#include <algorithm>
#include <cmath>
#include <vector>

#include "layer.h"

namespace nalu::fused {

namespace {

class PowerUnit final : public Layer {
 public:
  PowerUnit(int in, int out, int max_batch, double epsilon, bool real, bool improved)
      : Layer(in, out, max_batch),
        real_(real),
        improved_(improved),
        epsilon_(static_cast<float>(epsilon)),
        r_(static_cast<size_t>(max_batch) * in),
        z_(2 * static_cast<size_t>(max_batch) * in),
        dz_(2 * static_cast<size_t>(max_batch) * in),
        zw_re_(2 * static_cast<size_t>(max_batch) * out),
        zw_im_(real ? 0 : 2 * static_cast<size_t>(max_batch) * out),
        magnitude_(static_cast<size_t>(max_batch) * out),
        phase_(static_cast<size_t>(max_batch) * out),
        d_ap_(2 * static_cast<size_t>(max_batch) * out),
        d_pa_(real ? 0 : 2 * static_cast<size_t>(max_batch) * out),
        gate_(static_cast<size_t>(in)),
        gate_sum_(static_cast<size_t>(in)),
        phase_sum_(static_cast<size_t>(in)) {}

  // w_real [out, in], w_imag [out, in] (NPU only), gate [in].
  std::vector<int64_t> parameter_sizes() const override {
    const int64_t weights = static_cast<int64_t>(out_) * in_;
    if (real_)
      return {weights, in_};
    return {weights, weights, in_};
  }

  void forward(int B, const float* params, const float* x, float* y) override {
    const float* w_re = params;
    const float* w_im = real_ ? nullptr : params + weight_count();
    const float* gate = params + weight_count() * (real_ ? 1 : 2);
    const int64_t n = static_cast<int64_t>(B) * in_;
    const float pi = static_cast<float>(M_PI);
    float* log_r = z_.data();
    float* k = z_.data() + n;
    for (int i = 0; i < in_; ++i)
      gate_[i] = std::clamp(gate[i], 0.0f, 1.0f);
    for (int b = 0; b < B; ++b) {
      for (int i = 0; i < in_; ++i) {
        const int64_t at = static_cast<int64_t>(b) * in_ + i;
        const float g = gate_[i];
        // As LibTorch: g * (|x| + eps) + (1 - g), and (g * pi) * [x < 0].
        r_[at] = g * (std::fabs(x[at]) + epsilon_) + (1.0f - g);
        k[at] = x[at] < 0.0f ? g * pi : 0.0f;
      }
    }
    k_.log_abs_eps(static_cast<int>(n), r_.data(), 0.0f, log_r);  // r > 0: log(|r| + 0) = log r
    // zw_re = [log r W_re^T; k W_re^T], zw_im likewise with W_im: each [2B, out].
    k_.matmul_nt(2 * B, out_, in_, z_.data(), w_re, zw_re_.data());
    const int64_t m = static_cast<int64_t>(B) * out_;
    const float* l_re = zw_re_.data();
    const float* k_re = zw_re_.data() + m;
    if (real_) {
      for (int64_t t = 0; t < m; ++t) {
        magnitude_[t] = std::exp(l_re[t]);
        phase_[t] = k_re[t];
        y[t] = magnitude_[t] * std::cos(phase_[t]);
      }
      return;
    }
    k_.matmul_nt(2 * B, out_, in_, z_.data(), w_im, zw_im_.data());
    const float* l_im = zw_im_.data();
    const float* k_im = zw_im_.data() + m;
    for (int64_t t = 0; t < m; ++t) {
      magnitude_[t] = std::exp(l_re[t] - k_im[t]);
      phase_[t] = l_im[t] + k_re[t];
      y[t] = magnitude_[t] * std::cos(phase_[t]);
    }
  }

  void backward(int B, const float* params, const float* x, const float*, const float* dy,
                float* grads, float* dx) override {
    const int64_t weights = weight_count();
    const float* w_re = params;
    const float* w_im = real_ ? nullptr : params + weights;
    const float* gate = params + weights * (real_ ? 1 : 2);
    float* g_re = grads;
    float* g_im = real_ ? nullptr : grads + weights;
    float* g_gate = grads + weights * (real_ ? 1 : 2);
    const int64_t m = static_cast<int64_t>(B) * out_;
    const int64_t n = static_cast<int64_t>(B) * in_;

    // dA = dy cos(P) exp(A) and dP = -dy exp(A) sin(P), stacked as [dA; dP] (and, for the
    // NPU, [dP; -dA]).
    float* d_a = d_ap_.data();
    float* d_p = d_ap_.data() + m;
    for (int64_t t = 0; t < m; ++t) {
      d_a[t] = dy[t] * std::cos(phase_[t]) * magnitude_[t];
      d_p[t] = -(dy[t] * magnitude_[t]) * std::sin(phase_[t]);
    }
    // dW_re = dA^T log r + dP^T k; d[log r; k] = [dA; dP] W_re (+ [dP; -dA] W_im).
    k_.matmul_tn_acc(2 * B, out_, in_, d_ap_.data(), z_.data(), g_re);
    std::fill(dz_.begin(), dz_.begin() + 2 * n, 0.0f);
    k_.matmul_nn_acc(2 * B, out_, in_, d_ap_.data(), w_re, dz_.data());
    if (!real_) {
      // dW_im = dP^T log r - dA^T k.
      std::copy(d_p, d_p + m, d_pa_.begin());
      for (int64_t t = 0; t < m; ++t)
        d_pa_[m + t] = -d_a[t];
      k_.matmul_tn_acc(2 * B, out_, in_, d_pa_.data(), z_.data(), g_im);
      k_.matmul_nn_acc(2 * B, out_, in_, d_pa_.data(), w_im, dz_.data());
    }

    // Through r = g (|x| + eps) + (1 - g) and k = g pi [x < 0]; k has no gradient in x.
    const float pi = static_cast<float>(M_PI);
    const float* d_log_r = dz_.data();
    const float* d_k = dz_.data() + n;
    std::fill(gate_sum_.begin(), gate_sum_.end(), 0.0f);
    std::fill(phase_sum_.begin(), phase_sum_.end(), 0.0f);
    for (int b = 0; b < B; ++b) {
      for (int i = 0; i < in_; ++i) {
        const int64_t at = static_cast<int64_t>(b) * in_ + i;
        const float d_r = d_log_r[at] / r_[at];
        gate_sum_[i] += d_r * (std::fabs(x[at]) + epsilon_) - d_r;
        if (x[at] < 0.0f)
          phase_sum_[i] += d_k[at];
        if (dx != nullptr)
          dx[at] = d_r * gate_[i] * sign_of(x[at]);
      }
    }
    for (int i = 0; i < in_; ++i) {
      if (gate[i] >= 0.0f && gate[i] <= 1.0f)  // the clamp passes no gradient outside [0, 1]
        g_gate[i] += gate_sum_[i] + phase_sum_[i] * pi;
    }
  }

  // R = mean |p| over W_re, W_im and the gate, with d|p|/dp = sgn(p) (0 at 0).
  double regularize(const float* params, double scale, float* grads) override {
    if (improved_)
      return regularize_improved(params, scale, grads);
    const int64_t count = weight_count() * (real_ ? 1 : 2) + in_;
    const float step = static_cast<float>(scale / static_cast<double>(count));
    double total = 0.0;
    for (int64_t t = 0; t < count; ++t) {
      total += std::fabs(params[t]);
      grads[t] += step * sign_of(params[t]);
    }
    return scale * total / static_cast<double>(count);
  }

  // The improved Real NPU clamps its parameters: the gate to [0, 1] and W_re to [-1, 1].
  void project(float* params) override {
    if (!improved_)
      return;
    float* gate = params + weight_count() * (real_ ? 1 : 2);
    for (int i = 0; i < in_; ++i)
      gate[i] = std::clamp(gate[i], 0.0f, 1.0f);
    for (int64_t t = 0; t < weight_count(); ++t)
      params[t] = std::clamp(params[t], -1.0f, 1.0f);
  }

 private:
  int64_t weight_count() const { return static_cast<int64_t>(out_) * in_; }

  // R = mean|1 - |W|| + mean(min(|g|, |1 - g|)), with LibTorch's gradients: sgn(0) = 0, and
  // at a tie of the minimum half to each side.
  double regularize_improved(const float* params, double scale, float* grads) const {
    const int64_t weights = weight_count();
    const float weight_step = static_cast<float>(scale / static_cast<double>(weights));
    double weight_total = 0.0;
    for (int64_t t = 0; t < weights; ++t) {
      const float gap = 1.0f - std::fabs(params[t]);
      weight_total += std::fabs(gap);
      grads[t] -= weight_step * sign_of(gap) * sign_of(params[t]);
    }
    const float* gate = params + weights;
    float* g_gate = grads + weights;
    const float gate_step = static_cast<float>(scale / static_cast<double>(in_));
    double gate_total = 0.0;
    for (int i = 0; i < in_; ++i) {
      const float low = std::fabs(gate[i]);
      const float high = std::fabs(1.0f - gate[i]);
      const float d_low = sign_of(gate[i]);
      const float d_high = -sign_of(1.0f - gate[i]);
      gate_total += std::min(low, high);
      const float slope = low < high ? d_low : (high < low ? d_high : 0.5f * (d_low + d_high));
      g_gate[i] += gate_step * slope;
    }
    return scale *
           (weight_total / static_cast<double>(weights) + gate_total / static_cast<double>(in_));
  }

  bool real_;
  bool improved_;
  float epsilon_;
  std::vector<float> r_;          // r [B, in]
  std::vector<float> z_;          // [log r; k] [2B, in]
  std::vector<float> dz_;         // [d log r; dk] [2B, in]
  std::vector<float> zw_re_;      // [log r W_re^T; k W_re^T] [2B, out]
  std::vector<float> zw_im_;      // [log r W_im^T; k W_im^T] [2B, out] (NPU only)
  std::vector<float> magnitude_;  // exp(A) [B, out]
  std::vector<float> phase_;      // P [B, out]
  std::vector<float> d_ap_;       // [dA; dP] [2B, out]
  std::vector<float> d_pa_;       // [dP; -dA] [2B, out] (NPU only)
  std::vector<float> gate_;       // the gate clamped into [0, 1] [in]
  std::vector<float> gate_sum_;   // sum over the batch of dL/dr (|x| + eps - 1) [in]
  std::vector<float> phase_sum_;  // sum over the batch of dL/dk [x < 0] [in]
};

}  // namespace

std::unique_ptr<Layer> make_power_layer(const std::string& name, int in, int out,
                                        const UnitSettings& settings, int max_batch, std::string*) {
  if (name == "npu")
    return std::make_unique<PowerUnit>(in, out, max_batch, settings.epsilon, false, false);
  if (name == "real-npu") {
    return std::make_unique<PowerUnit>(in, out, max_batch, settings.epsilon, true,
                                       settings.npu_improved);
  }
  return nullptr;
}

}  // namespace nalu::fused

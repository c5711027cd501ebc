// NRU and NMRU (Mistry, Hare & Farrahi, 2021) for the fused engine; the formulas are in
// nalu/units/division.h. Both compute differently in training and in evaluation, as their
// LibTorch modules do: the NRU's selector A(w) is tanh(1000 w)^2 in training and |w| in
// evaluation; the NMRU's reciprocal is 1 / (x + 2^-23) in training and 1 / x in evaluation.
#include <algorithm>
#include <cmath>
#include <vector>

#include "layer.h"

namespace nalu::fused {

namespace {

// y_j = prod_i (sign(x_i) |x_i|^W_ji A(W_ji) + 1 - A(W_ji)), W [out, in] clamped to [-1, 1];
// R = mean(min(|W|, 1 - |W|)).
//
// |x|^w is computed as exp(w log|x|) from log|x| taken once per row and input (w = 0 gives 1,
// as pow does, also at x = 0), and A(w) once per weight and forward pass. Backward recomputes
// the factors rather than caching B x out x in of them.
class NRU final : public Layer {
 public:
  NRU(int in, int out, int max_batch)
      : Layer(in, out, max_batch),
        log_abs_(static_cast<size_t>(max_batch) * in),
        selector_(static_cast<size_t>(in) * out),
        selector_slope_(static_cast<size_t>(in) * out),
        factor_(static_cast<size_t>(in)),
        prefix_(static_cast<size_t>(in) + 1) {}

  std::vector<int64_t> parameter_sizes() const override {
    return {static_cast<int64_t>(out_) * in_};
  }

  void forward(int B, const float* w, const float* x, float* y) override {
    k_.log_abs_eps(B * in_, x, 0.0f, log_abs_.data());
    for (int k = 0; k < in_ * out_; ++k) {
      if (training_) {
        const float t = std::tanh(1000.0f * w[k]);
        selector_[k] = t * t;
        selector_slope_[k] = 2.0f * t * (1.0f - t * t) * 1000.0f;
      } else {
        selector_[k] = std::fabs(w[k]);
        selector_slope_[k] = sign_of(w[k]);
      }
    }
    for (int b = 0; b < B; ++b) {
      const float* xb = x + static_cast<int64_t>(b) * in_;
      const float* lb = log_abs_.data() + static_cast<int64_t>(b) * in_;
      for (int j = 0; j < out_; ++j) {
        const float* wj = w + static_cast<int64_t>(j) * in_;
        float product = 1.0f;
        for (int i = 0; i < in_; ++i)
          product *= factor(j * in_ + i, wj[i], xb[i], lb[i]).value;
        y[static_cast<int64_t>(b) * out_ + j] = product;
      }
    }
  }

  void backward(int B, const float* w, const float* x, const float*, const float* dy, float* grads,
                float* dx) override {
    if (dx != nullptr)
      std::fill(dx, dx + static_cast<int64_t>(B) * in_, 0.0f);
    for (int b = 0; b < B; ++b) {
      const float* xb = x + static_cast<int64_t>(b) * in_;
      const float* lb = log_abs_.data() + static_cast<int64_t>(b) * in_;
      for (int j = 0; j < out_; ++j) {
        const float* wj = w + static_cast<int64_t>(j) * in_;
        float* gj = grads + static_cast<int64_t>(j) * in_;
        const float d = dy[static_cast<int64_t>(b) * out_ + j];
        // The product of the other factors from prefix and suffix products (exact at zeros).
        prefix_[0] = 1.0f;
        for (int i = 0; i < in_; ++i) {
          factor_[i] = factor(j * in_ + i, wj[i], xb[i], lb[i]);
          prefix_[i + 1] = prefix_[i] * factor_[i].value;
        }
        float suffix = 1.0f;
        for (int i = in_ - 1; i >= 0; --i) {
          const Factor& f = factor_[i];
          const float others = d * prefix_[i] * suffix;
          // d factor / dw = A dp/dw + (p - 1) dA/dw, dp/dw = sign(x) |x|^w log|x| (0 at x = 0,
          // where LibTorch's pow() gives 0 for w >= 0).
          const float dp_dw = xb[i] == 0.0f ? 0.0f : f.power * lb[i];
          gj[i] += others * (f.selector * dp_dw + (f.power - 1.0f) * f.selector_slope);
          // d factor / dx = A w |x|^(w - 1) (sign(x)^2 = 1; 0 at x = 0 and for w = 0).
          if (dx != nullptr && xb[i] != 0.0f && wj[i] != 0.0f) {
            dx[static_cast<int64_t>(b) * in_ + i] +=
                others * f.selector * wj[i] * (f.power * sign_of(xb[i])) / std::fabs(xb[i]);
          }
          suffix *= f.value;
        }
      }
    }
  }

  double regularize(const float* w, double scale, float* grads) override {
    return nau_regularize(w, in_ * out_, scale, grads);
  }

  void project(float* w) override {
    for (int k = 0; k < in_ * out_; ++k)
      w[k] = std::clamp(w[k], -1.0f, 1.0f);
  }

 private:
  struct Factor {
    float power = 0.0f;           // p = sign(x) |x|^w
    float selector = 0.0f;        // A(w)
    float selector_slope = 0.0f;  // dA/dw
    float value = 0.0f;           // p A + 1 - A
  };

  // The factor of weight k (= j in + i), w = W_ji, for input x = x_i with log|x|.
  Factor factor(int k, float w, float x, float log_abs) const {
    Factor f;
    const float magnitude = w == 0.0f ? 1.0f : std::exp(w * log_abs);
    f.power = sign_of(x) * magnitude;
    f.selector = selector_[k];
    f.selector_slope = selector_slope_[k];
    // As LibTorch evaluates power * selected + 1 - selected.
    f.value = f.power * f.selector + 1.0f - f.selector;
    return f;
  }

  std::vector<float> log_abs_;         // log|x| [B, in]
  std::vector<float> selector_;        // A(W) [out, in], as of the last forward pass
  std::vector<float> selector_slope_;  // dA/dW [out, in]
  std::vector<Factor> factor_;         // one row's factors for one output [in]
  std::vector<float> prefix_;
};

// x' = [x, 1 / x] (1 / (x + 2^-23) in training), y_j = prod_k (|x'_k| W_jk + 1 - W_jk) *
// cos(pi sum_k W_jk [x'_k < 0]), W [out, 2 in] clamped to [0, 1]; R = mean(min(W, 1 - W)).
class NMRU final : public Layer {
 public:
  NMRU(int in, int out, int max_batch)
      : Layer(in, out, max_batch),
        extended_(static_cast<size_t>(max_batch) * 2 * in),
        magnitude_(static_cast<size_t>(max_batch) * out),
        phase_(static_cast<size_t>(max_batch) * out),
        prefix_(2 * static_cast<size_t>(in) + 1),
        d_extended_(2 * static_cast<size_t>(in)) {}

  std::vector<int64_t> parameter_sizes() const override {
    return {static_cast<int64_t>(out_) * 2 * in_};
  }

  void forward(int B, const float* w, const float* x, float* y) override {
    const int wide = 2 * in_;
    const float offset = training_ ? kReciprocalEpsilon : 0.0f;
    for (int b = 0; b < B; ++b) {
      const float* xb = x + static_cast<int64_t>(b) * in_;
      float* eb = extended_.data() + static_cast<int64_t>(b) * wide;
      for (int i = 0; i < in_; ++i) {
        eb[i] = xb[i];
        eb[in_ + i] = 1.0f / (xb[i] + offset);
      }
      for (int j = 0; j < out_; ++j) {
        const float* wj = w + static_cast<int64_t>(j) * wide;
        float product = 1.0f;
        float negative = 0.0f;
        for (int k = 0; k < wide; ++k) {
          product *= std::fabs(eb[k]) * wj[k] + 1.0f - wj[k];
          negative += eb[k] < 0.0f ? wj[k] : 0.0f;
        }
        const int64_t at = static_cast<int64_t>(b) * out_ + j;
        magnitude_[at] = product;
        phase_[at] = negative * kPi;
        y[at] = product * std::cos(phase_[at]);
      }
    }
  }

  void backward(int B, const float* w, const float*, const float*, const float* dy, float* grads,
                float* dx) override {
    const int wide = 2 * in_;
    for (int b = 0; b < B; ++b) {
      const float* eb = extended_.data() + static_cast<int64_t>(b) * wide;
      std::fill(d_extended_.begin(), d_extended_.end(), 0.0f);
      for (int j = 0; j < out_; ++j) {
        const float* wj = w + static_cast<int64_t>(j) * wide;
        float* gj = grads + static_cast<int64_t>(j) * wide;
        const int64_t at = static_cast<int64_t>(b) * out_ + j;
        // y = M cos(P): dM = dy cos(P), dP = -dy M sin(P).
        const float d_magnitude = dy[at] * std::cos(phase_[at]);
        const float d_phase = -(dy[at] * magnitude_[at]) * std::sin(phase_[at]) * kPi;
        prefix_[0] = 1.0f;
        for (int k = 0; k < wide; ++k)
          prefix_[k + 1] = prefix_[k] * (std::fabs(eb[k]) * wj[k] + 1.0f - wj[k]);
        float suffix = 1.0f;
        for (int k = wide - 1; k >= 0; --k) {
          const float magnitude = std::fabs(eb[k]);
          const float others = d_magnitude * prefix_[k] * suffix;
          gj[k] += others * (magnitude - 1.0f) + (eb[k] < 0.0f ? d_phase : 0.0f);
          d_extended_[k] += others * wj[k] * sign_of(eb[k]);
          suffix *= magnitude * wj[k] + 1.0f - wj[k];
        }
      }
      if (dx != nullptr) {
        // x'_(in+i) = 1 / (x_i + offset): d/dx = -x'_(in+i)^2.
        float* dxb = dx + static_cast<int64_t>(b) * in_;
        for (int i = 0; i < in_; ++i) {
          const float reciprocal = eb[in_ + i];
          dxb[i] = d_extended_[i] - d_extended_[in_ + i] * (reciprocal * reciprocal);
        }
      }
    }
  }

  double regularize(const float* w, double scale, float* grads) override {
    return nmu_regularize(w, 2 * in_ * out_, scale, grads);
  }

  void project(float* w) override {
    for (int k = 0; k < 2 * in_ * out_; ++k)
      w[k] = std::clamp(w[k], 0.0f, 1.0f);
  }

 private:
  // As the LibTorch module: float's machine epsilon, and pi rounded to float.
  static constexpr float kReciprocalEpsilon = 1.1920928955078125e-07f;
  static constexpr float kPi = static_cast<float>(M_PI);

  std::vector<float> extended_;    // x' [B, 2 in]
  std::vector<float> magnitude_;   // M [B, out]
  std::vector<float> phase_;       // P [B, out]
  std::vector<float> prefix_;      // prefix products of one row's factors [2 in + 1]
  std::vector<float> d_extended_;  // dL/dx' of one row [2 in]
};

}  // namespace

std::unique_ptr<Layer> make_division_layer(const std::string& name, int in, int out,
                                           const UnitSettings&, int max_batch, std::string*) {
  if (name == "nru")
    return std::make_unique<NRU>(in, out, max_batch);
  if (name == "nmru")
    return std::make_unique<NMRU>(in, out, max_batch);
  return nullptr;
}

}  // namespace nalu::fused

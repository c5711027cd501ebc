// NAC, NAC-mul, NALU (Trask et al. 2018) and iNALU (Schlor, Ring & Hotho 2020) for the fused
// engine. Each follows its LibTorch unit operation by operation, including LibTorch's
// gradients at kinks: sign(0) = 0 and abs'(0) = 0, clamp_min / clamp_max pass the gradient
// where the input is >= min / <= max (ties included), a product's gradient stays exact when a
// factor is zero.
//
// The NAC weight W = tanh(W_hat) * sigmoid(M_hat) and its derivatives are computed once per
// parameter change in prepare(); the per-batch intermediates are kept in buffers sized by
// max_batch, so that forward() and backward() allocate nothing.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/elementwise.h"
#include "layer.h"
#include "nalu/units/inalu.h"

namespace nalu::fused {

namespace {

using Buffer = std::vector<float>;

using kernels::scalar::sigmoid;

inline size_t size_of(int rows, int columns) {
  return static_cast<size_t>(rows) * static_cast<size_t>(columns);
}

// W = tanh(W_hat) * sigmoid(M_hat) [out, in] with its derivatives with respect to W_hat and
// M_hat, as LibTorch's backward forms them: dW/dW_hat = sigmoid(M_hat) (1 - tanh^2(W_hat)),
// dW/dM_hat = tanh(W_hat) (1 - sigmoid(M_hat)) sigmoid(M_hat).
class NacWeight {
 public:
  explicit NacWeight(size_t n) : w_(n), d_w_hat_(n), d_m_hat_(n) {}
  const float* w() const { return w_.data(); }
  size_t size() const { return w_.size(); }
  void prepare(const kernels::Table& k, const float* w_hat, const float* m_hat) {
    k.nac_weight(static_cast<int>(w_.size()), w_hat, m_hat, w_.data(), d_w_hat_.data(),
                 d_m_hat_.data());
  }
  /// Adds the gradients of W_hat and M_hat for the gradient dw of W.
  void chain(const float* dw, float* grad_w_hat, float* grad_m_hat) const {
    const size_t n = w_.size();
    for (size_t k = 0; k < n; ++k) {
      grad_w_hat[k] += dw[k] * d_w_hat_[k];
      grad_m_hat[k] += dw[k] * d_m_hat_[k];
    }
  }

 private:
  Buffer w_, d_w_hat_, d_m_hat_;
};

// The factor sign(x) |w| + 1 - |w| of iNALU's sign path, as LibTorch's NMU forms it.
inline float sign_factor(float sign_x, float abs_w) {
  return sign_x * abs_w + 1.0f - abs_w;
}

// prod_i sign_factor(sign_x[i], abs_w[i]), with four partial products to shorten the chain of
// dependent multiplications (LibTorch's vectorised prod also reorders the product).
inline float sign_product(int n, const float* sign_x, const float* abs_w) {
  float p0 = 1.0f, p1 = 1.0f, p2 = 1.0f, p3 = 1.0f;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    p0 *= sign_factor(sign_x[i], abs_w[i]);
    p1 *= sign_factor(sign_x[i + 1], abs_w[i + 1]);
    p2 *= sign_factor(sign_x[i + 2], abs_w[i + 2]);
    p3 *= sign_factor(sign_x[i + 3], abs_w[i + 3]);
  }
  for (; i < n; ++i)
    p0 *= sign_factor(sign_x[i], abs_w[i]);
  return (p0 * p1) * (p2 * p3);
}

// dx[b,i] = dl[b,i] / (|x[b,i]| + eps) * sign(x[b,i]): the backward of log(|x| + eps).
void log_abs_eps_backward(int n, const float* x, const float* dl, float eps, float* dx) {
  for (int k = 0; k < n; ++k)
    dx[k] = dl[k] / (std::fabs(x[k]) + eps) * sign_of(x[k]);
}

// ---- NAC: y = x W^T ------------------------------------------------------------------------

class Nac final : public Layer {
 public:
  Nac(int in, int out, int max_batch)
      : Layer(in, out, max_batch), w_(size_of(out, in)), dw_(size_of(out, in)) {}
  std::vector<int64_t> parameter_sizes() const override {
    const auto n = static_cast<int64_t>(out_) * in_;
    return {n, n};  // w_hat, m_hat
  }
  void prepare(const float* params) override { w_.prepare(k_, params, params + w_.size()); }
  void forward(int B, const float*, const float* x, float* y) override {
    k_.matmul_nt(B, out_, in_, x, w_.w(), y);
  }
  void backward(int B, const float*, const float* x, const float*, const float* dy, float* grads,
                float* dx) override {
    std::fill(dw_.begin(), dw_.end(), 0.0f);
    k_.matmul_tn_acc(B, out_, in_, dy, x, dw_.data());
    w_.chain(dw_.data(), grads, grads + w_.size());
    if (dx != nullptr) {
      std::fill(dx, dx + size_of(B, in_), 0.0f);
      k_.matmul_nn_acc(B, out_, in_, dy, w_.w(), dx);
    }
  }

 private:
  NacWeight w_;
  Buffer dw_;
};

// ---- NAC-mul: y = exp(log(|x| + eps) W^T) --------------------------------------------------

class NacMul final : public Layer {
 public:
  NacMul(int in, int out, int max_batch, float epsilon)
      : Layer(in, out, max_batch),
        epsilon_(epsilon),
        w_(size_of(out, in)),
        dw_(size_of(out, in)),
        log_x_(size_of(max_batch, in)),
        dlog_x_(size_of(max_batch, in)),
        dz_(size_of(max_batch, out)) {}
  std::vector<int64_t> parameter_sizes() const override {
    const auto n = static_cast<int64_t>(out_) * in_;
    return {n, n};  // w_hat, m_hat
  }
  void prepare(const float* params) override { w_.prepare(k_, params, params + w_.size()); }
  void forward(int B, const float*, const float* x, float* y) override {
    const int n = B * in_;
    log_x_used_ = log_abs_eps(n, x, epsilon_, log_x_.data());
    k_.matmul_nt(B, out_, in_, log_x_used_, w_.w(), y);
    k_.exp(B * out_, y, y);
  }
  void backward(int B, const float*, const float* x, const float* y, const float* dy, float* grads,
                float* dx) override {
    for (int k = 0; k < B * out_; ++k)
      dz_[k] = dy[k] * y[k];  // exp' = exp
    std::fill(dw_.begin(), dw_.end(), 0.0f);
    k_.matmul_tn_acc(B, out_, in_, dz_.data(), log_x_used_, dw_.data());
    w_.chain(dw_.data(), grads, grads + w_.size());
    if (dx != nullptr) {
      std::fill(dlog_x_.begin(), dlog_x_.begin() + B * in_, 0.0f);
      k_.matmul_nn_acc(B, out_, in_, dz_.data(), w_.w(), dlog_x_.data());
      log_abs_eps_backward(B * in_, x, dlog_x_.data(), epsilon_, dx);
    }
  }

 private:
  float epsilon_;
  NacWeight w_;
  Buffer dw_;
  Buffer log_x_, dlog_x_;              // [B, in]
  const float* log_x_used_ = nullptr;  // log_x_ or the shared input logs (forward's)
  Buffer dz_;                          // [B, out]
};

// ---- NALU: y = g a + (1 - g) m -------------------------------------------------------------
// a = x W_a^T, m = exp(log(|x| + eps) W_m^T), g = sigmoid(x G^T [+ b]); W_m is W_a when the
// weights are shared. Parameters: w_hat, m_hat, [w_hat_mul, m_hat_mul,] gate_weight,
// [gate_bias].

class Nalu final : public Layer {
 public:
  Nalu(int in, int out, int max_batch, float epsilon, bool shared, bool gate_bias)
      : Layer(in, out, max_batch),
        epsilon_(epsilon),
        shared_(shared),
        gate_bias_(gate_bias),
        add_(size_of(out, in)),
        mul_(shared ? 0 : size_of(out, in)),
        dw_add_(size_of(out, in)),
        dw_mul_(shared ? 0 : size_of(out, in)),
        log_x_(size_of(max_batch, in)),
        dlog_x_(size_of(max_batch, in)),
        a_(size_of(max_batch, out)),
        m_(size_of(max_batch, out)),
        g_(size_of(max_batch, out)),
        da_(size_of(max_batch, out)),
        dz_(size_of(max_batch, out)),
        dlogit_(size_of(max_batch, out)) {}
  std::vector<int64_t> parameter_sizes() const override {
    const auto n = static_cast<int64_t>(out_) * in_;
    std::vector<int64_t> sizes{n, n};  // w_hat, m_hat
    if (!shared_)
      sizes.insert(sizes.end(), {n, n});  // w_hat_mul, m_hat_mul
    sizes.push_back(n);                   // gate_weight
    if (gate_bias_)
      sizes.push_back(out_);  // gate_bias
    return sizes;
  }
  void prepare(const float* params) override {
    const size_t n = add_.size();
    add_.prepare(k_, params, params + n);
    if (!shared_)
      mul_.prepare(k_, params + 2 * n, params + 3 * n);
  }
  void forward(int B, const float* params, const float* x, float* y) override {
    const float* gate_w = params + gate_offset();
    k_.matmul_nt(B, out_, in_, x, add_.w(), a_.data());
    log_x_used_ = log_abs_eps(B * in_, x, epsilon_, log_x_.data());
    k_.matmul_nt(B, out_, in_, log_x_used_, w_mul(), m_.data());
    k_.matmul_nt(B, out_, in_, x, gate_w, g_.data());
    if (gate_bias_) {
      const float* bias = gate_w + add_.size();
      for (int b = 0; b < B; ++b)
        for (int j = 0; j < out_; ++j)
          g_[b * out_ + j] += bias[j];
    }
    k_.exp(B * out_, m_.data(), m_.data());
    k_.sigmoid(B * out_, g_.data(), g_.data());
    for (int k = 0; k < B * out_; ++k)
      y[k] = g_[k] * a_[k] + (1.0f - g_[k]) * m_[k];
  }
  void backward(int B, const float* params, const float* x, const float*, const float* dy,
                float* grads, float* dx) override {
    const size_t n = add_.size();
    const size_t gate = gate_offset();
    for (int k = 0; k < B * out_; ++k) {
      const float g = g_[k];
      const float d = dy[k];
      da_[k] = d * g;
      dz_[k] = d * (1.0f - g) * m_[k];                        // through (1 - g) m, then exp
      dlogit_[k] = (d * a_[k] - d * m_[k]) * (1.0f - g) * g;  // through g and 1 - g, sigmoid
    }
    // Weight gradients; shared weights collect both paths' gradients in one buffer.
    std::fill(dw_add_.begin(), dw_add_.end(), 0.0f);
    k_.matmul_tn_acc(B, out_, in_, da_.data(), x, dw_add_.data());
    float* dw_mul = shared_ ? dw_add_.data() : dw_mul_.data();
    if (!shared_)
      std::fill(dw_mul_.begin(), dw_mul_.end(), 0.0f);
    k_.matmul_tn_acc(B, out_, in_, dz_.data(), log_x_used_, dw_mul);
    add_.chain(dw_add_.data(), grads, grads + n);
    if (!shared_)
      mul_.chain(dw_mul_.data(), grads + 2 * n, grads + 3 * n);
    k_.matmul_tn_acc(B, out_, in_, dlogit_.data(), x, grads + gate);
    if (gate_bias_) {
      float* grad_bias = grads + gate + n;
      for (int j = 0; j < out_; ++j) {
        float sum = grad_bias[j];  // rows in order, in a register (as Dense::backward)
        for (int b = 0; b < B; ++b)
          sum += dlogit_[b * out_ + j];
        grad_bias[j] = sum;
      }
    }
    if (dx != nullptr) {
      std::fill(dlog_x_.begin(), dlog_x_.begin() + B * in_, 0.0f);
      k_.matmul_nn_acc(B, out_, in_, dz_.data(), w_mul(), dlog_x_.data());
      log_abs_eps_backward(B * in_, x, dlog_x_.data(), epsilon_, dx);
      k_.matmul_nn_acc(B, out_, in_, da_.data(), add_.w(), dx);
      k_.matmul_nn_acc(B, out_, in_, dlogit_.data(), params + gate, dx);
    }
  }

 private:
  size_t gate_offset() const { return (shared_ ? 2 : 4) * add_.size(); }
  const float* w_mul() const { return shared_ ? add_.w() : mul_.w(); }

  float epsilon_;
  bool shared_, gate_bias_;
  NacWeight add_, mul_;
  Buffer dw_add_, dw_mul_;
  Buffer log_x_, dlog_x_;                // [B, in]
  const float* log_x_used_ = nullptr;    // log_x_ or the shared input logs (forward's)
  Buffer a_, m_, g_, da_, dz_, dlogit_;  // [B, out]
};

// ---- iNALU: y = sigmoid(g) a + (1 - sigmoid(g)) m s ----------------------------------------
// a = x W_a^T, m = exp(min(log(max(|x|, eps)) W_m^T, omega)),
// s_j = prod_i (sign(x_i) |W_m,ji| + 1 - |W_m,ji|). Parameters: w_hat_add, m_hat_add,
// w_hat_mul, m_hat_mul [out, in], gate [out]. R = mean over all parameters of
// max(t - |p|, 0) / t.

class Inalu final : public Layer {
 public:
  Inalu(int in, int out, int max_batch, const INALUOptions& options)
      : Layer(in, out, max_batch),
        epsilon_(static_cast<float>(options.epsilon())),
        omega_(static_cast<float>(options.omega())),
        threshold_(static_cast<float>(options.regularizer_threshold())),
        add_(size_of(out, in)),
        mul_(size_of(out, in)),
        abs_w_mul_(size_of(out, in)),
        sign_w_mul_(size_of(out, in)),
        gate_(static_cast<size_t>(out)),
        dgate_add_(static_cast<size_t>(out)),
        dgate_mul_(static_cast<size_t>(out)),
        dw_add_(size_of(out, in)),
        dw_mul_(size_of(out, in)),
        ones_(static_cast<size_t>(in), 1.0f),
        positive_sign_product_(static_cast<size_t>(out)),
        positive_row_(static_cast<size_t>(max_batch)),
        clipped_(size_of(max_batch, in)),
        log_x_(size_of(max_batch, in)),
        sign_x_(size_of(max_batch, in)),
        dlog_x_(size_of(max_batch, in)),
        a_(size_of(max_batch, out)),
        z_(size_of(max_batch, out)),
        m_(size_of(max_batch, out)),
        s_(size_of(max_batch, out)),
        da_(size_of(max_batch, out)),
        dz_(size_of(max_batch, out)),
        ds_(size_of(max_batch, out)) {}
  std::vector<int64_t> parameter_sizes() const override {
    const auto n = static_cast<int64_t>(out_) * in_;
    return {n, n, n, n, out_};  // w_hat_add, m_hat_add, w_hat_mul, m_hat_mul, gate
  }
  void prepare(const float* params) override {
    const size_t n = add_.size();
    add_.prepare(k_, params, params + n);
    mul_.prepare(k_, params + 2 * n, params + 3 * n);
    const float* w_mul = mul_.w();
    for (size_t k = 0; k < n; ++k) {
      abs_w_mul_[k] = std::fabs(w_mul[k]);
      sign_w_mul_[k] = sign_of(w_mul[k]);
    }
    for (int j = 0; j < out_; ++j) {
      gate_[j] = sigmoid(params[4 * n + j]);
      // The sign path of an input row without zeros or negatives (the common case).
      positive_sign_product_[j] =
          sign_product(in_, ones_.data(), abs_w_mul_.data() + static_cast<int64_t>(j) * in_);
    }
  }
  void forward(int B, const float*, const float* x, float* y) override {
    const int n = B * in_;
    for (int k = 0; k < n; ++k) {
      const float magnitude = std::fabs(x[k]);
      clipped_[k] = magnitude < epsilon_ ? epsilon_ : magnitude;  // clamp_min, NaN stays NaN
      sign_x_[k] = sign_of(x[k]);
    }
    for (int b = 0; b < B; ++b) {
      const float* sx = sign_x_.data() + static_cast<int64_t>(b) * in_;
      positive_row_[b] = std::all_of(sx, sx + in_, [](float v) { return v == 1.0f; });
    }
    k_.log_abs_eps(n, clipped_.data(), 0.0f, log_x_.data());
    k_.matmul_nt(B, out_, in_, x, add_.w(), a_.data());
    k_.matmul_nt(B, out_, in_, log_x_.data(), mul_.w(), z_.data());
    for (int b = 0; b < B; ++b) {
      const float* sx = sign_x_.data() + static_cast<int64_t>(b) * in_;
      for (int j = 0; j < out_; ++j) {
        const int k = b * out_ + j;
        const float s =
            positive_row_[b]
                ? positive_sign_product_[j]
                : sign_product(in_, sx, abs_w_mul_.data() + static_cast<int64_t>(j) * in_);
        s_[k] = s;
        m_[k] = std::exp(z_[k] > omega_ ? omega_ : z_[k]);  // clamp_max, NaN stays NaN
        const float g = gate_[j];
        y[k] = g * a_[k] + (1.0f - g) * m_[k] * s;
      }
    }
  }
  void backward(int B, const float*, const float* x, const float*, const float* dy, float* grads,
                float* dx) override {
    const size_t n = add_.size();
    std::fill(dgate_add_.begin(), dgate_add_.end(), 0.0f);
    std::fill(dgate_mul_.begin(), dgate_mul_.end(), 0.0f);
    for (int b = 0; b < B; ++b) {
      for (int j = 0; j < out_; ++j) {
        const int k = b * out_ + j;
        const float g = gate_[j];
        const float d = dy[k];
        da_[k] = d * g;
        dgate_add_[j] += d * a_[k];
        // y = g a + ((1 - g) m) s
        const float dp = d * s_[k];
        ds_[k] = d * ((1.0f - g) * m_[k]);
        dgate_mul_[j] += dp * m_[k];
        // exp' = exp; clamp_max passes the gradient where z <= omega.
        dz_[k] = z_[k] <= omega_ ? dp * (1.0f - g) * m_[k] : 0.0f;
      }
    }
    float* grad_gate = grads + 4 * n;
    for (int j = 0; j < out_; ++j)
      grad_gate[j] += (dgate_add_[j] - dgate_mul_[j]) * (1.0f - gate_[j]) * gate_[j];

    std::fill(dw_add_.begin(), dw_add_.end(), 0.0f);
    k_.matmul_tn_acc(B, out_, in_, da_.data(), x, dw_add_.data());
    add_.chain(dw_add_.data(), grads, grads + n);

    std::fill(dw_mul_.begin(), dw_mul_.end(), 0.0f);
    k_.matmul_tn_acc(B, out_, in_, dz_.data(), log_x_.data(), dw_mul_.data());
    sign_backward(B);
    mul_.chain(dw_mul_.data(), grads + 2 * n, grads + 3 * n);

    if (dx != nullptr) {
      // log(clamp_min(|x|, eps)): the sign path has no input gradient (sign' = 0).
      std::fill(dlog_x_.begin(), dlog_x_.begin() + B * in_, 0.0f);
      k_.matmul_nn_acc(B, out_, in_, dz_.data(), mul_.w(), dlog_x_.data());
      for (int k = 0; k < B * in_; ++k) {
        const float quotient = dlog_x_[k] / clipped_[k];  // clipped_ >= epsilon > 0
        dx[k] = (std::fabs(x[k]) >= epsilon_ ? quotient : 0.0f) * sign_x_[k];
      }
      k_.matmul_nn_acc(B, out_, in_, da_.data(), add_.w(), dx);
    }
  }
  double regularize(const float* params, double scale, float* grads) override {
    const size_t n = 4 * add_.size() + static_cast<size_t>(out_);
    const float step = static_cast<float>(scale / static_cast<double>(n) / threshold_);
    double total = 0.0;
    for (size_t k = 0; k < n; ++k) {
      const float gap = threshold_ - std::fabs(params[k]);
      // clamp_min(gap, 0) passes the gradient where gap >= 0; abs'(0) = 0.
      if (gap >= 0.0f) {
        total += gap;
        grads[k] -= step * sign_of(params[k]);
      }
    }
    return scale * total / threshold_ / static_cast<double>(n);
  }

 private:
  // Adds the gradient of the sign path s to dw_mul_, through |W_m|: each factor is
  // f = sign(x) |w| + 1 - |w| with df/d|w| = sign(x) - 1, which vanishes for positive inputs
  // (so rows of positive inputs add nothing). The product of the other factors is s / f, as in
  // LibTorch's prod backward. When s is 0, either one factor is exactly zero (the others'
  // product is then nonzero for that factor only), or several are, or s underflowed: the
  // gradient is then 0, as LibTorch's s / f.
  void sign_backward(int B) {
    for (int b = 0; b < B; ++b) {
      if (positive_row_[b])
        continue;
      const float* sx = sign_x_.data() + static_cast<int64_t>(b) * in_;
      for (int j = 0; j < out_; ++j) {
        const float d = ds_[b * out_ + j];
        if (d == 0.0f)
          continue;
        const int64_t row = static_cast<int64_t>(j) * in_;
        const float* aw = abs_w_mul_.data() + row;
        const float* sign_w = sign_w_mul_.data() + row;
        float* dw = dw_mul_.data() + row;
        const float s = s_[b * out_ + j];
        if (s != 0.0f) {  // no factor is zero (each lies in [-1, 1])
          for (int i = 0; i < in_; ++i)
            dw[i] += d * (s / sign_factor(sx[i], aw[i])) * (sx[i] - 1.0f) * sign_w[i];
          continue;
        }
        int zeros = 0;
        for (int i = 0; i < in_; ++i)
          zeros += sign_factor(sx[i], aw[i]) == 0.0f ? 1 : 0;
        if (zeros != 1)
          continue;
        int zero = 0;
        float others = 1.0f;
        for (int i = 0; i < in_; ++i) {
          const float factor = sign_factor(sx[i], aw[i]);
          if (factor == 0.0f)
            zero = i;
          else
            others *= factor;
        }
        dw[zero] += d * others * (sx[zero] - 1.0f) * sign_w[zero];
      }
    }
  }

  float epsilon_, omega_, threshold_;
  NacWeight add_, mul_;
  Buffer abs_w_mul_, sign_w_mul_;             // [out, in]
  Buffer gate_, dgate_add_, dgate_mul_;       // [out]
  Buffer dw_add_, dw_mul_;                    // [out, in]
  Buffer ones_;                               // [in]
  Buffer positive_sign_product_;              // [out]
  std::vector<char> positive_row_;            // [B]: every input > 0
  Buffer clipped_, log_x_, sign_x_, dlog_x_;  // [B, in]
  Buffer a_, z_, m_, s_, da_, dz_, ds_;       // [B, out]
};

}  // namespace

std::unique_ptr<Layer> make_nac_layer(const std::string& name, int in, int out,
                                      const UnitSettings& settings, int max_batch,
                                      std::string* why) {
  const auto refuse = [&](const std::string& reason) -> std::unique_ptr<Layer> {
    if (why != nullptr)
      *why = reason;
    return nullptr;
  };
  if (name == "nac")
    return std::make_unique<Nac>(in, out, max_batch);
  if (name == "nac-mul" || name == "nalu") {
    // As the units' own checks (NACOptions / NALUOptions).
    if (!(settings.epsilon >= 0.0))
      return refuse("the fused engine has no " + name + " layer with epsilon < 0");
    const auto epsilon = static_cast<float>(settings.epsilon);
    if (name == "nac-mul")
      return std::make_unique<NacMul>(in, out, max_batch, epsilon);
    return std::make_unique<Nalu>(in, out, max_batch, epsilon, settings.nalu_shared_weights,
                                  settings.nalu_gate_bias);
  }
  if (name == "inalu") {
    // make_unit sets only epsilon; omega and the regulariser threshold keep their defaults.
    const auto options = INALUOptions(in, out).epsilon(settings.epsilon);
    if (!(options.epsilon() > 0.0))
      return refuse("the fused engine has no inalu layer with epsilon <= 0");
    return std::make_unique<Inalu>(in, out, max_batch, options);
  }
  return nullptr;
}

}  // namespace nalu::fused

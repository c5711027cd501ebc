// NAU and NMU (Madsen & Johansen, ICLR 2020) for the fused engine.
#include <algorithm>
#include <cmath>

#include "layer.h"

namespace nalu::fused {

namespace {

// y = x W^T with W [out, in] clamped to [-1, 1]; R = mean(min(|W|, 1 - |W|)).
class NAU final : public Layer {
 public:
  using Layer::Layer;
  std::vector<int64_t> parameter_sizes() const override {
    return {static_cast<int64_t>(out_) * in_};
  }
  void forward(int B, const float* w, const float* x, float* y) override {
    k_.matmul_nt(B, out_, in_, x, w, y);
  }
  void backward(int B, const float* w, const float* x, const float*, const float* dy, float* grads,
                float* dx) override {
    k_.matmul_tn_acc(B, out_, in_, dy, x, grads);
    if (dx != nullptr) {
      std::fill(dx, dx + static_cast<int64_t>(B) * in_, 0.0f);
      k_.matmul_nn_acc(B, out_, in_, dy, w, dx);
    }
  }
  double regularize(const float* w, double scale, float* grads) override {
    return nau_regularize(w, in_ * out_, scale, grads);
  }
  void project(float* w) override {
    for (int k = 0; k < in_ * out_; ++k)
      w[k] = std::clamp(w[k], -1.0f, 1.0f);
  }
};

// y_j = prod_i (W_ji x_i + 1 - W_ji) with W clamped to [0, 1]; R = mean(min(W, 1 - W)).
class NMU final : public Layer {
 public:
  NMU(int in, int out, int max_batch)
      : Layer(in, out, max_batch), prefix_(static_cast<size_t>(in) + 1) {}
  std::vector<int64_t> parameter_sizes() const override {
    return {static_cast<int64_t>(out_) * in_};
  }
  void forward(int B, const float* w, const float* x, float* y) override {
    if (in_ == 2) {  // the field's task (hidden size 2): a loop over rows the compiler vectorises
      for (int j = 0; j < out_; ++j) {
        const float w0 = w[2 * j], w1 = w[2 * j + 1];
        for (int b = 0; b < B; ++b)
          y[static_cast<int64_t>(b) * out_ + j] =
              (w0 * x[2 * b] + 1.0f - w0) * (w1 * x[2 * b + 1] + 1.0f - w1);
      }
      return;
    }
    for (int b = 0; b < B; ++b) {
      const float* xb = x + static_cast<int64_t>(b) * in_;
      for (int j = 0; j < out_; ++j) {
        const float* wj = w + static_cast<int64_t>(j) * in_;
        float product = 1.0f;
        for (int i = 0; i < in_; ++i)
          product *= wj[i] * xb[i] + 1.0f - wj[i];
        y[static_cast<int64_t>(b) * out_ + j] = product;
      }
    }
  }
  void backward(int B, const float* w, const float* x, const float*, const float* dy, float* grads,
                float* dx) override {
    if (dx != nullptr)
      std::fill(dx, dx + static_cast<int64_t>(B) * in_, 0.0f);
    if (in_ == 2) {
      backward_two_inputs(B, w, x, dy, grads, dx);
      return;
    }
    for (int b = 0; b < B; ++b) {
      const float* xb = x + static_cast<int64_t>(b) * in_;
      for (int j = 0; j < out_; ++j) {
        const float* wj = w + static_cast<int64_t>(j) * in_;
        const float d = dy[static_cast<int64_t>(b) * out_ + j];
        // The product of all factors but factor i, from prefix and suffix products: exact even
        // when a factor is zero.
        prefix_[0] = 1.0f;
        for (int i = 0; i < in_; ++i)
          prefix_[i + 1] = prefix_[i] * (wj[i] * xb[i] + 1.0f - wj[i]);
        float suffix = 1.0f;
        for (int i = in_ - 1; i >= 0; --i) {
          const float others = d * prefix_[i] * suffix;
          grads[static_cast<int64_t>(j) * in_ + i] += others * (xb[i] - 1.0f);
          if (dx != nullptr)
            dx[static_cast<int64_t>(b) * in_ + i] += others * wj[i];
          suffix *= wj[i] * xb[i] + 1.0f - wj[i];
        }
      }
    }
  }
  double regularize(const float* w, double scale, float* grads) override {
    return nmu_regularize(w, in_ * out_, scale, grads);
  }
  void project(float* w) override {
    for (int k = 0; k < in_ * out_; ++k)
      w[k] = std::clamp(w[k], 0.0f, 1.0f);
  }

 private:
  // backward() for two inputs: the product of the other factors is the one other factor, so the
  // prefix and suffix products reduce to it; the same values, summed over rows in the same order.
  void backward_two_inputs(int B, const float* w, const float* x, const float* dy, float* grads,
                           float* dx) const {
    for (int j = 0; j < out_; ++j) {
      const float w0 = w[2 * j], w1 = w[2 * j + 1];
      float g0 = grads[2 * j], g1 = grads[2 * j + 1];
      for (int b = 0; b < B; ++b) {
        const float x0 = x[2 * b], x1 = x[2 * b + 1];
        const float d = dy[static_cast<int64_t>(b) * out_ + j];
        const float others1 = d * (w0 * x0 + 1.0f - w0);  // for input 1: factor 0
        const float others0 = d * (w1 * x1 + 1.0f - w1);  // for input 0: factor 1
        g1 += others1 * (x1 - 1.0f);
        g0 += others0 * (x0 - 1.0f);
        if (dx != nullptr) {
          dx[2 * b] += others0 * w0;
          dx[2 * b + 1] += others1 * w1;
        }
      }
      grads[2 * j] = g0;
      grads[2 * j + 1] = g1;
    }
  }

  std::vector<float> prefix_;
};

}  // namespace

double nau_regularize(const float* w, int n, double scale, float* grads) {
  const float step = static_cast<float>(scale / n);
  // R's term for w[k], its gradient added to grads[k]. The signs are integers made from
  // comparisons (set instructions), not branches: weights of either sign are equally likely,
  // and branches on them were mispredicted about half the time.
  const auto term = [&](int k) {
    const float magnitude = std::fabs(w[k]);
    const float other = 1.0f - magnitude;
    const int sign = static_cast<int>(w[k] > 0.0f) - static_cast<int>(w[k] < 0.0f);
    // d min(|w|, 1 - |w|) / dw: sign(w) below 0.5, -sign(w) above.
    // At the tie |w| = 0.5, LibTorch splits the gradient between the two sides: 0.
    const int side = static_cast<int>(magnitude < other) - static_cast<int>(magnitude > other);
    grads[k] += step * static_cast<float>(sign * side);
    return magnitude <= other ? magnitude : other;
  };
  // Four partial sums (k mod 4), so that the additions do not wait on one another.
  double totals[4] = {0.0, 0.0, 0.0, 0.0};
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    for (int j = 0; j < 4; ++j)
      totals[j] += term(k + j);
  }
  for (; k < n; ++k)
    totals[k & 3] += term(k);
  return scale * ((totals[0] + totals[1]) + (totals[2] + totals[3])) / n;
}

double nmu_regularize(const float* w, int n, double scale, float* grads) {
  const float step = static_cast<float>(scale / n);
  double total = 0.0;
  for (int k = 0; k < n; ++k) {
    // d min(w, 1 - w) / dw: 1 below 0.5, -1 above.
    if (w[k] == 1.0f - w[k]) {
      total += w[k];
    } else if (w[k] < 1.0f - w[k]) {
      total += w[k];
      grads[k] += step;
    } else {
      total += 1.0f - w[k];
      grads[k] -= step;
    }
  }
  return scale * total / n;
}

std::unique_ptr<Layer> make_additive_layer(const std::string& name, int in, int out,
                                           const UnitSettings&, int max_batch, std::string*) {
  if (name == "nau")
    return std::make_unique<NAU>(in, out, max_batch);
  if (name == "nmu")
    return std::make_unique<NMU>(in, out, max_batch);
  return nullptr;
}

}  // namespace nalu::fused

// Linear and MLP baselines for the fused engine. Both are one class: a chain of affine layers
// (with or without bias) with an activation between them and none after the last. A "linear"
// unit and an "mlp" without hidden layers are a single affine layer.
//
// The activations follow LibTorch 1.13's CPU kernels and autograd formulas, including the values
// at their kinks (relu'(0) = 0, zero gradient on the boundaries of hardtanh/relu6/softshrink,
// the x <= 0 branch of ELU/SELU at 0, sgn(0) = 0), with torch's default parameters.
#include <algorithm>
#include <cmath>
#include <vector>

#include "layer.h"
#include "nalu/limits.h"
#include "nalu/units/baselines.h"

namespace nalu::fused {

namespace {

constexpr float kLeakySlope = 0.01f;         // LeakyReLU negative_slope
constexpr float kShrink = 0.5f;              // Softshrink lambda
constexpr float kSoftplusThreshold = 20.0f;  // Softplus threshold (beta = 1)
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// a = f(z) elementwise over n values.
void activate(Activation activation, int64_t n, const float* z, float prelu_weight, float* a) {
  auto map = [&](auto f) {
    for (int64_t t = 0; t < n; ++t)
      a[t] = f(z[t]);
  };
  switch (activation) {
    case Activation::kNone:
      std::copy(z, z + n, a);
      return;
    case Activation::kReLU:
      return map([](float v) { return v < 0.0f ? 0.0f : v; });  // NaN stays NaN, as clamp_min
    case Activation::kReLU6:                                    // hardtanh(v, 0, 6)
      return map([](float v) { return std::min(std::max(v, 0.0f), 6.0f); });
    case Activation::kHardtanh:
      return map([](float v) { return std::min(std::max(v, -1.0f), 1.0f); });
    case Activation::kLeakyReLU:
      return map([](float v) { return v > 0.0f ? v : v * kLeakySlope; });
    case Activation::kPReLU:
      return map([prelu_weight](float v) { return v > 0.0f ? v : prelu_weight * v; });
    case Activation::kELU:  // alpha = 1
      return map([](float v) { return v <= 0.0f ? std::exp(v) - 1.0f : v; });
    case Activation::kSELU: {
      const float negative = static_cast<float>(kSeluAlpha) * static_cast<float>(kSeluScale);
      const float positive = static_cast<float>(kSeluScale);
      return map(
          [=](float v) { return v <= 0.0f ? (std::exp(v) - 1.0f) * negative : v * positive; });
    }
    case Activation::kSigmoid:
      return map([](float v) { return 1.0f / (1.0f + std::exp(-v)); });
    case Activation::kSoftplus:  // beta = 1, threshold = 20
      return map([](float v) { return v > kSoftplusThreshold ? v : std::log1p(std::exp(v)); });
    case Activation::kSoftshrink:
      return map(
          [](float v) { return v > kShrink ? v - kShrink : (v < -kShrink ? v + kShrink : 0.0f); });
    case Activation::kSoftsign:  // v / (|v| + 1)
      return map([](float v) { return v / (std::fabs(v) + 1.0f); });
    case Activation::kTanh:
      return map([](float v) { return std::tanh(v); });
    case Activation::kTanhshrink:  // v - tanh(v)
      return map([](float v) { return v - std::tanh(v); });
    case Activation::kLogSigmoid:  // min(v, 0) - log1p(exp(-|v|))
      return map([](float v) { return std::min(v, 0.0f) - std::log1p(std::exp(-std::fabs(v))); });
    case Activation::kGELU: {  // the exact form: v / 2 (1 + erf(v / sqrt(2)))
      const float alpha = static_cast<float>(M_SQRT1_2);
      return map([alpha](float v) { return v * 0.5f * (1.0f + std::erf(v * alpha)); });
    }
    case Activation::kSiLU:
      return map([](float v) { return v / (1.0f + std::exp(-v)); });
    case Activation::kRReLU:
      break;  // refused by make_baseline_layer
  }
}

// d *= f'(z) elementwise over n values (a = f(z)); returns dL/d(PReLU weight) for PReLU.
float activation_backward(Activation activation, int64_t n, const float* z, const float* a,
                          float prelu_weight, float* d) {
  auto map = [&](auto f) {
    for (int64_t t = 0; t < n; ++t)
      d[t] = f(z[t], a[t], d[t]);
  };
  switch (activation) {
    case Activation::kNone:
      return 0.0f;
    case Activation::kReLU:  // threshold_backward on the result: 0 where a <= 0
      map([](float, float y, float g) { return y <= 0.0f ? 0.0f : g; });
      return 0.0f;
    case Activation::kReLU6:  // hardtanh_backward: 0 on and beyond the boundaries
      map([](float v, float, float g) { return v <= 0.0f || v >= 6.0f ? 0.0f : g; });
      return 0.0f;
    case Activation::kHardtanh:
      map([](float v, float, float g) { return v <= -1.0f || v >= 1.0f ? 0.0f : g; });
      return 0.0f;
    case Activation::kLeakyReLU:
      map([](float v, float, float g) { return v > 0.0f ? g : g * kLeakySlope; });
      return 0.0f;
    case Activation::kPReLU: {
      float d_weight = 0.0f;
      for (int64_t t = 0; t < n; ++t) {
        if (z[t] > 0.0f)
          continue;
        d_weight += z[t] * d[t];
        d[t] *= prelu_weight;
      }
      return d_weight;
    }
    case Activation::kELU:  // elu_backward on the input: the exp branch at v <= 0
      map([](float v, float, float g) { return v <= 0.0f ? g * std::exp(v) : g; });
      return 0.0f;
    case Activation::kSELU: {
      const float negative = static_cast<float>(kSeluAlpha) * static_cast<float>(kSeluScale);
      const float positive = static_cast<float>(kSeluScale);
      map([=](float v, float, float g) {
        return v <= 0.0f ? g * negative * std::exp(v) : g * positive;
      });
      return 0.0f;
    }
    case Activation::kSigmoid:  // sigmoid_backward on the result
      map([](float, float y, float g) { return g * (1.0f - y) * y; });
      return 0.0f;
    case Activation::kSoftplus:
      map([](float v, float, float g) {
        const float e = std::exp(v);
        return v > kSoftplusThreshold ? g : g * e / (e + 1.0f);
      });
      return 0.0f;
    case Activation::kSoftshrink:
      map([](float v, float, float g) { return v >= -kShrink && v <= kShrink ? 0.0f : g; });
      return 0.0f;
    case Activation::kSoftsign:
      // Autograd of v / (|v| + 1): g / q - g (v / q / q) sgn(v), q = |v| + 1.
      map([](float v, float, float g) {
        const float q = std::fabs(v) + 1.0f;
        const float sign = v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
        return g / q + -g * (v / q / q) * sign;
      });
      return 0.0f;
    case Activation::kTanh:  // tanh_backward on the result
      map([](float, float y, float g) { return g * (1.0f - y * y); });
      return 0.0f;
    case Activation::kTanhshrink:  // autograd of v - tanh(v)
      map([](float v, float, float g) {
        const float t = std::tanh(v);
        return g + -g * (1.0f - t * t);
      });
      return 0.0f;
    case Activation::kLogSigmoid:  // log_sigmoid_backward with buffer exp(-|v|)
      map([](float v, float, float g) {
        const float e = std::exp(-std::fabs(v));
        const bool negative = v < 0.0f;
        const float max_derivative = negative ? 1.0f : 0.0f;
        const float sign = negative ? 1.0f : -1.0f;
        return (max_derivative - sign * (e / (1.0f + e))) * g;
      });
      return 0.0f;
    case Activation::kGELU: {
      const float alpha = static_cast<float>(M_SQRT1_2);
      const float beta = static_cast<float>(M_2_SQRTPI * M_SQRT1_2 * 0.5);
      map([=](float v, float, float g) {
        const float cdf = 0.5f * (1.0f + std::erf(v * alpha));
        const float pdf = beta * std::exp(v * v * -0.5f);
        return g * (cdf + v * pdf);
      });
      return 0.0f;
    }
    case Activation::kSiLU:
      map([](float v, float, float g) {
        const float sigmoid = 1.0f / (1.0f + std::exp(-v));
        return g * sigmoid * (1.0f + v * (1.0f - sigmoid));
      });
      return 0.0f;
    case Activation::kRReLU:
      break;
  }
  return 0.0f;
}

// Affine layers sizes[0] -> sizes[1] -> ... -> sizes.back(), with `activation` after each but
// the last. Parameters per affine layer l, as torch::nn::Sequential registers them: weight
// [sizes[l+1], sizes[l]], bias [sizes[l+1]] (with bias), then the PReLU weight [1] after each
// hidden layer (PReLU only).
class Dense final : public Layer {
 public:
  Dense(const std::vector<int>& sizes, bool bias, Activation activation, int max_batch)
      : Layer(sizes.front(), sizes.back(), max_batch),
        sizes_(sizes),
        bias_(bias),
        activation_(activation) {
    int64_t offset = 0;
    int widest = 0;
    const int depth = static_cast<int>(sizes_.size()) - 1;
    for (int l = 0; l < depth; ++l) {
      Affine affine;
      affine.in = sizes_[l];
      affine.out = sizes_[l + 1];
      affine.weight = offset;
      offset += static_cast<int64_t>(affine.in) * affine.out;
      if (bias_) {
        affine.bias = offset;
        offset += affine.out;
      }
      if (l + 1 < depth) {
        if (activation_ == Activation::kPReLU)
          affine.prelu = offset++;
        const size_t size = static_cast<size_t>(max_batch) * affine.out;
        pre_.emplace_back(size);
        post_.emplace_back(activation_ == Activation::kNone ? 0 : size);
        widest = std::max(widest, affine.out);
      }
      affine_.push_back(affine);
    }
    delta_[0].resize(static_cast<size_t>(max_batch) * widest);
    delta_[1].resize(static_cast<size_t>(max_batch) * widest);
  }

  std::vector<int64_t> parameter_sizes() const override {
    std::vector<int64_t> sizes;
    for (const auto& affine : affine_) {
      sizes.push_back(static_cast<int64_t>(affine.in) * affine.out);
      if (bias_)
        sizes.push_back(affine.out);
      if (affine.prelu >= 0)
        sizes.push_back(1);
    }
    return sizes;
  }

  void forward(int B, const float* params, const float* x, float* y) override {
    const float* input = x;
    const size_t depth = affine_.size();
    for (size_t l = 0; l < depth; ++l) {
      const Affine& affine = affine_[l];
      const bool last = l + 1 == depth;
      float* z = last ? y : pre_[l].data();
      k_.matmul_nt(B, affine.out, affine.in, input, params + affine.weight, z);
      if (bias_) {
        const float* b = params + affine.bias;
        for (int r = 0; r < B; ++r) {
          float* row = z + static_cast<int64_t>(r) * affine.out;
          for (int j = 0; j < affine.out; ++j)
            row[j] += b[j];
        }
      }
      if (last)
        break;
      input = activated(l, B, params);
    }
  }

  void backward(int B, const float* params, const float* x, const float*, const float* dy,
                float* grads, float* dx) override {
    const float* delta = dy;  // dL/dz of layer l
    for (size_t l = affine_.size(); l-- > 0;) {
      const Affine& affine = affine_[l];
      const float* input = l == 0 ? x : hidden_output(l - 1);
      k_.matmul_tn_acc(B, affine.out, affine.in, delta, input, grads + affine.weight);
      if (bias_) {
        // Each output's rows added in row order, in a register rather than through memory (a
        // chain of stores and reloads): the same sums.
        float* db = grads + affine.bias;
        for (int j = 0; j < affine.out; ++j) {
          float sum = db[j];
          for (int r = 0; r < B; ++r)
            sum += delta[static_cast<int64_t>(r) * affine.out + j];
          db[j] = sum;
        }
      }
      float* d_input = l == 0 ? dx : delta_[l % 2].data();
      if (d_input == nullptr)
        break;
      const int64_t n = static_cast<int64_t>(B) * affine.in;
      std::fill(d_input, d_input + n, 0.0f);
      k_.matmul_nn_acc(B, affine.out, affine.in, delta, params + affine.weight, d_input);
      if (l == 0)
        break;
      const Affine& previous = affine_[l - 1];
      const float weight = previous.prelu >= 0 ? params[previous.prelu] : 0.0f;
      const float d_weight = activation_backward(activation_, n, pre_[l - 1].data(),
                                                 hidden_output(l - 1), weight, d_input);
      if (previous.prelu >= 0)
        grads[previous.prelu] += d_weight;
      delta = d_input;
    }
  }

 private:
  struct Affine {
    int in = 0, out = 0;
    int64_t weight = 0, bias = -1, prelu = -1;  // offsets into the parameters
  };

  // Applies the activation after hidden layer l; returns its output.
  const float* activated(size_t l, int B, const float* params) {
    if (activation_ == Activation::kNone)
      return pre_[l].data();
    const float weight = affine_[l].prelu >= 0 ? params[affine_[l].prelu] : 0.0f;
    activate(activation_, static_cast<int64_t>(B) * affine_[l].out, pre_[l].data(), weight,
             post_[l].data());
    return post_[l].data();
  }
  const float* hidden_output(size_t l) const {
    return activation_ == Activation::kNone ? pre_[l].data() : post_[l].data();
  }

  std::vector<int> sizes_;
  bool bias_;
  Activation activation_;
  std::vector<Affine> affine_;
  std::vector<std::vector<float>> pre_;   // z of each hidden layer [B, out]
  std::vector<std::vector<float>> post_;  // f(z) of each hidden layer (empty for none)
  std::vector<float> delta_[2];           // dL/dz of hidden layers, alternating
};

}  // namespace

std::unique_ptr<Layer> make_baseline_layer(const std::string& name, int in, int out,
                                           const std::vector<int64_t>& hidden,
                                           const UnitSettings& settings, int max_batch,
                                           std::string* why) {
  if (name == "linear")
    return std::make_unique<Dense>(std::vector<int>{in, out}, settings.linear_bias,
                                   Activation::kNone, max_batch);
  if (name != "mlp")
    return nullptr;
  // Throws for unknown names, as make_unit does.
  const Activation activation = parse_activation(settings.mlp_activation);
  if (activation == Activation::kRReLU && !hidden.empty()) {
    // (resolve_engine adds "; use --engine torch" to the reason.)
    if (why != nullptr)
      *why = "the fused engine has no MLP with activation 'rrelu' (random in training)";
    return nullptr;
  }
  std::vector<int> sizes{in};
  for (auto size : hidden)
    sizes.push_back(checked_narrow<int>(size, "fused engine: hidden size"));
  sizes.push_back(out);
  return std::make_unique<Dense>(sizes, settings.linear_bias, activation, max_batch);
}

}  // namespace nalu::fused

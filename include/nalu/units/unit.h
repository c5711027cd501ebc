// The contract every nalu unit fulfils, on top of being an ordinary torch::nn::Module:
//
//   forward(x)                  requires x of shape [batch, in]; ensures [batch, out].
//   regularization_loss(scale)  scale * R(W), the unit's sparsity regulariser (0 if it has none).
//   sparsity_error()            max over read weights of their distance to the nearest value
//                               the unit is pushed towards (docs/design.md §4).
//   formula()                   the rounded-weight read-back (see nalu/formula.h).
//   after_optimizer_step()      projections such as NAU/NMU weight clamping.
//   default_regularizer()       the schedule the unit's authors used.
#pragma once

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>

#include "nalu/formula.h"
#include "nalu/regularizer.h"

namespace nalu {

/// Weight initialisation schemes shared by the NAC family.
enum class Init {
  kTruncatedNormal,  // the seeds' TensorFlow code: truncated normal, stddev 0.02
  kXavierUniform,    // Glorot uniform, as most PyTorch ports do
  kReference,        // Madsen & Johansen's NAC start: U[-r, r] with fan * Var(W) = 2 (see
                     // detail::nac_reference_range); a NALU gate starts Glorot uniform
};

/// "truncated-normal", "xavier-uniform" or "reference".
std::string init_name(Init init);
/// The inverse of init_name; also takes "xavier". Throws nalu::Error naming the known ones.
Init parse_init(const std::string& name);

/// How a Linear baseline layer starts.
enum class LinearInit {
  kTorch,  // torch::nn::Linear's: Kaiming-uniform weight (a = sqrt(5)), U[-1/sqrt(in), ...] bias
  kReference,  // Madsen & Johansen's Linear baseline: Xavier-uniform weight, zero bias
};

/// Interface of an arithmetic layer. Implementations derive from torch::nn::Module (usually
/// through torch::nn::Cloneable) and from this class.
class ArithmeticUnit {
 public:
  virtual ~ArithmeticUnit() = default;

  virtual torch::Tensor forward(const torch::Tensor& input) = 0;
  virtual torch::Tensor regularization_loss(double scale) const;
  virtual double sparsity_error() const = 0;
  virtual Formula formula() const = 0;
  virtual void after_optimizer_step() {}
  virtual RegularizerSchedule default_regularizer() const { return kNoRegularizer; }
  /// The registry name ("nac", "nmu", ...).
  virtual std::string unit_name() const = 0;
  virtual int64_t in_features() const = 0;
  virtual int64_t out_features() const = 0;

  /// This unit as a module (for parameters(), to(), named_parameters(), ...).
  virtual torch::nn::Module& as_module() = 0;
  virtual const torch::nn::Module& as_module() const = 0;
};

namespace detail {

/// Checks that `input` is [batch, in_features]; `unit` names the caller in the message.
void check_input(const torch::Tensor& input, int64_t in_features, const char* unit);
/// Checks in/out sizes of a unit's options.
void check_sizes(int64_t in_features, int64_t out_features, const char* unit);
/// max over elements of min(|w|, |1 - |w||): distance to {-1, 0, 1}.
double sparsity_error_signed(const torch::Tensor& weight);
/// max over elements of |w - round(w)|: distance to the nearest integer.
double distance_to_integer(const torch::Tensor& weight);
/// Row-major float copy of a 2-D (or 1-D) tensor, for formula read-back.
std::vector<float> to_vector(const torch::Tensor& tensor);
/// Fills `tensor` from N(0, stddev) truncated at two standard deviations.
void truncated_normal_(torch::Tensor& tensor, double stddev);
/// The r of Madsen & Johansen's NAC start, W_hat and M_hat ~ U[-r, r]: the r for which
/// W = tanh(W_hat) * sigmoid(M_hat) has variance 2 / fan, fan = max(fan_in + fan_out, 5).
double nac_reference_range(int64_t fan_in, int64_t fan_out);
/// Fills a [out, in] weight as `init` says (kReference: U[-r, r], r = nac_reference_range).
void initialize(torch::Tensor& tensor, Init init, double truncated_stddev = 0.02);

}  // namespace detail

/// Implements the as_module() boilerplate for a unit deriving from Cloneable<Derived>.
#define NALU_UNIT_MODULE_ACCESS                         \
  torch::nn::Module& as_module() override {             \
    return *this;                                       \
  }                                                     \
  const torch::nn::Module& as_module() const override { \
    return *this;                                       \
  }

}  // namespace nalu

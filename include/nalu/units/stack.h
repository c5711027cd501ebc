// A stack of arithmetic units applied in sequence, e.g. NAU(100 -> 2) then NMU(2 -> 1): what
// `NAC(*dims)` / `NALU(*dims)` build in the PyTorch libraries. Its formula composes the
// layers' formulas into one expression of the inputs.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nalu/units/unit.h"

namespace nalu {

/// Settings the registry needs to build any unit by name (one struct for all units, so that a
/// command line or a record can carry them).
struct UnitSettings {
  Init init = Init::kXavierUniform;
  double epsilon = 1e-7;  // NAC-mul, NALU, iNALU, NPU
  bool nalu_shared_weights = true;
  bool nalu_gate_bias = false;
  bool npu_improved = false;  // real-npu: Mistry, Hare & Farrahi's improved Real NPU
  bool linear_bias = true;    // linear and mlp
  LinearInit linear_init = LinearInit::kTorch;  // linear
  std::string mlp_activation = "relu6";
};

class StackImpl : public torch::nn::Module, public ArithmeticUnit {
 public:
  /// Takes ownership of `layers`; consecutive sizes must agree.
  explicit StackImpl(std::vector<std::shared_ptr<ArithmeticUnit>> layers);

  torch::Tensor forward(const torch::Tensor& input) override;
  torch::Tensor regularization_loss(double scale) const override;
  /// Sum over layers of lambda_l(step) * R_l with one schedule per layer.
  torch::Tensor scheduled_regularization_loss(
      int64_t step, const std::vector<RegularizerSchedule>& schedules) const;
  double sparsity_error() const override;
  Formula formula() const override;
  void after_optimizer_step() override;
  std::string unit_name() const override;  // "nau,nmu"
  int64_t in_features() const override;
  int64_t out_features() const override;
  void pretty_print(std::ostream& stream) const override;
  NALU_UNIT_MODULE_ACCESS

  const std::vector<std::shared_ptr<ArithmeticUnit>>& layers() const { return layers_; }

 private:
  std::vector<std::shared_ptr<ArithmeticUnit>> layers_;
};
TORCH_MODULE(Stack);

/// One unit by registry name, e.g. make_unit("nmu", 2, 1).
std::shared_ptr<ArithmeticUnit> make_unit(const std::string& name, int64_t in_features,
                                          int64_t out_features, const UnitSettings& settings = {});

/// A stack with one layer per consecutive pair of `sizes`, using `units[l]` for layer l.
/// `units` may hold a single name, used for every layer. The name "mlp" builds one MLP whose
/// hidden sizes are the inner `sizes`.
///
/// Example:
/// ```
/// nalu::Stack net = nalu::make_stack({"nau", "nmu"}, {100, 2, 1});
/// nalu::Stack nac3 = nalu::make_stack({"nac"}, {10, 4, 4, 1});
/// ```
Stack make_stack(const std::vector<std::string>& units, const std::vector<int64_t>& sizes,
                 const UnitSettings& settings = {});

}  // namespace nalu

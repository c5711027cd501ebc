// What a training loop needs from a model that holds arithmetic units among other layers (a
// recurrent model, a head on a CNN): the units' regularisers, their projections (NAU/NMU
// clamping) and their sparsity, without knowing how the model is put together. A model lists
// its units once, in units(); everything else is derived from that list.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "nalu/regularizer.h"
#include "nalu/units/unit.h"

namespace nalu {

/// Mixin for modules that own arithmetic units. Derive from it next to torch::nn::Module (or
/// Cloneable) and implement units().
///
/// Example (a training step):
/// ```
/// nalu::RecurrentArithmeticModel model(nalu::RecurrentArithmeticModelOptions("nau", 10));
/// const auto schedules = model->unit_schedules(iterations);
/// auto loss = mse + model->scheduled_regularization_loss(step, schedules);
/// loss.backward();
/// optimizer.step();
/// model->after_optimizer_step();  // clamps NAU / NMU weights
/// ```
class UnitOwner {
 public:
  virtual ~UnitOwner() = default;

  /// The arithmetic units of the model, in a stable order: one regulariser schedule each.
  virtual std::vector<std::shared_ptr<ArithmeticUnit>> units() const = 0;

  /// One schedule per unit for a run of `iterations` steps: `override` for every unit when
  /// given, else each unit's default_regularizer() stretched to the run (scaled_to_run).
  std::vector<RegularizerSchedule> unit_schedules(
      int64_t iterations, const std::optional<RegularizerSchedule>& override = std::nullopt) const;
  /// Sum over units() of schedules[u].at(step) * R_u (a float scalar; 0 without units). Throws
  /// nalu::Error unless there is one schedule per unit.
  torch::Tensor scheduled_regularization_loss(
      int64_t step, const std::vector<RegularizerSchedule>& schedules) const;
  /// Clamping and other projections of every unit; call after each optimiser step.
  void after_optimizer_step();
  /// Max over units() of their sparsity error (units without one, such as an MLP, are
  /// skipped); 0 without units.
  double sparsity_error() const;
};

}  // namespace nalu

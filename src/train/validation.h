// The checks of the settings that the static and the recurrent configurations both carry.
// Internal to the library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nalu/regularizer.h"
#include "nalu/train/config.h"
#include "nalu/units/stack.h"

namespace nalu::detail {

/// Throws nalu::Error ("optimizer: ...") for an unknown name, a learning rate outside
/// (0, kLargestSetting] or a momentum outside [0, 1).
void check_optimizer(const OptimizerConfig& optimizer);
/// Throws nalu::Error ("model: ...") for an unknown MLP activation or an epsilon outside
/// [0, kLargestSetting].
void check_unit_settings(const UnitSettings& settings);
/// Throws nalu::Error ("training: ...") for a set schedule whose scale is outside
/// [0, kLargestSetting] or whose start or end is negative.
void check_regularizer(const std::optional<RegularizerSchedule>& regularizer);
/// "100-2-1".
std::string size_text(const std::vector<int64_t>& sizes);

}  // namespace nalu::detail

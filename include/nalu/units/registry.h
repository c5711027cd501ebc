// The unit registry: every unit nalu knows, once. A row holds what the rest of the project
// looks up by name: the title, formula and source that `nalu units` prints, the settings the
// unit reads, the additive layer placed before it when it is named alone, the engines that run
// it, and the factory of its LibTorch module. make_unit, the configuration checks, the CLI's
// help and the fused engine's layer lookup all read this table; the conformance sweep
// (tests/fused/conformance_test.cpp) runs every row flagged for the fused engine against its
// LibTorch module. Adding a unit is one row here, its module, and (for the fused engine) its
// layer. See docs/design.md §2.
//
// LibTorch-free, so the CLI can list units without pulling in torch headers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nalu {

class ArithmeticUnit;
struct UnitSettings;

/// Builds the LibTorch module of a unit: in -> out features, with the settings it reads.
using UnitFactory = std::shared_ptr<ArithmeticUnit> (*)(int64_t in_features, int64_t out_features,
                                                        const UnitSettings& settings);

struct UnitInfo {
  std::string name;     // registry name, as accepted by make_unit / --unit
  std::string title;    // "Neural Multiplication Unit"
  std::string formula;  // what it computes
  std::string source;   // where it comes from
  /// The UnitSettings fields the unit reads, as the CLI names them ("" for none).
  std::vector<std::string> settings;
  /// The additive unit placed before this one when a model names it alone, as its authors'
  /// networks do (NAU -> NMU, NAC -> NAC-mul); empty when it stands alone.
  std::string partner;
  /// Whether the fused engine has a layer for it (the torch engine runs every unit).
  bool fused = false;
  UnitFactory make = nullptr;
};

/// Every unit make_unit() accepts, in a stable order.
const std::vector<UnitInfo>& unit_catalog();
/// Throws nalu::Error listing the known names when `name` is not one of them.
const UnitInfo& find_unit(const std::string& name);
/// The registry names, in catalogue order.
std::vector<std::string> unit_names();
/// "torch" or "torch, fused".
std::string unit_engines(const UnitInfo& unit);

}  // namespace nalu

// The catalogue of unit names nalu knows, with the formula and source of each. LibTorch-free, so
// the CLI can list units without pulling in torch headers.
#pragma once

#include <string>
#include <vector>

namespace nalu {

struct UnitInfo {
  std::string name;     // registry name, as accepted by make_unit / --unit
  std::string title;    // "Neural Multiplication Unit"
  std::string formula;  // what it computes
  std::string source;   // where it comes from
};

/// Every unit make_unit() accepts, in a stable order.
const std::vector<UnitInfo>& unit_catalog();
/// Throws nalu::Error listing the known names when `name` is not one of them.
const UnitInfo& find_unit(const std::string& name);

}  // namespace nalu

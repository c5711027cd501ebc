// Precompiled header for nalu's targets: LibTorch and the other heavy headers every
// translation unit would otherwise parse again.
#pragma once

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

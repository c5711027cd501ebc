// The parts of one fused-engine training step, timed one at a time: where the time of a step
// goes, measured (nalu_bench_engines --parts). Kept apart from engines.cpp because it reaches the
// fused engine's private headers (src/fused).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpu_clock.h"
#include "nalu/train/config.h"

namespace nalu_bench {

struct Part {
  std::string name;
  std::string detail;   // what the part does on this case, in a few words
  bool within = false;  // a share of the nearest part above it that is not within another
  double cpu_us = 0.0;  // the calling thread's CPU time per step
  // Multiply-adds per step the part issues in 8-lane vectors (rows padded to whole vectors), where
  // the part is products on AVX2 kernels; 0 where not counted.
  double multiply_adds = 0.0;
};

/// Times each part of a training step of `config` on the fused engine over `steps` steps, one part
/// at a time: drawing the batch, and within it the generator alone and the targets' subset sums
/// alone; forward and backward, and within them the first layer's two matrix products alone (and
/// the logs of its inputs, for a first layer that takes them: NALU, NAC-mul); the
/// regularisers; the optimiser; the clamping and re-derivation of the layers' parameters. Throws
/// nalu::Error when the fused engine cannot run `config` or `steps` < 1.
std::vector<Part> time_parts(const nalu::RunConfig& config, int64_t steps);

}  // namespace nalu_bench

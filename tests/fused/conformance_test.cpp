// The conformance sweep, in the spirit of ggml's test-backend-ops: every unit the registry
// flags for the fused engine, at several shapes (1 -> 1 up to widths past the 8- and 16-float
// vectors), on ordinary and awkward inputs (zeros of both signs, negatives, tiny and huge
// magnitudes), in each of its settings variants: the forward pass, the input and parameter
// gradients, the regulariser with its gradient and the projection, fused against the LibTorch
// module the registry builds (layer_check.h does the comparing). The sweep is driven by the
// registry: a unit registered for the fused engine without a row in kCases below fails, so a
// new unit cannot skip it.
//
// Tolerances, |fused - torch| <= atol + rtol |torch| for every quantity, per unit and per kind
// of input. Both engines compute in float; they differ in summation order and in the
// vectorised exp, log, tanh and cos they use, so differences are float rounding.
//  - additive units (nac, nau, linear, mlp): linear in x; the defaults {1e-5, 1e-4} hold except
//    where one input is 1e6: a sum that includes a 1e6 term carries ~1e6 · 2^-24 ≈ 0.06 of
//    absolute rounding, so {1e-1, 1e-4} there (relative to the sum, still ~1e-7).
//  - log-space units (nac-mul, nalu, inalu, npu, real-npu): y = exp(z) turns an absolute error
//    of z into a relative error of y, and z sums W log|x| terms whose logs differ by up to an
//    ulp between SLEEF and LibTorch; input gradients divide by x, so near x = 0 (tiny inputs,
//    zeros with ε) they reach 1/ε ≈ 10^7 where only a relative bound means anything:
//    {1e-4, 1e-3} on awkward inputs, the defaults on ordinary ones.
//  - nmu: a product of (W x + 1 − W) factors; a 1e6 factor scales every gradient of the other
//    factors by 1e6, so {1e-1, 1e-4} there, the defaults elsewhere.
//  - nru, nmru: products too, of powers |x|^w (the fused NRU takes exp(w log|x|) where LibTorch
//    takes pow) and of reciprocals: on tiny inputs a factor 1/x is ~10^6, on huge ones |x|^w
//    reaches 10^3, so the NRU's awkward kinds use the log-space tolerance. The NRU has no epsilon:
//    at x = 0 a negative weight gives 0 · ∞ = NaN in both engines (as in its authors' code), so the
//    sweep leaves zeros out for it. The NMRU adds 2^-23 before taking 1/x in training, so a zero
//    (or a tiny input) gives a factor near 10^6: such rows are taken up to 5 inputs, beyond which
//    the product overflows float in both engines; in evaluation 1/0 is infinite.
//    The NMRU's phase π Σ W [x' < 0] sums up to 66 weights to ~50 rad; rounded in float, in a
//    different order in each engine, it differs by ~1e-5 rad, which the cosine turns into a
//    large relative error of y where it is near 0. The sweep therefore starts the NMRU from
//    weights in eighths (its start range [0.25, 0.75] rounded), whose sums are exact in float
//    in any order, so that both engines take the cosine of the same phase. Its input gradient is
//    x_i's own term minus the reciprocal's times 1/x_i², which cancel to a small part of
//    either when x_i is near 0, and a 1e6 factor multiplies the other factors' gradients:
//    {1e-1, 1e-3} on every kind of input.
//  Each division unit is swept in training mode (what the sweep's LibTorch module is in) and
//  in evaluation mode, where both compute the exact forms (A(w) = |w|, 1/x).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fused/layer_check.h"
#include "nalu/error.h"
#include "nalu/units/registry.h"

namespace nalu::testing {
namespace {

struct Shape {
  int in, out, batch;
};

// 1 -> 1 and one row; widths below, at and past the 8-float (AVX2) and 16-float (AVX-512)
// vectors; batches that are not multiples of a vector.
const std::vector<Shape> kShapes = {{1, 1, 1}, {2, 1, 3}, {5, 3, 7}, {17, 2, 4}, {33, 4, 9}};

enum class Inputs { kOrdinary, kZeros, kNegatives, kTiny, kHuge };

const char* inputs_name(Inputs kind) {
  switch (kind) {
    case Inputs::kOrdinary:
      return "ordinary";
    case Inputs::kZeros:
      return "zeros";
    case Inputs::kNegatives:
      return "negatives";
    case Inputs::kTiny:
      return "tiny";
    case Inputs::kHuge:
      return "huge";
  }
  return "?";
}

const std::vector<Inputs> kInputs = {Inputs::kOrdinary, Inputs::kZeros, Inputs::kNegatives,
                                     Inputs::kTiny, Inputs::kHuge};

// A [batch, in] input of the given kind. kZeros mixes +0 and -0; kHuge puts one ±1e6 in each
// row (never two in a column of one row, so no sum cancels two huge terms) among ordinary ones.
torch::Tensor make_inputs(Inputs kind, const Shape& shape, uint64_t seed) {
  torch::manual_seed(seed);
  const auto ordinary = torch::randn({shape.batch, shape.in}) * 2;
  switch (kind) {
    case Inputs::kOrdinary:
      return ordinary;
    case Inputs::kZeros:
      return torch::zeros({shape.batch, shape.in}) * ordinary.sign();
    case Inputs::kNegatives:
      return -(torch::rand({shape.batch, shape.in}) * 3 + 0.1);
    case Inputs::kTiny:
      return ordinary * 1e-6;
    case Inputs::kHuge: {
      auto x = ordinary.clone();
      for (int b = 0; b < shape.batch; ++b)
        x.index_put_({b, b % shape.in}, b % 2 == 0 ? 1e6 : -1e6);
      return x;
    }
  }
  return ordinary;
}

struct UnitCase {
  std::vector<UnitSettings> variants;  // the settings swept, defaults first
  LayerTolerance ordinary;             // ordinary and negative inputs
  LayerTolerance awkward;              // zeros, tiny and huge inputs
  // Whether the unit is undefined (NaN or overflowing in both engines) on these inputs, in
  // training mode (true) or evaluation mode.
  std::function<bool(Inputs, const Shape&, bool)> undefined = {};
  bool evaluation_mode = false;  // also sweep eval() against the fused evaluation mode
  std::function<void(torch::nn::Module&)> prepare = {};  // edits the start weights
};

UnitSettings with(const std::function<void(UnitSettings&)>& edit) {
  UnitSettings settings;
  edit(settings);
  return settings;
}

constexpr LayerTolerance kDefault{1e-5, 1e-4};
constexpr LayerTolerance kHugeSums{1e-1, 1e-4};
constexpr LayerTolerance kLogSpaceAwkward{1e-4, 1e-3};
constexpr LayerTolerance kHugeProducts{1e-1, 1e-3};

const std::map<std::string, UnitCase>& cases() {
  static const std::map<std::string, UnitCase> kCases = {
      {"nac",
       {{{}, with([](auto& s) { s.init = Init::kTruncatedNormal; }), with([](auto& s) {
           s.init = Init::kReference;
         })},
        kDefault,
        kHugeSums}},
      {"nac-mul",
       {{{}, with([](auto& s) { s.epsilon = 1e-3; }), with([](auto& s) {
           s.init = Init::kReference;
         })},
        kDefault,
        kLogSpaceAwkward}},
      {"nalu",
       {{{},
         with([](auto& s) { s.nalu_shared_weights = false; }),
         with([](auto& s) { s.nalu_gate_bias = true; }),
         with([](auto& s) {
           s.nalu_shared_weights = false;
           s.nalu_gate_bias = true;
           s.init = Init::kReference;
         })},
        kDefault,
        kLogSpaceAwkward}},
      {"nau", {{{}}, kDefault, kHugeSums}},
      {"nmu", {{{}}, kDefault, kHugeSums}},
      {"inalu", {{{}, with([](auto& s) { s.epsilon = 1e-4; })}, kDefault, kLogSpaceAwkward}},
      {"npu", {{{}, with([](auto& s) { s.epsilon = 1e-3; })}, kDefault, kLogSpaceAwkward}},
      {"real-npu",
       {{{}, with([](auto& s) { s.npu_improved = true; })}, kDefault, kLogSpaceAwkward}},
      {"nru",
       {{{}},
        kDefault,
        kLogSpaceAwkward,
        [](Inputs kind, const Shape&, bool) { return kind == Inputs::kZeros; },
        true}},
      {"nmru",
       {{{}},
        kHugeProducts,
        kHugeProducts,
        [](Inputs kind, const Shape& shape, bool training) {
          if (kind == Inputs::kZeros && !training)
            return true;  // 1 / 0
          return (kind == Inputs::kZeros || kind == Inputs::kTiny) && shape.in > 5;
        },
        true,
        [](torch::nn::Module& module) {
          // Weights in eighths, so that the phase sum is exact in any order (see above).
          torch::NoGradGuard no_grad;
          for (auto& p : module.parameters())
            p.mul_(8).round_().div_(8);
        }}},
      {"linear",
       {{{}, with([](auto& s) { s.linear_bias = false; }), with([](auto& s) {
           s.linear_init = LinearInit::kReference;
         })},
        kDefault,
        kHugeSums}},
      {"mlp", {{{}, with([](auto& s) { s.linear_bias = false; })}, kDefault, kHugeSums}},
  };
  return kCases;
}

TEST(UnitRegistry, TheFusedEngineHasALayerForExactlyTheUnitsFlaggedForIt) {
  for (const auto& unit : unit_catalog()) {
    SCOPED_TRACE(unit.name);
    std::string why;
    const auto layer = fused::make_layer(unit.name, 3, 2, {}, 4, &why);
    EXPECT_EQ(layer != nullptr, unit.fused) << why;
    if (!unit.fused) {
      EXPECT_FALSE(why.empty());
    }
  }
  EXPECT_THROW(fused::make_layer("nmu2", 3, 2, {}, 4, nullptr), Error);
}

TEST(UnitRegistry, EveryFusedUnitIsInTheConformanceSweep) {
  for (const auto& unit : unit_catalog()) {
    if (unit.fused) {
      EXPECT_TRUE(cases().contains(unit.name)) << unit.name << " has no row in the sweep";
    }
  }
  for (const auto& [name, unit_case] : cases())
    EXPECT_TRUE(find_unit(name).fused) << name;
}

// One test per unit, so that a failure names it and the shards spread the work.
class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, FusedMatchesTorchOnEveryShapeInputAndVariant) {
  const std::string& name = GetParam();
  const auto found = cases().find(name);
  ASSERT_NE(found, cases().end());
  const UnitCase& unit_case = found->second;
  uint64_t seed = 100;
  for (const bool training : {true, false}) {
    if (!training && !unit_case.evaluation_mode)
      continue;
    for (size_t v = 0; v < unit_case.variants.size(); ++v) {
      for (const auto& shape : kShapes) {
        for (const auto kind : kInputs) {
          if (unit_case.undefined && unit_case.undefined(kind, shape, training))
            continue;
          SCOPED_TRACE(name + (training ? "" : " (evaluation mode)") + " variant " +
                       std::to_string(v) + ", " + std::to_string(shape.in) + " -> " +
                       std::to_string(shape.out) + ", batch " + std::to_string(shape.batch) + ", " +
                       inputs_name(kind) + " inputs");
          const bool ordinary = kind == Inputs::kOrdinary || kind == Inputs::kNegatives;
          expect_layer_matches(
              name, shape.out, make_inputs(kind, shape, ++seed), unit_case.variants[v],
              ordinary ? unit_case.ordinary : unit_case.awkward, 1.0, unit_case.prepare, training);
          if (::testing::Test::HasFailure())
            return;  // one failing case says enough; the rest would repeat it
        }
      }
    }
  }
}

std::vector<std::string> fused_units() {
  std::vector<std::string> names;
  for (const auto& unit : unit_catalog()) {
    if (unit.fused)
      names.push_back(unit.name);
  }
  return names;
}

INSTANTIATE_TEST_SUITE_P(FusedUnits, Conformance, ::testing::ValuesIn(fused_units()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (auto& c : name) {
                             if (c == '-')
                               c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace nalu::testing

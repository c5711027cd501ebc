// The unit registry (nalu/units/registry.h): one row per unit.
#include "nalu/units/registry.h"

#include "nalu/strings.h"
#include "nalu/units/baselines.h"
#include "nalu/units/division.h"
#include "nalu/units/inalu.h"
#include "nalu/units/nac.h"
#include "nalu/units/nac_mul.h"
#include "nalu/units/nalu.h"
#include "nalu/units/nau.h"
#include "nalu/units/nmu.h"
#include "nalu/units/npu.h"
#include "nalu/units/stack.h"

namespace nalu {

namespace {

const char* const kTrask = "Trask et al., Neural Arithmetic Logic Units, NeurIPS 2018";
const char* const kMadsen = "Madsen & Johansen, Neural Arithmetic Units, ICLR 2020";
const char* const kMistry =
    "Mistry, Hare & Farrahi, Learning Division with Neural Arithmetic Logic Modules, 2021";
const char* const kHeim = "Heim, van Gerven & Kruijt, Neural Power Units, NeurIPS 2020";

std::vector<UnitInfo> build_catalog() {
  using Settings = const UnitSettings&;
  std::vector<UnitInfo> units;
  units.push_back({"nac",
                   "Neural Accumulator",
                   "W = tanh(Ŵ) ⊙ σ(M̂); y = W x",
                   kTrask,
                   {"init"},
                   "",
                   true,
                   [](int64_t in, int64_t out, Settings s) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<NACImpl>(NACOptions(in, out).init(s.init));
                   }});
  units.push_back({"nac-mul",
                   "Multiplicative NAC",
                   "y = exp(W log(|x| + ε)), W as in NAC",
                   kTrask,
                   {"init", "epsilon"},
                   "nac",
                   true,
                   [](int64_t in, int64_t out, Settings s) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<NACMulImpl>(
                         NACOptions(in, out).init(s.init).epsilon(s.epsilon));
                   }});
  units.push_back({"nalu",
                   "Neural Arithmetic Logic Unit",
                   "y = g ⊙ (W x) + (1 − g) ⊙ exp(W log(|x| + ε)); g = σ(G x)",
                   kTrask,
                   {"init", "epsilon", "nalu-separate-weights", "nalu-gate-bias"},
                   "",
                   true,
                   [](int64_t in, int64_t out, Settings s) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<NALUImpl>(NALUOptions(in, out)
                                                           .init(s.init)
                                                           .epsilon(s.epsilon)
                                                           .shared_weights(s.nalu_shared_weights)
                                                           .gate_bias(s.nalu_gate_bias));
                   }});
  units.push_back({"nau",
                   "Neural Addition Unit",
                   "y = W x; W clamped to [−1, 1]; R = mean(min(|W|, 1 − |W|))",
                   kMadsen,
                   {},
                   "",
                   true,
                   [](int64_t in, int64_t out, Settings) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<NAUImpl>(NAUOptions(in, out));
                   }});
  units.push_back({"nmu",
                   "Neural Multiplication Unit",
                   "y_j = ∏_i (W_ji x_i + 1 − W_ji); W clamped to [0, 1]; R = mean(min(W, 1 − W))",
                   kMadsen,
                   {},
                   "nau",
                   true,
                   [](int64_t in, int64_t out, Settings) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<NMUImpl>(NMUOptions(in, out));
                   }});
  units.push_back({"inalu",
                   "Improved NALU",
                   "y = σ(g) ⊙ (W_a x) + (1 − σ(g)) ⊙ exp(min(W_m log(max(|x|, ε)), ω)) ⊙ sign",
                   "Schlör, Ring & Hotho, iNALU: Improved Neural Arithmetic Logic Unit, 2020",
                   {"epsilon"},
                   "",
                   true,
                   [](int64_t in, int64_t out, Settings s) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<INALUImpl>(INALUOptions(in, out).epsilon(s.epsilon));
                   }});
  units.push_back(
      {"npu",
       "Neural Power Unit",
       "y = exp(W_re log r − W_im k) ⊙ cos(W_im log r + W_re k); r = g(|x| + ε) + 1 − g, k = gπ[x "
       "< 0]",
       kHeim,
       {"epsilon"},
       "nau",
       true,
       [](int64_t in, int64_t out, Settings s) -> std::shared_ptr<ArithmeticUnit> {
         return std::make_shared<NPUImpl>(NPUOptions(in, out).epsilon(s.epsilon));
       }});
  units.push_back({"real-npu",
                   "Real Neural Power Unit",
                   "y = exp(W log r) ⊙ cos(W k); r, k as in NPU (--npu-improved: Mistry, Hare & "
                   "Farrahi's start, clamping and regulariser)",
                   kHeim,
                   {"epsilon", "npu-improved"},
                   "nau",
                   true,
                   [](int64_t in, int64_t out, Settings s) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<RealNPUImpl>(
                         NPUOptions(in, out).epsilon(s.epsilon).improved(s.npu_improved));
                   }});
  units.push_back(
      {"nru",
       "Neural Reciprocal Unit",
       "y_j = ∏_i (sign(x_i) |x_i|^W_ji |W_ji| + 1 − |W_ji|); W clamped to [−1, 1]; W = −1 "
       "divides",
       kMistry,
       {},
       "nau",
       true,
       [](int64_t in, int64_t out, Settings) -> std::shared_ptr<ArithmeticUnit> {
         return std::make_shared<NRUImpl>(DivisionUnitOptions(in, out));
       }});
  units.push_back(
      {"nmru",
       "Neural Multiplicative Reciprocal Unit",
       "x' = [x, 1/x]; y_j = ∏_k (|x'_k| W_jk + 1 − W_jk) ⊙ cos(π Σ_k W_jk [x'_k < 0]); W "
       "clamped to [0, 1]",
       kMistry,
       {},
       "nau",
       true,
       [](int64_t in, int64_t out, Settings) -> std::shared_ptr<ArithmeticUnit> {
         return std::make_shared<NMRUImpl>(DivisionUnitOptions(in, out));
       }});
  units.push_back({"linear",
                   "Linear baseline",
                   "y = W x + b (bias optional)",
                   "baseline",
                   {"no-bias", "linear-init"},
                   "",
                   true,
                   [](int64_t in, int64_t out, Settings s) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<LinearImpl>(
                         LinearOptions(in, out).bias(s.linear_bias).init(s.linear_init));
                   }});
  // "mlp" as one layer: a single affine layer with the activation unused. make_stack builds a
  // lone "mlp" as one MLP whose hidden sizes are the stack's inner sizes.
  units.push_back({"mlp",
                   "MLP baseline",
                   "affine layers with an activation between them",
                   "baseline",
                   {"no-bias", "activation"},
                   "",
                   true,
                   [](int64_t in, int64_t out, Settings s) -> std::shared_ptr<ArithmeticUnit> {
                     return std::make_shared<MLPImpl>(
                         MLPOptions(in, out)
                             .activation(parse_activation(s.mlp_activation))
                             .bias(s.linear_bias));
                   }});
  return units;
}

}  // namespace

const std::vector<UnitInfo>& unit_catalog() {
  static const std::vector<UnitInfo> kUnits = build_catalog();
  return kUnits;
}

std::vector<std::string> unit_names() {
  std::vector<std::string> names;
  for (const auto& unit : unit_catalog())
    names.push_back(unit.name);
  return names;
}

const UnitInfo& find_unit(const std::string& name) {
  return unit_catalog()[find_name(unit_names(), name, "unit")];
}

std::string unit_engines(const UnitInfo& unit) {
  return unit.fused ? "torch, fused" : "torch";
}

}  // namespace nalu

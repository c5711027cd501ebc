// The unit catalogue shown by `nalu units` and used to validate names.
#include "nalu/units/registry.h"

#include "nalu/strings.h"

namespace nalu {

const std::vector<UnitInfo>& unit_catalog() {
  static const std::vector<UnitInfo> kUnits = {
      {"nac", "Neural Accumulator", "W = tanh(Ŵ) ⊙ σ(M̂); y = W x",
       "Trask et al., Neural Arithmetic Logic Units, NeurIPS 2018"},
      {"nac-mul", "Multiplicative NAC", "y = exp(W log(|x| + ε)), W as in NAC",
       "Trask et al., Neural Arithmetic Logic Units, NeurIPS 2018"},
      {"nalu", "Neural Arithmetic Logic Unit",
       "y = g ⊙ (W x) + (1 − g) ⊙ exp(W log(|x| + ε)); g = σ(G x)",
       "Trask et al., Neural Arithmetic Logic Units, NeurIPS 2018"},
      {"nau", "Neural Addition Unit", "y = W x; W clamped to [−1, 1]; R = mean(min(|W|, 1 − |W|))",
       "Madsen & Johansen, Neural Arithmetic Units, ICLR 2020"},
      {"nmu", "Neural Multiplication Unit",
       "y_j = ∏_i (W_ji x_i + 1 − W_ji); W clamped to [0, 1]; R = mean(min(W, 1 − W))",
       "Madsen & Johansen, Neural Arithmetic Units, ICLR 2020"},
      {"inalu", "Improved NALU",
       "y = σ(g) ⊙ (W_a x) + (1 − σ(g)) ⊙ exp(min(W_m log(max(|x|, ε)), ω)) ⊙ sign",
       "Schlör, Ring & Hotho, iNALU: Improved Neural Arithmetic Logic Unit, 2020"},
      {"npu", "Neural Power Unit",
       "y = exp(W_re log r − W_im k) ⊙ cos(W_im log r + W_re k); r = g(|x| + ε) + 1 − g, k = gπ[x "
       "< 0]",
       "Heim, van Gerven & Kruijt, Neural Power Units, NeurIPS 2020"},
      {"real-npu", "Real Neural Power Unit", "y = exp(W log r) ⊙ cos(W k); r, k as in NPU",
       "Heim, van Gerven & Kruijt, Neural Power Units, NeurIPS 2020"},
      {"linear", "Linear baseline", "y = W x + b (bias optional)", "baseline"},
      {"mlp", "MLP baseline", "affine layers with an activation between them", "baseline"},
  };
  return kUnits;
}

const UnitInfo& find_unit(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& unit : unit_catalog())
    names.push_back(unit.name);
  return unit_catalog()[find_name(names, name, "unit")];
}

}  // namespace nalu

// The AVX2 copy's exp(), sigmoid() and nac_weight(), eight values at a time (compiled with
// -mavx2 -mfma -ffp-contract=off).
#define NALU_ELEMENTWISE_NAMESPACE elementwise_avx2
#define NALU_ELEMENTWISE_LANES 8
#include "elementwise_impl.h"

#!/usr/bin/env bash
# The main job: a short run that shows why neural arithmetic units exist. An NAU -> NMU network
# and a ReLU6 MLP of the same shape learn y = a * b on x in [1, 2]; both are then asked about
# x in [2, 6]. The NMU network reads back as the exact product, the MLP does not extrapolate.
set -euo pipefail
cd "$(dirname "$0")/.."
nalu=${NALU:-build/nalu}
common=(--op mul --input-size 10 --iterations 30000 --seed 1 --progress none)

echo "== NAU -> NMU on y = a · b ==========================================================="
"$nalu" train "${common[@]}" --unit nmu \
  --output build/demo-nmu.json
echo
echo "== ReLU6 MLP (10-2-1) on the same task ================================================"
"$nalu" train "${common[@]}" --unit mlp --activation relu6 --output build/demo-mlp.json

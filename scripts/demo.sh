#!/usr/bin/env bash
# The main job (about a minute on 2 cores): why neural arithmetic units exist, in one table.
# `nalu bench --preset demo` trains NAU on a + b and NMU on a · b against a linear layer and a
# ReLU6 MLP (3 seeds each, 10 inputs, trained on [1, 2], tested on [2, 6]); then one NMU run
# prints the formula it learned.
set -euo pipefail
cd "$(dirname "$0")/.."
nalu=${NALU:-build/nalu}

"$nalu" bench --preset demo --quiet
echo
"$nalu" train --op mul --unit nmu --input-size 10 --iterations 30000 --seed 1 --progress none

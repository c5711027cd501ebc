#!/usr/bin/env bash
# The main job (under a minute on 2 cores): why neural arithmetic units exist, in one table.
# `nalu bench --preset demo` trains NAU on a + b and NMU on a · b, 10 seeds each, through the
# NAU paper's regularised phase, beside a two-layer NALU, the reference Linear layer (with
# bias) and a ReLU6 MLP, on a 10-input version of the field's task (trained on [1, 2], tested on
# [2, 6]); its records go to results/demo/ as JSON Lines. Then one NMU run prints the formula
# it learned.
set -euo pipefail
cd "$(dirname "$0")/.."
nalu=${NALU:-build/nalu}
out_dir=${NALU_DEMO_DIR:-results/demo}

mkdir -p "$out_dir"
# A new file per run, so that an earlier demo's records are never overwritten.
records="$out_dir/demo-$(date -u +%Y%m%d-%H%M%S).jsonl"
"$nalu" bench --preset demo --quiet --output "$records"
echo "records: $records"
echo
"$nalu" train --op mul --unit nmu --input-size 10 --iterations 200000 --eval-size 2000 \
  --reg-scale 10 --reg-start 80000 --reg-end 160000 --seed 1 --progress none
echo
echo "The papers' tables at full length (NAU paper Table 1, the range sweep, the NALU paper's"
echo "static and recurrent tables), with their commands and records: docs/results.md"

#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time with nalu's limits, starting from its seed corpus
# (which it reads but never writes: new inputs go to a scratch directory that is removed).
# A crash, leak, timeout or allocation over the limits is written to ARTIFACTS and fails the run.
# Usage: run_fuzzer.sh FUZZER CORPUS SECONDS [ARTIFACTS [libFuzzer flags...]]
#   e.g. fuzz/run_fuzzer.sh build-sanitize/fuzz/records_fuzzer fuzz/corpus/records 600
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=$3 artifacts=${4:-fuzz-artifacts}
shift $(($# < 4 ? $# : 4))
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$artifacts"
# -rss_limit_mb / -malloc_limit_mb: a reader that allocates hundreds of MiB for a small hostile
# file is a finding, not a pass. -timeout: one input taking 10 s is a hang.
exec "$fuzzer" "$scratch" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
  -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$(basename "$fuzzer")-" "$@"

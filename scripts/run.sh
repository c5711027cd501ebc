#!/usr/bin/env bash
# One command from a fresh Debian 12 machine: install dependencies, fetch the MNIST digits, build,
# then
#   run.sh demo   run the main job (scripts/demo.sh)
#   run.sh test   run the whole test suite with ctest
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-demo}
case "$what" in
  demo|test) ;;
  *) echo "usage: scripts/run.sh demo|test" >&2; exit 2 ;;
esac
if [ "$what" = demo ]; then
  scripts/install-deps.sh
else
  scripts/install-deps.sh test  # the Slurm and browser tests' packages too
fi
scripts/fetch-mnist.sh
scripts/build.sh
if [ "$what" = demo ]; then
  scripts/demo.sh
else
  ctest --test-dir "${NALU_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
fi

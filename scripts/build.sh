#!/usr/bin/env bash
# Configures and builds nalu (Release, Ninja) into build/ (or $NALU_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${NALU_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$build_dir" -j "$(nproc)"

#!/usr/bin/env bash
# Installs nalu into a temporary prefix and builds a separate project against it with
# find_package(nalu), as a user's project would. Usage: package_test.sh SOURCE BUILD CONSUMER
set -euo pipefail
source_dir=$1 build_dir=$2 consumer_dir=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$consumer_dir" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"

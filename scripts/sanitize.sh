#!/usr/bin/env bash
# The sanitizer check, run by CI after the normal tests: builds nalu with clang, AddressSanitizer,
# UndefinedBehaviorSanitizer and the libFuzzer targets into build-sanitize/ (or
# $NALU_SANITIZE_BUILD_DIR), then runs the test suite there, short fuzz runs included.
# Left out: the `package` test (it checks the install layout, which instrumentation does not
# change, and its consumer project would need the same -fsanitize flags) and the `slow` tests
# (training real models for many seconds, whose time goes to LibTorch rather than to nalu's own
# readers, kernels and CLI). See docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${NALU_SANITIZE_BUILD_DIR:-build-sanitize}
scripts/install-deps.sh sanitize
scripts/fetch-mnist.sh  # the MNIST tests read the digits (a no-op when they are there)
CC=clang CXX=clang++ NALU_BUILD_DIR="$build_dir" scripts/build.sh -DNALU_BUILD_BENCH=OFF \
  -DNALU_SANITIZE=address,undefined -DNALU_BUILD_FUZZERS=ON "$@"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --label-exclude "package|slow"

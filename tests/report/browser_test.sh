#!/usr/bin/env bash
# `nalu report` end to end: its errors (one line, non-zero exit, nothing written), the SVG
# figures, and the page in a real browser (Debian's headless Chromium): no script error, and
# every chart holds the marks the page was written with, counted by the page's script and again
# here in the dumped DOM. Leaves report.html and a screenshot, report.png, in
# <build>/report-browser/ for a person to look at.
#   tests/report/browser_test.sh NALU_BINARY
# Exits 77 (skipped) when Chromium is not installed, unless CI=true.
set -euo pipefail

nalu=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$nalu")/report-browser
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
fixtures=("$here/demo-fixture.jsonl" "$here/division-fixture.jsonl"
          "$here/experiments-fixture.jsonl")

fail() {
  echo "browser_test: FAILED: $*" >&2
  exit 1
}

# Bad input: a one-line error naming the file (and line), exit code 2, no output file.
expect_error() {
  local expected=$1
  shift
  local status=0
  "$nalu" report "$@" -o "$work/bad.html" 2>"$work/error.txt" || status=$?
  [[ $status == 2 ]] || fail "nalu report $* exited $status, expected 2"
  [[ $(wc -l <"$work/error.txt") == 1 ]] || fail "nalu report $*: not one line: $(cat "$work/error.txt")"
  grep -qF -- "$expected" "$work/error.txt" || fail "nalu report $*: '$(cat "$work/error.txt")' lacks '$expected'"
  [[ ! -e $work/bad.html ]] || fail "nalu report $* wrote its output despite the error"
}
: >"$work/empty.jsonl"
{ head -n 2 "$here/demo-fixture.jsonl"; echo '{"bench": {"unit": "nau", '; } >"$work/corrupt.jsonl"
expect_error "cannot read '$work/missing.jsonl': no such file" "$work/missing.jsonl"
expect_error "$work/empty.jsonl: no records" "${fixtures[0]}" "$work/empty.jsonl"
expect_error "$work/corrupt.jsonl:3: not valid JSON" "$work/corrupt.jsonl"
expect_error "--format: pdf not in {html,svg}" "${fixtures[0]}" --format pdf

# The page, twice: the same bytes.
"$nalu" report "${fixtures[@]}" -o "$out/report.html" --title "nalu report: test fixture" 2>/dev/null
"$nalu" report "${fixtures[@]}" -o "$work/again.html" --title "nalu report: test fixture" 2>/dev/null
cmp -s "$out/report.html" "$work/again.html" || fail "two pages of the same records differ"
grep -q 'src="http\|href="http\|url(http' "$out/report.html" && fail "the page fetches from the network"
charts=$(grep -o 'data-chart="' "$out/report.html" | wc -l)
[[ $charts -ge 10 ]] || fail "only $charts charts on the page"

# The figures alone: one SVG per chart of the page.
"$nalu" report "${fixtures[@]}" --format svg -o "$work/figures" 2>/dev/null
svgs=$(find "$work/figures" -name '*.svg' | wc -l)
[[ $svgs == "$charts" ]] || fail "$svgs SVG files for $charts charts"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $chromium ]]; then
  if [[ ${CI:-} == true ]]; then
    fail "chromium is not installed (scripts/install-deps.sh report installs it)"
  fi
  echo "browser_test: SKIPPED: chromium is not installed (scripts/install-deps.sh report installs it)"
  exit 77
fi

browser=("$chromium" --headless --disable-gpu --no-sandbox --no-first-run --no-default-browser-check
         --disable-extensions --disable-background-networking --hide-scrollbars
         --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
timeout 60 "${browser[@]}" --dump-dom "file://$out/report.html" >"$work/dom.html" \
  2>"$work/console.txt" || fail "chromium could not load the page: $(tail -n 3 "$work/console.txt")"
if grep -q 'Uncaught' "$work/console.txt"; then
  fail "script error: $(grep 'Uncaught' "$work/console.txt" | head -n 1)"
fi
body=$(grep -o '<body[^>]*>' "$work/dom.html") || fail "no <body> in the dumped DOM"
for expected in 'data-checked="1"' 'data-errors="0"' 'data-mismatches="0"' "data-charts=\"$charts\""; do
  [[ $body == *"$expected"* ]] || fail "<body> lacks $expected: $body"
done
# Each chart: the count written by nalu, the page's count, and a count of class="mark" here.
checked=$(awk 'BEGIN { RS = "<figure "; bad = 0; n = 0 }
  NR > 1 && /data-chart="/ {
    figure = substr($0, 1, index($0, "</figure>"))
    match(figure, /data-marks="[0-9]+"/); written = substr(figure, RSTART + 12, RLENGTH - 13)
    match(figure, /data-counted="[0-9]+"/); counted = substr(figure, RSTART + 14, RLENGTH - 15)
    marks = gsub(/class="mark"/, "", figure)
    n++
    if (written != counted || written != marks || written == 0) {
      bad++
      print "chart " n ": written " written ", counted by the page " counted ", here " marks > "/dev/stderr"
    }
  }
  END { print n " " bad }' "$work/dom.html")
read -r seen bad <<<"$checked"
[[ $seen == "$charts" && $bad == 0 ]] || fail "$bad of $seen charts hold the wrong number of marks"

timeout 60 "${browser[@]}" --screenshot="$out/report.png" --window-size=1280,2000 \
  "file://$out/report.html" >/dev/null 2>&1 || fail "chromium could not take a screenshot"
[[ -s $out/report.png ]] || fail "no screenshot"
echo "browser_test: $charts charts checked; page and screenshot in $out/"

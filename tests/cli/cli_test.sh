#!/usr/bin/env bash
# Drives the nalu command line as a user would: every bad input gets one line on stderr and a
# non-zero exit code, nothing already written is lost, and an NMU learns multiplication.
# Usage: cli_test.sh path/to/nalu [all|checks|sweeps|training]
#   checks: listings, bad input, records and words;
#   sweeps: bench (records, resume, shards, merge) and recurrent;
#   training: the NMU acceptance runs on both engines and the quick identity experiment.
# ctest runs the three parts as three tests, side by side.
set -uo pipefail
nalu=$1
part=${2:-all}
case "$part" in
  all | checks | limits | sweeps | training) ;;
  *) echo "cli_test.sh: unknown part '$part' (all, checks, limits, sweeps or training)"; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# in_part NAME: whether this invocation runs the sections of part NAME.
in_part() { [ "$part" = all ] || [ "$part" = "$1" ]; }

# expect_error CODE TEXT ARGS...: exit code CODE, exactly one stderr line containing TEXT.
expect_error() {
  local code=$1 text=$2
  shift 2
  "$nalu" "$@" >"$work/out" 2>"$work/err"
  local got=$?
  local lines
  lines=$(wc -l <"$work/err")
  if [ "$got" -ne "$code" ]; then
    fail "nalu $*: exit $got, expected $code"
  elif [ "$lines" -ne 1 ]; then
    fail "nalu $*: $lines stderr lines, expected 1: $(cat "$work/err")"
  elif ! grep -qF -- "$text" "$work/err"; then
    fail "nalu $*: stderr '$(cat "$work/err")' lacks '$text'"
  else
    pass
  fi
}

if in_part checks; then
# --- listing ---
if "$nalu" units | grep -q "^nmu .*Neural Multiplication Unit"; then pass; else fail "units lists nmu"; fi
if "$nalu" --version | grep -q "^nalu [0-9]"; then pass; else fail "--version"; fi

# --- bad input: one line, exit 2 ---
quick=(--iterations 10 --eval-size 10 --progress none)
expect_error 2 "unknown operation 'pow'" train --op pow "${quick[@]}"
expect_error 2 "unknown unit 'nmv'" train --unit nmv "${quick[@]}"
expect_error 2 "unknown unit 'foo'" train --unit nau,foo "${quick[@]}"
expect_error 2 "input size must be positive" train --input-size 0 "${quick[@]}"
expect_error 2 "but the input size is 4" train --input-size 4 --subset-ratio 0.9 "${quick[@]}"
expect_error 2 "empty or reversed" train --interpolation 2:1 "${quick[@]}"
expect_error 2 "is not LOW:HIGH" train --extrapolation 2:six "${quick[@]}"
expect_error 2 "sqrt needs non-negative ranges" train --op sqrt --interpolation=-1:1 "${quick[@]}"
expect_error 2 "iterations must be positive" train --iterations 0 --progress none
expect_error 2 "hidden sizes must be positive" train --hidden 0 "${quick[@]}"
expect_error 2 "unknown optimizer 'adagrad'" train --optimizer adagrad "${quick[@]}"
expect_error 2 "unknown task 'dynamic'" train --task dynamic "${quick[@]}"
expect_error 2 "unknown activation 'swish2'" train --unit mlp --activation swish2 "${quick[@]}"
expect_error 2 "--no-such-flag" train --no-such-flag
expect_error 2 "unknown engine 'gpu'" train --engine gpu "${quick[@]}"
expect_error 2 "engine fused: the fused engine has no MLP with activation 'rrelu'" \
  train --unit mlp --activation rrelu --engine fused "${quick[@]}"
expect_error 2 "unknown engine 'gpu'" bench --preset demo --engine gpu
expect_error 2 "does not exist" train --output "$work/missing/run.json" "${quick[@]}"

fi

if in_part limits; then
# --- sizes beyond the machine: refused before anything runs, never wrapped (docs/reliability.md) ---
expect_error 2 "one step (batch size 2147483648" train --op add --unit nau --batch-size 2147483648 --iterations 2
expect_error 2 "one step (batch size 4294967296" train --op add --unit nau --batch-size 4294967296 --iterations 2
expect_error 2 "one step (batch size 100000000" train --op add --unit nau --batch-size 100000000 --iterations 2
expect_error 2 "of memory" train --op add --unit nau --engine torch --batch-size 999999999999 --iterations 2
expect_error 2 "the evaluation sets (evaluation size 99999999999" train --engine torch --eval-size 99999999999 --iterations 2
expect_error 2 "--batch-size: 9223372036854775808 is outside" train --batch-size 9223372036854775808
expect_error 2 "--seed: -1 is negative" train --seed=-1 "${quick[@]}"
expect_error 2 "--lr: nan is not a finite number" train --lr nan "${quick[@]}"
expect_error 2 "expected I/N with whole numbers" bench --preset demo --shard 0/9223372036854775808
expect_error 2 "needs 0 <= I < N" bench --preset demo --shard=-1/2
# An allocation that fails anyway (here under a 2.5 GB address-space limit, below the machine's
# memory the checks count with) is one line naming what ran out, not std::bad_alloc or
# LibTorch's enforce text. Not under AddressSanitizer, which needs far more address space.
if [ -z "${NALU_SANITIZE:-}" ]; then
  nalu_real=$nalu
  limited() { (ulimit -v 2500000 && "$nalu_real" "$@"); }
  nalu=limited
  # 2*10^6 rows (an 0.8 GB set) fail at the first set, in about 6 s; 10^6 rows filled sets
  # until the limit, about 30 s.
  expect_error 2 "out of memory: LibTorch could not allocate" train --op add --unit nau --engine torch --eval-size 2000000 --iterations 2 -q
  expect_error 2 "out of memory (the machine has" train --op add --unit nau --batch-size 5000000 --iterations 2 -q
  nalu=$nalu_real
fi
fi

if in_part checks; then
# --- nothing already written is lost on bad input ---
echo "precious" >"$work/run.json"
expect_error 2 "unknown operation" train --op pow --output "$work/run.json" "${quick[@]}"
if [ "$(cat "$work/run.json")" = "precious" ]; then pass; else fail "bad input clobbered the output"; fi

# --- divergence: exit 1, one line naming the step; a record says what happened ---
expect_error 1 "training diverged at step" train --unit linear --optimizer sgd --lr 1e6 \
  --input-size 10 --iterations 1000 --progress none --output "$work/diverged.json"
if grep -q '"status": "diverged"' "$work/diverged.json"; then pass; else fail "diverged record"; fi

# --- a record for a good run, and the same seed gives the same record ---
"$nalu" train --op add --unit nau --input-size 10 --iterations 500 --lr 0.01 --seed 3 \
  --progress lines --output "$work/a.json" >"$work/out" 2>"$work/err" || fail "good run failed"
if grep -q '"status": "ok"' "$work/a.json" && grep -q "^step 500/500" "$work/err"; then
  pass
else
  fail "good run: record or progress lines missing"
fi
"$nalu" train --op add --unit nau --input-size 10 --iterations 500 --lr 0.01 --seed 3 \
  --quiet --output "$work/b.json" >/dev/null 2>&1
if diff <(grep -v -E "seconds|per_second" "$work/a.json") <(grep -v -E "seconds|per_second" "$work/b.json") >/dev/null; then
  pass
else
  fail "same seed, different records"
fi
fi

if in_part training; then
# --- the issue's acceptance: nalu train learns multiplication with an NMU ---
"$nalu" train --op mul --unit nmu --input-size 10 --iterations 30000 --seed 1 \
  --progress none \
  --output "$work/mul.json" >"$work/out" 2>&1 || fail "NMU run failed"
# The extrapolation MSE at the best step must be tiny.
best_extrapolation=$(sed -n 's/^best .*extrapolation MSE \([^,]*\),.*/\1/p' "$work/out")
if grep -qF "y0 = (x2 + x3) · (x3 + x4)" "$work/out" &&
   awk -v e="$best_extrapolation" 'BEGIN { exit !(e != "" && e + 0 < 1e-4) }'; then
  pass
else
  fail "NMU did not learn a · b: $(cat "$work/out")"
fi
# ... on the fused engine by default, and the torch engine finds the same formula.
if grep -q "(fused engine)" "$work/out"; then pass; else fail "default engine is not fused"; fi
"$nalu" train --op mul --unit nmu --input-size 10 --iterations 30000 --seed 1 --engine torch \
  --progress none --ascii >"$work/out" 2>&1 || fail "NMU run on the torch engine failed"
if grep -qF "y0 = (x2 + x3) · (x3 + x4)" "$work/out" && grep -q "(torch engine)" "$work/out"; then
  pass
else
  fail "torch engine: $(cat "$work/out")"
fi
# --ascii adds the formula in Python/SymPy syntax; the record has both forms and the literal one.
if grep -qxF "  y0 = (x2 + x3)*(x3 + x4)" "$work/out"; then pass; else fail "--ascii: $(cat "$work/out")"; fi
if grep -qF '"y0 = (x2 + x3)*(x3 + x4)"' "$work/mul.json" && grep -qF '"literal_ascii"' "$work/mul.json" &&
   grep -qF '"simplifications"' "$work/mul.json"; then
  pass
else
  fail "record lacks the ASCII formula: $(grep -A12 '"formula"' "$work/mul.json")"
fi
fi

if in_part sweeps; then
# --- nalu bench: records, resume, shards and merge ---
tiny=(bench --preset demo --ops add --units nau,mlp --seeds 2 --iterations 200 --eval-interval 100 --quiet)
"$nalu" "${tiny[@]}" --output "$work/full.jsonl" >"$work/table.md" 2>"$work/err" || fail "bench failed: $(cat "$work/err")"
if [ "$(wc -l <"$work/full.jsonl")" -eq 4 ] && grep -q "^| add | nau | 1:2->2:6 | 2 |" "$work/table.md"; then
  pass
else
  fail "bench: expected 4 records and a table row: $(cat "$work/table.md")"
fi
expect_error 2 "pass --resume" "${tiny[@]}" --output "$work/full.jsonl"
"$nalu" "${tiny[@]}" --output "$work/full.jsonl" --resume >/dev/null 2>&1 || fail "resume failed"
if [ "$(wc -l <"$work/full.jsonl")" -eq 4 ]; then pass; else fail "resume re-ran recorded runs"; fi
head -n 1 "$work/full.jsonl" >"$work/partial.jsonl"
"$nalu" "${tiny[@]}" --output "$work/partial.jsonl" --resume >/dev/null 2>&1 || fail "resume of partial failed"
if [ "$(wc -l <"$work/partial.jsonl")" -eq 4 ]; then pass; else fail "resume did not complete the bench"; fi
"$nalu" "${tiny[@]}" --shard 0/2 --output "$work/s0.jsonl" >/dev/null 2>&1 || fail "shard 0 failed"
"$nalu" "${tiny[@]}" --shard 1/2 --output "$work/s1.jsonl" >/dev/null 2>&1 || fail "shard 1 failed"
"$nalu" bench merge "$work/s0.jsonl" "$work/s1.jsonl" "$work/s0.jsonl" --output "$work/merged.jsonl" 2>/dev/null
if [ "$(wc -l <"$work/merged.jsonl")" -eq 4 ] &&
   diff <("$nalu" bench table "$work/merged.jsonl") <("$nalu" bench table "$work/full.jsonl") >/dev/null; then
  pass
else
  fail "shards merged differ from the full bench"
fi
# --history-every thins the histories (3 evaluations: steps 0, 100, 200 -> 0 and 200) and
# leaves the table as it was.
"$nalu" bench merge "$work/full.jsonl" --history-every 2 --output "$work/thin.jsonl" 2>/dev/null
if [ "$(grep -o '"step":' "$work/thin.jsonl" | wc -l)" -lt "$(grep -o '"step":' "$work/full.jsonl" | wc -l)" ] &&
   grep -q '"history_every":2' "$work/thin.jsonl" &&
   diff <("$nalu" bench table "$work/thin.jsonl") <("$nalu" bench table "$work/full.jsonl") >/dev/null; then
  pass
else
  fail "bench merge --history-every did not thin the histories or changed the table"
fi
# Each run on its own (--no-shared-batches) gives the table of the runs trained together.
"$nalu" "${tiny[@]}" --no-shared-batches --output "$work/alone.jsonl" >/dev/null 2>&1 || fail "--no-shared-batches failed"
if diff <("$nalu" bench table "$work/alone.jsonl") <("$nalu" bench table "$work/full.jsonl") >/dev/null; then
  pass
else
  fail "bench --no-shared-batches changed the table"
fi
expect_error 2 "history-every" "${tiny[@]}" --history-every 0
expect_error 2 "needs 0 <= I < N" "${tiny[@]}" --shard 2/2
expect_error 2 "unknown bench preset 'x'" bench --preset x
printf '{"run_id": "a"}\n{"run_id": ' >"$work/corrupt.jsonl"
expect_error 2 "corrupt.jsonl:2: not valid JSON" bench table "$work/corrupt.jsonl"

# --- nalu recurrent ---
"$nalu" recurrent --ops add --cores nac,lstm --seeds 1 --iterations 50 --eval-size 50 --jobs 1 -q \
  >"$work/rec.md" 2>"$work/err" || fail "recurrent failed: $(cat "$work/err")"
if grep -q "^| add | nac |" "$work/rec.md" && grep -q "^| add | lstm |" "$work/rec.md"; then
  pass
else
  fail "recurrent table: $(cat "$work/rec.md")"
fi
expect_error 2 "unknown recurrent core 'transformer'" recurrent --cores transformer --iterations 10 -q
expect_error 2 "empty or reversed" recurrent --range 3:1 --iterations 10 -q
fi

if in_part training; then
# --- nalu experiment: catalogue, bad input before training, the quick identity run's files ---
if "$nalu" experiment --list | grep -q "^identity "; then pass; else fail "experiment --list"; fi
expect_error 2 "unknown experiment 'identiti' (known: identity" experiment identiti --quick
echo "a file, not a directory" >"$work/blocker"
expect_error 2 "cannot create output directory" experiment identity --quick \
  --output "$work/blocker/identity"
"$nalu" experiment identity --quick --progress none --output "$work/identity" \
  >"$work/out" 2>"$work/err" || fail "experiment identity --quick failed: $(cat "$work/err")"
if grep -q "</svg>" "$work/identity/identity.svg" &&
   [ "$(wc -l <"$work/identity/identity.jsonl")" -eq 16 ] &&
   grep -q "^| NAC" "$work/identity/identity.md" && grep -q "^| relu6 |" "$work/out"; then
  pass
else
  fail "experiment identity --quick: files or table missing: $(cat "$work/out")"
fi
fi

if in_part checks; then
# --- nalu words: phrases are checked before the model is read; a missing or foreign model ---
expect_error 2 "did you mean 'seven hundred and two'?" words -m "$work/none.nalu" "seven hundred two"
expect_error 2 "unknown word 'thousandd'" words -m "$work/none.nalu" "one thousandd"
expect_error 2 "the phrase is empty" words -m "$work/none.nalu" ""
expect_error 2 "is above 999" words -m "$work/none.nalu" "ten hundred"
expect_error 2 "none.nalu" words -m "$work/none.nalu" "seven"
echo "| a table, not a model |" >"$work/table.txt"
expect_error 2 "not a nalu archive" words -m "$work/table.txt" "seven"
expect_error 2 "phrases is required" words -m "$work/none.nalu"
fi

if in_part checks; then
# --- nalu fit: a bad table is one line naming the line and column, and writes nothing ---
echo "kept" >"$work/fit.json"
printf 'a,b,y\n1,2,3\n2,x,5\n' >"$work/bad.csv"
expect_error 2 "bad.csv:3:2 (column 'b'): 'x' is not a number" fit "$work/bad.csv" -t y -o "$work/fit.json"
printf 'a,b,y\n1,2,3\n2,3\n' >"$work/bad.csv"
expect_error 2 "bad.csv:3: the row has 2 cells, the header 3" fit "$work/bad.csv" -t y -o "$work/fit.json"
printf 'a,b,y\n1,nan,3\n' >"$work/bad.csv"
expect_error 2 "bad.csv:2:2 (column 'b'): 'nan' is not a finite number" fit "$work/bad.csv" -t y
printf 'a,b,y\n1,,3\n' >"$work/bad.csv"
expect_error 2 "bad.csv:2:2 (column 'b'): empty cell" fit "$work/bad.csv" -t y
: >"$work/bad.csv"
expect_error 2 "bad.csv: empty file" fit "$work/bad.csv" -t y
expect_error 2 "cannot read" fit "$work/none.csv" -t y
printf 'a,b,y\n1,2,3\n2,3,5\n3,4,7\n' >"$work/small.csv"
expect_error 2 "no column 'z'; the table has a, b, y" fit "$work/small.csv" -t z -o "$work/fit.json"
expect_error 2 "input column 'a' is named twice" fit "$work/small.csv" -t y --inputs a,a
expect_error 2 "unknown unit 'nmx'" fit "$work/small.csv" -t y --units nmx
if [ "$(cat "$work/fit.json")" = kept ]; then pass; else fail "fit: bad input changed the record"; fi
# --- nalu fit: a product recovered exactly, with its record and model ---
awk 'BEGIN { srand(3); print "a,b,y"; for (i = 0; i < 200; i++) {
  a = 1 + 9 * rand(); b = 1 + 9 * rand(); printf "%.17g,%.17g,%.17g\n", a, b, a * b } }' \
  >"$work/mul.csv"
if "$nalu" fit "$work/mul.csv" -t y --units nau,nmu --seeds 2 -q -o "$work/fit.json" \
  --save-model "$work/fit.model" >"$work/out" 2>"$work/err" &&
  grep -q "^  y = a · b$" "$work/out" && grep -q "^  y = a\*b$" "$work/out" &&
  grep -q "^verdict: exact" "$work/out" && grep -q '"verdict": "exact"' "$work/fit.json" &&
  [ -s "$work/fit.model" ] && [ ! -s "$work/err" ]; then
  pass
else
  fail "fit of a product: $(cat "$work/out" "$work/err")"
fi
expect_error 2 "task 'table' needs its table" eval -m "$work/fit.model"
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Faults a long run must survive, driven through the command line: a run killed with SIGKILL
# midway and resumed ends bit for bit as the uninterrupted one; SIGTERM writes a checkpoint and
# exits 143; a damaged or foreign checkpoint or model is one error line; an injected NaN stops
# the run naming step and parameter, or rolls back; a saved model reads back with the same
# formula and errors.
# Usage: faults_test.sh path/to/nalu
set -uo pipefail
nalu=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect_error CODE TEXT ARGS...: exit code CODE, exactly one stderr line containing TEXT.
expect_error() {
  local code=$1 text=$2
  shift 2
  "$nalu" "$@" >"$work/out" 2>"$work/err"
  local got=$?
  local lines
  lines=$(wc -l <"$work/err")
  if [ "$got" -ne "$code" ]; then
    fail "nalu $*: exit $got, expected $code ($(cat "$work/err"))"
  elif [ "$lines" -ne 1 ]; then
    fail "nalu $*: $lines stderr lines, expected 1: $(cat "$work/err")"
  elif ! grep -qF -- "$text" "$work/err"; then
    fail "nalu $*: stderr '$(cat "$work/err")' lacks '$text'"
  else
    pass
  fi
}

# wait_for_checkpoint FILE PID: until FILE has been written twice (the first is the state
# before step 1), then a little longer; fails when the process ends first.
wait_for_checkpoint() {
  local file=$1 pid=$2 first=""
  for _ in $(seq 1 1200); do
    if [ -f "$file" ]; then
      local now
      now=$(stat -c %y "$file")
      if [ -z "$first" ]; then
        first=$now
      elif [ "$now" != "$first" ]; then
        sleep 0.3
        return 0
      fi
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Long enough (about 10 s on one core) that a kill lands midway.
run=(train --op mul --unit nmu --input-size 10 --iterations 1500000 --eval-interval 10000
  --eval-size 1000 --seed 4 --progress none --quiet)

fused_run=("${run[@]}")
for engine in fused torch; do
  if [ "$engine" = torch ]; then
    # The torch engine is about 40 times slower: fewer steps, the same shape of test.
    run=(train --op mul --unit nmu --input-size 10 --iterations 20000 --eval-interval 1000
      --eval-size 1000 --seed 4 --progress none --quiet)
  fi
  dir="$work/$engine"
  mkdir -p "$dir"
  "$nalu" "${run[@]}" --engine "$engine" --save-model "$dir/whole.nalu" -o "$dir/whole.json" \
    >"$dir/whole.txt" 2>&1 || fail "$engine: the uninterrupted run failed: $(cat "$dir/whole.txt")"

  # --- SIGKILL midway, then --resume ---
  rm -f "$dir/run.ckpt"
  "$nalu" "${run[@]}" --engine "$engine" --checkpoint "$dir/run.ckpt" --checkpoint-every 1000 \
    --save-model "$dir/resumed.nalu" -o "$dir/resumed.json" >"$dir/killed.txt" 2>&1 &
  pid=$!
  if wait_for_checkpoint "$dir/run.ckpt" "$pid"; then
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    code=$?
    if [ "$code" -eq 137 ]; then pass; else fail "$engine: the run ended before the kill ($code)"; fi
  else
    fail "$engine: no checkpoint appeared"
  fi
  if "$nalu" "${run[@]}" --engine "$engine" --checkpoint "$dir/run.ckpt" --checkpoint-every 1000 \
    --save-model "$dir/resumed.nalu" -o "$dir/resumed.json" --resume >"$dir/resumed.txt" 2>&1; then
    pass
  else
    fail "$engine: resume failed: $(cat "$dir/resumed.txt")"
  fi
  from=$(sed -n 's/^resumed from the checkpoint at step \([0-9]*\)$/\1/p' "$dir/resumed.txt")
  if [ -n "$from" ] && [ "$from" -gt 0 ]; then pass; else fail "$engine: did not resume midway"; fi
  # The same formula and errors as the uninterrupted run...
  if diff <(grep -E "^(best|final|  y)" "$dir/whole.txt") \
    <(grep -E "^(best|final|  y)" "$dir/resumed.txt") >/dev/null; then
    pass
  else
    fail "$engine: resumed run reports differently: $(diff <(cat "$dir/whole.txt") <(cat "$dir/resumed.txt"))"
  fi
  # ... and, on the fused engine, the same model bit for bit.
  if [ "$engine" = fused ]; then
    if cmp -s "$dir/whole.nalu" "$dir/resumed.nalu"; then pass; else fail "fused: models differ"; fi
  fi

  # --- SIGTERM: checkpoint, exit 143, one line ---
  rm -f "$dir/term.ckpt"
  "$nalu" "${run[@]}" --engine "$engine" --checkpoint "$dir/term.ckpt" --checkpoint-every 1000 \
    >"$dir/term.txt" 2>"$dir/term.err" &
  pid=$!
  if wait_for_checkpoint "$dir/term.ckpt" "$pid"; then
    kill -TERM "$pid"
    wait "$pid"
    code=$?
    if [ "$code" -eq 143 ] && grep -q "interrupted after step [0-9]*; checkpoint written to" "$dir/term.err" &&
      [ "$(wc -l <"$dir/term.err")" -eq 1 ]; then
      pass
    else
      fail "$engine: SIGTERM gave exit $code: $(cat "$dir/term.err")"
    fi
  else
    fail "$engine: no checkpoint appeared before SIGTERM"
  fi
done

dir="$work/fused"
run=("${fused_run[@]}")
# --- a saved model reads back with the same formula and errors ---
if "$nalu" eval --model "$dir/whole.nalu" >"$dir/eval.txt" 2>&1; then pass; else fail "eval: $(cat "$dir/eval.txt")"; fi
final=$(sed -n 's/^final (step [0-9]*): \(interpolation MSE [^,]*, extrapolation MSE [^ ]*\)$/\1/p' "$dir/whole.txt")
if grep -qF "$final" "$dir/eval.txt"; then pass; else fail "eval errors differ: '$final' vs $(cat "$dir/eval.txt")"; fi
# The record's final formula is the model's.
formula=$(sed -n 's/^  \(y0 = .*\)$/\1/p' "$dir/eval.txt")
if grep -qF "\"$formula\"" "$dir/whole.json"; then pass; else fail "eval formula '$formula' not in the record"; fi

# --- damaged, truncated, foreign and mismatched files: one line, exit 2 ---
head -c 300 "$dir/run.ckpt" >"$work/truncated.ckpt"
expect_error 2 "damaged archive" "${run[@]}" --checkpoint "$work/truncated.ckpt" --resume
cp "$dir/run.ckpt" "$work/flipped.ckpt"
printf '\x55' | dd of="$work/flipped.ckpt" bs=1 seek=400 conv=notrunc status=none
expect_error 2 "checksum mismatch" "${run[@]}" --checkpoint "$work/flipped.ckpt" --resume
echo '{"not": "a checkpoint"}' >"$work/foreign.ckpt"
expect_error 2 "not a nalu archive" "${run[@]}" --checkpoint "$work/foreign.ckpt" --resume
expect_error 2 "from a different run (config.optimizer.learning_rate differs)" \
  "${run[@]}" --lr 0.01 --checkpoint "$dir/run.ckpt" --resume
expect_error 2 "not a model" eval --model "$dir/run.ckpt"
expect_error 2 "not a nalu archive" eval --model "$work/foreign.ckpt"
expect_error 2 "cannot read" eval --model "$work/missing.nalu"
expect_error 2 "resume needs a checkpoint file" "${run[@]}" --resume
expect_error 2 "does not exist" "${run[@]}" --checkpoint "$work/missing/run.ckpt"
expect_error 2 "does not exist" "${run[@]}" --save-model "$work/missing/model.nalu"

# --- NaN injection: stop naming step and parameter (exit 1), or roll back ---
short=(train --op mul --unit nmu --input-size 10 --iterations 3000 --eval-interval 500
  --eval-size 500 --seed 4 --progress none --quiet)
expect_error 1 "training diverged at step 1201: parameter '" "${short[@]}" --inject-nan 1200
if "$nalu" "${short[@]}" --inject-nan 1200 --on-nan rollback -o "$work/rollback.json" \
  >"$work/rollback.txt" 2>&1 &&
  grep -q "^rollback: non-finite .* at step 1201; back to step 1000, learning rate 0.0005$" \
    "$work/rollback.txt" &&
  grep -q '"non_finite_rollbacks"' "$work/rollback.json"; then
  pass
else
  fail "rollback: $(cat "$work/rollback.txt")"
fi

# --- nalu bench: SIGINT checkpoints the runs in flight; --resume finishes them ---
bench=(bench --preset demo --ops mul --units nmu --seeds 2 --iterations 400000 --jobs 2 -q
  -o "$work/bench.jsonl" --checkpoint-dir "$work/bench.ckpt" --checkpoint-every 2000)
"$nalu" "${bench[@]}" >"$work/bench.txt" 2>"$work/bench.err" &
pid=$!
for _ in $(seq 1 600); do
  [ -n "$(ls "$work/bench.ckpt" 2>/dev/null)" ] && break
  sleep 0.05
done
sleep 0.5
kill -INT "$pid"
wait "$pid"
code=$?
if [ "$code" -eq 130 ] && grep -q "bench interrupted: .* checkpointed in" "$work/bench.err"; then
  pass
else
  fail "bench SIGINT: exit $code: $(cat "$work/bench.err")"
fi
if "$nalu" "${bench[@]}" --resume >"$work/bench2.txt" 2>"$work/bench2.err" &&
  [ "$(grep -c . "$work/bench.jsonl")" -eq 2 ] && [ -z "$(ls "$work/bench.ckpt")" ] &&
  grep -q '"resumed_from_step":[1-9]' "$work/bench.jsonl"; then
  pass
else
  fail "bench resume: $(cat "$work/bench2.err") $(ls "$work/bench.ckpt")"
fi

# --- a full disk is reported before training (a 64 KiB tmpfs in a private mount namespace) ---
if unshare -rm true 2>/dev/null; then
  mkdir -p "$work/small"
  unshare -rm bash -c "mount -t tmpfs -o size=64k none '$work/small' &&
    head -c 60000 /dev/zero >'$work/small/filler' &&
    '$nalu' ${fused_run[*]} --checkpoint '$work/small/run.ckpt' >'$work/small.out' 2>'$work/small.err';
    echo \$? >'$work/small.code'"
  if [ "$(cat "$work/small.code")" = 2 ] &&
    grep -q "free on its file system, the checkpoint needs about" "$work/small.err" &&
    [ "$(wc -l <"$work/small.err")" -eq 1 ] && ! grep -q "^best" "$work/small.out"; then
    pass
  else
    fail "full disk: exit $(cat "$work/small.code"): $(cat "$work/small.err")"
  fi
else
  fail "full disk: cannot make a private tmpfs here (unshare -rm is not permitted)"
fi

echo "faults: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

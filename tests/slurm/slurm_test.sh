#!/usr/bin/env bash
# scripts/slurm/submit.sh on a real Slurm cluster: starts a private one-node cluster on this
# machine (munged, slurmctld and slurmd from Debian's packages, everything in a temporary
# directory, ports of its own), runs a small bench there as 3 array shards and the merge job, and
# checks that the merged table equals that of the same bench run here in one process. Stops every
# daemon and job it started and removes its directory, however it ends.
# Usage: slurm_test.sh path/to/nalu
# Exits 77 (skipped) where slurm-wlm or munge is not installed or it does not run as root, unless
# CI=true: there that is a failure.
set -uo pipefail
if [ $# -ne 1 ]; then
  echo "usage: slurm_test.sh path/to/nalu" >&2
  exit 2
fi
nalu=$(realpath "$1")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The small bench: 4 runs of a few seconds in all.
bench=(--preset demo --ops add --units "nau,linear" --seeds 2 --iterations 2000)
shards=3

skip() {
  if [ "${CI:-}" = true ]; then
    echo "slurm_test: FAIL: $* (CI=true: this test must run)"
    exit 1
  fi
  echo "slurm_test: SKIPPED: $*"
  exit 77
}
for tool in munged slurmctld slurmd sbatch scontrol squeue sinfo scancel; do
  command -v "$tool" >/dev/null ||
    skip "slurm-wlm and munge are not installed (scripts/install-deps.sh slurm installs them)"
done
[ "$(id -u)" -eq 0 ] || skip "needs root (slurmd starts each job as its user)"
if ! [ -x "$nalu" ]; then
  echo "slurm_test: FAIL: '$1' is not an executable"
  exit 1
fi

start=$SECONDS
# Under /tmp, not $TMPDIR: Unix socket paths must stay under 108 characters.
work=$(mktemp -d /tmp/nalu-slurm.XXXXXX)
conf=$work/slurm.conf
pids=()

# Clients and jobs talk to this cluster only; nothing of an enclosing Slurm job leaks in.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SALLOC|SRUN)_')
export SLURM_CONF=$conf

cleanup() {
  if [ -n "${ctld_pid:-}" ] && kill -0 "$ctld_pid" 2>/dev/null; then
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086 # one job id per word
      scancel $jobs 2>/dev/null
      for _ in $(seq 20); do
        [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
        sleep 0.5
      done
    fi
  fi
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # Job steps outlive slurmd; any left (a failed run) still carry this cluster's SLURM_CONF.
  local environ
  while IFS= read -r environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    [ "$pid" = $$ ] || kill -9 "$pid" 2>/dev/null
  done < <(grep -lzxF "SLURM_CONF=$conf" /proc/[0-9]*/environ 2>/dev/null)
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "slurm_test: FAIL: $*"
  local log
  for log in "$work"/log/*.log "$work"/out/logs/*.out; do
    [ -f "$log" ] || continue
    echo "--- tail of ${log#"$work"/}"
    tail -n 15 "$log"
  done
  exit 1
}

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every half second until it succeeds.
wait_for() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what not within ${limit} s"
    sleep 0.5
  done
}

# Two free TCP ports next to each other, for slurmctld and slurmd.
port=""
for _ in $(seq 50); do
  candidate=$((20000 + RANDOM % 30000))
  if ! ss -Htln 2>/dev/null | awk '{print $4}' | grep -qE ":($candidate|$((candidate + 1)))\$"; then
    port=$candidate
    break
  fi
done
[ -n "$port" ] || fail "no two free TCP ports"

mkdir -p "$work"/{munge,state,spool,log,out}
# munged wants its socket's directories searchable by all (and writable by root alone).
chmod 755 "$work" "$work/munge"

# munged with its own key and socket.
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket=$work/munge/munge.socket
munged --foreground --socket="$socket" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" \
  --seed-file="$work/munge/munged.seed" >>"$work/log/munged.log" 2>&1 &
pids+=($!)
wait_for 10 "munged listening on $socket" test -S "$socket"

node=$(hostname -s)
cat >"$conf" <<CONF
ClusterName=nalutest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
KillWait=5
MinJobAge=300
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=nalu Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF

# In the foreground (-D) and with no log file named, the daemons log to stderr.
slurmctld -D -i -f "$conf" >>"$work/log/slurmctld.log" 2>&1 &
ctld_pid=$!
pids+=("$ctld_pid")
slurmd -D -N "$node" -f "$conf" >>"$work/log/slurmd.log" 2>&1 &
pids+=($!)

# The same bench in one process, while the cluster comes up.
nice "$nalu" bench "${bench[@]}" --jobs 1 --quiet --output "$work/one.jsonl" >"$work/one.out" 2>&1 &
one_pid=$!

node_idle() { [ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ]; }
wait_for 30 "node $node idle in sinfo" node_idle

if ! "$repo/scripts/slurm/submit.sh" --shards "$shards" --out "$work/out" --nalu "$nalu" \
  -- "${bench[@]}" >"$work/submit.out" 2>&1; then
  fail "submit.sh: $(cat "$work/submit.out")"
fi
cat "$work/submit.out"
merge=$(sed -n 's/^merge: *job \([0-9]*\).*/\1/p' "$work/submit.out")
[ -n "$merge" ] || fail "no merge job id in submit.sh's output"

# job_state ID: the job's state (PENDING, RUNNING, COMPLETED, FAILED, ...).
job_state() { scontrol show job "$1" -o 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
merge_ended() {
  case "$(job_state "$merge")" in
    PENDING | RUNNING | CONFIGURING | COMPLETING | "") return 1 ;;
  esac
}
wait_for 120 "the merge job $merge ended" merge_ended
state=$(job_state "$merge")
[ "$state" = COMPLETED ] || fail "merge job $merge ended $state"

wait "$one_pid" || fail "the one-process bench failed: $(tail -n 3 "$work/one.out")"
"$nalu" bench table "$work/one.jsonl" >"$work/one.md" || fail "nalu bench table one.jsonl"
"$nalu" bench table "$work/one.jsonl" --format json >"$work/one.json"
"$nalu" bench table "$work/out/all.jsonl" --format json >"$work/all.json" ||
  fail "nalu bench table all.jsonl"
[ -s "$work/out/table.md" ] || fail "no table.md"
runs=$(wc -l <"$work/one.jsonl")
merged=$(wc -l <"$work/out/all.jsonl")
[ "$runs" -eq "$merged" ] || fail "$merged merged records, $runs in one process"
if ! diff -u "$work/one.md" "$work/out/table.md"; then
  fail "the merged table differs from the one-process table"
fi
cmp -s "$work/one.json" "$work/all.json" || fail "the merged JSON table differs"
for ((id = 0; id < shards; id++)); do
  [ -f "$work/out/shard-$id.jsonl" ] || fail "no shard-$id.jsonl"
done
cat "$work/out/table.md"
echo "slurm_test: PASS: $shards shards and the merge on a one-node Slurm cluster give the" \
  "one-process table ($merged runs, $((SECONDS - start)) s)"

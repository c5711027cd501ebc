#!/usr/bin/env bash
# Runs a `nalu bench` grid on a Slurm cluster: a job array of N shards
# (scripts/slurm/bench-array.sbatch), then a job that starts once every shard has succeeded and
# merges them into DIR/all.jsonl and DIR/table.md (scripts/slurm/bench-merge.sbatch).
# Usage: submit.sh --shards N --out DIR [--nalu PATH] [--partition P] [--cpus-per-task C]
#                  [--time T] -- [nalu bench arguments...]
#   e.g. submit.sh --shards 8 --out results/t1 -- --preset nau-table1 --seeds 10
# DIR must be on a file system that the compute nodes share; so must the nalu binary (default:
# nalu on PATH). Other sbatch settings come from sbatch's own environment (SBATCH_ACCOUNT, ...).
set -euo pipefail

usage="usage: submit.sh --shards N --out DIR [--nalu PATH] [--partition P] [--cpus-per-task C] [--time T] -- [nalu bench arguments...]"
die() { echo "submit.sh: $*" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

shards=""
out=""
nalu=""
sbatch_options=()
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    -h | --help) echo "$usage"; exit 0 ;;
    --shards | --out | --nalu | --partition | --cpus-per-task | --time)
      if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value ($usage)"; fi
      case "$1" in
        --shards) shards=$2 ;;
        --out) out=$2 ;;
        --nalu) nalu=$2 ;;
        --partition) sbatch_options+=(--partition "$2") ;;
        --cpus-per-task)
          [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "--cpus-per-task must be a positive integer, not '$2'"
          sbatch_options+=(--cpus-per-task "$2") ;;
        --time) sbatch_options+=(--time "$2") ;;
      esac
      shift 2 ;;
    *) die "unknown option '$1' (nalu bench arguments go after --; $usage)" ;;
  esac
done
[ -n "$shards" ] || die "--shards is required ($usage)"
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || die "--shards must be a positive integer, not '$shards'"
[ -n "$out" ] || die "--out is required ($usage)"
for arg in "$@"; do
  case "$arg" in
    --shard | --shard=* | --output | --output=* | -o | -o?* | --checkpoint-dir | --checkpoint-dir=*)
      die "$arg is set per shard by the job script; leave it out" ;;
  esac
done
command -v sbatch >/dev/null || die "sbatch is not on PATH (run this on a Slurm login node)"
if [ -z "$nalu" ]; then
  nalu=$(command -v nalu) || die "nalu is not on PATH; name the binary with --nalu PATH"
fi
if ! [ -f "$nalu" ] || ! [ -x "$nalu" ]; then die "--nalu: '$nalu' is not an executable file"; fi
nalu=$(realpath "$nalu")
mkdir -p "$out" || die "cannot create the output directory '$out'"
out=$(realpath "$out")
mkdir -p "$out/logs"

# The job scripts read these; sbatch passes the environment on (--export=ALL).
export NALU=$nalu NALU_SHARDS=$shards
array=$(sbatch --parsable --export=ALL --array="0-$((shards - 1))" "${sbatch_options[@]}" \
  --output="$out/logs/shard-%a.out" "$here/bench-array.sbatch" "$out" "$@") ||
  { echo "submit.sh: sbatch refused the shard array" >&2; exit 1; }
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  "${sbatch_options[@]}" --output="$out/logs/merge.out" "$here/bench-merge.sbatch" "$out" "$shards") ||
  { echo "submit.sh: sbatch refused the merge job; cancelling the shard array $array" >&2
    scancel "$array" || true; exit 1; }
merge=${merge%%;*}
echo "shards: job array $array (tasks 0-$((shards - 1))), records in $out/shard-*.jsonl"
echo "merge:  job $merge (after every shard succeeds) -> $out/all.jsonl and $out/table.md"
echo "logs:   $out/logs/"

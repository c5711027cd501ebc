#!/usr/bin/env python3
"""What the whole of Madsen & Johansen's Table 1 (`nalu bench --preset nau-table1`: 24 cells x
100 seeds x 5*10^6 steps) costs on this machine, projected from short runs of one seed per cell.

Runs every cell of the preset for one seed at two lengths, --steps and 3 x --steps (evaluations
every 1,000 steps on 10,000 rows, as in the full preset), on one thread. A run's wall time is a
fixed part (building the task and its evaluation sets, the formula readout, which check its
simplifications on 20,000 rows) plus a part per step; the two lengths separate them:

  per step  = (wall(3S) - wall(S)) / 2S          fixed = wall(S) - S * per step
  core-hours(cell) = 100 * (fixed + 5e6 * per step) / 3600

(Projecting from one length alone, as 100 * 5e6 / iterations_per_second, counts the fixed part
once per 20,000 steps instead of once per 5*10^6: 5 to 8 times the two-length figure for NAU
and NMU at b0639f6.)
The longer grid runs again on two threads; its wall time against the one-thread run's is the
2-thread throughput. It prints the core-hours per unit and in all. A few minutes on 2 cores:

  python3 bench/table1_projection.py --nalu build/nalu
The last line of the output is one JSON object.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time


def run_preset(nalu, steps, jobs, output):
    command = [nalu, "bench", "--preset", "nau-table1", "--seeds", "1", "--iterations",
               str(steps), "--jobs", str(jobs), "--quiet", "--output", output]
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    with open(output) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return records, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nalu", default="build/nalu", help="the nalu binary")
    parser.add_argument("--steps", type=int, default=20000, help="steps per cell (and 3x that)")
    parser.add_argument("--keep", help="keep the longer one-thread records in this file")
    args = parser.parse_args()
    if args.steps <= 0:
        sys.exit("table1_projection: --steps must be positive")

    with tempfile.TemporaryDirectory() as directory:
        short, _ = run_preset(args.nalu, args.steps, 1, os.path.join(directory, "short.jsonl"))
        long_path = args.keep or os.path.join(directory, "long.jsonl")
        one, wall_one = run_preset(args.nalu, 3 * args.steps, 1, long_path)
        two, wall_two = run_preset(args.nalu, 3 * args.steps, 2, os.path.join(directory, "two.jsonl"))

    cell = lambda r: r["run_id"].split("/seed=")[0]
    short_wall = {cell(r): r["timing"]["wall_seconds"] for r in short}
    hours = collections.OrderedDict()
    fixed_seconds = {}
    for record in one:
        unit = record["bench"]["unit"]
        wall = record["timing"]["wall_seconds"]
        per_step = max(wall - short_wall[cell(record)], 0.0) / (2 * args.steps)
        fixed = max(short_wall[cell(record)] - args.steps * per_step, 0.0)
        fixed_seconds[cell(record)] = fixed
        hours[unit] = hours.get(unit, 0.0) + 100 * (fixed + 5e6 * per_step) / 3600
    total = sum(hours.values())
    print("| unit | cells | core-hours for 100 seeds x 5e6 steps |")
    print("|---|---:|---:|")
    cells = collections.Counter(record["bench"]["unit"] for record in one)
    for unit, value in hours.items():
        print(f"| {unit} | {cells[unit]} | {value:.1f} |")
    print(f"| all | {len(one)} | {total:.1f} |")
    print(f"fixed part per run: {min(fixed_seconds.values()):.2f}-{max(fixed_seconds.values()):.2f} s")
    print(f"{3 * args.steps} steps per cell: one thread {wall_one:.1f} s wall, two threads "
          f"{wall_two:.1f} s wall; 2-thread throughput {wall_one / wall_two:.2f}x")
    # The same records either way: the cells' results do not depend on the thread count.
    key = lambda r: json.dumps([r["run_id"], r["bench"]["success"], r.get("best")])
    same = sorted(map(key, one)) == sorted(map(key, two))
    print(json.dumps({"steps": [args.steps, 3 * args.steps], "core_hours": hours,
                      "total_core_hours": total, "fixed_seconds": fixed_seconds,
                      "wall_one_thread": wall_one, "wall_two_threads": wall_two,
                      "two_thread_throughput": wall_one / wall_two,
                      "same_results_on_two_threads": same}))


if __name__ == "__main__":
    main()

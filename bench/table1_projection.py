#!/usr/bin/env python3
"""What the whole of Madsen & Johansen's Table 1 (`nalu bench --preset nau-table1`: 24 cells x
100 seeds x 5*10^6 steps, with the NMRU and NRU cells on division) costs on this machine,
projected from short runs of one seed per cell, optionally side by side with another build.

Runs every cell of the preset for one seed at two lengths, --steps and 3 x --steps (evaluations
every 1,000 steps on 10,000 rows, as in the full preset), on one thread. A run's wall time (its
record's) is a fixed part (building the task and its evaluation sets, the formula readout, which
checks its simplifications on 20,000 rows) plus a part per step; the two lengths separate them.
Besides training a run, the bench spends time on it outside the record's clock (simulating the
success threshold for its task, writing the record): the shorter grid's wall time, less its
runs' and the process's start (`nalu --version`), per run. So, per cell:

  per step  = (wall(3S) - wall(S)) / 2S          fixed = wall(S) - S * per step
  core-hours(cell) = 100 * (fixed + outside + 5e6 * per step) / 3600

Each figure is the median over --repeats passes. (Projecting from one length alone, as
100 * 5e6 / iterations_per_second, counts the fixed part once per 20,000 steps instead of once
per 5*10^6: 5 to 8 times the two-length figure for NAU and NMU at b0639f6.) The longer grid runs
again on two threads; its wall time against the one-thread run's is the 2-thread throughput.

With --baseline OTHER, the other build is measured in the same passes, the two alternating
(which goes first alternates too), so that the machine's noise falls on both alike; the report
gives both projections, their ratio, and whether the two builds' records are the same (every
field but the timing and the version, the evaluation history included). On 2 cores:

  python3 bench/table1_projection.py --nalu build/nalu                      (about 90 s)
  python3 bench/table1_projection.py --nalu build/nalu --baseline old/nalu --repeats 3

The last line of the output is one JSON object.
"""

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_preset(nalu, steps, jobs, output):
    command = [nalu, "bench", "--preset", "nau-table1", "--seeds", "1", "--iterations",
               str(steps), "--jobs", str(jobs), "--quiet", "--output", output]
    if os.path.exists(output):
        os.remove(output)
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    with open(output) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return records, wall


def cell(record):
    return record["run_id"].split("/seed=")[0]


def results(records):
    """Each cell's record without its timing and version: what must not change between builds."""
    return {cell(r): {k: v for k, v in r.items() if k not in ("timing", "nalu_version")}
            for r in records}


def process_start(nalu):
    """Wall seconds of starting the binary and loading LibTorch (`nalu --version`), median of 3."""
    walls = []
    for _ in range(3):
        start = time.monotonic()
        subprocess.run([nalu, "--version"], check=True, stdout=subprocess.DEVNULL)
        walls.append(time.monotonic() - start)
    return statistics.median(walls)


def one_pass(nalu, steps, directory):
    """Per-step and fixed seconds of every cell, the bench's own seconds per run outside
    training, and the longer run's records."""
    short, short_grid = run_preset(nalu, steps, 1, os.path.join(directory, "short.jsonl"))
    long, wall = run_preset(nalu, 3 * steps, 1, os.path.join(directory, "long.jsonl"))
    short_wall = {cell(r): r["timing"]["wall_seconds"] for r in short}
    per_step, fixed = {}, {}
    for record in long:
        c = cell(record)
        per_step[c] = max(record["timing"]["wall_seconds"] - short_wall[c], 0.0) / (2 * steps)
        fixed[c] = max(short_wall[c] - steps * per_step[c], 0.0)
    # What the bench does for each run besides training it (the success threshold's simulation,
    # the record): the grid's wall time less its runs' and the process's start.
    outside = max(short_grid - sum(short_wall.values()) - process_start(nalu), 0.0) / len(short)
    return per_step, fixed, outside, long, wall


def projection(passes, units):
    """Core-hours per unit from the median per-step and fixed seconds of each cell and the
    median seconds per run outside training."""
    hours = collections.OrderedDict()
    fixed = {}
    outside = statistics.median(p[2] for p in passes)
    for c, unit in units.items():
        step = statistics.median(p[0][c] for p in passes)
        fixed[c] = statistics.median(p[1][c] for p in passes)
        hours[unit] = hours.get(unit, 0.0) + 100 * (fixed[c] + outside + 5e6 * step) / 3600
    return hours, fixed, outside


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nalu", default="build/nalu", help="the nalu binary")
    parser.add_argument("--baseline", help="another nalu binary, measured side by side")
    parser.add_argument("--steps", type=int, default=20000, help="steps per cell (and 3x that)")
    parser.add_argument("--repeats", type=int, default=1, help="passes; medians are reported")
    parser.add_argument("--keep", help="keep the longer one-thread records of --nalu in this file")
    args = parser.parse_args()
    if args.steps <= 0 or args.repeats <= 0:
        sys.exit("table1_projection: --steps and --repeats must be positive")
    builds = [("nalu", args.nalu)] + ([("baseline", args.baseline)] if args.baseline else [])
    for _, path in builds:
        if not os.access(path, os.X_OK):
            sys.exit(f"table1_projection: {path} is not an executable")

    passes = {name: [] for name, _ in builds}
    walls_one = {name: [] for name, _ in builds}
    records = {}
    with tempfile.TemporaryDirectory() as directory:
        for repeat in range(args.repeats):
            order = builds if repeat % 2 == 0 else builds[::-1]
            for name, path in order:
                print(f"pass {repeat + 1}/{args.repeats}: {name}", file=sys.stderr)
                per_step, fixed, outside, long, wall = one_pass(path, args.steps, directory)
                passes[name].append((per_step, fixed, outside))
                walls_one[name].append(wall)
                records[name] = long
        walls_two = {}
        two_records = {}
        for name, path in builds:
            print(f"two threads: {name}", file=sys.stderr)
            two_records[name], walls_two[name] = run_preset(
                path, 3 * args.steps, 2, os.path.join(directory, "two.jsonl"))
    if args.keep:
        with open(args.keep, "w") as f:
            for record in records["nalu"]:
                f.write(json.dumps(record) + "\n")

    units = collections.OrderedDict((cell(r), r["bench"]["unit"]) for r in records["nalu"])
    cells = collections.Counter(units.values())
    report = {"steps": [args.steps, 3 * args.steps], "repeats": args.repeats}
    projected = {}
    for name, _ in builds:
        hours, fixed, outside = projection(passes[name], units)
        wall_one = statistics.median(walls_one[name])
        # The same records either way: the cells' results do not depend on the thread count.
        same_two = results(records[name]) == results(two_records[name])
        projected[name] = hours
        report[name] = {"core_hours": hours, "total_core_hours": sum(hours.values()),
                        "fixed_seconds": fixed, "outside_training_seconds_per_run": outside,
                        "wall_one_thread": wall_one,
                        "wall_two_threads": walls_two[name],
                        "two_thread_throughput": wall_one / walls_two[name],
                        "same_results_on_two_threads": same_two}

    if args.baseline:
        print("| unit | cells | baseline core-hours | core-hours | baseline / this |")
        print("|---|---:|---:|---:|---:|")
        for unit, value in projected["nalu"].items():
            base = projected["baseline"][unit]
            print(f"| {unit} | {cells[unit]} | {base:.1f} | {value:.1f} | {base / value:.2f}x |")
        total, base_total = (sum(projected[n].values()) for n in ("nalu", "baseline"))
        print(f"| all | {len(units)} | {base_total:.1f} | {total:.1f} | "
              f"{base_total / total:.2f}x |")
        same = results(records["nalu"]) == results(records["baseline"])
        report["same_results_as_baseline"] = same
        print("records of the two builds: " + ("the same (every field but timing and version)"
                                               if same else "DIFFERENT"))
    else:
        print("| unit | cells | core-hours for 100 seeds x 5e6 steps |")
        print("|---|---:|---:|")
        for unit, value in projected["nalu"].items():
            print(f"| {unit} | {cells[unit]} | {value:.1f} |")
        print(f"| all | {len(units)} | {sum(projected['nalu'].values()):.1f} |")
    for name, _ in builds:
        r = report[name]
        print(f"{name}: fixed part per run {min(r['fixed_seconds'].values()):.2f}-"
              f"{max(r['fixed_seconds'].values()):.2f} s, and {r['outside_training_seconds_per_run']:.2f} s "
              f"outside training; {3 * args.steps} steps per cell: one "
              f"thread {r['wall_one_thread']:.1f} s wall (median), two threads "
              f"{r['wall_two_threads']:.1f} s; 2-thread throughput "
              f"{r['two_thread_throughput']:.2f}x")
    print(json.dumps(report))


if __name__ == "__main__":
    main()

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

By default a bench trains the runs of one range and seed (every cell of the table for one seed;
in older builds, the cells of one operation, a row) together, each batch's inputs drawn once for
all of them (`nalu bench`'s shared batches; the same records). Each pass therefore runs both
grids twice: with --no-shared-batches, for the per-unit figures and the 2-thread run, and as the
bench runs by default, where a pass's runs share one wall time and are projected as one item per
pass (per step and fixed parts of the pass, and each of its runs' time outside training). A
build without shared batches runs the first way only.

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
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


@functools.lru_cache(maxsize=None)
def shares_batches(nalu):
    """Whether this build trains the runs of one row together (and so has --no-shared-batches)."""
    help_text = subprocess.run([nalu, "bench", "--help"], check=True, capture_output=True,
                               text=True).stdout
    return "--no-shared-batches" in help_text


def run_preset(nalu, steps, jobs, output, alone=True):
    command = [nalu, "bench", "--preset", "nau-table1", "--seeds", "1", "--iterations",
               str(steps), "--jobs", str(jobs), "--quiet", "--output", output]
    if alone and shares_batches(nalu):
        command.append("--no-shared-batches")
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


def pass_key(records):
    """What names the shared pass a record ran in, read off the records themselves: its range
    when every record of that range counts all of them in timing.runs_in_pass (every operation
    in one pass), else its operation and range (older builds: a row of the table)."""
    ranges = collections.Counter(r["bench"]["range"] for r in records)
    whole = {rng for rng, n in ranges.items()
             if all(r["timing"]["runs_in_pass"] == n for r in records
                    if r["bench"]["range"] == rng and "timing" in r)}
    return lambda r: (("" if r["bench"]["range"] in whole else r["bench"]["operation"] + "/")
                      + r["bench"]["range"])


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


def item_walls(records, key):
    """Wall seconds of each work item: a run alone (key=cell), or a shared pass (key=row), whose
    runs each record the pass's wall time."""
    walls = {}
    for r in records:
        walls[key(r)] = max(walls.get(key(r), 0.0), r["timing"]["wall_seconds"])
    return walls


def one_pass(nalu, steps, directory, alone=True):
    """Per-step and fixed seconds of every work item (each cell alone, or each row's shared
    pass), the bench's own seconds per run outside training, and the longer run's records."""
    short, short_grid = run_preset(nalu, steps, 1, os.path.join(directory, "short.jsonl"), alone)
    long, wall = run_preset(nalu, 3 * steps, 1, os.path.join(directory, "long.jsonl"), alone)
    key = cell if alone else pass_key(long)
    short_wall = item_walls(short, key)
    per_step, fixed = {}, {}
    for k, long_wall in item_walls(long, key).items():
        per_step[k] = max(long_wall - short_wall[k], 0.0) / (2 * steps)
        fixed[k] = max(short_wall[k] - steps * per_step[k], 0.0)
    # What the bench does for each run besides training it (the success threshold's simulation,
    # the record): the grid's wall time less its items' and the process's start.
    outside = max(short_grid - sum(short_wall.values()) - process_start(nalu), 0.0) / len(short)
    return per_step, fixed, outside, long, wall


def projection(passes, groups):
    """Core-hours per group of work items ({item: group}: each cell's unit, or each row) from
    the median per-step and fixed seconds of each item and the median seconds per run outside
    training; `runs` gives each item's number of runs."""
    hours = collections.OrderedDict()
    fixed = {}
    outside = statistics.median(p[2] for p in passes)
    for item, (group, runs) in groups.items():
        step = statistics.median(p[0][item] for p in passes)
        fixed[item] = statistics.median(p[1][item] for p in passes)
        hours[group] = (hours.get(group, 0.0) +
                        100 * (fixed[item] + runs * outside + 5e6 * step) / 3600)
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

    sharing = {name: shares_batches(path) for name, path in builds}
    passes = {name: [] for name, _ in builds}
    shared_passes = {name: [] for name, _ in builds if sharing[name]}
    walls_one = {name: [] for name, _ in builds}
    records, shared_records = {}, {}
    with tempfile.TemporaryDirectory() as directory:
        for repeat in range(args.repeats):
            order = builds if repeat % 2 == 0 else builds[::-1]
            for name, path in order:
                print(f"pass {repeat + 1}/{args.repeats}: {name}", file=sys.stderr)
                per_step, fixed, outside, long, wall = one_pass(path, args.steps, directory)
                passes[name].append((per_step, fixed, outside))
                walls_one[name].append(wall)
                records[name] = long
                if sharing[name]:
                    per_step, fixed, outside, long, _ = one_pass(path, args.steps, directory,
                                                                 alone=False)
                    shared_passes[name].append((per_step, fixed, outside))
                    shared_records[name] = long
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

    units = collections.OrderedDict((cell(r), (r["bench"]["unit"], 1)) for r in records["nalu"])
    cells = collections.Counter(unit for unit, _ in units.values())
    # Each build's passes, from its shared records: {pass: runs}, {pass: (pass, runs)}.
    row_of = {name: pass_key(shared_records[name]) for name in shared_records}
    row_runs = {name: collections.Counter(map(row_of[name], shared_records[name]))
                for name in shared_records}
    rows = {name: collections.OrderedDict((k, (k, n)) for k, n in row_runs[name].items())
            for name in shared_records}
    report = {"steps": [args.steps, 3 * args.steps], "repeats": args.repeats}
    projected, projected_rows = {}, {}
    for name, _ in builds:
        if sharing[name]:
            hours, fixed, outside = projection(shared_passes[name], rows[name])
            projected_rows[name] = hours
            report[name + "_shared_batches"] = {
                "core_hours": hours, "total_core_hours": sum(hours.values()),
                "fixed_seconds": fixed, "outside_training_seconds_per_run": outside,
                "same_results_as_alone": results(shared_records[name]) == results(records[name])}
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
        if all(sharing.values()):
            # How the bench runs by default: the passes of each build (they may group differently).
            shared_total, base_shared_total = (report[n + "_shared_batches"]["total_core_hours"]
                                               for n in ("nalu", "baseline"))
            report["shared_batches_baseline_over_this"] = base_shared_total / shared_total
            print(f"with shared batches (the bench's default): baseline {base_shared_total:.1f}, "
                  f"this {shared_total:.1f} core-hours, {base_shared_total / shared_total:.2f}x")
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
        if not sharing[name]:
            continue
        shared = report[name + "_shared_batches"]
        print(f"{name}, runs of a pass trained together (shared batches):")
        print("| pass | runs | core-hours alone | core-hours together | alone / together |")
        print("|---|---:|---:|---:|---:|")
        # The same cells alone, summed by pass.
        pass_of_cell = {cell(x): row_of[name](x) for x in shared_records[name]}
        alone_hours, _, _ = projection(passes[name], {c: (pass_of_cell[c], 1) for c in units})
        for r, together in projected_rows[name].items():
            print(f"| {r} | {row_runs[name][r]} | {alone_hours[r]:.1f} | {together:.1f} | "
                  f"{alone_hours[r] / together:.2f}x |")
        total_alone, total_together = sum(alone_hours.values()), shared["total_core_hours"]
        print(f"| all | {len(units)} | {total_alone:.1f} | {total_together:.1f} | "
              f"{total_alone / total_together:.2f}x |")
        print("records together and alone: " + (
            "the same (every field but timing and version)" if shared["same_results_as_alone"]
            else "DIFFERENT"))
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

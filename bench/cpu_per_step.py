#!/usr/bin/env python3
"""CPU microseconds per training step of each nau-table1 unit on addition, for one build or two
side by side: the process CPU time (user + system) of `nalu bench --preset nau-table1 --seeds 1
--units U --ops add` at 300,000 steps less that at 100,000, over the 200,000 steps between. The
difference takes out everything a run does once (starting the process, the task, the success
threshold's simulation, the formula readout); the evaluations every 1,000 steps on 10,000 rows
stay in. CPU time is less inflated than wall time when other work shares the machine, but it
counts LibTorch's idle threads spinning after an evaluation too. Medians over --repeats passes,
the builds alternating (and which goes first). Ten minutes on 2 cores with a baseline:

  python3 bench/cpu_per_step.py --nalu build/nalu --baseline old/nalu --repeats 3

With --rows it measures instead each row of the table for one seed (every unit of an
operation: `--ops OP` without `--units`), trained alone (`--no-shared-batches`) and together
(the default: each batch drawn once for the row, the inputs' logs taken once for NAC-mul and
NALU), the two alternating, in CPU µs per step of the whole row (about 10 minutes for the four
rows with 3 repeats):

  python3 bench/cpu_per_step.py --nalu build/nalu --rows --repeats 3

With --rows and --baseline, the baseline build's rows together are measured in the same passes
as a third way (another third longer).

The last line of the output is one JSON object.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile

UNITS = ["nau", "nmu", "nac", "nac-mul", "nalu", "linear"]
OPERATIONS = ["add", "sub", "mul", "div"]
SHORT, LONG = 100_000, 300_000


def cpu_seconds(command, output):
    if os.path.exists(output):
        os.remove(output)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def per_step(command, output):
    """CPU µs per step of `command` + --iterations: between SHORT and LONG steps."""
    cpu = {steps: cpu_seconds(command + ["--iterations", str(steps)], output)
           for steps in (SHORT, LONG)}
    return (cpu[LONG] - cpu[SHORT]) / (LONG - SHORT) * 1e6


def rows(args):
    """Each row of nau-table1 (one seed) alone and together (and together with the baseline
    build), alternating."""
    modes = [("alone", args.nalu, ["--no-shared-batches"]), ("together", args.nalu, [])]
    if args.baseline:
        modes.append(("baseline together", args.baseline, []))
    samples = {mode: {op: [] for op in OPERATIONS} for mode, _, _ in modes}
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, "run.jsonl")
        for repeat in range(args.repeats):
            order = modes if repeat % 2 == 0 else modes[::-1]
            for op in OPERATIONS:
                for mode, path, flags in order:
                    samples[mode][op].append(per_step(
                        [path, "bench", "--preset", "nau-table1", "--seeds", "1", "--ops",
                         op, "--jobs", "1", "--quiet", "--output", output] + flags, output))
            print(f"pass {repeat + 1}/{args.repeats}: " + ", ".join(
                f"{op} " + " / ".join(f"{samples[mode][op][-1]:.1f}" for mode, _, _ in modes)
                for op in OPERATIONS), file=sys.stderr, flush=True)
    median = {mode: {op: statistics.median(v) for op, v in ops.items()}
              for mode, ops in samples.items()}
    median_all = {mode: sum(ops.values()) for mode, ops in median.items()}
    baseline = args.baseline is not None
    print("| row (one seed) | CPU µs/step alone | CPU µs/step together | alone / together |" +
          (" baseline together | baseline together / together |" if baseline else ""))
    print("|---|---:|---:|---:|" + ("---:|---:|" if baseline else ""))
    for op in OPERATIONS + ["all"]:
        values = median_all if op == "all" else {mode: median[mode][op] for mode in median}
        alone, together = values["alone"], values["together"]
        line = f"| {op} | {alone:.1f} | {together:.1f} | {alone / together:.2f}x |"
        if baseline:
            line += f" {values['baseline together']:.1f} |"
            line += f" {values['baseline together'] / together:.2f}x |"
        print(line)
    print(json.dumps({"steps": [SHORT, LONG], "repeats": args.repeats, "samples": samples,
                      "median": median}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nalu", default="build/nalu", help="the nalu binary")
    parser.add_argument("--baseline", help="another nalu binary, measured side by side")
    parser.add_argument("--rows", action="store_true",
                        help="each row alone and with shared batches, instead of each unit")
    parser.add_argument("--repeats", type=int, default=3, help="passes; medians are reported")
    args = parser.parse_args()
    if args.repeats <= 0:
        sys.exit("cpu_per_step: --repeats must be positive")
    builds = [("this", args.nalu)] + ([("baseline", args.baseline)] if args.baseline else [])
    for _, path in builds:
        if not os.access(path, os.X_OK):
            sys.exit(f"cpu_per_step: {path} is not an executable")
    if args.rows:
        return rows(args)
    samples = {name: {u: [] for u in UNITS} for name, _ in builds}
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, "run.jsonl")
        for repeat in range(args.repeats):
            order = builds if repeat % 2 == 0 else builds[::-1]
            for name, path in order:
                for unit in UNITS:
                    samples[name][unit].append(per_step(
                        [path, "bench", "--preset", "nau-table1", "--seeds", "1", "--units",
                         unit, "--ops", "add", "--jobs", "1", "--quiet", "--output", output],
                        output))
                print(f"pass {repeat + 1}/{args.repeats}: {name}: " +
                      ", ".join(f"{u} {samples[name][u][-1]:.2f}" for u in UNITS),
                      file=sys.stderr, flush=True)
    median = {name: {u: statistics.median(v) for u, v in units.items()}
              for name, units in samples.items()}
    if args.baseline:
        print("| unit | baseline CPU µs/step | CPU µs/step | baseline / this |")
        print("|---|---:|---:|---:|")
        for u in UNITS:
            base, this = median["baseline"][u], median["this"][u]
            print(f"| {u} | {base:.2f} | {this:.2f} | {base / this:.2f}x |")
    else:
        print("| unit | CPU µs/step |")
        print("|---|---:|")
        for u in UNITS:
            print(f"| {u} | {median['this'][u]:.2f} |")
    print(json.dumps({"steps": [SHORT, LONG], "repeats": args.repeats, "samples": samples,
                      "median": median}))


if __name__ == "__main__":
    main()

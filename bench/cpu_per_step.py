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
SHORT, LONG = 100_000, 300_000


def cpu_seconds(command, output):
    if os.path.exists(output):
        os.remove(output)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nalu", default="build/nalu", help="the nalu binary")
    parser.add_argument("--baseline", help="another nalu binary, measured side by side")
    parser.add_argument("--repeats", type=int, default=3, help="passes; medians are reported")
    args = parser.parse_args()
    if args.repeats <= 0:
        sys.exit("cpu_per_step: --repeats must be positive")
    builds = [("this", args.nalu)] + ([("baseline", args.baseline)] if args.baseline else [])
    for _, path in builds:
        if not os.access(path, os.X_OK):
            sys.exit(f"cpu_per_step: {path} is not an executable")
    samples = {name: {u: [] for u in UNITS} for name, _ in builds}
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, "run.jsonl")
        for repeat in range(args.repeats):
            order = builds if repeat % 2 == 0 else builds[::-1]
            for name, path in order:
                for unit in UNITS:
                    cpu = {}
                    for steps in (SHORT, LONG):
                        cpu[steps] = cpu_seconds(
                            [path, "bench", "--preset", "nau-table1", "--seeds", "1",
                             "--iterations", str(steps), "--units", unit, "--ops", "add",
                             "--jobs", "1", "--quiet", "--output", output], output)
                    samples[name][unit].append((cpu[LONG] - cpu[SHORT]) / (LONG - SHORT) * 1e6)
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

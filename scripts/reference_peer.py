#!/usr/bin/env python3
"""Run the reference code's static-function experiment as a peer and record its metrics.

Madsen & Johansen's code (the stable-nalu repository) trains with its own script,
experiments/simple_function_static.py. This wrapper runs that script unchanged, from a
checkout the user points at, with Debian's packages (`apt-get install python3-torch
python3-scipy`; run it with /usr/bin/python3 where another python3 comes first). The
script's other imports (tensorboardX, tensorflow, torchvision, tqdm, and pandas when it is
missing) serve logging, other experiments and reading results back; they get empty
stand-ins here. The logger's stand-in keeps the two metrics the reference's R scripts read
(the interpolation and extrapolation MSE, every 1,000 steps) in a JSON Lines file, one line
per evaluation, with the wall and process CPU seconds since the wrapper started.

    python3 scripts/reference_peer.py --stable-nalu ~/stable-nalu --output run.jsonl -- \
        --operation mul --layer-type NAC --nac-mul normal \
        --interpolation-range '[10,20]' --extrapolation-range '[20,40]' \
        --seed 0 --max-iterations 5000000

    python3 scripts/reference_peer.py --summarise run.jsonl --threshold 507

--summarise applies the reference's success rule (its R script's best.model.step.fn over
the last 5,000 evaluations, then extrapolation MSE < threshold) and prints one line per
file. A run that stops early keeps what it wrote; --resume is not offered, since the
reference script cannot continue a run.
"""

import argparse
import importlib.util
import json
import math
import os
import runpy
import sys
import time
import types


def install_stand_ins(output):
    """Empty modules for the imports the static-function run does not use, and a
    tensorboardX writer that keeps the metric scalars."""
    out = open(output, "a", buffering=1)
    start = time.monotonic()

    class Writer:
        def __init__(self, *args, **kwargs):
            pass

        def add_scalar(self, tag, value, step=None):
            tag = tag.lstrip("/")  # the reference's root namespace is empty: "/metric/..."
            if tag.startswith("metric/"):
                value = float(value)
                out.write(json.dumps({
                    "step": int(step),
                    "metric": tag[len("metric/"):],
                    "value": value if math.isfinite(value) else None,
                    "seconds": round(time.monotonic() - start, 3),
                    "cpu_seconds": round(time.process_time(), 3),
                }) + "\n")

        def add_histogram(self, *args, **kwargs):
            pass

        def add_text(self, *args, **kwargs):
            pass

        def close(self):
            if not out.closed:
                out.flush()

    tbx = types.ModuleType("tensorboardX")
    tbx.SummaryWriter = Writer
    sys.modules["tensorboardX"] = tbx
    for name in ("tensorflow", "torchvision", "torchvision.datasets", "torchvision.transforms"):
        sys.modules[name] = types.ModuleType(name)
    if importlib.util.find_spec("pandas") is None:  # only its result reader uses pandas
        sys.modules["pandas"] = types.ModuleType("pandas")
    tqdm = types.ModuleType("tqdm")
    tqdm.tqdm = lambda iterable=None, *a, **k: iterable
    sys.modules["tqdm"] = tqdm


def run(args, rest):
    script = os.path.join(args.stable_nalu, "experiments", "simple_function_static.py")
    if not os.path.isfile(script):
        sys.exit(f"reference_peer: {script} not found (--stable-nalu must be a stable-nalu checkout)")
    if os.path.exists(args.output) and os.path.getsize(args.output) > 0:
        sys.exit(f"reference_peer: {args.output} exists; refusing to overwrite a run's records")
    os.environ.setdefault("TENSORBOARD_DIR", args.scratch)
    install_stand_ins(args.output)
    sys.path.insert(0, args.stable_nalu)
    sys.argv = [script, "--no-cuda", "--remove-existing-data"] + rest
    import torch
    import stable_nalu
    torch.set_num_threads(1)
    # The script ends by pickling the whole model next to its logs; nothing here reads it.
    stable_nalu.writer.save_model = lambda *a, **k: None
    runpy.run_path(script, run_name="__main__")


def summarise(path, threshold, best_range=5000):
    rows, clock = {}, {}
    for line in open(path):
        r = json.loads(line)
        rows.setdefault(r["step"], {})[r["metric"]] = r["value"]
        clock[r["step"]] = (r.get("seconds"), r.get("cpu_seconds"))
    steps = sorted(s for s, m in rows.items() if "valid/interpolation" in m and "test/extrapolation" in m)
    if not steps:
        return f"{path}: no evaluations"
    inter = [rows[s]["valid/interpolation"] for s in steps]
    extra = [rows[s]["test/extrapolation"] for s in steps]
    # R's which.min skips NA; an all-NA tail gives the last row, as the R script does.
    tail = list(range(max(len(steps) - best_range, 0), len(steps)))
    finite = [i for i in tail if inter[i] is not None]
    best = min(finite, key=lambda i: inter[i]) if finite else len(steps) - 1
    solved = next((steps[i] for i in range(len(steps))
                   if extra[i] is not None and extra[i] < threshold), None)
    success = extra[best] is not None and extra[best] < threshold
    # Time per step between the first and the last evaluation (start-up excluded).
    pace = ""
    if len(steps) > 1:
        span = steps[-1] - steps[0]
        for label, k in (("wall", 0), ("CPU", 1)):
            a, b = clock[steps[0]][k], clock[steps[-1]][k]
            if a is not None and b is not None:
                pace += f", {label} {1e6 * (b - a) / span:.0f} us/step"
    return (f"{os.path.basename(path)}: steps {steps[-1]}{pace}, best step {steps[best]}, "
            f"interpolation {inter[best]:.4g}, extrapolation {extra[best] if extra[best] is None else format(extra[best], '.4g')}, "
            f"first below threshold {solved}, success {success}")


def main():
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        cut = argv.index("--")
        argv, rest = argv[:cut], argv[cut + 1:]
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--stable-nalu", help="a checkout of the reference code")
    p.add_argument("--output", help="JSON Lines file for the run's evaluations")
    p.add_argument("--scratch", default="/tmp/reference-peer-tensorboard",
                   help="where the reference script may write its model at the end")
    p.add_argument("--summarise", nargs="+", metavar="FILE", help="summarise finished runs")
    p.add_argument("--threshold", type=float, help="extrapolation MSE threshold for --summarise")
    args = p.parse_args(argv)
    if args.summarise:
        if args.threshold is None or not args.threshold > 0:
            sys.exit("reference_peer: --summarise needs a positive --threshold")
        for path in args.summarise:
            print(summarise(path, args.threshold))
        return
    if not args.stable_nalu or not args.output or not rest:
        sys.exit("reference_peer: give --stable-nalu, --output and the experiment's arguments after --")
    run(args, rest)


if __name__ == "__main__":
    main()

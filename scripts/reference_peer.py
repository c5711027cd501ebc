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

--replay BINARY runs the same script's set-up code (its data set, its start of the weights from
torch.manual_seed, everything above its training loop), exports what the loop starts from, and
hands it to BINARY, nalu's build/tools/nalu_reference_replay, which runs the loop without the
interpreter (the same LibTorch operations; NumPy's stream and layer 1's sums written out in
the order and roundings of NumPy and of the BLAS LibTorch calls here), giving the same floats
in a third of the CPU time, and writes the same records. It takes the same arguments after --; NAC layers only (--layer-type NAC, --nac-mul
normal or none, two subsets, Adam). With --seeds, several seeds train side by side in one
process, each exactly as alone, in about an eleventh of the reference's CPU time per run
(16 seeds; docs/performance.md):

    python3 scripts/reference_peer.py --stable-nalu ~/stable-nalu \
        --replay build/tools/nalu_reference_replay --seeds 20-27 --output run-s{seed}.jsonl -- \
        --operation mul --layer-type NAC --nac-mul normal \
        --interpolation-range '[10,20]' --extrapolation-range '[20,40]' --max-iterations 5000000

--compare RUN... REFERENCE checks a replay against the reference code's own records, value by
value: each RUN against the file of the same name in the directory REFERENCE (or against the
file REFERENCE).

--summarise applies the reference's success rule (its R script's best.model.step.fn over
the last 5,000 evaluations, then extrapolation MSE < threshold) and prints one line per
file. A run that stops early keeps what it wrote; --resume is not offered, since the
reference script cannot continue a run.
"""

import argparse
import contextlib
import importlib.util
import json
import math
import os
import runpy
import signal
import subprocess
import sys
import tempfile
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


def prepare(args, rest, metrics_output):
    """The reference script's path, with its imports' stand-ins installed (once; metrics go to
    metrics_output), its checkout importable and its arguments in sys.argv."""
    script = os.path.join(args.stable_nalu, "experiments", "simple_function_static.py")
    if not os.path.isfile(script):
        sys.exit(f"reference_peer: {script} not found (--stable-nalu must be a stable-nalu checkout)")
    os.environ.setdefault("TENSORBOARD_DIR", args.scratch)
    if "tensorboardX" not in sys.modules:
        install_stand_ins(metrics_output)
        sys.path.insert(0, args.stable_nalu)
    sys.argv = [script, "--no-cuda", "--remove-existing-data"] + rest
    import torch
    torch.set_num_threads(1)
    return script


def run(args, rest):
    if os.path.exists(args.output) and os.path.getsize(args.output) > 0:
        sys.exit(f"reference_peer: {args.output} exists; refusing to overwrite a run's records")
    script = prepare(args, rest, args.output)
    import stable_nalu
    # The script ends by pickling the whole model next to its logs; nothing here reads it.
    stable_nalu.writer.save_model = lambda *a, **k: None
    runpy.run_path(script, run_name="__main__")


def export_setup(args, rest, directory):
    """Run the reference script down to its training loop and write what the loop starts from
    (directory/setup.json, and the evaluation sets as raw float32 files)."""
    script = prepare(args, rest, os.devnull)
    source = open(script).read()
    cut = source.find("\n# Train model\n")
    if cut < 0:
        sys.exit(f"reference_peer: {script} has no '# Train model' line; --replay knows the script of "
                 "stable-nalu commit b3296ac")
    import stable_nalu
    # Each fork of the data set takes its own NumPy stream; keep each one's state as it starts.
    fork_class = stable_nalu.dataset._simple_function_abstact.SimpleFunctionDatasetFork
    starts = []
    original_init = fork_class.__init__

    def recording_init(self, parent, shape, sample_range, rng):
        starts.append((rng.get_state(), sample_range))
        original_init(self, parent, shape, sample_range, rng)

    fork_class.__init__ = recording_init
    namespace = {"__name__": "__reference_setup__"}
    with contextlib.redirect_stdout(sys.stderr):  # the script prints its configuration
        exec(compile(source[:cut], script, "exec"), namespace)
    fork_class.__init__ = original_init
    a = namespace["args"]
    unsupported = [
        (a.layer_type != "NAC", f"--layer-type {a.layer_type} (NAC is replayed)"),
        (a.first_layer is not None, "--first-layer"),
        (a.nac_mul not in ("normal", "none"), f"--nac-mul {a.nac_mul} (normal and none are replayed)"),
        (a.optimizer != "adam", f"--optimizer {a.optimizer} (adam is replayed)"),
        (a.num_subsets != 2, f"--num-subsets {a.num_subsets} (2 is replayed)"),
        (len(starts) != 3, f"{len(starts)} data set forks (the script makes 3)"),
    ]
    for bad, what in unsupported:
        if bad:
            sys.exit(f"reference_peer: --replay does not replay {what}")
    params = dict(namespace["model"].named_parameters())
    names = {"layer_1.W_hat": "layer_1.layer.W_hat", "layer_1.M_hat": "layer_1.layer.M_hat",
             "layer_2.W_hat": "layer_2.layer.W_hat", "layer_2.M_hat": "layer_2.layer.M_hat"}
    if sorted(params) != sorted(names.values()):
        sys.exit(f"reference_peer: --replay expects the parameters {sorted(names.values())}, "
                 f"the model has {sorted(params)}")

    def stream(start):
        state, sample_range = start
        if isinstance(sample_range[0], list):
            sys.exit(f"reference_peer: --replay draws from one interval, not {sample_range}")
        return {"range": [float(v) for v in sample_range], "mt_key": [int(k) for k in state[1]],
                "mt_pos": int(state[2])}

    setup = {
        "format": 1,
        "operation": a.operation,
        "nac_mul": a.nac_mul,
        "input_size": namespace["dataset"].get_input_size(),
        "subset_ranges": [list(r) for r in namespace["dataset"].subset_ranges],
        "batch_size": a.batch_size,
        "iterations": a.max_iterations,
        "learning_rate": a.learning_rate,
        "eps": namespace["model"].eps,
        "train": stream(starts[0]),
        "parameters": {key: {"shape": list(params[name].shape),
                             "values": [float(v) for v in params[name].detach().reshape(-1)]}
                       for key, name in names.items()},
    }
    for key, start, data in (("interpolation", starts[1], "dataset_valid_interpolation_data"),
                             ("extrapolation", starts[2], "dataset_test_extrapolation_data")):
        x, t = namespace[data]
        x.numpy().tofile(os.path.join(directory, f"{key}-x.f32"))
        t.numpy().tofile(os.path.join(directory, f"{key}-t.f32"))
        setup[key] = dict(stream(start), rows=int(x.shape[0]), x_file=f"{key}-x.f32", t_file=f"{key}-t.f32")
    path = os.path.join(directory, "setup.json")
    with open(path, "w") as f:
        json.dump(setup, f)
    return path


def parse_seeds(text):
    """'20-27' or '20,21,25' (or both, comma-separated) as a list of seeds."""
    seeds = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            sys.exit(f"reference_peer: --seeds takes seeds and ranges like 20-27,30, not {text!r}")
        seeds.extend(range(int(low), int(high or low) + 1))
    if not seeds or len(set(seeds)) != len(seeds):
        sys.exit(f"reference_peer: --seeds {text!r} names no seed or one seed twice")
    return seeds


def replay(args, rest):
    if args.seeds:
        if "--seed" in rest:
            sys.exit("reference_peer: give the seeds with --seeds, not --seed after --")
        if "{seed}" not in args.output:
            sys.exit("reference_peer: with --seeds, --output needs {seed} in it (run-s{seed}.jsonl)")
        seeds = parse_seeds(args.seeds)
        runs = [(rest + ["--seed", str(seed)], args.output.format(seed=seed)) for seed in seeds]
    else:
        runs = [(rest, args.output)]
    for _, output in runs:
        if os.path.exists(output) and os.path.getsize(output) > 0:
            sys.exit(f"reference_peer: {output} exists; refusing to overwrite a run's records")
    if not os.access(args.replay, os.X_OK):
        sys.exit(f"reference_peer: {args.replay} is not an executable (build nalu_reference_replay)")
    with tempfile.TemporaryDirectory(prefix="reference-replay-") as directory:
        setups = []
        for k, (script_args, _) in enumerate(runs):
            os.mkdir(os.path.join(directory, str(k)))
            setups.append(export_setup(args, script_args, os.path.join(directory, str(k))))
        command = [args.replay] + setups
        for _, output in runs:
            command += ["--output", output]
        child = subprocess.Popen(command)
        # A SIGTERM meant for this wrapper (kill, a batch system) stops the replay too; the
        # records it has written stay (it flushes them at every evaluation).
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        returncode = child.wait()
    sys.exit(returncode if returncode >= 0 else 128 - returncode)  # killed by signal N: 128 + N


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


def compare(path, reference):
    """How many metric values two runs' records share (same step and metric), and how many
    differ: a replay against the reference code's own records."""
    def load(p):
        values = {}
        for line in open(p):
            r = json.loads(line)
            values[(r["step"], r["metric"])] = r["value"]
        return values
    a, b = load(path), load(reference)
    shared = sorted(set(a) & set(b))
    differ = [k for k in shared if a[k] != b[k]]
    first = f" (first: step {differ[0][0]} {differ[0][1]}, {a[differ[0]]} against {b[differ[0]]})" if differ else ""
    last = shared[-1][0] if shared else None
    print(f"{os.path.basename(path)} against {os.path.basename(reference)}: {len(shared)} values "
          f"(steps up to {last}), {len(differ)} differ{first}")
    return not differ


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
    p.add_argument("--replay", metavar="BINARY",
                   help="run the training loop in nalu_reference_replay instead of the interpreter")
    p.add_argument("--seeds", help="with --replay: train these seeds side by side in one process "
                   "(20-27 or 20,21,...); --output then names each run's file with {seed}")
    p.add_argument("--summarise", nargs="+", metavar="FILE", help="summarise finished runs")
    p.add_argument("--threshold", type=float, help="extrapolation MSE threshold for --summarise")
    p.add_argument("--compare", nargs="+", metavar="FILE",
                   help="RUN... REFERENCE_DIR_OR_FILE: compare each run's values with the reference "
                   "run of the same file name (or with the one file); exit 1 if any differs")
    args = p.parse_args(argv)
    if args.compare:
        if len(args.compare) < 2:
            sys.exit("reference_peer: --compare takes one or more runs and then a reference file or directory")
        *runs, reference = args.compare
        same = True
        for run_path in runs:
            other = os.path.join(reference, os.path.basename(run_path)) if os.path.isdir(reference) else reference
            if not os.path.isfile(other):
                sys.exit(f"reference_peer: {other} not found")
            same = compare(run_path, other) and same
        sys.exit(0 if same else 1)
    if args.summarise:
        if args.threshold is None or not args.threshold > 0:
            sys.exit("reference_peer: --summarise needs a positive --threshold")
        for path in args.summarise:
            print(summarise(path, args.threshold))
        return
    if not args.stable_nalu or not args.output or not rest:
        sys.exit("reference_peer: give --stable-nalu, --output and the experiment's arguments after --")
    if args.replay:
        replay(args, rest)
    else:
        run(args, rest)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The success threshold of Madsen & Johansen's reference code for the static multiplication
task on one extrapolation range, computed the way its R script does (stable-nalu,
export/function_task_static_mse_expectation.r, read for its method): the mean squared error,
over uniform inputs, of a first layer whose weights are each off by epsilon = 1e-5 (1 - eps on
the subsets, eps elsewhere), multiplied exactly. The reference repository does not hold the CSV
the script writes, so this recomputes its value. Plain Python, no packages:

  python3 scripts/reference_threshold.py --range 20:40

R's inclusive ranges make the script's subsets 26 inputs long (a = x[1..26], b = x[14..39]),
one more than the task's 25; both are printed. nalu's own threshold
(nalu/metrics/success.h, epsilon_perfect_threshold) simulates the task's subsets.
"""

import argparse
import random


def threshold(low, high, samples, a_inputs, b_inputs, inputs=100, epsilon=1e-5, seed=1):
    rng = random.Random(seed)
    total = 0.0
    for _ in range(samples):
        x = [rng.uniform(low, high) for _ in range(inputs)]
        whole = sum(x)
        a = sum(x[i] for i in a_inputs)
        b = sum(x[i] for i in b_inputs)
        a_off = a * (1 - epsilon) + (whole - a) * epsilon
        b_off = b * (1 - epsilon) + (whole - b) * epsilon
        total += (a_off * b_off - a * b) ** 2
    return total / samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--range", default="20:40", help="extrapolation range LOW:HIGH")
    parser.add_argument("--samples", type=int, default=100000)
    args = parser.parse_args()
    try:
        low, high = (float(v) for v in args.range.split(":"))
    except ValueError:
        raise SystemExit(f"reference_threshold: --range takes LOW:HIGH, got '{args.range}'")
    if not low < high or args.samples <= 0:
        raise SystemExit("reference_threshold: needs LOW < HIGH and --samples > 0")
    for label, a, b in (("the R script's subsets (26 inputs, a = 1..26, b = 14..39)",
                         range(0, 26), range(13, 39)),
                        ("the task's subsets (25 inputs overlapping by 12)",
                         range(0, 25), range(13, 38))):
        value = threshold(low, high, args.samples, a, b)
        print(f"U[{low:g}, {high:g}], {label}: {value:.4g}")


if __name__ == "__main__":
    main()

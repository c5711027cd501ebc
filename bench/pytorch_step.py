#!/usr/bin/env python3
"""Microseconds per training step of the benchmark's models in plain PyTorch.

The models are written the way the reference code writes them (Madsen & Johansen's
stable-nalu, and Trask et al.'s NALU as stable-nalu implements it):

  NAU   y = x W^T, W clamped to [-1, 1] in forward and after each step,
        R = mean(min(|W|, 1 - |W|))
  NMU   y_j = prod_i (W_ji x_i + 1 - W_ji), W clamped to [0, 1] in forward and after each step,
        R = mean(min(W, 1 - W))
  NALU  W = tanh(W_hat) * sigmoid(M_hat), a = x W^T, m = exp(log(|x| + eps) W^T),
        g = sigmoid(x G^T), y = g a + (1 - g) m   (one W shared by a and m)

Each step draws a fresh batch with torch's generator (x ~ U[1, 2), a and b sums of two
overlapping subsets, t = op(a, b)), then MSE loss plus the scheduled regulariser, backward,
Adam (lr 1e-3) and the reference's clamping. One intra-op thread, to match one core. Reports
wall-clock and thread CPU time per step (median over --repeats).

Used by bench/engines.cpp (nalu_bench_engines); also runs alone:
  python3 bench/pytorch_step.py --case a --steps 2000 --repeats 3
The last line of the output is one JSON object.
"""

import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

# Madsen & Johansen's regulariser schedules, stretched to the run's length as the C++ engines
# stretch them (start and end scale by steps / 5e6).
REFERENCE_STEPS = 5_000_000
NAU_SCHEDULE = (0.01, 5_000, 50_000)
NMU_SCHEDULE = (10.0, 1_000_000, 2_000_000)


def schedule_at(schedule, step, steps):
    scale, start, end = schedule
    factor = steps / REFERENCE_STEPS
    start, end = int(start * factor), int(end * factor)
    if end <= start:
        return scale if step >= start else 0.0
    return scale * min(1.0, max(0.0, (step - start) / (end - start)))


class NAU(torch.nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.W = torch.nn.Parameter(torch.empty(out_features, in_features))
        std = math.sqrt(2.0 / (in_features + out_features))
        r = min(0.5, math.sqrt(3.0) * std)
        torch.nn.init.uniform_(self.W, -r, r)

    def forward(self, x):
        return F.linear(x, torch.clamp(self.W, -1.0, 1.0))

    def regularizer(self):
        return torch.mean(torch.min(torch.abs(self.W), 1 - torch.abs(self.W)))

    def optimize(self):
        self.W.data.clamp_(-1.0, 1.0)


class NMU(torch.nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.W = torch.nn.Parameter(torch.empty(out_features, in_features))
        r = min(0.25, math.sqrt(3.0) * math.sqrt(0.25))
        torch.nn.init.uniform_(self.W, 0.5 - r, 0.5 + r)

    def forward(self, x):
        W = torch.clamp(self.W, 0.0, 1.0)
        out_size, in_size = W.size()
        x = x.view(x.size(0), in_size, 1)
        W = W.t().view(1, in_size, out_size)
        return torch.prod(x * W + 1 - W, -2)

    def regularizer(self):
        return torch.mean(torch.min(self.W, 1 - self.W))

    def optimize(self):
        self.W.data.clamp_(0.0, 1.0)


class NALU(torch.nn.Module):
    def __init__(self, in_features, out_features, eps=1e-7):
        super().__init__()
        self.eps = eps
        self.W_hat = torch.nn.Parameter(torch.empty(out_features, in_features))
        self.M_hat = torch.nn.Parameter(torch.empty(out_features, in_features))
        self.G = torch.nn.Parameter(torch.empty(out_features, in_features))
        torch.nn.init.xavier_uniform_(self.W_hat)
        torch.nn.init.xavier_uniform_(self.M_hat)
        torch.nn.init.xavier_uniform_(self.G, gain=torch.nn.init.calculate_gain("sigmoid"))

    def forward(self, x):
        W = torch.tanh(self.W_hat) * torch.sigmoid(self.M_hat)
        g = torch.sigmoid(F.linear(x, self.G))
        a = F.linear(x, W)
        m = torch.exp(F.linear(torch.log(torch.abs(x) + self.eps), W))
        return g * a + (1 - g) * m

    def regularizer(self):
        return None

    def optimize(self):
        pass


# (input size, layer classes, batch size)
CASES = {
    "a": (100, (NAU, NMU), 128),
    "b": (10, (NALU, NALU), 64),
    "c": (100, (NALU, NALU), 128),
}
SCHEDULES = {NAU: NAU_SCHEDULE, NMU: NMU_SCHEDULE}
OPERATIONS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "square": lambda a, b: a * a,
    "sqrt": lambda a, b: torch.sqrt(a),
}


def subsets(input_size, subset_ratio=0.25, overlap_ratio=0.5):
    """a = x[a0:a1], b = x[b0:b1]: floor(ratio * size) elements each, overlapping by half."""
    size = int(subset_ratio * input_size)
    overlap = int(overlap_ratio * size)
    return 0, size, size - overlap, 2 * size - overlap


def time_case(case, op, steps, warmup, seed):
    input_size, units, batch = CASES[case]
    torch.manual_seed(seed)
    sizes = [input_size, 2, 1]
    layers = [unit(sizes[k], sizes[k + 1]) for k, unit in enumerate(units)]
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    a0, a1, b0, b1 = subsets(input_size)
    operation = OPERATIONS[op]

    def step(t, total):
        # The reference draws each batch with torch's generator.
        x = torch.empty(batch, input_size).uniform_(1.0, 2.0)
        a = x[:, a0:a1].sum(1, keepdim=True)
        b = x[:, b0:b1].sum(1, keepdim=True)
        target = operation(a, b)
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), target)
        for layer in layers:
            r = layer.regularizer()
            if r is not None:
                loss = loss + schedule_at(SCHEDULES[type(layer)], t, total) * r
        loss.backward()
        optimizer.step()
        for layer in layers:
            layer.optimize()

    for t in range(warmup):
        step(t, warmup)
    start, cpu_start = time.perf_counter(), time.thread_time()
    for t in range(steps):
        step(t, steps)
    elapsed, cpu = time.perf_counter() - start, time.thread_time() - cpu_start
    return elapsed * 1e6 / steps, cpu * 1e6 / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="a,b,c", help="comma-separated: a, b, c")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--op", default="mul", choices=sorted(OPERATIONS), help="case a's op")
    parser.add_argument("--nalu-op", default="add", choices=sorted(OPERATIONS),
                        help="cases b and c's op")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    cases = [c for c in args.case.split(",") if c]
    for c in cases:
        if c not in CASES:
            parser.error(f"unknown case '{c}' (expected a, b or c)")
    if args.steps < 1 or args.repeats < 1 or args.warmup < 0:
        parser.error("--steps and --repeats must be >= 1, --warmup >= 0")
    torch.set_num_threads(args.threads)

    result = {"torch_version": torch.__version__, "threads": torch.get_num_threads(),
              "steps": args.steps, "cases": {}}
    for c in cases:
        op = args.op if c == "a" else args.nalu_op
        runs = [time_case(c, op, args.steps, args.warmup, args.seed + r)
                for r in range(args.repeats)]
        result["cases"][c] = {
            "us_per_step": statistics.median(wall for wall, _ in runs),
            "cpu_us_per_step": statistics.median(cpu for _, cpu in runs),
            "runs": [wall for wall, _ in runs], "cpu_runs": [cpu for _, cpu in runs], "op": op}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

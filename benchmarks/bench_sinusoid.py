"""Sinusoid speed goals (issue: engine), measured against baselines in the same run.

1. Exact second-order MAML on the paper's setup (meta-batch 25, K=10, one inner
   step), one CPU thread: meta-iterations per second of each implementation
   divided by the naive loop's (``mamlviz.bench.time_naive``: the paper's MAML as a
   learner writes it, an nn.Module, a Python loop over pre-sampled tasks,
   autograd.grad(create_graph=True), torch.optim.Adam). Goal (issue 26): >= 60x for
   the compiled step (the earlier goal, 20x, was against the slower ``loop`` row).
2. Wall time until MAML's post-1-step query MSE on 100 held-out tasks < 0.5,
   tracing/compiling included. Goal: < 10 s. Measured (a) with the traced
   implementation and meta-lr 0.01, (b) with torch.compile and the paper's
   meta-lr 0.001, from a cold and from a warm compile cache (separate processes).

Usage: python benchmarks/bench_sinusoid.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

TARGET_SNIPPET = """
import json, torch
torch.set_num_threads(1)
from mamlviz.bench import time_to_target
r = time_to_target(meta_lr={meta_lr}, implementation={impl!r}, max_seconds=90)
r.pop("history")
print(json.dumps(r))
"""


def time_to_target_in_fresh_process(meta_lr: float, impl: str, cache_dir: str) -> dict:
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": cache_dir, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", TARGET_SNIPPET.format(meta_lr=meta_lr, impl=impl)],
                         env=env, capture_output=True, text=True, check=True, timeout=600)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from mamlviz.bench import sinusoid_rows

    rows = sinusoid_rows(quick=args.quick)
    naive = next(r for r in rows if r["implementation"] == "naive")
    print(f"naive per-task loop: {naive['it_s']:.1f} it/s (baseline, same run)")
    print(f"{'algorithm':9} {'implementation':14} {'it/s':>8} {'x naive':>8} {'warm-up s':>9}")
    for r in rows:
        print(f"{r['algorithm']:9} {r['implementation']:14} {r['it_s']:8.1f} "
              f"{r['speedup_vs_naive']:8.1f} {r['warmup_s']:9.2f}")

    targets = {}
    with tempfile.TemporaryDirectory() as cold:
        targets["traced, meta-lr 0.01"] = time_to_target_in_fresh_process(0.01, "traced", cold)
        targets["compiled, meta-lr 0.001, cold cache"] = time_to_target_in_fresh_process(
            0.001, "compiled", cold)
        targets["compiled, meta-lr 0.001, warm cache"] = time_to_target_in_fresh_process(
            0.001, "compiled", cold)
    print("\nMAML until the 1-step query MSE on 100 held-out tasks < 0.5 (wall time, "
          "tracing/compiling included):")
    for name, t in targets.items():
        print(f"  {name:38} {'reached' if t['reached'] else 'NOT reached':11} "
              f"{t['wall_s']:6.1f} s  {t['steps']:6d} steps  MSE {t['mse_1_step']:.3f} "
              f"+/- {t['ci95']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "time_to_target": targets}, f, indent=2)


if __name__ == "__main__":
    main()

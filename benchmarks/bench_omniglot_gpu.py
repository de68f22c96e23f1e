"""Omniglot on a GPU (issue: Omniglot): second-order MAML meta-iterations per second.

Goal: 5-way 1-shot MAML at meta-batch 32 at >= 400 meta-iterations/s on one
H100/H200 with exact second-order gradients. Every row times whole meta-steps of
the ``Trainer`` (sampling on the GPU, meta-gradient, Adam), in the same run for
each setting:

* ``loop``: the naive per-task loop (``mamlviz.reference``), the baseline;
* ``vmap``: torch.func, kernels launched one by one from Python;
* ``graphed``: the vmap step replayed from a CUDA graph;
* ``fused``: the step compiled by inductor (elementwise chains fused), then graphed.

The warm-up column is what a run waits for before its first step: tracing, compiling
(inductor caches its kernels on disk, so a second process compiles much faster) and
capturing. ``--compile-only`` only does those warm-ups, to fill that cache while the
GPU is busy with something else. ``--profile`` times the kernels of one 5-way step
(15 queries), unfused and fused, with ``torch.profiler``: how many there are and how long
the GPU is busy with them, the floor under any graph replay.

Usage (mamlviz installed, e.g. pip install -e .; needs CUDA):
    python benchmarks/bench_omniglot_gpu.py [--json FILE] [--ways 5 20] [--compile-only]
    python benchmarks/bench_omniglot_gpu.py --profile
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from mamlviz.algorithms.maml import ALGORITHM as MAML
from mamlviz.bench import time_meta_steps
from mamlviz.config import TrainConfig
from mamlviz.data import load_omniglot
from mamlviz.train import Trainer

# (ways, meta-batch, queries per class, timed steps of the in-place steps)
SETTINGS = [(5, 32, 1, 500), (5, 32, 15, 300), (20, 16, 15, 100), (20, 16, 1, 150)]
TIMED = {"loop": 3, "vmap": 20}


def _trainer(implementation: str, iterations: int, common: dict, device: torch.device
             ) -> Trainer:
    """Second-order MAML in one of SETTINGS (``common``), run for ``iterations`` steps."""
    config = TrainConfig.for_algorithm(MAML.name, implementation=implementation,
                                       iterations=iterations,
                                       **{k: v for k, v in common.items() if k != "omniglot"})
    trainer = Trainer(config, device=device, omniglot=common["omniglot"])
    list(trainer.run())  # prepares (compiles, captures) the step
    return trainer


def warm_up_only(common: dict, device: torch.device) -> float:
    started = time.perf_counter()
    trainer = _trainer("fused", 1, common, device)
    torch.cuda.synchronize(device)
    if trainer.notes:
        print("  notes:", trainer.notes, flush=True)
    return time.perf_counter() - started


def profile_kernels(common: dict, device: torch.device, calls: int = 10) -> None:
    """Kernels per step and GPU-busy time per step, for the unfused and the fused step."""
    from torch.profiler import ProfilerActivity, profile

    for implementation in ("graphed", "fused"):
        trainer = _trainer(implementation, 2, common, device)
        step = trainer._in_place
        if step is None:
            print(f"{implementation}: no in-place step ({trainer.notes})")
            continue
        run = step._next  # the step itself, launched kernel by kernel (no graph)
        inputs = step._inputs()
        run(*inputs)
        torch.cuda.synchronize(device)
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(calls):
                run(*inputs)
            torch.cuda.synchronize(device)
        kernels = [e for e in prof.events() if e.device_type.name == "CUDA"]
        busy_ms = sum(e.time_range.elapsed_us() for e in kernels) / 1000 / calls
        print(f"{implementation}: {len(kernels) / calls:.0f} kernels per step, GPU busy "
              f"{busy_ms:.2f} ms per step (at most {1000 / max(busy_ms, 1e-9):.0f} it/s)")
        table = prof.key_averages().table(sort_by="self_device_time_total", row_limit=12,
                                          max_name_column_width=70)
        print(table, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--ways", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--compile-only", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("needs a CUDA GPU")
    device = torch.device("cuda")
    data = load_omniglot(progress=False)
    if args.profile:
        profile_kernels({"omniglot": data, "problem": "omniglot", "n_way": 5, "k_shot": 1,
                         "n_query": 15, "meta_batch_size": 32}, device)
        return
    rows = []
    for n_way, meta_batch, n_query, steps in SETTINGS:
        if n_way not in args.ways:
            continue
        setting = f"{n_way}-way 1-shot, batch {meta_batch}, {n_query} queries"
        common = {"omniglot": data, "problem": "omniglot", "n_way": n_way, "k_shot": 1,
                  "n_query": n_query, "meta_batch_size": meta_batch}
        if args.compile_only:
            print(f"{setting:36} fused warm-up {warm_up_only(common, device):6.1f} s", flush=True)
            continue
        base = None
        for implementation in ("loop", "vmap", "graphed", "fused"):
            row = time_meta_steps(MAML.name, implementation, TIMED.get(implementation, steps),
                                  1 if implementation == "loop" else 2, device, **common)
            base = base or row["it_s"]
            row.update(setting=setting, n_query=n_query, requested=implementation,
                       speedup_vs_naive=row["it_s"] / base)
            rows.append(row)
            print(f"{setting:36} {implementation:8} -> {row['implementation']:8} "
                  f"{row['it_s']:8.1f} it/s  x{row['speedup_vs_naive']:6.1f} naive  "
                  f"warm-up {row['warmup_s']:6.1f} s  {row['peak_memory_mb']:6.0f} MB", flush=True)
            if args.json:  # after every row: a run cut short keeps what it measured
                with open(args.json, "w") as f:
                    json.dump({"device": rows[0]["device"], "torch": torch.__version__,
                               "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()

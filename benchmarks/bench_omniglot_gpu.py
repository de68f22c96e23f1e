"""Omniglot on a GPU (issue: Omniglot): second-order MAML meta-iterations per second.

Goal: 5-way 1-shot MAML at meta-batch 32 at >= 400 meta-iterations/s on one
H100/H200 with exact second-order gradients. Every row times whole meta-steps of
the ``Trainer`` (sampling on the GPU, meta-gradient, Adam) with the step replayed
from a CUDA graph, once with cuDNN's heuristic convolution algorithms and once
with autotuned ones, and prints the ratio against the plain vmap step measured
in the same run. ``mamlviz bench --problem omniglot`` adds the naive loop.

Usage (mamlviz installed, e.g. pip install -e .; needs CUDA):
    python benchmarks/bench_omniglot_gpu.py [--json FILE]
"""

from __future__ import annotations

import argparse
import json

import torch

from mamlviz.bench import time_meta_steps
from mamlviz.data import load_omniglot
from mamlviz.graphed import DeviceMetaStep

# (ways, meta-batch, queries per class, timed steps of the graph)
SETTINGS = [(5, 32, 15, 300), (5, 32, 1, 500), (20, 16, 15, 100), (20, 16, 1, 150)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("needs a CUDA GPU")
    device = torch.device("cuda")
    data = load_omniglot(progress=False)
    rows = []
    for n_way, meta_batch, n_query, steps in SETTINGS:
        common = {"omniglot": data, "problem": "omniglot", "n_way": n_way, "k_shot": 1,
                  "n_query": n_query, "meta_batch_size": meta_batch}
        base = time_meta_steps("maml", "vmap", 20, 2, device, **common)
        for autotune in (False, True):
            DeviceMetaStep.autotune = autotune
            row = time_meta_steps("maml", "graphed", steps, 2, device, **common)
            row.update(setting=f"{n_way}-way 1-shot, batch {meta_batch}, {n_query} queries",
                       autotune=autotune, vmap_it_s=base["it_s"],
                       speedup_vs_vmap=row["it_s"] / base["it_s"])
            rows.append(row)
            print(f"{row['setting']:36} autotune={autotune!s:5} {row['it_s']:8.1f} it/s "
                  f"(vmap {base['it_s']:.1f}, x{row['speedup_vs_vmap']:.1f}) "
                  f"{row['peak_memory_mb']:.0f} MB", flush=True)
    DeviceMetaStep.autotune = True
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": rows[0]["device"], "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()

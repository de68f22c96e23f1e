"""Writes README.md here (the model card) from the train/eval JSON files beside it.

Every number in the card is what `mamlviz train ... --json` and
`mamlviz eval ... --json` printed for the shipped files; rerun this after
re-training: python assets/checkpoints/model_card.py
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
ALGORITHMS = ("maml", "fomaml", "reptile", "pretrain")
# MAML paper (arXiv 1703.03400), Table 1, Omniglot 1-shot accuracy in percent.
PAPER = {("maml", 5): "98.7 ± 0.4", ("maml", 20): "95.8 ± 0.3",
         ("fomaml", 5): "98.3 ± 0.5", ("fomaml", 20): "89.4 ± 0.5"}


def _read(name: str) -> dict | None:
    path = HERE / name
    if not path.exists() or not path.read_text().strip():
        return None
    return json.loads(path.read_text())


def sinusoid_rows() -> list[str]:
    rows = ["| algorithm | meta-iterations | wall time (s) | query MSE, 0 steps | 1 step | "
            "10 steps |", "|---|---:|---:|---:|---:|---:|"]
    for algorithm in ALGORITHMS:
        train, result = _read(f"sinusoid_{algorithm}.train.json"), \
            _read(f"sinusoid_{algorithm}.eval.json")
        if not train or not result:
            continue
        m, c = result["mse_by_step"], result["ci95_by_step"]
        rows.append(f"| {algorithm} | {train['step']:,} | {train['elapsed_s']:.0f} | "
                    f"{m[0]:.3f} ± {c[0]:.3f} | {m[1]:.3f} ± {c[1]:.3f} | "
                    f"{m[10]:.3f} ± {c[10]:.3f} |")
    return rows


def omniglot_rows() -> list[str]:
    rows = ["| file | meta-iterations | wall time (s) | device | test steps | accuracy (600 "
            "tasks) | paper |", "|---|---:|---:|---|---:|---:|---:|"]
    for ways in (5, 20):
        for algorithm in ALGORITHMS:
            name = f"omniglot_{algorithm}_{ways}w1s"
            train, result = _read(f"{name}.train.json"), _read(f"{name}.eval.json")
            if not train or not result:
                continue
            rows.append(f"| `{name}.pt` | {train['step']:,} | {train['elapsed_s']:.0f} | "
                        f"{train['device']} | {result['steps']} | "
                        f"{100 * result['accuracy']:.1f} ± {100 * result['ci95']:.1f} % | "
                        f"{PAPER.get((algorithm, ways), '—')} |")
    return rows


def main() -> None:
    text = f"""# Shipped checkpoints (model card)

Written by `model_card.py` from the JSON that our own CLI printed while training
and evaluating these files. Each `.pt` holds phi, its settings and its training
metrics; it loads with `torch.load(weights_only=True)` (no pickled code).

## Sinusoid regression (MAML paper setup)

`bash assets/checkpoints/train_sinusoid.sh`: `mamlviz train sinusoid --algorithm A
--iterations 70000 --seed 0` (K = 10, meta-batch 25, inner rate 0.01, one inner step,
Adam 0.001; Reptile: five inner steps of 0.01 and SGD interpolation epsilon = 0.1)
on one CPU thread, then `mamlviz eval sinusoid --tasks 600 --steps 10` (held-out
tasks, K = 10, 100 query points each). Query MSE with 95% confidence intervals:

{chr(10).join(sinusoid_rows())}

## Omniglot 1-shot (trained on a 2-core CPU: far from the paper)

No GPU was available when these were trained, so they are what a shared 2-core CPU
reaches in a fixed wall time: `bash assets/checkpoints/train_omniglot_cpu.sh`, i.e.
`mamlviz train omniglot --algorithm A --ways N --shots 1 --max-seconds T` with the
paper's inner loops (5-way: one step of 0.4, three at test; 20-way: five steps of
0.1, five at test) but meta-batch 8 (5-way) or 4 (20-way) instead of 32/16, 5 or 3
query images per class, and a few hundred meta-iterations instead of 60,000.
Evaluated with `mamlviz eval omniglot --checkpoint FILE --tasks 600` on the testing
characters of the MAML protocol (423 characters x 4 rotations), accuracy with 95%
confidence interval, next to the MAML paper's Table 1:

{chr(10).join(omniglot_rows())}

The machine was shared with other jobs while these trained, so the iteration counts
are what a fraction of 2 cores reached. Pre-training learns nothing transferable
here (each task labels its classes anew), which is the lecture's point; our Reptile
settings (SGD inner loop, constant epsilon) were not tuned on Omniglot.

Paper-level models (MAML >= 98% at 5-way 1-shot, >= 95% at 20-way 1-shot) need the
full 60,000 iterations at the paper's meta-batch: minutes on one GPU, days here.
`assets/checkpoints/train_omniglot_gpu.sh` is ready for a machine with a GPU.
"""
    (HERE / "README.md").write_text(text)


if __name__ == "__main__":
    main()

"""Speed of the meta-step, measured against the naive per-task loop in the same run.

Every row times whole meta-steps of the ``Trainer`` (task sampling, meta-gradient,
outer update) after a warm-up that absorbs tracing or compiling; the warm-up time
is reported too, because a class waits for it. ``time_to_target`` measures what a
lecture cares about: wall time, compile included, until MAML's post-1-step query
MSE on 100 held-out tasks falls below a target.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from . import algorithms
from .algorithms.maml import ALGORITHM as MAML
from .config import TrainConfig
from .device import describe, pick_device
from .runs import evaluate_phi
from .train import Trainer

# The MAML paper's sinusoid setup: meta-batch 25, K = 10, one inner step.
PAPER_SETUP: dict[str, Any] = {"meta_batch_size": 25, "k_shot": 10, "n_query": 10,
                               "inner_steps": 1, "inner_lr": 0.01}


def _peak_memory_mb(device: torch.device) -> float:
    """Peak memory: the GPU allocator's peak on CUDA, else the process's peak RSS."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_meta_steps(algorithm: str, implementation: str, iterations: int, warmup: int,
                    device: torch.device, omniglot: Any = None,
                    **overrides: Any) -> dict[str, Any]:
    settings = {**(PAPER_SETUP if omniglot is None else {}), **overrides}
    config = TrainConfig.for_algorithm(algorithm, implementation=implementation,
                                       iterations=warmup + iterations, log_every=10**6,
                                       **settings)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    trainer = Trainer(config, device=device, omniglot=omniglot)

    def timed(steps: int) -> float:
        started = time.perf_counter()
        for _ in trainer.run(steps):
            pass
        if device.type == "cuda":  # kernels run asynchronously: wait before reading the clock
            torch.cuda.synchronize(device)
        return time.perf_counter() - started

    warmup_s = timed(warmup)
    seconds = timed(iterations)
    return {"problem": config.problem, "algorithm": algorithm,
            "implementation": trainer.implementation, "it_s": iterations / seconds,
            "warmup_s": warmup_s, "iterations": iterations, "device": describe(device),
            "meta_batch_size": config.meta_batch_size, "peak_memory_mb": _peak_memory_mb(device)}


def sinusoid_rows(quick: bool = False, device: str | None = None) -> list[dict[str, Any]]:
    dev = pick_device(device)
    n = 1 if quick else 4
    # The first registered algorithm (MAML) through every implementation, the naive loop
    # first (the speed-ups' base); the others through the fast two.
    first, *others = algorithms.names("sinusoid")
    plan = [(first, "loop", 30 * n, 3), (first, "vmap", 150 * n, 5),
            (first, "traced", 300 * n, 5), (first, "compiled", 600 * n, 5)]
    if not quick:
        plan += [(a, impl, 300 * n if impl == "traced" else 600 * n, 5)
                 for a in others for impl in ("traced", "compiled")]
    rows = [time_meta_steps(a, impl, iters, warm, dev) for a, impl, iters, warm in plan]
    naive = rows[0]["it_s"]
    for row in rows:
        row["speedup_vs_naive"] = row["it_s"] / naive
    return rows


def omniglot_rows(quick: bool = False, device: str | None = None,
                  omniglot: Any = None) -> list[dict[str, Any]]:
    """5-way 1-shot (meta-batch 32) and 20-way 1-shot (meta-batch 16), second and first order.

    Each setting is timed with the naive per-task loop and the vmapped step in the same
    run, and on CUDA with the step replayed from a CUDA graph, unfused and fused. The
    paper's code scores one query image per class; we train with 15
    (``OMNIGLOT_COMMON``), and on CUDA both are timed. On 2 CPU cores a meta-step
    takes seconds, so the CPU rows time few steps.
    """
    from .config import OMNIGLOT_COMMON
    from .data import load_omniglot

    dev = pick_device(device)
    data = load_omniglot(omniglot, progress=False)
    cuda = dev.type == "cuda"
    implementations = ["loop", "vmap"] + (["graphed", "fused"] if cuda else [])
    if cuda:  # the naive loop runs a few steps a second even on a GPU: time fewer of them
        in_place = 50 if quick else 300
        steps = {"loop": 3, "vmap": 20, "graphed": in_place, "fused": in_place}
    else:
        steps = dict.fromkeys(implementations, 1 if quick else 3)
    queries = [OMNIGLOT_COMMON["n_query"]] + ([1] if cuda else [])
    settings = [(5, 32), (20, 16)]
    # The algorithms that differentiate a query loss after plain inner steps (MAML and its
    # first-order form): where the naive loop and the vmapped step differ most.
    differentiating = [a.name for a in algorithms.all_algorithms("omniglot")
                       if a.adapts and a.outer_rule == "gradient"]
    rows = []
    for n_way, meta_batch in settings[:1] if quick else settings:
        for n_query in queries:
            for algorithm in differentiating:
                naive = None
                for implementation in implementations:
                    warmup = 1 if implementation == "loop" else 2  # 2: capture, then replay
                    row = time_meta_steps(algorithm, implementation, steps[implementation],
                                          warmup, dev, omniglot=data, problem="omniglot",
                                          n_way=n_way, k_shot=1, n_query=n_query,
                                          meta_batch_size=meta_batch)
                    row["setting"] = f"{n_way}-way 1-shot, {n_query} queries"
                    row["n_query"] = n_query
                    naive = naive or row["it_s"]
                    row["speedup_vs_naive"] = row["it_s"] / naive
                    rows.append(row)
    return rows


def time_to_target(target_mse: float = 0.5, meta_lr: float = 0.01, implementation: str = "traced",
                   max_seconds: float = 60.0, check_every: int = 250, device: str | None = None,
                   seed: int = 0) -> dict[str, Any]:
    """Train MAML on the paper setup until the 1-step query MSE on 100 held-out tasks < target."""
    dev = pick_device(device)
    config = TrainConfig.for_algorithm(MAML.name, meta_lr=meta_lr, implementation=implementation,
                                       iterations=10**6, log_every=check_every, seed=seed,
                                       **PAPER_SETUP)
    started = time.perf_counter()
    trainer = Trainer(config, device=dev)
    history = []
    reached = False
    for record in trainer.run():
        mse = evaluate_phi(config, trainer.phi, tasks=100, steps=1, device=str(dev))
        wall = time.perf_counter() - started
        history.append({"step": record.step, "wall_s": wall, "mse_1_step": mse["mse_by_step"][1],
                        "ci95": mse["ci95_by_step"][1]})
        if mse["mse_by_step"][1] < target_mse:
            reached = True
            break
        if wall > max_seconds or record.status == "diverged":
            break
    last = history[-1]
    return {"target_mse": target_mse, "reached": reached, "wall_s": last["wall_s"],
            "steps": last["step"], "mse_1_step": last["mse_1_step"], "ci95": last["ci95"],
            "meta_lr": meta_lr, "implementation": trainer.implementation,
            "device": describe(dev), "history": history}

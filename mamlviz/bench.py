"""Speed of the meta-step, measured against a plain naive loop in the same run.

The baseline (``naive`` row) is MAML as a learner first writes it from the paper:
an ``nn.Module`` MLP whose forward takes optional fast weights, a Python loop over
the tasks of a meta-batch, ``torch.autograd.grad(create_graph=True)`` for the inner
step, the summed query losses' ``backward()`` and ``torch.optim.Adam``. Its tasks
are sampled before the clock starts, so it is timed on the meta-step alone.

Every other row times whole meta-steps of the ``Trainer`` (task sampling included,
so the ratios err against us), after a warm-up that absorbs tracing or compiling;
the warm-up time is reported too, because a class waits for it. The ``loop`` row is
the ``Trainer`` driving ``mamlviz.reference``'s per-task loop (``functional_call``
and the records' bookkeeping): slower than the naive loop, so it is no baseline.
``time_to_target`` measures what a lecture cares about: wall time, compile
included, until MAML's post-1-step query MSE on 100 held-out tasks falls below a
target.
"""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import algorithms
from .algorithms.maml import ALGORITHM as MAML
from .config import TrainConfig
from .device import describe, pick_device
from .runs import evaluate_phi
from .train import Trainer

# The MAML paper's sinusoid setup: meta-batch 25, K = 10, one inner step.
PAPER_SETUP: dict[str, Any] = {"meta_batch_size": 25, "k_shot": 10, "n_query": 10,
                               "inner_steps": 1, "inner_lr": 0.01}


class NaiveMLP(nn.Module):
    """The paper's 1-40-40-1 ReLU regressor, its forward taking optional fast weights."""

    def __init__(self, hidden: int = 40):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(1, hidden), nn.Linear(hidden, hidden),
                                     nn.Linear(hidden, 1)])

    def forward(self, x: torch.Tensor, weights: list[torch.Tensor] | None = None
                ) -> torch.Tensor:
        if weights is None:
            weights = list(self.parameters())
        for i in range(0, len(weights), 2):
            x = F.linear(x, weights[i], weights[i + 1])
            if i + 2 < len(weights):
                x = F.relu(x)
        return x


def naive_maml_loss(model: NaiveMLP, support_x: torch.Tensor, support_y: torch.Tensor,
                    query_x: torch.Tensor, query_y: torch.Tensor, inner_lr: float,
                    inner_steps: int = 1) -> torch.Tensor:
    """MAML's meta-objective, task by task: mean_n l^n(theta_hat^n), differentiable in phi."""
    params: list[torch.Tensor] = list(model.parameters())
    total = torch.zeros((), dtype=params[0].dtype)
    for n in range(support_x.shape[0]):
        fast = params
        for _ in range(inner_steps):
            loss = F.mse_loss(model(support_x[n], fast), support_y[n])
            grads = torch.autograd.grad(loss, fast, create_graph=True)
            fast = [w - inner_lr * g for w, g in zip(fast, grads)]
        total = total + F.mse_loss(model(query_x[n], fast), query_y[n])
    return total / support_x.shape[0]


def time_naive(iterations: int, warmup: int, seed: int = 0) -> dict[str, Any]:
    """The plain per-task loop on the paper's setup, over meta-batches sampled beforehand."""
    from .tasks import SinusoidTasks

    torch.manual_seed(seed)
    model = NaiveMLP()
    meta_opt = torch.optim.Adam(model.parameters(), lr=0.001)
    generator = torch.Generator().manual_seed(seed)
    batches = [SinusoidTasks().sample(PAPER_SETUP["meta_batch_size"], PAPER_SETUP["k_shot"],
                                      PAPER_SETUP["n_query"], generator=generator).tensors()
               for _ in range(warmup + iterations)]

    def timed(chunk: list[Any]) -> float:
        started = time.perf_counter()
        for batch in chunk:
            meta_opt.zero_grad()
            support_x, support_y, query_x, query_y = batch
            naive_maml_loss(model, support_x, support_y, query_x, query_y,
                            PAPER_SETUP["inner_lr"]).backward()
            meta_opt.step()
        return time.perf_counter() - started

    warmup_s = timed(batches[:warmup])
    seconds = timed(batches[warmup:])
    return {"problem": "sinusoid", "algorithm": MAML.name, "implementation": "naive",
            "it_s": iterations / seconds, "warmup_s": warmup_s, "iterations": iterations,
            "device": describe(torch.device("cpu")),
            "meta_batch_size": PAPER_SETUP["meta_batch_size"],
            "peak_memory_mb": _peak_memory_mb(torch.device("cpu"))}


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
    """The naive loop (on the CPU, where a learner's first MAML runs) and ours, same run."""
    dev = pick_device(device)
    n = 1 if quick else 4
    # The first registered algorithm (MAML) through every implementation; the others
    # through the fast two.
    first, *others = algorithms.names("sinusoid")
    plan = [(first, "loop", 30 * n, 3), (first, "vmap", 150 * n, 5),
            (first, "traced", 300 * n, 5), (first, "compiled", 600 * n, 5)]
    if not quick:
        plan += [(a, impl, 300 * n if impl == "traced" else 600 * n, 5)
                 for a in others for impl in ("traced", "compiled")]
    rows = [time_naive(60 * n, 5)]
    rows += [time_meta_steps(a, impl, iters, warm, dev) for a, impl, iters, warm in plan]
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

"""What one meta-step of each algorithm costs as its inner loop grows.

MAML (Finn et al. 2017) differentiates through every inner step, so the graph it keeps
grows with the steps; first-order MAML drops that graph after each step; ANIL (Raghu et
al. 2019, arXiv 1909.09157) differentiates through the head's steps only; Prototypical
Networks (Snell et al. 2017, arXiv 1703.05175) have no inner loop at all; iMAML
(Rajeswaran et al. 2019, arXiv 1909.04630) gets its meta-gradient from the implicit
function theorem, so its memory does not grow with the steps.

Measured on Omniglot's Conv4 (every registered Omniglot algorithm, the same episodes,
plain gradient inner steps), the registry's batched step (``torch.func``) itself:
*time* is the median of a few repeats; *memory* is the peak of the bytes its operators
hold at once beyond what was held before (allocations minus frees, in the order
``torch.profiler`` records them), activations and the graph kept for the backward pass
included. The images are random: what a step costs does not depend on what they show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile

from . import algorithms
from .algorithms import InnerLoop
from .errors import ConfigError
from .first_order import _median_seconds
from .inner import Params, cross_entropy
from .models import Conv4
from .models.mlp import init_params

MAX_STEPS = 10  # a second-order step through more is slow on a CPU for a page to wait on


@dataclass(frozen=True)
class CostTable:
    """Per algorithm (registry order), one value per entry of ``inner_steps``."""

    inner_steps: tuple[int, ...]
    seconds: dict[str, list[float]]  # batched meta-step, median of ``repeats``
    peak_bytes: dict[str, list[int]]  # most bytes the step held at once
    n_tasks: int
    n_way: int
    repeats: int


def _episodes(n_tasks: int, n_way: int, n_query: int, seed: int
              ) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    support_x = torch.rand(n_tasks, n_way, 28, 28, generator=g)
    query_x = torch.rand(n_tasks, n_way * n_query, 28, 28, generator=g)
    support_y = torch.arange(n_way).repeat(n_tasks, 1)
    query_y = torch.arange(n_way).repeat(n_tasks, n_query)
    return support_x, support_y, query_x, query_y


def meta_step_costs(inner_steps: Sequence[int] = (1, 2, 4), n_tasks: int = 2, n_way: int = 5,
                    n_query: int = 2, repeats: int = 3, seed: int = 0,
                    names: Sequence[str] | None = None) -> CostTable:
    """Time and memory of one meta-step of each of ``names`` (default: every registered
    Omniglot algorithm) after each number of ``inner_steps``, on ``n_tasks`` 5-way 1-shot
    episodes of Conv4."""
    steps = tuple(inner_steps)
    if not steps or any(isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= MAX_STEPS
                        for s in steps):
        raise ConfigError("inner_steps", f"must be whole numbers from 1 to {MAX_STEPS}, "
                          f"got {list(steps)}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError("repeats", f"must be at least 1, got {repeats!r}")
    chosen = tuple(algorithms.names("omniglot") if names is None else names)
    for name in chosen:
        if "omniglot" not in algorithms.get(name).problems:
            raise ConfigError("algorithm", f"{name} does not run on Omniglot's Conv4")
    model = Conv4(n_way)
    phi = init_params(model, seed)
    batch = _episodes(n_tasks, n_way, n_query, seed)
    seconds: dict[str, list[float]] = {n: [] for n in chosen}
    peak: dict[str, list[int]] = {n: [] for n in chosen}
    for k in steps:
        loop = InnerLoop(model, cross_entropy, 0.4, k)
        for name in chosen:
            step = algorithms.make_step(name, loop)
            seconds[name].append(_median_seconds(partial(step, phi, *batch), repeats))
            peak[name].append(peak_bytes(step, phi, batch))
    return CostTable(steps, seconds, peak, n_tasks, n_way, repeats)


def peak_bytes(step: Callable[..., Any], phi: Params, batch: tuple[torch.Tensor, ...]) -> int:
    """The most bytes one call of ``step`` holds at once beyond what it started with."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step(phi, *batch)
    held = most = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        held += event.self_cpu_memory_usage
        most = max(most, held)
    return int(most)

"""Step 3 of meta-learning: judge F on *testing* tasks.

Each held-out task adapts phi on its own support set (with the inner loop's
rule of meta-training: plain gradient steps, or Reptile's Adam steps) and is
scored on its query set after 0, 1, ..., S steps. A metric-based algorithm
(Prototypical Networks) has no steps: it is scored once, from its support set.
The mean over tasks comes with a 95% confidence interval (1.96 standard errors),
as in the MAML paper's figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.func import vmap

from .algorithms import InnerLoop
from .algorithms.anil import head_adaptation
from .inner import LossFn, Params, adaptation, task_loss
from .tasks import TaskBatch


def _task_curve(model: nn.Module, loss_fn: LossFn, metric_fn: LossFn, inner_lr: float,
                steps: int, optimizer: str, batch_size: int | None, head_only: bool,
                phi: Params,
                moments: Params | None, support_x: torch.Tensor, support_y: torch.Tensor,
                query_x: torch.Tensor, query_y: torch.Tensor) -> torch.Tensor:
    scores = [task_loss(model, metric_fn, phi, query_x, query_y)]
    if head_only:  # ANIL: the head alone adapts, at test time as in training
        loop = InnerLoop(model, loss_fn, inner_lr, steps, optimizer, batch_size)
        thetas = head_adaptation(loop, phi, support_x, support_y, first_order=True)
    else:
        thetas = adaptation(model, loss_fn, phi, support_x, support_y, inner_lr, steps,
                            first_order=True, optimizer=optimizer, batch_size=batch_size,
                            moments=moments)
    for theta in thetas:
        scores.append(task_loss(model, metric_fn, theta, query_x, query_y))
    return torch.stack(scores)


def adaptation_curves(model: nn.Module, loss_fn: LossFn, phi: Params, batch: TaskBatch,
                      inner_lr: float, steps: int, metric_fn: LossFn | None = None,
                      chunk: int = 100, optimizer: str = "sgd",
                      batch_size: int | None = None,
                      moments: Params | None = None, head_only: bool = False) -> torch.Tensor:
    """Query metric (default: the loss) of every task after 0..steps adaptation steps.

    Shape [tasks, steps + 1]. Tasks are adapted ``chunk`` at a time to bound memory.
    ``optimizer``, ``batch_size`` and ``moments`` give the inner loop's rule
    (``mamlviz.inner``); every task starts from the same ``moments``. ``head_only``: the
    head alone adapts (ANIL's inner loop, ``mamlviz.algorithms.anil``).
    """
    curve = partial(_task_curve, model, loss_fn, metric_fn or loss_fn, inner_lr, steps,
                    optimizer, batch_size, head_only)
    mapped = vmap(curve, in_dims=(None, None, 0, 0, 0, 0))
    with torch.no_grad():
        return torch.cat([mapped(phi, moments, *(t[i:i + chunk] for t in batch.tensors()))
                          for i in range(0, batch.n_tasks, chunk)])


def classification_curves(classify: Callable[..., torch.Tensor], model: nn.Module,
                          metric_fn: LossFn, phi: Params, batch: TaskBatch, chunk: int = 100
                          ) -> torch.Tensor:
    """Query metric of every task for a classifier without an inner loop (a metric-based
    algorithm's ``classify``): one score per task, shape [tasks, 1], "after 0 steps"."""

    def one(phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
            query_x: torch.Tensor, query_y: torch.Tensor) -> torch.Tensor:
        return metric_fn(classify(model, phi, support_x, support_y, query_x), query_y)[None]

    mapped = vmap(one, in_dims=(None, 0, 0, 0, 0))
    with torch.no_grad():
        return torch.cat([mapped(phi, *(t[i:i + chunk] for t in batch.tensors()))
                          for i in range(0, batch.n_tasks, chunk)])


def mean_ci95(values: torch.Tensor) -> tuple[list[float], list[float]]:
    """Mean over the first dimension and the half-width of its 95% confidence interval."""
    values = values.double()
    n = values.shape[0]
    mean = values.mean(0)
    if n < 2:
        return mean.tolist(), [math.nan] * mean.numel()
    half_width = 1.96 * values.std(0, unbiased=True) / math.sqrt(n)
    return mean.tolist(), half_width.tolist()


def summarise(curves: torch.Tensor) -> dict[str, Any]:
    """Mean and 95% CI of a [tasks, steps + 1] curve, step by step."""
    by_step, ci95_by_step = mean_ci95(curves)
    return {"by_step": by_step, "ci95_by_step": ci95_by_step, "tasks": int(curves.shape[0])}

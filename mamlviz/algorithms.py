"""One meta-step of MAML, first-order MAML, Reptile and pre-training.

Each algorithm turns a meta-batch into an update *direction* for ``phi`` (a
pseudo-gradient that the outer optimiser follows) plus the query losses of
every task before and after adaptation, which the training records report.

* ``maml`` (Finn et al. 2017, arXiv 1703.03400): minimise
  L(phi) = sum_n l^n(theta_hat^n(phi)), differentiating *through* the inner
  steps (exact second order).
* ``fomaml`` (same paper, section 5.2): the same objective with the inner
  gradients held constant, so grad_phi l(theta_hat) becomes
  grad_theta_hat l(theta_hat).
* ``reptile`` (Nichol et al. 2018, arXiv 1803.02999): take ``inner_steps``
  steps on the task to theta_tilde and move phi toward it; the direction is
  phi - mean_n theta_tilde^n, so an SGD step of size epsilon interpolates
  phi <- phi + epsilon (mean theta_tilde - phi). With Adam inner steps whose
  moments are kept (``InnerLoop.keep_moments``, as the paper's code keeps one Adam
  for the whole run), the step also returns Adam's moments after the meta-batch.
* ``pretrain``: minimise sum_n l^n(phi) over all of a task's data jointly:
  how good phi is now, not after training (the lecture's contrast).

All four are per-task functions mapped over the meta-batch with ``vmap``;
``mamlviz.reference`` holds the plain per-task loop they are tested against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import nn
from torch.func import grad, vmap

from .errors import ConfigError
from .inner import ADAM_BETA2, LossFn, Params, adapt, adapt_keeping_moments, check_inner, task_loss

ALGORITHMS = ("maml", "fomaml", "reptile", "pretrain")

# (direction, query loss before adaptation [tasks], query loss after [tasks])
StepOutput = tuple[Params, torch.Tensor, torch.Tensor]
StepFn = Callable[[Params, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], StepOutput]


@dataclass(frozen=True)
class InnerLoop:
    """What every algorithm needs to adapt: the model, its loss, and the inner loop's settings."""

    model: nn.Module
    loss_fn: LossFn
    inner_lr: float
    inner_steps: int
    optimizer: str = "sgd"  # or "adam": Reptile's inner Adam (mamlviz.inner)
    batch_size: int | None = None  # support examples per inner step; None: all of them
    keep_moments: bool = False  # Adam's moments go on from task to task (Reptile's code)

    def __post_init__(self) -> None:
        check_inner(self.inner_lr, self.inner_steps)

    def adapt(self, phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
              first_order: bool) -> Params:
        return adapt(self.model, self.loss_fn, phi, support_x, support_y, self.inner_lr,
                     self.inner_steps, first_order, self.optimizer, self.batch_size)

    def adapt_keeping_moments(self, phi: Params, support_x: torch.Tensor,
                              support_y: torch.Tensor, moments: Params
                              ) -> tuple[Params, Params]:
        return adapt_keeping_moments(self.model, self.loss_fn, phi, support_x, support_y,
                                     self.inner_lr, self.inner_steps, True, self.optimizer,
                                     self.batch_size, moments)


def merge_moments(moments: Params, per_task: Params, steps: int) -> Params:
    """Adam's moments after a meta-batch whose tasks each took ``steps`` steps from ``moments``.

    The paper's code runs the tasks one after another through one Adam, so each task's
    squared gradients decay under the later ones. Here the tasks run side by side, each
    from the same moments; their own averages c^n = (v^n - beta2^s v) / (1 - beta2^s)
    are merged with the weight they would have had in turn, in no particular order:
    v <- beta2^(N s) v + (1 - beta2^(N s)) mean_n c^n, and t <- t + N s.
    """
    n_tasks = per_task["t"].shape[0]
    one_task, all_tasks = ADAM_BETA2**steps, ADAM_BETA2 ** (n_tasks * steps)
    merged = {"t": moments["t"] + n_tasks * steps}
    for k, v in moments.items():
        if k != "t":
            own = (per_task[k] - one_task * v) / (1 - one_task)
            merged[k] = all_tasks * v + (1 - all_tasks) * own.mean(0)
    return merged


def _query_losses(loop: InnerLoop, phi: Params, theta: Params, query_x: torch.Tensor,
                  query_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    before = task_loss(loop.model, loop.loss_fn, phi, query_x, query_y)
    after = task_loss(loop.model, loop.loss_fn, theta, query_x, query_y)
    return before, after


def _maml_task(loop: InnerLoop, first_order: bool, phi: Params, support_x: torch.Tensor,
               support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
               ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    theta_hat = loop.adapt(phi, support_x, support_y, first_order)
    before, after = _query_losses(loop, phi, theta_hat, query_x, query_y)
    return after, (before.detach(), after.detach())


def _maml_objective(loop: InnerLoop, first_order: bool, phi: Params, *batch: torch.Tensor
                    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """L(phi): the mean over tasks of l^n(theta_hat^n), and the per-task losses as aux."""
    per_task = vmap(partial(_maml_task, loop, first_order), in_dims=(None, 0, 0, 0, 0))
    after, aux = per_task(phi, *batch)
    return after.mean(), aux


def maml_step(loop: InnerLoop, first_order: bool = False) -> StepFn:
    meta_grad = grad(partial(_maml_objective, loop, first_order), has_aux=True)

    def step(phi: Params, *batch: torch.Tensor) -> StepOutput:
        direction, (before, after) = meta_grad(phi, *batch)
        return direction, before, after

    return step


def _reptile_task(loop: InnerLoop, phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
                  query_x: torch.Tensor, query_y: torch.Tensor
                  ) -> tuple[Params, torch.Tensor, torch.Tensor]:
    theta_tilde = loop.adapt(phi, support_x, support_y, first_order=True)
    before, after = _query_losses(loop, phi, theta_tilde, query_x, query_y)
    return {k: phi[k] - theta_tilde[k] for k in phi}, before, after


def _reptile_task_keeping_moments(loop: InnerLoop, phi: Params, moments: Params,
                                  support_x: torch.Tensor, support_y: torch.Tensor,
                                  query_x: torch.Tensor, query_y: torch.Tensor
                                  ) -> tuple[Params, torch.Tensor, torch.Tensor, Params]:
    theta_tilde, moments = loop.adapt_keeping_moments(phi, support_x, support_y, moments)
    before, after = _query_losses(loop, phi, theta_tilde, query_x, query_y)
    return {k: phi[k] - theta_tilde[k] for k in phi}, before, after, moments


def reptile_step(loop: InnerLoop) -> StepFn:
    per_task = vmap(partial(_reptile_task, loop), in_dims=(None, 0, 0, 0, 0))
    keeping = vmap(partial(_reptile_task_keeping_moments, loop),
                   in_dims=(None, None, 0, 0, 0, 0))

    def step(phi: Params, *batch: torch.Tensor, moments: Params | None = None) -> Any:
        if moments is None:
            differences, before, after = per_task(phi, *batch)
            return {k: d.mean(0) for k, d in differences.items()}, before, after
        differences, before, after, per_task_moments = keeping(phi, moments, *batch)
        return ({k: d.mean(0) for k, d in differences.items()}, before, after,
                merge_moments(moments, per_task_moments, loop.inner_steps))

    return step


def _pretrain_objective(loop: InnerLoop, phi: Params, support_x: torch.Tensor,
                        support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
                        ) -> torch.Tensor:
    """sum_n l^n(phi) on all of each task's points: no adaptation inside the objective."""

    def joint(sx: torch.Tensor, sy: torch.Tensor, qx: torch.Tensor, qy: torch.Tensor
              ) -> torch.Tensor:
        x, y = torch.cat([sx, qx]), torch.cat([sy, qy])
        return task_loss(loop.model, loop.loss_fn, phi, x, y)

    return vmap(joint)(support_x, support_y, query_x, query_y).mean()


def _finetuned_query_losses(loop: InnerLoop, phi: Params, support_x: torch.Tensor,
                            support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    theta = loop.adapt(phi, support_x, support_y, first_order=True)
    return _query_losses(loop, phi, theta, query_x, query_y)


def pretrain_step(loop: InnerLoop) -> StepFn:
    objective_grad = grad(partial(_pretrain_objective, loop))
    # Fine-tuning is only measured (for the records), never differentiated.
    finetuned = vmap(partial(_finetuned_query_losses, loop), in_dims=(None, 0, 0, 0, 0))

    def step(phi: Params, *batch: torch.Tensor) -> StepOutput:
        before, after = finetuned(phi, *batch)
        return objective_grad(phi, *batch), before.detach(), after.detach()

    return step


def make_step(algorithm: str, loop: InnerLoop) -> StepFn:
    """The batched (vmap) meta-step of ``algorithm``."""
    check_inner(loop.inner_lr, loop.inner_steps)
    if algorithm == "maml":
        return maml_step(loop, first_order=False)
    if algorithm == "fomaml":
        return maml_step(loop, first_order=True)
    if algorithm == "reptile":
        return reptile_step(loop)
    if algorithm == "pretrain":
        return pretrain_step(loop)
    raise ConfigError("algorithm", f"unknown algorithm {algorithm!r}; choose one of {ALGORITHMS}")

"""MAML (Finn, Abbeel & Levine 2017, arXiv 1703.03400): learn phi for after adaptation.

Minimise L(phi) = sum_n l^n(theta_hat^n(phi)), differentiating *through* the inner
steps (exact second order). First-order MAML (``mamlviz.algorithms.fomaml``) is the
same objective with the inner gradients held constant.
"""

from __future__ import annotations

from functools import partial

import torch
from torch.func import grad, vmap

from ..inner import Params
from .base import Algorithm, InnerLoop, StepFn, StepOutput, query_losses


def _task(loop: InnerLoop, first_order: bool, phi: Params, support_x: torch.Tensor,
          support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
          ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    theta_hat = loop.adapt(phi, support_x, support_y, first_order)
    before, after = query_losses(loop, phi, theta_hat, query_x, query_y)
    return after, (before.detach(), after.detach())


def _objective(loop: InnerLoop, first_order: bool, phi: Params, *batch: torch.Tensor
               ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """L(phi): the mean over tasks of l^n(theta_hat^n), and the per-task losses as aux."""
    per_task = vmap(partial(_task, loop, first_order), in_dims=(None, 0, 0, 0, 0))
    after, aux = per_task(phi, *batch)
    return after.mean(), aux


def objective(loop: InnerLoop, phi: Params, *batch: torch.Tensor) -> torch.Tensor:
    """The mean over tasks of l^n(theta_hat^n(phi)): how good phi is after adaptation."""
    return _objective(loop, False, phi, *batch)[0]


def maml_step(loop: InnerLoop, first_order: bool = False) -> StepFn:
    meta_grad = grad(partial(_objective, loop, first_order), has_aux=True)

    def step(phi: Params, *batch: torch.Tensor) -> StepOutput:
        direction, (before, after) = meta_grad(phi, *batch)
        return direction, before, after

    return step


def naive_task(loss, phi: Params, theta: Params, support_x: torch.Tensor,  # type: ignore[no-untyped-def]
               support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
               ) -> torch.Tensor:
    """The query loss after adaptation, to be differentiated with respect to phi."""
    return loss(theta, query_x, query_y)


ALGORITHM = Algorithm(
    name="maml",
    label="MAML",
    colour="#ff7f0e",
    family="gradient-based",
    make_step=maml_step,
    naive_task=naive_task,
    objective=objective,
    second_order=True,
    paper={(5, 1): "98.7 ± 0.4", (5, 5): "99.9", (20, 1): "95.8 ± 0.3", (20, 5): "98.9"},
    paper_source="MAML paper (Finn et al. 2017), Table 1",
)

"""Pre-training: minimise sum_n l^n(phi) over all of a task's data jointly.

How good phi is now, not after training: the lecture's contrast to MAML (Finn et
al. 2017, arXiv 1703.03400, figure 1's "model pre-training"). Fine-tuning from phi
is only measured, for the records.
"""

from __future__ import annotations

from functools import partial

import torch
from torch.func import grad, vmap

from ..inner import Params, task_loss
from .base import Algorithm, InnerLoop, StepFn, StepOutput, query_losses


def objective(loop: InnerLoop, phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
              query_x: torch.Tensor, query_y: torch.Tensor) -> torch.Tensor:
    """The mean over tasks of l^n(phi) on all of each task's points: no adaptation."""

    def joint(sx: torch.Tensor, sy: torch.Tensor, qx: torch.Tensor, qy: torch.Tensor
              ) -> torch.Tensor:
        x, y = torch.cat([sx, qx]), torch.cat([sy, qy])
        return task_loss(loop.model, loop.loss_fn, phi, x, y)

    return vmap(joint)(support_x, support_y, query_x, query_y).mean()


def _finetuned_query_losses(loop: InnerLoop, phi: Params, support_x: torch.Tensor,
                            support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    theta = loop.adapt(phi, support_x, support_y, first_order=True)
    return query_losses(loop, phi, theta, query_x, query_y)


def pretrain_step(loop: InnerLoop) -> StepFn:
    objective_grad = grad(partial(objective, loop))
    # Fine-tuning is only measured (for the records), never differentiated.
    finetuned = vmap(partial(_finetuned_query_losses, loop), in_dims=(None, 0, 0, 0, 0))

    def step(phi: Params, *batch: torch.Tensor) -> StepOutput:
        before, after = finetuned(phi, *batch)
        return objective_grad(phi, *batch), before.detach(), after.detach()

    return step


def naive_task(loss, phi: Params, theta: Params, support_x: torch.Tensor,  # type: ignore[no-untyped-def]
               support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
               ) -> torch.Tensor:
    """The loss at phi itself on the support and query points together."""
    return loss(phi, torch.cat([support_x, query_x]), torch.cat([support_y, query_y]))


ALGORITHM = Algorithm(
    name="pretrain",
    label="pre-training",
    colour="#8c564b",
    family="gradient-based",
    make_step=pretrain_step,
    naive_task=naive_task,
    objective=objective,
    adapts=False,
    dash="dash",
)

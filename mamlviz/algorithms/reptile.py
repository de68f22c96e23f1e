"""Reptile (Nichol, Achiam & Schulman 2018, arXiv 1803.02999): move phi toward the adapted weights.

Take ``inner_steps`` steps on the task to theta_tilde; the direction is
phi - mean_n theta_tilde^n, so an SGD step of size epsilon interpolates
phi <- phi + epsilon (mean theta_tilde - phi). With Adam inner steps whose moments
are kept (``InnerLoop.keep_moments``, as the paper's code keeps one Adam for the
whole run), the step also returns Adam's moments after the meta-batch.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch.func import vmap

from ..inner import Params
from .base import Algorithm, InnerLoop, StepFn, merge_moments, query_losses


def _task(loop: InnerLoop, phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
          query_x: torch.Tensor, query_y: torch.Tensor
          ) -> tuple[Params, torch.Tensor, torch.Tensor]:
    theta_tilde = loop.adapt(phi, support_x, support_y, first_order=True)
    before, after = query_losses(loop, phi, theta_tilde, query_x, query_y)
    return {k: phi[k] - theta_tilde[k] for k in phi}, before, after


def _task_keeping_moments(loop: InnerLoop, phi: Params, moments: Params,
                          support_x: torch.Tensor, support_y: torch.Tensor,
                          query_x: torch.Tensor, query_y: torch.Tensor
                          ) -> tuple[Params, torch.Tensor, torch.Tensor, Params]:
    theta_tilde, moments = loop.adapt_keeping_moments(phi, support_x, support_y, moments)
    before, after = query_losses(loop, phi, theta_tilde, query_x, query_y)
    return {k: phi[k] - theta_tilde[k] for k in phi}, before, after, moments


def reptile_step(loop: InnerLoop) -> StepFn:
    per_task = vmap(partial(_task, loop), in_dims=(None, 0, 0, 0, 0))
    keeping = vmap(partial(_task_keeping_moments, loop), in_dims=(None, None, 0, 0, 0, 0))

    def step(phi: Params, *batch: torch.Tensor, moments: Params | None = None) -> Any:
        if moments is None:
            differences, before, after = per_task(phi, *batch)
            return {k: d.mean(0) for k, d in differences.items()}, before, after
        differences, before, after, per_task_moments = keeping(phi, moments, *batch)
        return ({k: d.mean(0) for k, d in differences.items()}, before, after,
                merge_moments(moments, per_task_moments, loop.inner_steps))

    return step


def naive_task(loss, phi: Params, theta: Params, support_x: torch.Tensor,  # type: ignore[no-untyped-def]
               support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
               ) -> Params:
    """phi - theta_tilde: a direction already, nothing to differentiate."""
    return {k: (phi[k] - theta[k]).detach() for k in phi}


# Reptile on Omniglot, as its paper (appendix A, table 3, and its code's 1-shot
# commands): tasks trained on 10 drawings per class, in mini-batches, with Adam
# (beta1 = 0) inner steps; meta-batch 5; epsilon annealed linearly from 1 to 0; 50 Adam
# steps on the K test shots at test time. Its code makes one Adam optimiser for the whole
# run, so Adam's second moments are kept from task to task, and at test time each task
# starts from the trained ones. Five query images per class only feed the training
# records: Reptile's update never looks at a query set.
OMNIGLOT: dict[int, dict[str, Any]] = {
    5: {"train_shots": 10, "inner_optimizer": "adam", "inner_lr": 0.001, "inner_steps": 5,
        "inner_batch": 10, "meta_batch_size": 5, "meta_lr": 1.0, "meta_lr_final": 0.0,
        "outer_optimizer": "sgd", "iterations": 100_000, "test_inner_steps": 50,
        "test_inner_batch": 5, "n_query": 5, "inner_moments": "kept"},
    20: {"train_shots": 10, "inner_optimizer": "adam", "inner_lr": 0.0005, "inner_steps": 10,
         "inner_batch": 20, "meta_batch_size": 5, "meta_lr": 1.0, "meta_lr_final": 0.0,
         "outer_optimizer": "sgd", "iterations": 200_000, "test_inner_steps": 50,
         "test_inner_batch": 10, "n_query": 5, "inner_moments": "kept"},
}

ALGORITHM = Algorithm(
    name="reptile",
    label="Reptile",
    colour="#e377c2",
    family="gradient-based",
    make_step=reptile_step,
    naive_task=naive_task,
    outer_rule="interpolation",
    keeps_moments=True,
    line_width=4,
    defaults={
        # Several inner steps: with one step its update is a scaled pre-training
        # gradient. Outer SGD interpolation, epsilon 0.1; an inner rate of 0.02 over five
        # steps diverges on high-amplitude tasks.
        "sinusoid": {"inner_steps": 5, "inner_lr": 0.01, "meta_lr": 0.1,
                     "outer_optimizer": "sgd"},
        "omniglot": OMNIGLOT,
    },
    paper={(5, 1): "97.68 ± 0.04", (5, 5): "99.5", (20, 1): "89.43 ± 0.14", (20, 5): "97.1"},
    paper_source="Reptile paper (Nichol et al. 2018), Table 1, transductive",
)

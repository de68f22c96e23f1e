"""The naive reference: a plain Python loop over tasks with ``torch.autograd``.

This is how MAML is usually first written (one task at a time,
``torch.autograd.grad(create_graph=True)`` for the inner step). It is slow,
obviously correct, and independent of ``torch.func``: the tests check the
batched algorithms against it, and ``mamlviz bench`` reports speed-ups over it.
Reptile's inner loop (mini-batches taken in turn, Adam with beta1 = 0) is written
out here again, index by index, rather than reusing ``mamlviz.inner``.
"""

from __future__ import annotations

import torch
from torch.func import functional_call

from .algorithms import InnerLoop, StepOutput
from .errors import ConfigError
from .inner import ADAM_BETA2, ADAM_EPS, Params


def _loss(loop: InnerLoop, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return loop.loss_fn(functional_call(loop.model, params, (x,)), y)


def _support_batch(loop: InnerLoop, x: torch.Tensor, y: torch.Tensor, step: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    m = x.shape[0]
    b = m if loop.batch_size is None else min(loop.batch_size, m)
    index = torch.tensor([(step * b + i) % m for i in range(b)], device=x.device)
    return x[index], y[index]


def naive_step(algorithm: str, loop: InnerLoop, phi: Params, support_x: torch.Tensor,
               support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
               ) -> StepOutput:
    """Same contract as ``mamlviz.algorithms.make_step(algorithm, loop)``, one task at a time."""
    if algorithm not in ("maml", "fomaml", "reptile", "pretrain"):
        raise ConfigError("algorithm", f"unknown algorithm {algorithm!r}")
    names = list(phi)
    leaves = [phi[k].detach().requires_grad_() for k in names]
    phi_leaf = dict(zip(names, leaves))
    n_tasks = support_x.shape[0]
    second_order = algorithm == "maml"
    total = torch.zeros((), dtype=leaves[0].dtype, device=leaves[0].device)
    reptile_diff = [torch.zeros_like(p) for p in leaves]
    before, after = [], []
    for n in range(n_tasks):
        sx, sy, qx, qy = support_x[n], support_y[n], query_x[n], query_y[n]
        theta = phi_leaf
        v = [torch.zeros_like(p) for p in leaves]  # Adam's second moments (beta1 = 0)
        for step in range(loop.inner_steps):
            bx, by = _support_batch(loop, sx, sy, step)
            raw = torch.autograd.grad(_loss(loop, theta, bx, by), list(theta.values()),
                                      create_graph=second_order)
            grads = [g if second_order else g.detach() for g in raw]
            if loop.optimizer == "adam":
                v = [ADAM_BETA2 * vi + (1 - ADAM_BETA2) * g**2 for vi, g in zip(v, grads)]
                v_hat = [vi / (1 - ADAM_BETA2 ** (step + 1)) for vi in v]
                grads = [g / (vh.sqrt() + ADAM_EPS) for g, vh in zip(grads, v_hat)]
            theta = {k: theta[k] - loop.inner_lr * g for k, g in zip(names, grads)}
        query_loss = _loss(loop, theta, qx, qy)
        before.append(_loss(loop, phi_leaf, qx, qy).detach())
        after.append(query_loss.detach())
        if algorithm in ("maml", "fomaml"):
            total = total + query_loss / n_tasks
        elif algorithm == "pretrain":
            joint = _loss(loop, phi_leaf, torch.cat([sx, qx]), torch.cat([sy, qy]))
            total = total + joint / n_tasks
        else:
            for i, k in enumerate(names):
                reptile_diff[i] += (phi_leaf[k] - theta[k]).detach() / n_tasks
    if algorithm == "reptile":
        direction = reptile_diff
    else:
        direction = list(torch.autograd.grad(total, leaves))
    return dict(zip(names, direction)), torch.stack(before), torch.stack(after)

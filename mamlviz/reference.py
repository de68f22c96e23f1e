"""The naive reference: a plain Python loop over tasks with ``torch.autograd``.

This is how MAML is usually first written (one task at a time,
``torch.autograd.grad(create_graph=True)`` for the inner step). It is slow,
obviously correct, and independent of ``torch.func``: the tests check the
batched algorithms against it, and ``mamlviz bench`` reports speed-ups over it.
Reptile's inner loop (mini-batches taken in turn, Adam with beta1 = 0, its moments
afresh or kept) is written out here again, index by index, rather than reusing
``mamlviz.inner``; the kept moments are merged by running the tasks in turn. So are
Meta-SGD's step sizes carried in phi (one per weight, ``inner_lr.<weight>``) and
iMAML's pull towards phi (``Algorithm.lam``).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import torch
from torch.func import functional_call

from .algorithms import InnerLoop, get
from .inner import ADAM_BETA2, ADAM_EPS, RATES, Params


def _loss(loop: InnerLoop, params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return loop.loss_fn(functional_call(loop.model, params, (x,)), y)


def _support_batch(loop: InnerLoop, x: torch.Tensor, y: torch.Tensor, step: int
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    m = x.shape[0]
    b = m if loop.batch_size is None else min(loop.batch_size, m)
    index = torch.tensor([(step * b + i) % m for i in range(b)], device=x.device)
    return x[index], y[index]


def _merged_in_turn(moments: Params, per_task: list[Params], steps: int) -> Params:
    """Adam's moments after the tasks, run one after another in each rotation of their
    order (v <- beta2^s v + (1 - beta2^s) c^n, c^n a task's own average), averaged."""
    decay = ADAM_BETA2**steps
    n_tasks = len(per_task)
    merged = {"t": moments["t"] + n_tasks * steps}
    for k, v0 in moments.items():
        if k == "t":
            continue
        own = [(task[k] - decay * v0) / (1 - decay) for task in per_task]
        total = torch.zeros_like(v0)
        for first in range(n_tasks):
            v = v0
            for i in range(n_tasks):
                v = decay * v + (1 - decay) * own[(first + i) % n_tasks]
            total = total + v / n_tasks
        merged[k] = total
    return merged


def _embedding(loop: InnerLoop, params: Params, x: torch.Tensor) -> torch.Tensor:
    """What the model's last layer reads, caught on its way in by a forward hook."""
    last = list(params)[-1].rsplit(".", 1)[0]
    caught: list[torch.Tensor] = []
    handle = loop.model.get_submodule(last).register_forward_pre_hook(
        lambda _module, inputs: caught.append(inputs[0]))
    try:
        functional_call(loop.model, params, (x,))
    finally:
        handle.remove()
    return caught[0]


def _naive_metric_step(naive_task: Any, loop: InnerLoop, phi: Params, support_x: torch.Tensor,
                       support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
                       ) -> Any:
    """A metric-based algorithm (no inner loop), one task at a time: its query loss from
    the embeddings, differentiated by ``torch.autograd``."""
    names = list(phi)
    leaves = [phi[k].detach().requires_grad_() for k in names]
    phi_leaf = dict(zip(names, leaves))
    losses = [naive_task(partial(_embedding, loop, phi_leaf), loop.loss_fn, support_x[n],
                         support_y[n], query_x[n], query_y[n])
              for n in range(support_x.shape[0])]
    total = torch.stack(losses).mean()
    grads = torch.autograd.grad(total, leaves, allow_unused=True)
    direction = {k: torch.zeros_like(p) if g is None else g
                 for k, p, g in zip(names, leaves, grads)}
    per_task = torch.stack(losses).detach()
    return direction, per_task, per_task


def naive_step(algorithm: str, loop: InnerLoop, phi: Params, support_x: torch.Tensor,
               support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor,
               moments: Params | None = None) -> Any:
    """Same contract as ``mamlviz.algorithms.make_step(algorithm, loop)``, one task at a time.

    With ``moments`` (Reptile keeping Adam's moments) each task starts from them, and the
    moments after the meta-batch are returned too, as a fourth value.
    """
    spec = get(algorithm)
    if spec.family == "metric-based":
        return _naive_metric_step(spec.naive_task, loop, phi, support_x, support_y,
                                  query_x, query_y)
    names = [k for k in phi if not k.startswith(RATES)]
    rate_names = [RATES + k for k in names if RATES + k in phi]
    leaves = [phi[k].detach().requires_grad_() for k in names + rate_names]
    phi_leaf = dict(zip(names, leaves))  # the weights
    # the step size of each weight: meta-learned (Meta-SGD) or the loop's
    rates = {k: (leaves[len(names) + rate_names.index(RATES + k)] if RATES + k in phi
                 else loop.inner_lr) for k in names}
    mask = dict(spec.inner_mask(phi)) if spec.inner_mask is not None else {}
    n_tasks = support_x.shape[0]
    second_order = spec.second_order
    pull = loop.pull(spec.lam)
    total = torch.zeros((), dtype=leaves[0].dtype, device=leaves[0].device)
    differences = [torch.zeros_like(p) for p in leaves]
    differentiate = True
    before, after = [], []
    moments_after: list[Params] = []
    for n in range(n_tasks):
        sx, sy, qx, qy = support_x[n], support_y[n], query_x[n], query_y[n]
        theta = phi_leaf
        # Adam's second moments (beta1 = 0) and step count, afresh or as kept
        v = [torch.zeros_like(p) if moments is None else moments[f"v.{k}"]
             for k, p in zip(names, leaves)]
        t0 = 0 if moments is None else moments["t"]
        for step in range(loop.inner_steps):
            bx, by = _support_batch(loop, sx, sy, step)
            raw = torch.autograd.grad(_loss(loop, theta, bx, by), list(theta.values()),
                                      create_graph=second_order)
            grads = [g if second_order else g.detach() for g in raw]
            if loop.optimizer == "adam":
                v = [ADAM_BETA2 * vi + (1 - ADAM_BETA2) * g**2 for vi, g in zip(v, grads)]
                correction = -math.expm1((t0 + step + 1) * math.log(ADAM_BETA2))
                v_hat = [vi / correction for vi in v]
                grads = [g / (vh.sqrt() + ADAM_EPS) for g, vh in zip(grads, v_hat)]
            if pull:  # the gradient of lam/2 ||theta - phi||^2 joins the support's
                grads = [g + pull * (theta[k] - phi_leaf[k]).detach()
                         for k, g in zip(names, grads)]
            # ANIL: the full gradient, then the body's part multiplied by 0
            theta = {k: theta[k] - rates[k] * mask.get(k, 1.0) * g
                     for k, g in zip(names, grads)}
        moments_after.append({f"v.{k}": vi.detach() for k, vi in zip(names, v)})
        before.append(_loss(loop, phi_leaf, qx, qy).detach())
        after.append(_loss(loop, theta, qx, qy).detach())
        part = spec.naive_task(partial(_loss, loop), phi_leaf, theta, sx, sy, qx, qy)
        if isinstance(part, dict):  # a direction already (Reptile's phi - theta_tilde)
            differentiate = False
            for i, k in enumerate(names):
                differences[i] += part[k] / n_tasks
        else:
            total = total + part / n_tasks
    direction = list(torch.autograd.grad(total, leaves)) if differentiate else differences
    result = dict(zip(names + rate_names, direction)), torch.stack(before), torch.stack(after)
    if moments is None:
        return result
    return (*result, _merged_in_turn(moments, moments_after, loop.inner_steps))

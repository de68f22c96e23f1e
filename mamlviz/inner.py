"""The functional inner loop shared by every algorithm.

Meta-learning's step 1 here is: "the learning algorithm F is gradient descent
from an initialisation phi". Adapting to task n runs ``steps`` gradient steps
of size ``inner_lr`` on its support set:

    theta_hat = phi - inner_lr * grad l_support(phi)      (repeated ``steps`` times)

Everything is written with ``torch.func``: weights are plain dictionaries that
flow through ``functional_call``, so the same code differentiates through the
adaptation (MAML), stops the gradient at it (first-order MAML, Reptile), and is
mapped over the tasks of a meta-batch with ``vmap``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, grad

Params = dict[str, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def warm_up() -> None:
    """Pay torch.func's one-time cost now: its first ``grad`` imports ``torch._dynamo``
    (about a second of the interpreter). A server calls this at start, in the
    background, so the first students' pages do not all wait behind that import."""
    grad(lambda w: (w * w).sum())(torch.ones(1))


def mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error, the sinusoid task loss of the MAML paper."""
    return ((prediction - target) ** 2).mean()


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Classification loss for N-way episodes."""
    return nn.functional.cross_entropy(logits, labels)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of correctly classified examples (a metric, not differentiated)."""
    return (logits.argmax(dim=-1) == labels).to(logits.dtype).mean()


def task_loss(model: nn.Module, loss_fn: LossFn, params: Params, x: torch.Tensor,
              y: torch.Tensor) -> torch.Tensor:
    """l(params) on one data set (a support or a query set)."""
    return loss_fn(functional_call(model, params, (x,)), y)


def adapt(model: nn.Module, loss_fn: LossFn, phi: Params, support_x: torch.Tensor,
          support_y: torch.Tensor, inner_lr: float, steps: int,
          first_order: bool = False) -> Params:
    """theta_hat: ``steps`` gradient steps on the support set, starting at ``phi``.

    With ``first_order`` the inner gradients are treated as constants, so the
    derivative of theta_hat with respect to phi is the identity: the second
    derivatives of the chain rule (the lecture's "warning of math") are dropped.
    """

    def support_loss(params: Params) -> torch.Tensor:
        return task_loss(model, loss_fn, params, support_x, support_y)

    theta = phi
    for _ in range(steps):
        g = grad(support_loss)(theta)
        if first_order:
            g = {k: v.detach() for k, v in g.items()}
        theta = {k: theta[k] - inner_lr * g[k] for k in theta}
    return theta

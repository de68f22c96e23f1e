"""The functional inner loop shared by every algorithm.

Meta-learning's step 1 here is: "the learning algorithm F is gradient descent
from an initialisation phi". Adapting to task n runs ``steps`` gradient steps
of size ``inner_lr`` on its support set:

    theta_hat = phi - inner_lr * grad l_support(phi)      (repeated ``steps`` times)

Reptile's paper (Nichol et al. 2018, arXiv 1803.02999, appendix A) trains its
Omniglot tasks differently, and so can this loop: each step sees a *mini-batch*
of the support set (``batch_size`` images, taken in turn), and the step is
Adam's with beta1 = 0, as in the paper's code:

    v <- beta2 v + (1 - beta2) g^2
    theta <- theta - inner_lr * g / (sqrt(v / (1 - beta2^t)) + eps)

Adam's second moments v and its step count t either start afresh for every task, or
start from ``moments`` kept from earlier tasks: the paper's code creates one Adam
optimiser for the whole run, so v is a long average of squared gradients and a step
is a gradient scaled by it. Started afresh, the first step is lr * sign(g) for every
weight alike, and Reptile learns far less (see ``mamlviz.algorithms``).

Two algorithms change the step itself. Meta-SGD (Li et al. 2017, arXiv 1707.09835)
meta-learns one inner step size per weight: its phi carries them beside the weights,
under the names ``inner_lr.<weight>``, and wherever such a phi adapts (training,
evaluation, a new task) those step sizes replace ``inner_lr``:

    theta <- theta - inner_lr_w * g        (elementwise, one rate per weight)

iMAML (Rajeswaran et al. 2019, arXiv 1909.04630) regularises the inner problem towards
phi, l(theta) + lam/2 ||theta - phi||^2, so its steps follow g + lam (theta - phi).

Everything is written with ``torch.func``: weights are plain dictionaries that
flow through ``functional_call``, so the same code differentiates through the
adaptation (MAML), stops the gradient at it (first-order MAML, Reptile), and is
mapped over the tasks of a meta-batch with ``vmap``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad

from .errors import ConfigError

Params = dict[str, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

INNER_OPTIMIZERS = ("sgd", "adam")
# Meta-SGD's meta-learned step sizes ride in phi under this prefix, one per weight.
RATES = "inner_lr."
# Reptile's inner Adam (tf.train.AdamOptimizer(beta1=0) in its code): no momentum, so a
# step depends only on this task's gradients so far.
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


def check_inner_lr(inner_lr: object) -> float:
    """The one check of an inner learning rate alpha: a finite number >= 0 (0: no step)."""
    if (isinstance(inner_lr, bool) or not isinstance(inner_lr, (int, float))
            or not math.isfinite(inner_lr) or inner_lr < 0):
        raise ConfigError("inner_lr", f"must be a finite number >= 0, got {inner_lr!r}")
    return float(inner_lr)


def warm_up() -> None:
    """Pay torch.func's one-time cost now: its first ``grad`` imports ``torch._dynamo``
    (about a second of the interpreter). A server calls this at start, in the
    background, so the first students' pages do not all wait behind that import."""
    grad(lambda w: (w * w).sum())(torch.ones(1))


def check_inner(inner_lr: float, steps: int) -> None:
    """Refuse an inner loop that cannot mean what it says: a NaN or infinite rate turns
    every weight into NaN, a negative one climbs the support loss instead of descending
    it, and a negative number of steps would silently take none."""
    if not isinstance(inner_lr, torch.Tensor):  # a learned rate (a tensor) is the optimiser's
        check_inner_lr(inner_lr)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ConfigError("inner_steps", f"must be a whole number >= 0, got {steps!r}")


def mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error, the sinusoid task loss of the MAML paper."""
    return ((prediction - target) ** 2).mean()


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Classification loss for N-way episodes."""
    return nn.functional.cross_entropy(logits, labels)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of correctly classified examples (a metric, not differentiated)."""
    return (logits.argmax(dim=-1) == labels).to(logits.dtype).mean()


def weights_of(phi: Params) -> Params:
    """The model's weights in ``phi``, without any meta-learned step sizes."""
    return {k: v for k, v in phi.items() if not k.startswith(RATES)}


def rates_of(phi: Params) -> Params:
    """The meta-learned per-weight step sizes in ``phi`` by weight name ({} if none)."""
    return {k[len(RATES):]: v for k, v in phi.items() if k.startswith(RATES)}


def with_rates(phi: Params, inner_lr: float) -> Params:
    """``phi`` with a step size per weight: those it carries, else ``inner_lr`` for every
    weight (Meta-SGD's start)."""
    weights, rates = weights_of(phi), rates_of(phi)
    return {**weights, **{RATES + k: rates[k] if k in rates else torch.full_like(v, inner_lr)
                          for k, v in weights.items()}}


def task_loss(model: nn.Module, loss_fn: LossFn, params: Params, x: torch.Tensor,
              y: torch.Tensor) -> torch.Tensor:
    """l(params) on one data set (a support or a query set)."""
    return loss_fn(functional_call(model, weights_of(params), (x,)), y)


def mini_batch(x: torch.Tensor, y: torch.Tensor, step: int, batch_size: int | None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``step``-th mini-batch of a support set: ``batch_size`` examples taken in turn.

    Step s uses examples s*b, s*b + 1, ... (wrapping around), so successive steps see
    different data, one pass after another, as Reptile's code does (it shuffles the
    support set once per task; our callers pass it shuffled). ``None``, or a size of the
    whole set or more, is the whole set every step (the MAML paper's inner loop).
    """
    m = x.shape[0]
    if batch_size is None or batch_size >= m:
        return x, y
    start = (step * batch_size) % m
    stop = start + batch_size
    if stop <= m:
        return x[start:stop], y[start:stop]
    return (torch.cat([x[start:], x[:stop - m]]), torch.cat([y[start:], y[:stop - m]]))


# A run that keeps Adam's inner moments stores them beside the outer optimiser's state
# (so checkpoints carry them), under this prefix.
KEPT = "inner."


def kept_moments(state: dict[str, torch.Tensor]) -> Params | None:
    """The inner moments kept in a run's optimiser state, or None if it keeps none."""
    moments = {k[len(KEPT):]: v for k, v in state.items() if k.startswith(KEPT)}
    return moments or None


def fresh_moments(phi: Params) -> Params:
    """Adam's state before its first step: ``t`` = 0 steps, ``v.<name>`` = 0 per weight."""
    any_p = next(iter(phi.values()))
    return {"t": torch.zeros((), dtype=any_p.dtype, device=any_p.device),
            **{f"v.{k}": torch.zeros_like(p) for k, p in weights_of(phi).items()}}


def _steps(model: nn.Module, loss_fn: LossFn, phi: Params, support_x: torch.Tensor,
           support_y: torch.Tensor, inner_lr: float, steps: int, first_order: bool,
           optimizer: str, batch_size: int | None, moments: Params | None, lam: float = 0.0
           ) -> Iterator[tuple[Params, Params]]:
    """(theta, Adam's moments) after each inner step; the moments are {} for "sgd".

    Step sizes carried in phi (Meta-SGD's) replace ``inner_lr``; ``lam`` > 0 adds
    iMAML's pull towards phi to every step's gradient.
    """

    def support_loss(params: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return task_loss(model, loss_fn, params, x, y)

    check_inner(inner_lr, steps)
    anchor = weights_of(phi)
    rate: dict[str, Any] = {**dict.fromkeys(anchor, inner_lr), **rates_of(phi)}
    theta = anchor
    state: Params = {}
    t0: torch.Tensor | int = 0  # a fresh start's bias corrections are exact Python numbers
    if optimizer == "adam":
        state = dict(moments) if moments is not None else fresh_moments(phi)
        if moments is not None:
            t0 = moments["t"]
    for step in range(steps):
        x, y = mini_batch(support_x, support_y, step, batch_size)
        g = grad(support_loss)(theta, x, y)
        if lam:
            g = {k: g[k] + lam * (theta[k] - anchor[k]) for k in theta}
        if first_order:
            g = {k: t.detach() for k, t in g.items()}
        if optimizer == "adam":
            t = t0 + step + 1
            v = {k: ADAM_BETA2 * state[f"v.{k}"] + (1 - ADAM_BETA2) * g[k] * g[k]
                 for k in theta}
            # 1 - beta2^t; as expm1 for a tensor t, where float32 would lose digits
            correction = (1 - ADAM_BETA2**t if isinstance(t, int)
                          else -torch.expm1(t * math.log(ADAM_BETA2)))
            g = {k: g[k] / (torch.sqrt(v[k] / correction) + ADAM_EPS) for k in theta}
            like = next(iter(v.values()))
            state = {"t": torch.as_tensor(t, dtype=like.dtype, device=like.device),
                     **{f"v.{k}": v[k] for k in theta}}
        theta = {k: theta[k] - rate[k] * g[k] for k in theta}
        yield theta, state


def adaptation(model: nn.Module, loss_fn: LossFn, phi: Params, support_x: torch.Tensor,
               support_y: torch.Tensor, inner_lr: float, steps: int,
               first_order: bool = False, optimizer: str = "sgd",
               batch_size: int | None = None, moments: Params | None = None, lam: float = 0.0
               ) -> Iterator[Params]:
    """theta after each of ``steps`` inner steps on the support set, starting at ``phi``.

    With ``first_order`` the inner gradients are treated as constants, so the
    derivative of theta_hat with respect to phi is the identity: the second
    derivatives of the chain rule (the lecture's "warning of math") are dropped.
    ``optimizer`` is "sgd" (plain steps) or "adam" (Reptile's, see the module's text);
    ``moments`` is Adam's state to start from (default: afresh); ``lam`` is iMAML's
    regulariser towards phi. Step sizes carried in phi (Meta-SGD's) replace ``inner_lr``;
    theta holds the weights only.
    """
    for theta, _ in _steps(model, loss_fn, phi, support_x, support_y, inner_lr, steps,
                           first_order, optimizer, batch_size, moments, lam):
        yield theta


def adapt_keeping_moments(model: nn.Module, loss_fn: LossFn, phi: Params,
                          support_x: torch.Tensor, support_y: torch.Tensor, inner_lr: float,
                          steps: int, first_order: bool, optimizer: str,
                          batch_size: int | None, moments: Params | None, lam: float = 0.0
                          ) -> tuple[Params, Params]:
    """theta_hat and Adam's moments after all ``steps`` inner steps."""
    theta, state = weights_of(phi), dict(moments or {})  # no steps: where it started
    for theta, state in _steps(model, loss_fn, phi, support_x, support_y,  # noqa: B007
                               inner_lr, steps, first_order, optimizer, batch_size, moments,
                               lam):
        pass  # the last step's theta and moments are the result
    return theta, state


def adapt(model: nn.Module, loss_fn: LossFn, phi: Params, support_x: torch.Tensor,
          support_y: torch.Tensor, inner_lr: float, steps: int,
          first_order: bool = False, optimizer: str = "sgd",
          batch_size: int | None = None, moments: Params | None = None,
          lam: float = 0.0) -> Params:
    """theta_hat: the weights after all ``steps`` inner steps (see :func:`adaptation`)."""
    return adapt_keeping_moments(model, loss_fn, phi, support_x, support_y, inner_lr, steps,
                                 first_order, optimizer, batch_size, moments, lam)[0]

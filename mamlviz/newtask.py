"""A new task after meta-training: adapt a learned phi and look at what it does.

Sinusoids: the fit of each model to a task's K points after 0, 1, ..., steps
gradient steps (the MAML paper's figure 2) and the query MSE along the way.
Omniglot: each query image's predicted class after every adaptation step of
one episode, and the accuracy step by step (for the human-versus-model game).
Also a small evaluator that scores phi on fixed testing episodes, which the
live runner calls while meta-training to stream an accuracy curve.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch.func import functional_call

from .inner import Params, accuracy, adaptation, cross_entropy, mse, weights_of
from .models.mlp import SinusoidMLP, init_params

FIT_POINTS = 200


def _finite(params: Params) -> bool:
    return all(bool(torch.isfinite(v).all()) for v in params.values())


def _sinusoid_path(phi: Params, inner_lr: float, support_x: torch.Tensor,
                   support_y: torch.Tensor, steps: int) -> Iterator[Params]:
    """theta after 0, 1, ..., ``steps`` plain inner steps on the support set (the
    weights only; Meta-SGD's step sizes, learned with phi, keep being applied)."""
    model = SinusoidMLP()
    sx, sy = support_x.reshape(-1, 1).float(), support_y.reshape(-1, 1).float()
    phi = {k: v.detach().float() for k, v in phi.items()}
    yield weights_of(phi)
    yield from adaptation(model, mse, phi, sx, sy, inner_lr, steps, first_order=True)


def _curve_on(model: torch.nn.Module, theta: Params, x: torch.Tensor) -> list[float] | None:
    """The model's outputs at ``x`` (None once theta or the outputs diverged)."""
    if not _finite(theta):
        return None
    with torch.no_grad():
        y = functional_call(model, theta, (x,)).squeeze(-1)
    return y.tolist() if bool(torch.isfinite(y).all()) else None


def sinusoid_new_task(phi: Params, inner_lr: float, support_x: torch.Tensor,
                      support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor,
                      fit_steps: Sequence[int] = (0, 1, 10), steps: int = 10,
                      x_range: tuple[float, float] = (-5.0, 5.0),
                      n_points: int = FIT_POINTS) -> tuple[dict[str, Any], list[float]]:
    """One model on a new task, from one adaptation: its curve on ``x_range`` after each
    of ``fit_steps`` steps (as :func:`sinusoid_fits`) and the query MSE after 0..``steps``
    steps (as :func:`sinusoid_task_mse`)."""
    model = SinusoidMLP()
    x = torch.linspace(*x_range, n_points).unsqueeze(-1)
    qx, qy = query_x.reshape(-1, 1).float(), query_y.reshape(-1, 1).float()
    wanted = sorted(set(int(s) for s in fit_steps))
    fits: dict[int, list[float] | None] = {}
    curve: list[float] = []
    for step, theta in enumerate(_sinusoid_path(phi, inner_lr, support_x, support_y,
                                                max([steps, *wanted]))):
        if step in wanted:
            fits[step] = _curve_on(model, theta, x)
        if step <= steps:
            with torch.no_grad():
                value = float(mse(functional_call(model, theta, (qx,)), qy))
            curve.append(value if math.isfinite(value) else math.nan)  # NaN once diverged
    return {"x": x.squeeze(-1).tolist(), "fits": fits}, curve


def sinusoid_fits(phi: Params, inner_lr: float, support_x: torch.Tensor,
                  support_y: torch.Tensor, steps: Sequence[int] = (0, 1, 10),
                  x_range: tuple[float, float] = (-5.0, 5.0),
                  n_points: int = FIT_POINTS) -> dict[str, Any]:
    """The model's curve on ``x_range`` after each number of ``steps`` on the support set.

    Returns ``{"x": [...], "fits": {steps: [...] or None if diverged}}``.
    """
    model = SinusoidMLP()
    x = torch.linspace(*x_range, n_points).unsqueeze(-1)
    wanted = sorted(set(int(s) for s in steps))
    fits = {}
    for step, theta in enumerate(_sinusoid_path(phi, inner_lr, support_x, support_y,
                                                max(wanted))):
        if step in wanted:
            fits[step] = _curve_on(model, theta, x)
    return {"x": x.squeeze(-1).tolist(), "fits": fits}


def sinusoid_task_mse(phi: Params, inner_lr: float, support_x: torch.Tensor,
                      support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor,
                      steps: int = 10) -> list[float]:
    """Query MSE of one task after 0..steps adaptation steps (NaN once diverged)."""
    return sinusoid_new_task(phi, inner_lr, support_x, support_y, query_x, query_y,
                             fit_steps=(), steps=steps)[1]


def random_sinusoid_phi(seed: int = 0) -> Params:
    return init_params(SinusoidMLP(), seed)


def omniglot_adapt(phi: Params, n_way: int, inner_lr: float, steps: int,
                   support_x: torch.Tensor, support_y: torch.Tensor,
                   query_x: torch.Tensor, query_y: torch.Tensor, optimizer: str = "sgd",
                   batch_size: int | None = None,
                   moments: Params | None = None, algorithm: str | None = None
                   ) -> dict[str, Any]:
    """Adapt a Conv4 on one episode's support set; predictions after 0..steps steps.

    ``algorithm`` (a registered name) adapts as that algorithm does: ANIL its head alone;
    a metric-based one (ProtoNets) not at all: its prototypes classify the queries once,
    so ``accuracy_by_step`` has one point and every step's predictions are the same.

    ``predictions_by_step[s][i]`` is the class predicted for query ``i`` after
    ``s`` steps; ``accuracy_by_step[s]`` the fraction right; ``confidence`` the
    probability of the final prediction. Images are [n, 1, 28, 28]. ``optimizer``,
    ``batch_size`` and ``moments`` are the model's inner-loop rule (Reptile's: Adam on
    mini-batches, from the moments its training kept).
    """
    from . import algorithms
    from .algorithms import InnerLoop
    from .algorithms.anil import head_adaptation
    from .models.conv4 import Conv4

    model = Conv4(n_way)
    if batch_size is not None and batch_size < support_y.shape[0]:
        # Mini-batches taken in turn should mix the classes: a fixed shuffle of the set.
        order = torch.randperm(support_y.shape[0], generator=torch.Generator().manual_seed(0))
        support_x, support_y = support_x[order], support_y[order]
    phi = {k: v.detach().cpu().float() for k, v in phi.items()}
    predictions: list[list[int]] = []
    accuracies: list[float] = []
    confidence: list[float] = []
    if moments is not None:
        moments = {k: v.detach().cpu().float() for k, v in moments.items()}
    spec = algorithms.get(algorithm) if algorithm in algorithms.names() else None
    if spec is not None and spec.classify is not None:
        with torch.no_grad():
            logits = spec.classify(model, phi, support_x, support_y, query_x)
        return {"predictions_by_step": [logits.argmax(-1).tolist()] * (steps + 1),
                "accuracy_by_step": [float(accuracy(logits, query_y))],
                "confidence": logits.softmax(-1).max(-1).values.tolist(),
                "labels": query_y.tolist()}
    if spec is not None and spec.inner_mask is not None:  # ANIL: the head alone adapts
        loop = InnerLoop(model, cross_entropy, inner_lr, steps, optimizer, batch_size)
        thetas: Any = list(head_adaptation(loop, phi, support_x, support_y, first_order=True))
    else:
        thetas = adaptation(model, cross_entropy, phi, support_x, support_y, inner_lr, steps,
                            first_order=True, optimizer=optimizer, batch_size=batch_size,
                            moments=moments)
    for theta in (phi, *thetas):
        with torch.no_grad():
            logits = functional_call(model, weights_of(theta), (query_x,))
        predictions.append(logits.argmax(-1).tolist())
        accuracies.append(float(accuracy(logits, query_y)))
        confidence = logits.softmax(-1).max(-1).values.tolist()
    return {"predictions_by_step": predictions, "accuracy_by_step": accuracies,
            "confidence": confidence, "labels": query_y.tolist()}


def random_init_inner_lr(n_way: int) -> float:
    """The step a random Conv4 adapts with, beside the meta-learned ones: the MAML paper's
    alpha as it writes it (0.4 at 5-way, 0.1 at 20-way), on our mean support loss."""
    return 0.4 if n_way < 12 else 0.1


def random_conv4_phi(n_way: int, seed: int = 0) -> Params:
    from .models.conv4 import Conv4

    return init_params(Conv4(n_way), seed)


def omniglot_evaluator(split: Any, n_way: int, k_shot: int, inner_lr: float, steps: int,
                       tasks: int = 8, n_query: int = 5, seed: int = 7,
                       optimizer: str = "sgd", batch_size: int | None = None
                       ) -> Callable[[str, Params], float]:
    """(name, phi) -> mean query accuracy after ``steps`` steps on fixed testing episodes."""
    from . import algorithms
    from .evaluate import adaptation_curves, classification_curves
    from .models.conv4 import Conv4
    from .tasks.omniglot import OmniglotTasks

    generator = torch.Generator().manual_seed(seed)
    batch = OmniglotTasks(split, n_way).sample(tasks, k_shot, n_query, generator=generator)
    if batch_size is not None:  # mini-batches that mix the classes
        batch = batch.shuffled_support(generator)
    model = Conv4(n_way)

    def evaluate(name: str, phi: Params) -> float:
        weights = {k: v.detach() for k, v in phi.items()}
        classify = algorithms.get(name).classify if name in algorithms.names() else None
        if classify is not None:  # no inner loop: the support set classifies the queries
            curves = classification_curves(classify, model, accuracy, weights, batch,
                                           chunk=tasks)
        else:
            head_only = name in algorithms.names() and (
                algorithms.get(name).inner_mask is not None)
            curves = adaptation_curves(model, cross_entropy, weights, batch, inner_lr, steps,
                                       metric_fn=accuracy, chunk=tasks, optimizer=optimizer,
                                       batch_size=batch_size, head_only=head_only)
        return float(curves[:, -1].mean())

    return evaluate

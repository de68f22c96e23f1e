"""The three steps of meta-learning, computed on real sinusoid tasks.

1. A set of learning algorithms F: gradient descent on a task's support set
   from an initialisation phi; only phi differs between the candidates.
2. The goodness of F: apply F to many tasks, each with a support set
   (its training data) and a query set (its testing data); l^n is the query
   loss of task n after adapting on its support set, and L(F) = sum_n l^n.
3. F* = argmin L(F) over the *training tasks*, judged on *testing tasks*
   that were never used to choose it.

Training and testing tasks come from the same distribution p(T) but from
two different random streams, so they never coincide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.func import functional_call

from .errors import ConfigError
from .evaluate import adaptation_curves
from .inner import Params, adapt, check_inner_lr, mse
from .models.mlp import SinusoidMLP, init_params
from .tasks import SinusoidTasks, TaskBatch

# Offsets of the two task streams: the testing tasks never repeat a training task.
TRAIN_STREAM = 0
TEST_STREAM = 1_000_003
CURVE_POINTS = 200


@dataclass(frozen=True)
class SinusoidTaskSet:
    """Tasks y = a sin(x + b) with their support and query points."""

    amplitude: torch.Tensor  # [tasks]
    phase: torch.Tensor  # [tasks]
    batch: TaskBatch

    @property
    def n_tasks(self) -> int:
        return self.batch.n_tasks

    def curve(self, n: int, x: torch.Tensor) -> torch.Tensor:
        """The true function of task ``n`` at ``x``."""
        return self.amplitude[n] * torch.sin(x + self.phase[n])


def sinusoid_task_set(n_tasks: int, k_shot: int, n_query: int, seed: int, *,
                      testing: bool = False,
                      distribution: SinusoidTasks | None = None) -> SinusoidTaskSet:
    """``n_tasks`` training (or ``testing``) tasks, reproducible from ``seed``."""
    tasks = distribution or SinusoidTasks()
    generator = torch.Generator().manual_seed(int(seed) + (TEST_STREAM if testing else
                                                             TRAIN_STREAM))
    if n_tasks < 1:
        raise ConfigError("n_tasks", f"must be at least 1, got {n_tasks}")
    amplitude, phase = tasks.draw(n_tasks, generator)
    batch = tasks.sample(n_tasks, k_shot, n_query, generator=generator, amplitude=amplitude,
                         phase=phase)
    return SinusoidTaskSet(amplitude, phase, batch)


def random_init(seed: int) -> Params:
    """A candidate F that knows nothing: PyTorch's default initialisation of the paper's MLP."""
    return init_params(SinusoidMLP(), seed)


@dataclass(frozen=True)
class Goodness:
    """Step 2 for one candidate F: the per-task losses l^n and their sum L(F)."""

    per_task: list[float]  # l^n, the query loss of task n after adaptation
    before: list[float]  # the query loss of task n at phi itself (no adaptation)

    @property
    def total(self) -> float:
        """L(F) = sum_n l^n."""
        return float(sum(self.per_task))

    @property
    def finite(self) -> bool:
        return all(math.isfinite(v) for v in self.per_task)


def goodness(phi: Params, tasks: SinusoidTaskSet | TaskBatch, inner_lr: float,
             steps: int) -> Goodness:
    """Apply F (``steps`` gradient steps of size ``inner_lr`` from ``phi``) to every task.

    Each task adapts on its own support set; l^n is the MSE on its query set.
    """
    check_inner_lr(inner_lr)
    if steps < 0:
        raise ConfigError("steps", f"must be 0 or more, got {steps}")
    batch = tasks.batch if isinstance(tasks, SinusoidTaskSet) else tasks
    curves = adaptation_curves(SinusoidMLP(), mse, phi, batch, float(inner_lr), int(steps))
    return Goodness(per_task=curves[:, -1].tolist(), before=curves[:, 0].tolist())


def compare(candidates: dict[str, Params], tasks: SinusoidTaskSet | TaskBatch, inner_lr: float,
            steps: int) -> dict[str, Goodness]:
    """Step 2 for every candidate F on the same tasks."""
    return {name: goodness(phi, tasks, inner_lr, steps) for name, phi in candidates.items()}


def best(scores: dict[str, Goodness]) -> str | None:
    """Step 3: F* = argmin L(F) among the candidates with a finite loss (None if none)."""
    finite = {name: g.total for name, g in scores.items() if g.finite}
    return min(finite, key=finite.__getitem__) if finite else None


def adapted_fit(phi: Params, tasks: SinusoidTaskSet, n: int, inner_lr: float, steps: int,
                x: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """What F makes of task ``n``: the prediction of theta_hat^n on a grid of x (x, y)."""
    if x is None:
        lo, hi = SinusoidTasks().x_range
        x = torch.linspace(lo, hi, CURVE_POINTS).unsqueeze(-1)
    model = SinusoidMLP()
    b = tasks.batch
    theta = adapt(model, mse, phi, b.support_x[n], b.support_y[n], float(inner_lr), int(steps),
                  first_order=True)
    with torch.no_grad():
        y = functional_call(model, {k: v.detach() for k, v in theta.items()}, (x,))
    return x.squeeze(-1), y.squeeze(-1)

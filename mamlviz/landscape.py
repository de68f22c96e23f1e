"""Analytic loss landscapes: pre-training versus MAML in one and two dimensions.

The lecture's picture (MAML versus model pre-training): the parameter phi on
the x axis, the loss on the y axis, two task loss curves. Pre-training
minimises how good phi is now,

    L_pre(phi) = sum_n l^n(phi),

MAML (Finn, Abbeel & Levine 2017, arXiv 1703.03400) minimises how good phi is
after training on each task, its potential,

    L_maml(phi) = sum_n l^n(theta_hat^n(phi)),
    theta_hat^n = phi - inner_lr * grad l^n(...)      (``steps`` times, from phi).

The task losses here are sums of Gaussian wells on a gentle quadratic bowl, so
they have real local minima and the two optima can visibly differ: in the
'lecture' preset the pre-training optimum leaves task 2 stuck in a shallow
local minimum, while MAML's phi sits where one step reaches a good minimum of
each task.

A task loss here is a model like the networks are (``TaskModel``: phi is its one
weight), so its inner steps are those of ``mamlviz.inner`` and every objective and
update direction is that of an algorithm of the registry (``mamlviz.algorithms``),
in float64: MAML's gradient differentiates through the inner steps, second
derivatives included; first-order MAML drops them; Reptile (Nichol, Achiam &
Schulman 2018, arXiv 1803.02999) moves phi towards the adapted parameters; iMAML
(Rajeswaran et al. 2019, arXiv 1909.04630) follows its implicit gradient; Meta-SGD
(Li et al. 2017, arXiv 1707.09835) learns the inner step size beside phi, one per
coordinate, so its trajectory also records that step size as it changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import torch
from torch import nn
from torch.func import grad, jacrev, vmap

from . import algorithms
from .algorithms import Algorithm, InnerLoop
from .errors import ConfigError
from .inner import RATES, Params, adaptation, check_inner_lr

DTYPE = torch.float64
# The algorithms a landscape can show: those that step on a task's loss. A metric-based
# one (Prototypical Networks) needs classes to embed, and a loss surface has none.
METHODS = tuple(a.name for a in algorithms.all_algorithms() if a.family == "gradient-based")
# The two objectives the lecture contrasts, as the names of the algorithms that minimise
# them: how good phi is now (pre-training), and after adaptation (MAML).
NOW = next(a.name for a in algorithms.all_algorithms() if a.objective and not a.adapts)
AFTER = next(a.name for a in algorithms.all_algorithms() if a.objective and a.adapts)
MAX_INNER_STEPS = 50  # second order through many steps on a fine grid gets slow
DIVERGED_ABOVE = 1e6  # |phi| beyond this counts as diverged: the bowl sends it to inf anyway

Objective = Callable[[torch.Tensor], torch.Tensor]


# ----------------------------------------------------------------------------- task losses


@dataclass(frozen=True)
class Well:
    """A Gaussian well: ``-depth * exp(-|phi - center|^2 / (2 width^2))``.

    It lowers the loss by ``depth`` at its centre and by almost nothing a few
    widths away.
    """

    center: tuple[float, ...]
    depth: float
    width: float

    def __post_init__(self) -> None:
        if not all(math.isfinite(c) for c in self.center) or not self.center:
            raise ConfigError("center", f"needs finite coordinates, got {self.center}")
        if not (math.isfinite(self.depth) and self.depth >= 0):
            raise ConfigError("depth", f"must be finite and >= 0, got {self.depth}")
        if not (math.isfinite(self.width) and self.width > 0):
            raise ConfigError("width", f"must be finite and > 0, got {self.width}")

    def __call__(self, phi: torch.Tensor) -> torch.Tensor:
        center = torch.tensor(self.center, dtype=phi.dtype, device=phi.device)
        r2 = ((phi - center) ** 2).sum()
        return -self.depth * torch.exp(-r2 / (2 * self.width**2))


@dataclass(frozen=True)
class TaskLoss:
    """One task's loss l^n(phi): a quadratic bowl plus Gaussian wells.

    ``phi`` has shape [dim]; the value is a differentiable scalar tensor. The
    deepest well's depth is added as a constant, so the bottom of that well is
    near 0 (the global minimum) and the loss far from all wells is near that
    depth, plus the bowl, which grows like ``bowl * |phi - bowl_center|^2``.
    """

    wells: tuple[Well, ...]
    bowl: float = 0.02
    bowl_center: tuple[float, ...] = (0.0,)
    name: str = ""

    def __post_init__(self) -> None:
        dims = {len(w.center) for w in self.wells} | {len(self.bowl_center)}
        if len(dims) != 1:
            raise ConfigError("center", f"wells and bowl_center disagree on the dimension: {dims}")
        if not (math.isfinite(self.bowl) and self.bowl >= 0):
            raise ConfigError("bowl", f"must be finite and >= 0, got {self.bowl}")

    @property
    def dim(self) -> int:
        return len(self.bowl_center)

    def __call__(self, phi: torch.Tensor) -> torch.Tensor:
        center = torch.tensor(self.bowl_center, dtype=phi.dtype, device=phi.device)
        floor = max((w.depth for w in self.wells), default=0.0)
        value = self.bowl * ((phi - center) ** 2).sum() + floor
        for well in self.wells:
            value = value + well(phi)
        return value


def task_1d(wells: Sequence[tuple[float, float, float]], bowl: float = 0.02,
            bowl_center: float = 0.0, name: str = "") -> TaskLoss:
    """A 1-D task from ``(center, depth, width)`` triples."""
    return TaskLoss(tuple(Well((float(c),), float(d), float(w)) for c, d, w in wells),
                    float(bowl), (float(bowl_center),), name)


def task_2d(wells: Sequence[tuple[tuple[float, float], float, float]], bowl: float = 0.02,
            bowl_center: tuple[float, float] = (0.0, 0.0), name: str = "") -> TaskLoss:
    """A 2-D task from ``((x, y), depth, width)`` triples."""
    return TaskLoss(tuple(Well((float(c[0]), float(c[1])), float(d), float(w))
                          for c, d, w in wells),
                    float(bowl), (float(bowl_center[0]), float(bowl_center[1])), name)


def quadratic_1d(curvature: float, center: float, name: str = "") -> TaskLoss:
    """``l(phi) = 0.5 * curvature * (phi - center)^2``: no wells, closed-form optima."""
    return TaskLoss((), 0.5 * float(curvature), (float(center),), name)


def two_tasks_1d(deep_at: float = 2.5, local_depth: float = 1.0, deep_depth: float = 2.0,
                 task1_at: float = 0.0, width: float = 1.0) -> tuple[TaskLoss, TaskLoss]:
    """The lecture's two tasks from a few slider-friendly shape parameters.

    Task 1 has one well at ``task1_at``. Task 2 has a shallow well (a local
    minimum) right where task 1's minimum is, and its deep, global minimum at
    ``deep_at``. Task 2's loss in its local minimum is about
    ``deep_depth - local_depth``: the deeper the local well, the more tempting
    it is for pre-training and the less an adaptation step gets out of it.
    """
    if not 0 <= local_depth <= deep_depth:
        raise ConfigError("local_depth", f"must lie in [0, deep_depth={deep_depth}], "
                          f"got {local_depth}")
    task1 = task_1d([(task1_at, deep_depth, width)], name="task 1")
    task2 = task_1d([(task1_at, local_depth, 0.6 * width), (deep_at, deep_depth, width)],
                    name="task 2")
    return task1, task2


PRESETS_1D: dict[str, tuple[TaskLoss, ...]] = {
    # Pre-training sits on task 1's minimum, where task 2 has a local minimum it
    # cannot leave; MAML moves to where one step reaches each task's deep well.
    "lecture": two_tasks_1d(),
    # Both tasks want the same phi: pre-training and MAML agree.
    "aligned": (task_1d([(0.0, 2.0, 1.0)], name="task 1"),
                task_1d([(0.4, 2.0, 1.2)], name="task 2")),
    # Two single wells far apart, task 2's a little deeper: pre-training settles
    # in task 2's well and task 1 cannot get out; MAML sits between them, one
    # step from each.
    "far apart": (task_1d([(-1.5, 2.0, 1.0)], name="task 1"),
                  task_1d([(1.5, 2.2, 1.0)], name="task 2")),
    # Two quadratics, no local minima: both optima have closed forms.
    "quadratic": (quadratic_1d(1.0, -1.0, name="task 1"), quadratic_1d(2.0, 2.0, name="task 2")),
}

PRESETS_2D: dict[str, tuple[TaskLoss, ...]] = {
    # The 1-D lecture case in the plane: task 1's well at the origin, where
    # task 2 has a shallow local minimum; task 2's deep well up to the right.
    "lecture": (task_2d([((0.0, 0.0), 2.0, 1.0)], name="task 1"),
                task_2d([((0.0, 0.0), 1.5, 0.6), ((2.5, 1.5), 2.0, 1.0)], name="task 2")),
    # Two round wells, one on each side of the origin.
    "two wells": (task_2d([((-1.5, 0.5), 2.0, 1.0)], name="task 1"),
                  task_2d([((1.5, 1.0), 2.0, 1.2)], name="task 2")),
}

# An inner learning rate (one step) at which each 1-D preset tells its story.
DEFAULT_INNER_LR = {"lecture": 1.2, "aligned": 0.5, "far apart": 1.5, "quadratic": 0.25}
# A phi off the line through the wells, where the four 2-D arrows visibly differ.
DEFAULT_PHI_2D = {"lecture": (1.0, -0.5), "two wells": (1.0, 0.5)}


# ----------------------------------------------------------------------------- validation


def _check_tasks(tasks: Sequence[TaskLoss]) -> int:
    if len(tasks) == 0:
        raise ConfigError("tasks", "needs at least one task")
    dims = {t.dim for t in tasks}
    if len(dims) != 1:
        raise ConfigError("tasks", f"all tasks need the same dimension, got {sorted(dims)}")
    return dims.pop()


def _check_inner(inner_lr: float, steps: int) -> None:
    check_inner_lr(inner_lr)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
        raise ConfigError("steps", f"must be a whole number, got {steps!r}")
    if not 0 <= steps <= MAX_INNER_STEPS:
        raise ConfigError("steps", f"must lie in [0, {MAX_INNER_STEPS}], got {steps}")


def as_phi(phi: float | Sequence[float] | np.ndarray | torch.Tensor, dim: int) -> torch.Tensor:
    """``phi`` as a float64 tensor of shape [dim]; a plain number is a 1-D phi."""
    t = torch.as_tensor(phi, dtype=DTYPE).detach().reshape(-1)
    if t.numel() != dim:
        raise ConfigError("phi", f"needs {dim} coordinate(s), got {t.numel()}")
    if not torch.isfinite(t).all():
        raise ConfigError("phi", f"must be finite, got {t.tolist()}")
    return t


def as_grid(grid: np.ndarray | torch.Tensor | Sequence[float], dim: int) -> torch.Tensor:
    """Grid points as a float64 tensor [..., dim]; a 1-D task accepts a flat [G] grid."""
    g = torch.as_tensor(np.asarray(grid, dtype=np.float64))
    if dim == 1 and (g.ndim == 1 or g.shape[-1] != 1):
        g = g.unsqueeze(-1)
    if g.ndim < 2 or g.shape[-1] != dim or g.numel() == 0:
        raise ConfigError("grid", f"needs points of shape [..., {dim}], got {tuple(g.shape)}")
    if not torch.isfinite(g).all():
        raise ConfigError("grid", "must be finite")
    return g


# ----------------------------------------------------------------------------- the engine


class TaskModel(nn.Module):
    """One task's loss as a model, so that the networks' inner loop runs on it.

    phi is its only weight; whatever the input, its output is l(phi) once per example
    (a task whose examples all sit at one point), and ``value_of`` is their mean: the
    loss. The algorithms see it as they see the MLP, through ``functional_call``.
    """

    def __init__(self, loss: TaskLoss | Objective, dim: int) -> None:
        super().__init__()
        self.loss = loss
        self.phi = nn.Parameter(torch.zeros(dim, dtype=DTYPE))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.loss(self.phi).expand(x.shape[0])


def value_of(outputs: torch.Tensor, _target: torch.Tensor) -> torch.Tensor:
    """A task model's loss: the mean of its (equal) outputs, l(phi) itself."""
    return outputs.mean()


# One task of one example: the data a task model's step adapts on and is judged on.
_X, _Y = torch.zeros(1, 1, 1, dtype=DTYPE), torch.zeros(1, 1, dtype=DTYPE)
_BATCH = (_X, _Y, _X, _Y)


def _loop(loss: TaskLoss | Objective, dim: int, inner_lr: float, steps: int) -> InnerLoop:
    return InnerLoop(TaskModel(loss, dim), value_of, inner_lr, steps)


def adapt(loss: TaskLoss | Objective, phi: torch.Tensor, inner_lr: float,
          steps: int) -> list[torch.Tensor]:
    """The inner loop: ``[phi, theta_1, ..., theta_steps]`` of plain gradient descent.

    Each step is ``theta <- theta - inner_lr * grad l(theta)``: ``mamlviz.inner``'s
    loop on the task's model, so an outer ``grad`` differentiates through it exactly.
    """
    model = TaskModel(loss, phi.shape[-1])
    thetas = adaptation(model, value_of, {"phi": phi}, _X[0], _Y[0], inner_lr, steps)
    return [phi, *(theta["phi"] for theta in thetas)]


def adapted(loss: TaskLoss | Objective, phi: torch.Tensor, inner_lr: float,
            steps: int) -> torch.Tensor:
    """theta_hat(phi): where ``steps`` inner steps from ``phi`` end."""
    return adapt(loss, phi, inner_lr, steps)[-1]


def _with_objective(name: str) -> Algorithm:
    algorithm = algorithms.get(name)
    if algorithm.objective is None:
        with_one = [a.name for a in algorithms.all_algorithms() if a.objective is not None]
        raise ConfigError("objective", f"must be one of {', '.join(with_one)}, got {name!r}")
    return algorithm


def objective_of(name: str, tasks: Sequence[TaskLoss], phi: torch.Tensor, inner_lr: float = 0.0,
                 steps: int = 1) -> torch.Tensor:
    """``sum_n`` of algorithm ``name``'s objective on task n: its per-task objective
    (the registry's, on each task's model) summed over the tasks."""
    objective = _with_objective(name).objective
    assert objective is not None
    return torch.stack([objective(_loop(task, phi.shape[-1], inner_lr, steps), {"phi": phi},
                                  *_BATCH) for task in tasks]).sum()


def pretrain_objective(tasks: Sequence[TaskLoss], phi: torch.Tensor) -> torch.Tensor:
    """Pre-training: ``sum_n l^n(phi)``, how good phi is now."""
    return torch.stack([task(phi) for task in tasks]).sum()


def maml_objective(tasks: Sequence[TaskLoss], phi: torch.Tensor, inner_lr: float,
                   steps: int) -> torch.Tensor:
    """MAML: ``sum_n l^n(theta_hat^n(phi))``, how good phi is after training."""
    return torch.stack([task(adapted(task, phi, inner_lr, steps)) for task in tasks]).sum()


def objective_fn(tasks: Sequence[TaskLoss], objective: str, inner_lr: float = 0.0,
                 steps: int = 1) -> Objective:
    """``phi -> L(phi)`` for an algorithm with an objective (``NOW``, ``AFTER``), ready
    for grad and vmap."""
    _check_tasks(tasks)
    algorithm = _with_objective(objective)
    if algorithm.adapts:
        _check_inner(inner_lr, steps)
    return lambda phi: objective_of(algorithm.name, tasks, phi, inner_lr, steps)


def pretrain_gradient(tasks: Sequence[TaskLoss], phi: torch.Tensor) -> torch.Tensor:
    """``grad_phi sum_n l^n(phi)``."""
    return grad(pretrain_objective, argnums=1)(tasks, as_phi(phi, _check_tasks(tasks)))


def maml_gradient(tasks: Sequence[TaskLoss], phi: torch.Tensor, inner_lr: float,
                  steps: int) -> torch.Tensor:
    """The exact MAML gradient: through every inner step, second derivatives included.

    With one step it is ``sum_n (I - inner_lr * H^n(phi)) grad l^n(theta_hat^n)``.
    """
    _check_inner(inner_lr, steps)
    p = as_phi(phi, _check_tasks(tasks))
    return grad(lambda q: maml_objective(tasks, q, inner_lr, steps))(p)


def objective_curve(tasks: Sequence[TaskLoss], grid: np.ndarray | torch.Tensor,
                    objective: str = NOW, inner_lr: float = 0.0,
                    steps: int = 1) -> np.ndarray:
    """An objective on every grid point (``vmap``): shape ``grid.shape[:-1]``."""
    g = as_grid(grid, _check_tasks(tasks))
    fn = objective_fn(tasks, objective, inner_lr, steps)
    flat = g.reshape(-1, g.shape[-1])
    return vmap(fn)(flat).reshape(g.shape[:-1]).numpy()


def task_curves(tasks: Sequence[TaskLoss], grid: np.ndarray | torch.Tensor) -> np.ndarray:
    """Each task's loss on the grid: shape ``[n_tasks, *grid.shape[:-1]]``."""
    g = as_grid(grid, _check_tasks(tasks))
    flat = g.reshape(-1, g.shape[-1])
    return np.stack([vmap(task)(flat).reshape(g.shape[:-1]).numpy() for task in tasks])


def optimum(objective: Objective, grid: np.ndarray | torch.Tensor, dim: int = 1,
            refine_steps: int = 30) -> np.ndarray:
    """The global minimiser: the best point of a fine grid, refined by Newton steps.

    The grid finds the right basin (the landscapes have local minima); a
    damped Newton iteration with backtracking, kept inside the grid's box,
    then polishes it to machine precision. Returns phi as an array [dim].
    """
    g = as_grid(grid, dim).reshape(-1, dim)
    values = vmap(objective)(g)
    if not torch.isfinite(values).any():
        raise ConfigError("grid", "the objective is not finite anywhere on the grid")
    values = torch.where(torch.isfinite(values), values, torch.inf)
    phi = g[int(torch.argmin(values))].clone()
    lo, hi = g.min(dim=0).values, g.max(dim=0).values
    best = objective(phi)
    g_fn = grad(objective)
    h_fn = jacrev(g_fn)  # reverse over reverse: forward mode would pull in torch.jit
    for _ in range(refine_steps):
        gradient = g_fn(phi)
        if not torch.isfinite(gradient).all() or gradient.norm() < 1e-13:
            break
        h = h_fn(phi)
        # Newton where the curvature is positive, else plain gradient descent.
        newton = bool(torch.linalg.eigvalsh(h).min() > 0)
        step = torch.linalg.solve(h, gradient) if newton else gradient
        if newton and float(step.norm()) <= 1e-13 * (1.0 + float(phi.norm())):
            # Converged to rounding: the gradient's own rounding noise (which can
            # exceed 1e-13) would otherwise keep the loop backtracking in place.
            break
        for _ in range(40):  # backtrack until the objective does not increase
            candidate = torch.clamp(phi - step, lo, hi)
            value = objective(candidate)
            if torch.isfinite(value) and value <= best:
                break
            step = step / 2
        else:
            break
        if torch.equal(candidate, phi):
            break
        phi, best = candidate, value
    return phi.detach().numpy()


def pretrain_optimum(tasks: Sequence[TaskLoss], grid: np.ndarray | torch.Tensor) -> np.ndarray:
    """argmin_phi sum_n l^n(phi) over the grid's range."""
    return optimum(objective_fn(tasks, NOW), grid, _check_tasks(tasks))


def maml_optimum(tasks: Sequence[TaskLoss], grid: np.ndarray | torch.Tensor, inner_lr: float,
                 steps: int) -> np.ndarray:
    """argmin_phi sum_n l^n(theta_hat^n(phi)) over the grid's range."""
    return optimum(objective_fn(tasks, AFTER, inner_lr, steps), grid, _check_tasks(tasks))


# ----------------------------------------------------------------------------- update directions


@dataclass(frozen=True)
class Directions:
    """Where each algorithm would move phi, and the adapted points behind them.

    Each direction is the negative of what the algorithm subtracts from phi, so
    ``phi + meta_lr * direction`` is its update; all are arrays [dim], one per
    registered algorithm, also read as attributes (``directions.maml``).
    """

    phi: np.ndarray
    by_algorithm: dict[str, np.ndarray]
    theta_hat: np.ndarray  # [n_tasks, dim], after ``steps`` inner steps
    theta_tilde: np.ndarray  # [n_tasks, dim], after ``reptile_steps`` inner steps

    def __getattr__(self, name: str) -> np.ndarray:
        by_algorithm = self.__dict__.get("by_algorithm", {})
        if name in by_algorithm:
            return by_algorithm[name]
        raise AttributeError(name)

    def as_dict(self) -> dict[str, np.ndarray]:
        return dict(self.by_algorithm)


def _inner_steps(algorithm: Algorithm, steps: int, reptile_steps: int | None) -> int:
    """An interpolating algorithm (Reptile) takes its own ``reptile_steps``."""
    own = algorithm.outer_rule == "interpolation" and reptile_steps is not None
    return int(reptile_steps) if own and reptile_steps is not None else steps


def meta_direction(method: str, tasks: Sequence[TaskLoss], meta: Params, inner_lr: float,
                   steps: int, reptile_steps: int | None = None) -> Params:
    """Minus the sum over tasks of algorithm ``method``'s meta-step (the registry's, the
    networks' own) on each task's model, for everything it meta-learns: ``meta["phi"]``
    and, for Meta-SGD, the step size ``meta["inner_lr.phi"]``."""
    algorithm = algorithms.get(method)
    k = _inner_steps(algorithm, steps, reptile_steps)
    parts = [algorithm.make_step(_loop(task, meta["phi"].shape[-1], inner_lr, k))(meta,
                                                                                  *_BATCH)[0]
             for task in tasks]
    return {key: -torch.stack([part[key] for part in parts]).sum(0) for key in parts[0]}


def direction(method: str, tasks: Sequence[TaskLoss], phi: torch.Tensor, inner_lr: float,
              steps: int, reptile_steps: int | None = None) -> torch.Tensor:
    """Algorithm ``method``'s update direction at phi as meta-training starts there (a
    meta-learned step size starts at ``inner_lr``)."""
    meta = algorithms.get(method).init_phi({"phi": phi}, inner_lr)
    return meta_direction(method, tasks, meta, inner_lr, steps, reptile_steps)["phi"]


def _check_steps(inner_lr: float, steps: int, reptile_steps: int | None) -> None:
    _check_inner(inner_lr, steps)
    if reptile_steps is not None:
        try:
            _check_inner(inner_lr, reptile_steps)
        except ConfigError as exc:
            raise ConfigError("reptile_steps", str(exc).split(": ", 1)[1]) from None


def update_directions(tasks: Sequence[TaskLoss], phi: float | Sequence[float] | np.ndarray
                      | torch.Tensor, inner_lr: float, steps: int,
                      reptile_steps: int | None = None) -> Directions:
    """The update direction of every registered algorithm at phi.

    The lecture's 2-D figure: from phi, inner steps on task n give theta_hat^n;
    first-order MAML moves phi along minus the gradient at theta_hat^n; MAML
    corrects that by the Jacobian of theta_hat^n (second derivatives);
    pre-training uses the gradient at phi itself. Reptile's ``reptile_steps``
    default to ``steps``.
    """
    dim = _check_tasks(tasks)
    _check_steps(inner_lr, steps, reptile_steps)
    k = steps if reptile_steps is None else reptile_steps
    p = as_phi(phi, dim)
    theta_hat = torch.stack([adapted(t, p, inner_lr, steps) for t in tasks])
    theta_tilde = torch.stack([adapted(t, p, inner_lr, k) for t in tasks])
    return Directions(
        phi=p.numpy(),
        by_algorithm={m: direction(m, tasks, p, inner_lr, steps, reptile_steps).detach().numpy()
                      for m in METHODS},
        theta_hat=theta_hat.detach().numpy(),
        theta_tilde=theta_tilde.detach().numpy(),
    )


# ----------------------------------------------------------------------------- trajectories


@dataclass(frozen=True)
class Trajectory:
    """phi over meta-training: ``phis[t]`` after t meta-steps, shape [n, dim].

    ``diverged`` says the run stopped early because phi or its update became
    non-finite or huge; ``phis`` then holds only the finite part.
    """

    method: str
    phis: np.ndarray
    diverged: bool = False
    note: str = ""
    # [n, dim]: the inner step size meta-learned beside phi (Meta-SGD's), per meta-step
    rates: np.ndarray | None = None


def trajectory(method: str, tasks: Sequence[TaskLoss], phi0: float | Sequence[float]
               | np.ndarray | torch.Tensor, meta_lr: float, n_steps: int, inner_lr: float,
               steps: int, reptile_steps: int | None = None) -> Trajectory:
    """Meta-train phi from ``phi0`` with one method: ``phi <- phi + meta_lr * direction``.

    Every method starts from the same phi0, so the animation compares them
    fairly. Reptile's direction is ``sum_n (theta_tilde^n - phi)``, which is
    ``inner_lr`` times smaller than a gradient; give it its own ``meta_lr``.
    Meta-SGD's step size, one per coordinate, starts at ``inner_lr`` and moves
    with phi, by the same ``meta_lr``.
    Plain gradient descent is stable only for ``meta_lr < 2 / curvature``, and
    the MAML objective can be sharp at its optimum (about 17 in the 'lecture'
    preset with inner_lr 1.2): too large a ``meta_lr`` oscillates or diverges.
    """
    if method not in METHODS:
        raise ConfigError("method", f"must be one of {', '.join(METHODS)}, "
                          f"got {method!r}")
    if not (isinstance(meta_lr, (int, float)) and math.isfinite(meta_lr) and meta_lr > 0):
        raise ConfigError("meta_lr", f"must be a finite number > 0, got {meta_lr!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise ConfigError("n_steps", f"must be a whole number >= 0, got {n_steps!r}")
    dim = _check_tasks(tasks)
    _check_inner(inner_lr, steps)
    if reptile_steps is not None:
        _check_inner(inner_lr, reptile_steps)
    meta = algorithms.get(method).init_phi({"phi": as_phi(phi0, dim)}, inner_lr)
    rate = RATES + "phi"
    phis, rates = [meta["phi"].numpy()], [meta[rate].numpy()] if rate in meta else None

    def done(diverged: bool = False, note: str = "") -> Trajectory:
        return Trajectory(method, np.stack(phis), diverged, note,
                          None if rates is None else np.stack(rates))

    for t in range(n_steps):
        step = meta_direction(method, tasks, meta, inner_lr, steps, reptile_steps)
        meta = {key: meta[key] + meta_lr * step[key] for key in meta}
        together = torch.cat(list(meta.values()))
        if not bool(torch.isfinite(together).all()) or float(together.abs().max()) > DIVERGED_ABOVE:
            return done(True, f"diverged at meta-step {t + 1}: lower meta_lr or inner_lr")
        phis.append(meta["phi"].numpy())
        if rates is not None:
            rates.append(meta[rate].numpy())
    return done()


# ----------------------------------------------------------------------------- figure data


@dataclass(frozen=True)
class Landscape1D:
    """Everything the 1-D figure draws, as plain arrays."""

    grid: np.ndarray  # [G]
    task_losses: np.ndarray  # [n_tasks, G]
    pretrain: np.ndarray  # [G]
    maml: np.ndarray  # [G]
    pretrain_optimum: float
    maml_optimum: float
    phi: float  # the point whose adaptation is drawn
    theta_hat: np.ndarray  # [n_tasks] after ``steps`` inner steps from phi
    loss_at_phi: np.ndarray  # [n_tasks]: l^n(phi)
    loss_at_theta_hat: np.ndarray  # [n_tasks]: l^n(theta_hat^n)
    task_names: tuple[str, ...]
    inner_lr: float
    steps: int


def landscape_1d(tasks: Sequence[TaskLoss], inner_lr: float, steps: int,
                 phi: float | None = None, lo: float = -3.0, hi: float = 6.0,
                 n_points: int = 901, pretrain_phi: float | None = None) -> Landscape1D:
    """The data of the lecture's 1-D picture; ``phi`` defaults to the MAML optimum.

    ``pretrain_phi``: the pre-training optimum on this same grid, when the
    caller has it already (it does not depend on ``inner_lr`` or ``steps``).
    """
    if _check_tasks(tasks) != 1:
        raise ConfigError("tasks", "the 1-D landscape needs 1-D tasks")
    _check_inner(inner_lr, steps)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigError("range", f"needs finite lo < hi, got ({lo}, {hi})")
    if n_points < 3:
        raise ConfigError("n_points", f"needs at least 3 points, got {n_points}")
    grid = np.linspace(lo, hi, n_points)
    pre_opt = (float(pretrain_optimum(tasks, grid)[0]) if pretrain_phi is None
               else float(pretrain_phi))
    maml_opt = float(maml_optimum(tasks, grid, inner_lr, steps)[0])
    data = Landscape1D(
        grid=grid,
        task_losses=task_curves(tasks, grid),
        pretrain=objective_curve(tasks, grid, NOW),
        maml=objective_curve(tasks, grid, AFTER, inner_lr, steps),
        pretrain_optimum=pre_opt,
        maml_optimum=maml_opt,
        phi=maml_opt,
        theta_hat=np.array([]),
        loss_at_phi=np.array([]),
        loss_at_theta_hat=np.array([]),
        task_names=tuple(t.name or f"task {i + 1}" for i, t in enumerate(tasks)),
        inner_lr=float(inner_lr),
        steps=int(steps),
    )
    return adapted_from(data, tasks, maml_opt if phi is None else phi)


def adapted_from(data: Landscape1D, tasks: Sequence[TaskLoss], phi: float) -> Landscape1D:
    """The same landscape with its adaptation drawn from another ``phi``.

    Only theta_hat and the losses at phi and theta_hat change; the curves and
    optima (the expensive part) are reused.
    """
    p = as_phi(phi, 1)
    theta = torch.stack([adapted(t, p, data.inner_lr, data.steps) for t in tasks])
    return replace(
        data,
        phi=float(p[0]),
        theta_hat=theta[:, 0].detach().numpy(),
        loss_at_phi=np.array([float(t(p)) for t in tasks]),
        loss_at_theta_hat=np.array([float(t(th)) for t, th in zip(tasks, theta)]),
    )


def max_curvature(tasks: Sequence[TaskLoss], grid: np.ndarray | torch.Tensor) -> float:
    """The largest second derivative of any 1-D task loss on the grid.

    Plain gradient descent with step ``inner_lr`` overshoots a minimum whose
    curvature exceeds ``2 / inner_lr``: the inner steps then bounce around in
    the well instead of settling into it.
    """
    if _check_tasks(tasks) != 1:
        raise ConfigError("tasks", "the curvature check needs 1-D tasks")
    flat = as_grid(grid, 1).reshape(-1, 1)
    # reverse over reverse, as in ``optimum``: forward mode would pull in torch.jit
    return max(float(vmap(jacrev(grad(t)))(flat).max()) for t in tasks)


@dataclass(frozen=True)
class Landscape2D:
    """Everything the 2-D figure draws, as plain arrays."""

    xs: np.ndarray  # [X]
    ys: np.ndarray  # [Y]
    task_losses: np.ndarray  # [n_tasks, Y, X]
    directions: Directions
    task_names: tuple[str, ...]


def landscape_2d(tasks: Sequence[TaskLoss], phi: Sequence[float] | np.ndarray, inner_lr: float,
                 steps: int, reptile_steps: int | None = None,
                 x_range: tuple[float, float] = (-3.0, 5.0),
                 y_range: tuple[float, float] = (-3.0, 4.0), n_points: int = 121) -> Landscape2D:
    """The data of the lecture's 2-D figure: task contours and the four arrows at phi."""
    if _check_tasks(tasks) != 2:
        raise ConfigError("tasks", "the 2-D landscape needs 2-D tasks")
    for name, (lo, hi) in (("x_range", x_range), ("y_range", y_range)):
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ConfigError(name, f"needs finite lo < hi, got ({lo}, {hi})")
    if n_points < 3:
        raise ConfigError("n_points", f"needs at least 3 points, got {n_points}")
    xs, ys = np.linspace(*x_range, n_points), np.linspace(*y_range, n_points)
    mesh = np.stack(np.meshgrid(xs, ys), axis=-1)  # [Y, X, 2]
    return Landscape2D(
        xs=xs, ys=ys, task_losses=task_curves(tasks, mesh),
        directions=update_directions(tasks, phi, inner_lr, steps, reptile_steps),
        task_names=tuple(t.name or f"task {i + 1}" for i, t in enumerate(tasks)),
    )


# ----------------------------------------------------------------------------- direction fields


def direction_field(tasks: Sequence[TaskLoss], grid: np.ndarray | torch.Tensor, inner_lr: float,
                    steps: int, reptile_steps: int | None = None) -> dict[str, np.ndarray]:
    """Every algorithm's update direction at every grid point (``vmap``): name -> [..., dim].

    The same directions as ``update_directions``, computed for a whole grid at
    once; in 1-D a direction's zeros where it crosses from + to - are the phi
    the algorithm settles at (Reptile's included, which minimises no plain
    objective of its own).
    """
    dim = _check_tasks(tasks)
    _check_inner(inner_lr, steps)
    k = steps if reptile_steps is None else reptile_steps
    _check_inner(inner_lr, k)
    g = as_grid(grid, dim)
    flat = g.reshape(-1, dim)
    return {m: vmap(partial(direction, m, tasks, inner_lr=inner_lr, steps=steps,
                            reptile_steps=reptile_steps))(flat).reshape(g.shape).numpy()
            for m in METHODS}

"""What an algorithm is: an object with a name, a look, defaults, and one meta-step.

Every algorithm turns a meta-batch into an update *direction* for ``phi`` (a
pseudo-gradient that the outer optimiser follows) plus the query losses of every
task before and after adaptation, which the training records report. It adapts
through the one functional inner loop of ``mamlviz.inner``; the analytic landscapes
(``mamlviz.landscape``) are a model like any other, so the same step gives their
update directions too.

Some algorithms meta-learn more than phi's weights (Meta-SGD: a step size per weight).
Those extra meta-parameters ride in the same dictionary, under their own prefix
(``mamlviz.inner.RATES``), so the outer optimiser, checkpoints and resumed runs carry
them like any weight; ``Algorithm.init_phi`` adds them to fresh weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..inner import ADAM_BETA2, LossFn, Params, adapt, adapt_keeping_moments, check_inner, task_loss

# (direction, query loss before adaptation [tasks], query loss after [tasks])
StepOutput = tuple[Params, torch.Tensor, torch.Tensor]
StepFn = Callable[..., Any]
# A task's part of the naive reference (``mamlviz.reference``): a loss to differentiate
# with respect to phi, or a direction already.
NaiveTask = Callable[..., "torch.Tensor | Params"]
PROBLEMS = ("sinusoid", "omniglot")
FAMILIES = ("gradient-based", "metric-based")
OUTER_RULES = ("gradient", "interpolation")


@dataclass(frozen=True)
class InnerLoop:
    """What every algorithm needs to adapt: the model, its loss, and the inner loop's settings."""

    model: nn.Module
    loss_fn: LossFn
    inner_lr: float
    inner_steps: int
    optimizer: str = "sgd"  # or "adam": Reptile's inner Adam (mamlviz.inner)
    batch_size: int | None = None  # support examples per inner step; None: all of them
    keep_moments: bool = False  # Adam's moments go on from task to task (Reptile's code)
    lam: float | None = None  # the pull towards phi in the steps (iMAML's); None: its own

    def __post_init__(self) -> None:
        check_inner(self.inner_lr, self.inner_steps)

    def pull(self, own: float) -> float:
        """The pull towards phi the inner steps take: this loop's, else the algorithm's ``own``."""
        return own if self.lam is None else self.lam

    def adapt(self, phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
              first_order: bool) -> Params:
        return adapt(self.model, self.loss_fn, phi, support_x, support_y, self.inner_lr,
                     self.inner_steps, first_order, self.optimizer, self.batch_size)

    def adapt_keeping_moments(self, phi: Params, support_x: torch.Tensor,
                              support_y: torch.Tensor, moments: Params
                              ) -> tuple[Params, Params]:
        return adapt_keeping_moments(self.model, self.loss_fn, phi, support_x, support_y,
                                     self.inner_lr, self.inner_steps, True, self.optimizer,
                                     self.batch_size, moments)


def weights_only(phi: Params, inner_lr: float) -> Params:
    """A fresh phi for an algorithm that meta-learns only the weights: the weights."""
    return phi


def query_losses(loop: InnerLoop, phi: Params, theta: Params, query_x: torch.Tensor,
                 query_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A task's query loss before (at phi) and after adaptation (at theta)."""
    before = task_loss(loop.model, loop.loss_fn, phi, query_x, query_y)
    after = task_loss(loop.model, loop.loss_fn, theta, query_x, query_y)
    return before, after


def merge_moments(moments: Params, per_task: Params, steps: int) -> Params:
    """Adam's moments after a meta-batch whose tasks each took ``steps`` steps from ``moments``.

    The paper's code runs the tasks one after another through one Adam, so each task's
    squared gradients decay under the later ones. Here the tasks run side by side, each
    from the same moments; their own averages c^n = (v^n - beta2^s v) / (1 - beta2^s)
    are merged with the weight they would have had in turn, in no particular order:
    v <- beta2^(N s) v + (1 - beta2^(N s)) mean_n c^n, and t <- t + N s.
    """
    n_tasks = per_task["t"].shape[0]
    one_task, all_tasks = ADAM_BETA2**steps, ADAM_BETA2 ** (n_tasks * steps)
    merged = {"t": moments["t"] + n_tasks * steps}
    for k, v in moments.items():
        if k != "t":
            own = (per_task[k] - one_task * v) / (1 - one_task)
            merged[k] = all_tasks * v + (1 - all_tasks) * own.mean(0)
    return merged


@dataclass(frozen=True)
class Algorithm:
    """One meta-learning algorithm, everything the engine, figures and chapters need of it.

    ``make_step(loop)`` is the batched (vmap) meta-step: ``step(phi, support_x,
    support_y, query_x, query_y) -> (direction, before, after)``; the direction is what
    the outer optimiser subtracts from phi, averaged over the tasks. ``objective``, where
    the algorithm minimises one, is that loss of phi (the mean over tasks, and the
    per-task losses as aux); the landscapes draw it. ``naive_task`` is the same maths
    written plainly for one task, for the float64 reference loop. ``defaults`` holds
    the algorithm's departures from the problem's paper settings: for "sinusoid" one
    dict, for "omniglot" one dict per nearest n_way (5 or 20). ``init_phi(weights,
    inner_lr)`` is phi as meta-training starts: the fresh weights, plus any further
    meta-parameters the algorithm learns (Meta-SGD's step sizes). ``lam`` is the strength
    of a regulariser lam/2 ||theta - phi||^2 added to the inner problem (iMAML's; 0: none).
    """

    name: str
    # The display name in English (the CLI's, a figure's default); the chapters show each
    # language's from its catalogue (pages/locales/, section "algorithms").
    label: str
    colour: str
    family: str
    make_step: Callable[[InnerLoop], StepFn]
    naive_task: NaiveTask
    problems: tuple[str, ...] = PROBLEMS
    objective: Callable[..., Any] | None = None
    second_order: bool = False  # differentiates through the inner steps
    adapts: bool = True  # needs at least one inner step to mean anything
    outer_rule: str = "gradient"  # or "interpolation": phi moves a fraction eps of the way
    keeps_moments: bool = False  # may keep Adam's inner moments from task to task
    # Which weights the inner loop moves: name -> 1.0 (all of it), 0.0 (none) or a mask
    # tensor (some coordinates); None: every weight (ANIL: only the head).
    inner_mask: Callable[[Params], Mapping[str, torch.Tensor | float]] | None = None
    # A classifier without an inner loop (metric-based): (model, phi, support_x,
    # support_y, query_x) -> query logits; evaluation scores these once, at no step.
    classify: Callable[..., torch.Tensor] | None = None
    dash: str = "solid"  # line style and width where curves of every algorithm overlap
    line_width: float = 2
    defaults: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)
    # Published Omniglot accuracy in %, (n_way, k_shot) -> "mean ± ci", and its source.
    paper: Mapping[tuple[int, int], str] = field(default_factory=dict)
    paper_source: str = ""
    init_phi: Callable[[Params, float], Params] = weights_only
    lam: float = 0.0

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"algorithm name {self.name!r} must be an identifier")
        if not (isinstance(self.label, str) and self.label.strip()):
            raise ValueError(f"{self.name}: needs a display name (label), got {self.label!r}")
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: family must be one of {FAMILIES}")
        if self.outer_rule not in OUTER_RULES:
            raise ValueError(f"{self.name}: outer_rule must be one of {OUTER_RULES}")
        if not set(self.problems) <= set(PROBLEMS):
            raise ValueError(f"{self.name}: problems must be among {PROBLEMS}")
        if not (self.lam >= 0 and self.lam < float("inf")):
            raise ValueError(f"{self.name}: lam must be finite and >= 0, got {self.lam}")

    def departures(self, problem: str, n_way: int = 5) -> dict[str, Any]:
        """This algorithm's settings that differ from the problem's paper defaults."""
        given = self.defaults.get(problem, {})
        if problem == "omniglot":
            return dict(given.get(5 if n_way < 12 else 20, {}))
        return dict(given)

    def paper_accuracy(self, n_way: int, k_shot: int) -> float | None:
        """The published Omniglot accuracy (%) at ``n_way``-way ``k_shot``-shot, if any."""
        value = self.paper.get((n_way, k_shot))
        return None if value is None else float(value.split(" ± ")[0])

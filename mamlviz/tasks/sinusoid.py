"""The sinusoid toy problem of the MAML paper (Finn et al. 2017, section 5.1).

Each task is a curve y = a sin(x + b). The paper draws the amplitude a from
[0.1, 5.0], the phase b from [0, pi] and x uniformly from [-5, 5]; the lecture
and the Reptile paper (Nichol et al. 2018) use phases in [0, 2 pi], so the
phase range is a setting. A K-shot task gives K support points; its query
points score the adapted model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import ConfigError
from .base import TaskBatch, check_counts

PAPER_AMPLITUDE = (0.1, 5.0)
PAPER_PHASE = (0.0, math.pi)
LECTURE_PHASE = (0.0, 2 * math.pi)
PAPER_X_RANGE = (-5.0, 5.0)


def _check_range(field: str, lo_hi: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (float(v) for v in lo_hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ConfigError(field, f"needs finite low <= high, got ({lo}, {hi})")
    return lo, hi


@dataclass(frozen=True)
class SinusoidTask:
    """One task: the curve y = amplitude * sin(x + phase)."""

    amplitude: float
    phase: float

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.sin(x + self.phase)

    def sample(
        self,
        k_shot: int,
        n_query: int = 100,
        *,
        generator: torch.Generator | None = None,
        x_range: tuple[float, float] = PAPER_X_RANGE,
    ) -> TaskBatch:
        """K support and ``n_query`` query points drawn uniformly from ``x_range``."""
        return SinusoidTasks(
            amplitude=(self.amplitude, self.amplitude),
            phase=(self.phase, self.phase),
            x_range=x_range,
        ).sample(1, k_shot, n_query, generator=generator)


@dataclass(frozen=True)
class SinusoidTasks:
    """The task distribution p(T): amplitudes, phases and inputs drawn uniformly."""

    amplitude: tuple[float, float] = PAPER_AMPLITUDE
    phase: tuple[float, float] = PAPER_PHASE
    x_range: tuple[float, float] = PAPER_X_RANGE

    def __post_init__(self) -> None:
        _check_range("amplitude", self.amplitude)
        _check_range("phase", self.phase)
        _check_range("x_range", self.x_range)

    def draw(
        self, n_tasks: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Amplitudes and phases of ``n_tasks`` tasks, each of shape [n_tasks]."""
        device = generator.device if generator is not None else torch.device("cpu")
        u = torch.rand(2, n_tasks, generator=generator, device=device)
        (a_lo, a_hi), (b_lo, b_hi) = self.amplitude, self.phase
        return a_lo + (a_hi - a_lo) * u[0], b_lo + (b_hi - b_lo) * u[1]

    def sample(
        self,
        n_tasks: int,
        k_shot: int,
        n_query: int,
        *,
        generator: torch.Generator | None = None,
        amplitude: torch.Tensor | None = None,
        phase: torch.Tensor | None = None,
    ) -> TaskBatch:
        """A meta-batch: ``n_tasks`` tasks with ``k_shot`` support and ``n_query`` query points.

        Tensors are created on the generator's device (so a CUDA generator samples on
        the GPU). ``amplitude``/``phase`` fix the tasks instead of drawing them.
        """
        check_counts(n_tasks, k_shot, n_query)
        if amplitude is None or phase is None:
            amplitude, phase = self.draw(n_tasks, generator)
        device = amplitude.device
        lo, hi = self.x_range
        x = lo + (hi - lo) * torch.rand(
            n_tasks, k_shot + n_query, 1, generator=generator, device=device
        )
        y = amplitude.view(-1, 1, 1) * torch.sin(x + phase.view(-1, 1, 1))
        return TaskBatch(x[:, :k_shot], y[:, :k_shot], x[:, k_shot:], y[:, k_shot:])


def support_from_points(
    x: list[float] | torch.Tensor, y: list[float] | torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """A support set from a student's own points (any values, out of range included)."""
    xt = torch.as_tensor(x, dtype=torch.float32).reshape(-1, 1)
    yt = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    if xt.shape != yt.shape:
        raise ConfigError("points", f"need as many x as y values, got {len(xt)} and {len(yt)}")
    if len(xt) == 0:
        raise ConfigError("points", "give at least one point")
    if not (torch.isfinite(xt).all() and torch.isfinite(yt).all()):
        raise ConfigError("points", "every coordinate must be a finite number")
    return xt, yt

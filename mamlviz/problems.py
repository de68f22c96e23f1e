"""A problem = a task distribution + the model and loss that learn it.

The training loop and evaluation only see this small interface, so the
sinusoid toy problem and Omniglot go through the same engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .config import TrainConfig
from .errors import ConfigError
from .inner import LossFn, mse
from .models.mlp import SinusoidMLP
from .tasks import SinusoidTasks, TaskBatch


@dataclass
class SinusoidProblem:
    """Regression on y = a sin(x + b) with the paper's 1-40-40-1 MLP and MSE loss."""

    tasks: SinusoidTasks = field(default_factory=SinusoidTasks)
    k_shot: int = 10
    n_query: int = 10
    name: str = "sinusoid"
    loss_fn: LossFn = mse
    model: nn.Module = field(default_factory=SinusoidMLP)

    def sample(self, n_tasks: int, generator: torch.Generator) -> TaskBatch:
        return self.tasks.sample(n_tasks, self.k_shot, self.n_query, generator=generator)


def problem_from_config(config: TrainConfig) -> SinusoidProblem:
    if config.problem == "sinusoid":
        tasks = SinusoidTasks(amplitude=config.amplitude, phase=config.phase,
                              x_range=config.x_range)
        return SinusoidProblem(tasks=tasks, k_shot=config.k_shot, n_query=config.n_query)
    raise ConfigError("problem", f"unknown problem {config.problem!r}")

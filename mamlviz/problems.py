"""A problem = a task distribution + the model, loss and metric that learn and judge it.

The training loop and evaluation only see this small interface, so the
sinusoid toy problem (Finn et al. 2017, 5.1) and Omniglot few-shot
classification (5.2) go through the same engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from .config import TrainConfig
from .errors import ConfigError
from .inner import LossFn, accuracy, cross_entropy, mse
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
    metric_fn: LossFn = mse
    metric_name: str = "mse"
    model: nn.Module = field(default_factory=SinusoidMLP)

    def sample(self, n_tasks: int, generator: torch.Generator) -> TaskBatch:
        return self.tasks.sample(n_tasks, self.k_shot, self.n_query, generator=generator)


@dataclass
class OmniglotProblem:
    """N-way K-shot classification of Omniglot characters with the paper's Conv4."""

    tasks: Any  # mamlviz.tasks.OmniglotTasks over one split's classes
    k_shot: int = 1
    n_query: int = 15  # per class
    name: str = "omniglot"
    loss_fn: LossFn = cross_entropy
    metric_fn: LossFn = accuracy
    metric_name: str = "accuracy"
    model: nn.Module = field(default_factory=nn.Identity)

    def sample(self, n_tasks: int, generator: torch.Generator) -> TaskBatch:
        return self.tasks.sample(n_tasks, self.k_shot, self.n_query, generator=generator)


Problem = SinusoidProblem | OmniglotProblem


def problem_from_config(config: TrainConfig, device: torch.device | str = "cpu",
                        split: str = "train", omniglot: Any = None) -> Problem:
    """The problem a config describes; ``split`` picks Omniglot's training or testing classes.

    Training tasks have ``config.shots_in_training`` support shots (Reptile's paper trains
    on more shots than its test tasks give) and ``config.ways_in_training`` classes
    (ProtoNets' paper trains on more ways); testing tasks have ``config.k_shot`` and
    ``config.n_way``.

    ``omniglot`` is loaded Omniglot data or a source path (default: ``$MAMLVIZ_OMNIGLOT``
    or the download cache, see ``mamlviz.data``).
    """
    k_shot = config.shots_in_training if split == "train" else config.k_shot
    if config.problem == "sinusoid":
        tasks = SinusoidTasks(amplitude=config.amplitude, phase=config.phase,
                              x_range=config.x_range)
        return SinusoidProblem(tasks=tasks, k_shot=k_shot, n_query=config.n_query)
    if config.problem == "omniglot":
        from .data import OmniglotData, load_omniglot
        from .models.conv4 import Conv4
        from .tasks import OmniglotTasks, WithinAlphabetTasks
        from .tasks.distort import DistortedTasks

        data = omniglot if isinstance(omniglot, OmniglotData) else load_omniglot(omniglot)
        train, test = data.split(config.protocol)
        if config.rotations is not None:
            train = train.with_rotations(config.rotations)
        chosen = (train if split == "train" else test).to(device)
        sampler = (WithinAlphabetTasks if split == "train"
                   and config.train_episodes == "within-alphabet" else OmniglotTasks)
        n_way = config.ways_in_training if split == "train" else config.n_way
        drawn: Any = sampler(chosen, n_way=n_way)
        if split == "train" and config.distort:
            drawn = DistortedTasks(drawn)
        return OmniglotProblem(tasks=drawn, k_shot=k_shot, n_query=config.n_query,
                               model=Conv4(config.n_way))
    raise ConfigError("problem", f"unknown problem {config.problem!r}")

"""A meta-batch of tasks, as the three steps of meta-learning see it.

Every task n has a support set (the task's "training data", which adapts
``phi`` into ``theta_hat^n``) and a query set (its "testing data", which
scores ``theta_hat^n`` as ``l^n``). Leading dimension: the task.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import ConfigError


def check_counts(n_tasks: int, k_shot: int, n_query: int) -> None:
    """A meta-batch needs at least one task, one support and one query example each."""
    for field, value in (("meta_batch_size", n_tasks), ("k_shot", k_shot), ("n_query", n_query)):
        if value < 1:
            raise ConfigError(field, f"must be at least 1, got {value}")


@dataclass(frozen=True)
class TaskBatch:
    support_x: torch.Tensor  # [tasks, k_shot * n_way, ...]
    support_y: torch.Tensor
    query_x: torch.Tensor  # [tasks, n_query, ...]
    query_y: torch.Tensor

    @property
    def n_tasks(self) -> int:
        return int(self.support_x.shape[0])

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> TaskBatch:
        def move(t: torch.Tensor) -> torch.Tensor:
            if dtype is not None and t.is_floating_point():
                return t.to(device=device, dtype=dtype)
            return t.to(device=device)

        return TaskBatch(*(move(t) for t in self.tensors()))

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return (self.support_x, self.support_y, self.query_x, self.query_y)

    def task(self, n: int) -> TaskBatch:
        """Task ``n`` alone, still with a leading task dimension of 1."""
        return TaskBatch(*(t[n : n + 1] for t in self.tensors()))

    def shuffled_support(self, generator: torch.Generator | None = None) -> TaskBatch:
        """Each task's support set in a random order of its own (its query set as it was).

        An inner loop on mini-batches (Reptile's) takes them in turn from the support set,
        which samplers group by class: shuffled, every mini-batch mixes the classes.
        """
        rng_device = generator.device if generator is not None else self.support_x.device
        keys = torch.rand(self.support_y.shape[:2], generator=generator, device=rng_device)
        order = keys.argsort(dim=1).to(self.support_x.device)

        def take(t: torch.Tensor) -> torch.Tensor:
            index = order.view(*order.shape, *([1] * (t.dim() - 2))).expand_as(t)
            return t.gather(1, index)

        return TaskBatch(take(self.support_x), take(self.support_y), self.query_x, self.query_y)

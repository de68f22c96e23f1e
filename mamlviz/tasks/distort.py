"""Small random affine distortions of Omniglot drawings, for meta-training only.

Koch, Zemel and Salakhutdinov (2015), "Siamese Neural Networks for One-shot Image
Recognition": every training drawing may be turned by theta in [-10, 10]
degrees, sheared by rho_x, rho_y in [-0.3, 0.3], scaled by s_x, s_y in [0.8, 1.2] and
moved by t_x, t_y in [-2, 2] pixels of their 105-pixel images, each of the four parts
applied with probability 1/2. Their network's 8.0 % error on Lake's within-alphabet
20-way runs (the bar of issue 25) was trained that way. Here each drawing of a task, in
its support and its query set alike, gets a distortion of its own: a character is a
family of strokes, and a new drawer varies it in just these ways, so the task stays one
task and the model sees more of what one-shot testing asks of it.

The testing tasks are never distorted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .base import TaskBatch

MAX_DEGREES = 10.0
MAX_SHEAR = 0.3
SCALE = (0.8, 1.2)
# 2 of Koch's 105 pixels, in affine_grid's coordinates, where [-1, 1] spans the image.
MAX_SHIFT = 2 * 2.0 / 105.0


def affine_matrices(n: int, generator: torch.Generator | None = None,
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """``n`` random 2x3 affine maps in ``affine_grid``'s coordinates ([-1, 1] across)."""
    rng_device = generator.device if generator is not None else torch.device(device)

    def uniform(lo: float, hi: float, *shape: int) -> torch.Tensor:
        u = torch.rand(n, *shape, generator=generator, device=rng_device)
        return (lo + (hi - lo) * u).to(device)

    # Each of the four parts is on for a drawing with probability 1/2, else the identity.
    on = (torch.rand(n, 4, generator=generator, device=rng_device) < 0.5).to(device)
    theta = uniform(-MAX_DEGREES, MAX_DEGREES) * (math.pi / 180.0) * on[:, 0]
    shear = uniform(-MAX_SHEAR, MAX_SHEAR, 2) * on[:, 1:2]
    scale = 1.0 + (uniform(*SCALE, 2) - 1.0) * on[:, 2:3]
    shift = uniform(-MAX_SHIFT, MAX_SHIFT, 2) * on[:, 3:4]

    cos, sin = theta.cos(), theta.sin()
    rotate = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
    one = torch.ones(n, device=device)
    sheared = torch.stack([torch.stack([one, shear[:, 0]], -1),
                           torch.stack([shear[:, 1], one], -1)], -2)
    linear = rotate @ sheared @ torch.diag_embed(scale)
    return torch.cat([linear, shift.unsqueeze(-1)], dim=-1)  # [n, 2, 3]


def warp(images: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Images ``[n, 1, H, W]`` (ink 1, paper 0) each under its 2x3 map (``affine_grid``'s)."""
    grid = F.affine_grid(maps.to(images.dtype), list(images.shape), align_corners=False)
    # Outside the drawing is blank paper: zeros.
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def distort(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image of ``[..., 1, H, W]`` under a random affine map of its own."""
    flat = images.reshape(-1, *images.shape[-3:])
    return warp(flat, affine_matrices(flat.shape[0], generator, flat.device)).reshape(images.shape)


@dataclass
class DistortedTasks:
    """Another task sampler's tasks, every drawing affinely distorted (meta-training only)."""

    tasks: Any  # OmniglotTasks or WithinAlphabetTasks

    @property
    def split(self) -> Any:
        return self.tasks.split

    def sample(self, n_tasks: int, k_shot: int, n_query: int, *,
               generator: torch.Generator | None = None) -> TaskBatch:
        batch = self.tasks.sample(n_tasks, k_shot, n_query, generator=generator)
        return TaskBatch(distort(batch.support_x, generator), batch.support_y,
                         distort(batch.query_x, generator), batch.query_y)

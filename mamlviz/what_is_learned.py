"""What else a meta-learner can learn, each part measured by the engine.

The lecture ends by saying that the initialization phi is only one part of the learning
algorithm that can be learned; the others here, each with a number to show:

- the **initialization** (MAML, first-order MAML, Reptile, ANIL): where each moves phi
  on the lecture's 2-D landscape (``mamlviz.landscape.update_directions``);
- the **step size** (Meta-SGD, Li et al. 2017, arXiv 1707.09835, learns one per
  weight): how MAML's objective L(phi) and its best phi change with the inner step
  size alpha, so that alpha is worth learning too;
- **which layers adapt** (ANIL, Raghu et al. 2019, arXiv 1909.09157): how far the inner
  loop moves each layer of the sinusoid MLP when every weight adapts and when the head
  alone does;
- a **metric** (Prototypical Networks, Snell et al. 2017, arXiv 1703.05175): an
  episode's embeddings, class prototypes and queries, in the plane of their first two
  principal components.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import landscape as ls
from .algorithms import InnerLoop
from .algorithms.anil import HeadLoop
from .algorithms.heads import embed, head_module
from .algorithms.protonet import prototype_logits
from .errors import ConfigError
from .inner import Params, mse
from .models import SinusoidMLP
from .tasks import SinusoidTasks, TaskBatch

# ----------------------------------------------------------------------------- step sizes


@dataclass(frozen=True)
class StepSizeCurves:
    """MAML's objective on the 1-D landscape, one curve per inner step size."""

    grid: np.ndarray  # [points]
    inner_lrs: tuple[float, ...]
    objective: np.ndarray  # [inner_lrs, points]
    best_phi: np.ndarray  # [inner_lrs]: where each curve is lowest on the grid


def step_size_curves(preset: str = "lecture", inner_lrs: Sequence[float] = (0.1, 0.4, 0.8),
                     steps: int = 1, points: int = 241) -> StepSizeCurves:
    """L(phi) = sum_n l^n(theta_hat^n(phi)) for each inner step size alpha on a 1-D preset."""
    if preset not in ls.PRESETS_1D:
        raise ConfigError("preset", f"unknown 1-D preset {preset!r}; choose one of "
                          f"{', '.join(ls.PRESETS_1D)}")
    tasks = ls.PRESETS_1D[preset]
    grid = np.linspace(-1.0, 5.0, points)
    curves = np.stack([ls.objective_curve(tasks, grid[:, None], ls.AFTER, lr, steps)
                       for lr in inner_lrs])
    return StepSizeCurves(grid, tuple(float(a) for a in inner_lrs), curves,
                          grid[np.argmin(curves, axis=1)])


# ----------------------------------------------------------------------------- which layers adapt


def layers_of(phi: Params) -> list[str]:
    """The layers (modules holding weights) in order, the head last."""
    seen: list[str] = []
    for k in phi:
        module = k.rsplit(".", 1)[0]
        if module not in seen:
            seen.append(module)
    return seen


def layer_changes(phi: Params, inner_lr: float = 0.01, inner_steps: int = 5, tasks: int = 25,
                  k_shot: int = 10, seed: int = 0) -> dict[str, dict[str, float]]:
    """How far the inner loop moves each layer of the sinusoid MLP from phi,
    ||theta_hat_layer - phi_layer|| / ||phi_layer|| averaged over ``tasks`` tasks, when every
    weight adapts ("every") and when the head alone does ("head")."""
    model = SinusoidMLP()
    batch: TaskBatch = SinusoidTasks().sample(tasks, k_shot, 1,
                                              generator=torch.Generator().manual_seed(seed))
    sx, sy = batch.support_x, batch.support_y
    loops = {"every": InnerLoop(model, mse, inner_lr, inner_steps)}
    loops["head"] = HeadLoop.of(loops["every"])
    out: dict[str, dict[str, float]] = {}
    for mode, loop in loops.items():
        totals = dict.fromkeys(layers_of(phi), 0.0)
        for n in range(tasks):
            theta = loop.adapt(phi, sx[n], sy[n], first_order=True)
            for layer in totals:
                keys = [k for k in phi if k.rsplit(".", 1)[0] == layer]
                moved = torch.cat([(theta[k] - phi[k]).reshape(-1) for k in keys]).norm()
                size = torch.cat([phi[k].reshape(-1) for k in keys]).norm()
                totals[layer] += float(moved / size) / tasks
        out[mode] = totals
    return out


# ----------------------------------------------------------------------------- a metric


@dataclass(frozen=True)
class PrototypeMap:
    """An episode in the plane of its embeddings' first two principal components."""

    support: np.ndarray  # [support, 2]
    support_y: np.ndarray
    query: np.ndarray  # [queries, 2]
    query_y: np.ndarray
    predicted: np.ndarray  # the nearest prototype's class, per query
    prototypes: np.ndarray  # [n_way, 2]
    accuracy: float


def prototype_map(model: torch.nn.Module, phi: Params, support_x: torch.Tensor,
                  support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
                  ) -> PrototypeMap:
    """One episode as ProtoNets sees it: embeddings f_phi(x), the class means c_k, and
    each query's nearest prototype (classified in the full embedding, drawn in 2-D)."""
    if f"{head_module(phi)}.weight" not in phi:
        raise ConfigError("model", "needs a network whose last layer is linear")
    with torch.no_grad():
        z_support, z_query = embed(model, phi, support_x), embed(model, phi, query_x)
        logits = prototype_logits(model, phi, support_x, support_y, query_x)
        n_way = logits.shape[1]
        one_hot = (support_y[:, None] == torch.arange(n_way)).to(z_support.dtype)
        prototypes = (one_hot.T @ z_support) / one_hot.sum(0)[:, None]
        everything = torch.cat([z_support, z_query]).double()
        mean = everything.mean(0)
        _, _, v = torch.linalg.svd(everything - mean, full_matrices=False)
        axes = v[:2].T

        def plane(z: torch.Tensor) -> np.ndarray:
            return ((z.double() - mean) @ axes).numpy()

        predicted = logits.argmax(1)
    return PrototypeMap(plane(z_support), support_y.numpy(), plane(z_query), query_y.numpy(),
                        predicted.numpy(), plane(prototypes),
                        float((predicted == query_y).double().mean()))

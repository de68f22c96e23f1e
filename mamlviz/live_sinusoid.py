"""Live sinusoid runs (MAML paper, Finn et al. 2017, arXiv 1703.03400, section 5.1): the
settings the chapter starts from, and one config per chosen algorithm.

The paper's settings (``TrainConfig``'s defaults: K = 10, alpha = 0.01, one inner step,
meta-batch 25, Adam at beta = 0.001) except the length: 2,000 meta-iterations, which a
class watches in about a minute, instead of 70,000. An algorithm that moves phi by
interpolation (Reptile: Nichol et al. 2018, arXiv 1803.02999) takes several inner steps
and its own outer rate epsilon, from its registry defaults; the chapter asks for both
only when one is chosen.
"""

from __future__ import annotations

from typing import Any

from . import algorithms
from .config import TrainConfig

LIVE_ITERATIONS = 2_000
# The settings every chosen algorithm takes from the chapter.
SHARED = ("k_shot", "inner_lr", "meta_batch_size", "iterations", "seed")


def _interpolating(algorithm: algorithms.Algorithm) -> bool:
    return algorithm.outer_rule == "interpolation"


def live_defaults() -> dict[str, Any]:
    """The chapter's starting settings: the paper's, 2,000 meta-iterations, and for an
    interpolating algorithm its inner steps (``reptile_steps``) and epsilon
    (``reptile_eps``)."""
    paper = TrainConfig()
    interpolating = next((a for a in algorithms.all_algorithms("sinusoid")
                          if _interpolating(a)), None)
    own = interpolating.departures("sinusoid") if interpolating else {}
    return {"k_shot": paper.k_shot, "inner_lr": paper.inner_lr,
            "inner_steps": paper.inner_steps, "meta_batch_size": paper.meta_batch_size,
            "meta_lr": paper.meta_lr, "iterations": LIVE_ITERATIONS, "seed": paper.seed,
            "reptile_steps": own.get("inner_steps", paper.inner_steps),
            "reptile_eps": own.get("meta_lr", paper.meta_lr)}


def live_sinusoid_configs(chosen: list[str], settings: dict[str, Any]) -> dict[str, TrainConfig]:
    """One config per chosen algorithm from the chapter's ``settings`` (``live_defaults``'
    keys): an interpolating algorithm takes ``reptile_steps`` and ``reptile_eps`` as its
    inner steps and outer rate, the others ``inner_steps`` and ``meta_lr``. Every run is
    traced (``make_fx``): a second to trace, no compiler build before the first point."""
    configs = {}
    for name in chosen:
        overrides = {k: settings[k] for k in SHARED}
        if _interpolating(algorithms.get(name)):
            overrides.update(inner_steps=settings["reptile_steps"],
                             meta_lr=settings["reptile_eps"])
        else:
            overrides.update(inner_steps=settings["inner_steps"], meta_lr=settings["meta_lr"])
        configs[name] = TrainConfig.for_algorithm(name, implementation="traced", **overrides)
    return configs

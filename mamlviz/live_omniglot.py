"""Live Omniglot on a CPU: the settings that reach 90% on held-out 5-way 1-shot tasks soonest.

The MAML paper (Finn et al. 2017, section 5.2) meta-trains Conv4 for 60,000
meta-iterations of 32 tasks each: days on a laptop CPU. A lecture has a minute. What
decides the minute is seconds to accuracy, not meta-iterations per second, so the
live defaults here were chosen by measuring meta-iterations and seconds to 90% test
accuracy (``benchmarks/bench_live_omniglot.py``; the figures are in
``benchmarks/README.md``):

* few tasks per meta-batch and three query images per class: many cheap meta-steps
  beat few precise ones early in training, and three queries (not the MAML code's
  one) give each step's meta-gradient enough examples to keep climbing past 88%;
* the paper's inner step: its alpha = 0.4 multiplies a loss summed over the N support
  images, ours is their mean, so the same step is alpha = 0.4 N = 2.0 here at 5-way;
* a meta learning rate above the paper's 0.001, which a short run can afford, annealed
  linearly to a tenth of itself by the run's last meta-iteration: the large steps climb,
  the small ones settle (a constant 0.01 levels off just under 90%);
* the step flattened by ``make_fx`` ("traced"): on one CPU thread faster than the
  per-task loop (about twice with one query, a third faster with three), ready in
  seconds, with no compiler to wait for.

The algorithm named on the screen stays exact: MAML's meta-gradient is the exact
second-order one, first-order MAML's the first-order one.
"""

from __future__ import annotations

from typing import Any

from . import algorithms
from .config import TrainConfig, nearest_omniglot_setup
from .train import Trainer

# Live defaults of MAML and first-order MAML, by N (20-way: the paper's five inner steps
# of the same summed-loss size, 0.1 N; not tuned for time like the 5-way ones).
LIVE_OMNIGLOT: dict[int, dict[str, Any]] = {
    5: {"meta_batch_size": 8, "n_query": 3, "inner_lr": 2.0, "meta_lr": 0.01,
        "iterations": 500, "implementation": "traced"},
    20: {"meta_batch_size": 4, "n_query": 1, "inner_lr": 2.0, "meta_lr": 0.003,
         "iterations": 1000, "implementation": "traced"},
}


# The live 5-way run's meta learning rate ends at this fraction of where it started
# (``TrainConfig.meta_lr_final``), whatever rate the page starts it at.
ANNEAL_TO = {5: 0.1, 20: None}


def live_defaults(n_way: int) -> dict[str, Any]:
    """The live settings for N-way tasks (the 5-way ones up to 11 ways, else the 20-way)."""
    return dict(LIVE_OMNIGLOT[nearest_omniglot_setup(n_way)])


def live_algorithms() -> list[str]:
    """The algorithms the live defaults were measured for: those that learn from a query
    set by a gradient and bring no Omniglot settings of their own (MAML, first-order
    MAML); the first of them is what a live run trains unless told otherwise."""
    return [a.name for a in algorithms.all_algorithms("omniglot")
            if a.adapts and a.outer_rule == "gradient" and not a.departures("omniglot")]


def live_omniglot_config(algorithm: str, n_way: int = 5, k_shot: int = 1, anneal: bool = True,
                         **overrides: Any) -> TrainConfig:
    """The live run's config: paper defaults, then the live ones, then ``overrides``.

    An override of None keeps the default. An algorithm with Omniglot settings of its
    own (Reptile's paper's) keeps them and the engine's choice of implementation.
    ``anneal``: on the live defaults, the meta learning rate ends at ``ANNEAL_TO`` of its
    start, unless ``meta_lr_final`` is given (a preset's constant rate: ``anneal=False``).
    """
    own = algorithms.get(algorithm).departures("omniglot", n_way)
    live = {} if own else live_defaults(n_way)
    given = {k: v for k, v in overrides.items() if v is not None}
    settings = {**live, **given}
    fraction = ANNEAL_TO[nearest_omniglot_setup(n_way)]
    if live and anneal and fraction is not None and "meta_lr_final" not in given:
        settings["meta_lr_final"] = settings["meta_lr"] * fraction
    return TrainConfig.for_algorithm(algorithm, problem="omniglot", n_way=n_way,
                                     k_shot=k_shot, **settings)


# A preset's settings that the live page has no widget for: they come from the preset.
PRESET_ONLY = ("n_query", "inner_steps", "test_inner_steps", "val_inner_steps", "protocol")
# The page's settings that an algorithm with Omniglot rates of its own keeps its own of.
OWN_RATES = ("inner_lr", "meta_lr")


def live_run_configs(chosen: list[str], n_way: int, k_shot: int, preset: str | None = None,
                     *, gpu: bool = False, **settings: Any) -> dict[str, TrainConfig]:
    """One config per chosen algorithm for a live run: the live defaults, a preset's
    settings (``config.PRESETS``), then the page's ``settings`` (meta-batch, iterations,
    seed, inner and meta rates; None keeps the default).

    An algorithm with Omniglot settings of its own (Reptile's paper's inner Adam) keeps
    its rates and takes only the preset's split (``protocol``). A live run's weights reach
    the page without the inner optimiser's state, so an algorithm that keeps inner Adam
    moments between tasks starts them afresh on every task. On a GPU the run takes the
    unfused graph: its first curve point must not wait for a compile (``implementation``
    "auto" fuses only runs of 10,000 meta-iterations or more). A preset keeps its own
    constant meta learning rate; the live defaults anneal theirs.
    """
    from .config import preset_settings

    extra = {k: v for k, v in (preset_settings(preset) if preset else {}).items()
             if k in PRESET_ONLY}
    configs = {}
    for name in chosen:
        algorithm = algorithms.get(name)
        own = algorithm.departures("omniglot", n_way)
        given = {k: v for k, v in settings.items() if not (k in OWN_RATES and k in own)}
        configs[name] = live_omniglot_config(
            name, n_way=n_way, k_shot=k_shot,
            **{k: v for k, v in extra.items() if not own or k == "protocol"}, **given,
            anneal=preset is None,
            inner_moments="fresh" if algorithm.keeps_moments else None,
            implementation="graphed" if gpu else None)
    return configs


def live_omniglot_trainer(algorithm: str, omniglot: Any = None, device: str | None = "cpu",
                          **overrides: Any) -> Trainer:
    """A Trainer on the live defaults (``omniglot``: loaded data or a source path)."""
    return Trainer(live_omniglot_config(algorithm, **overrides), device=device,
                   omniglot=omniglot)

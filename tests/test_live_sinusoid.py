"""The sinusoid chapter's live settings: the paper's, a watchable length, and each chosen
algorithm's config from them (an interpolating one takes its own steps and epsilon)."""

from __future__ import annotations

from mamlviz import algorithms
from mamlviz.config import TrainConfig
from mamlviz.live_sinusoid import LIVE_ITERATIONS, live_defaults, live_sinusoid_configs


def test_the_live_defaults_are_the_papers_but_shorter() -> None:
    defaults = live_defaults()
    paper = TrainConfig()
    assert (defaults["k_shot"], defaults["inner_lr"], defaults["inner_steps"],
            defaults["meta_batch_size"], defaults["meta_lr"]) == (10, 0.01, 1, 25, 0.001)
    assert defaults["k_shot"] == paper.k_shot and defaults["meta_lr"] == paper.meta_lr
    assert defaults["iterations"] == LIVE_ITERATIONS < paper.iterations
    interpolating = [a for a in algorithms.all_algorithms("sinusoid")
                     if a.outer_rule == "interpolation"]
    assert interpolating, "no interpolating algorithm: the chapter's epsilon would show nothing"
    own = interpolating[0].departures("sinusoid")
    assert (defaults["reptile_steps"], defaults["reptile_eps"]) == (own["inner_steps"],
                                                                    own["meta_lr"])


def test_each_algorithm_takes_the_chapters_settings_its_own_way() -> None:
    settings = {**live_defaults(), "k_shot": 5, "inner_lr": 0.02, "inner_steps": 2,
                "meta_lr": 0.003, "iterations": 30, "seed": 4, "reptile_steps": 7,
                "reptile_eps": 0.2}
    chosen = list(algorithms.names("sinusoid"))
    configs = live_sinusoid_configs(chosen, settings)
    assert list(configs) == chosen
    for name, config in configs.items():
        assert (config.k_shot, config.inner_lr, config.iterations, config.seed) == (5, 0.02,
                                                                                    30, 4)
        assert config.implementation == "traced"
        if algorithms.get(name).outer_rule == "interpolation":
            assert (config.inner_steps, config.meta_lr) == (7, 0.2), name
        else:
            assert (config.inner_steps, config.meta_lr) == (2, 0.003), name

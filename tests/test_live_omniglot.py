"""The live Omniglot defaults: where they come from, what overrides them, and that they train."""

from __future__ import annotations

import math

import pytest

from mamlviz import algorithms
from mamlviz.config import omniglot_test_steps, preset_settings
from mamlviz.live_omniglot import (
    ANNEAL_TO,
    LIVE_OMNIGLOT,
    live_algorithms,
    live_defaults,
    live_omniglot_config,
    live_omniglot_trainer,
    live_run_configs,
)


@pytest.mark.parametrize("algorithm", ["maml", "fomaml"])
def test_maml_and_first_order_maml_train_live_on_the_live_defaults(algorithm: str) -> None:
    config = live_omniglot_config(algorithm)
    assert (config.problem, config.n_way, config.k_shot) == ("omniglot", 5, 1)
    for key, value in LIVE_OMNIGLOT[5].items():
        assert getattr(config, key) == value
    assert config.inner_steps == 1 and config.test_inner_steps == 3  # the paper's, unchanged
    assert config.meta_lr_final == pytest.approx(config.meta_lr * ANNEAL_TO[5])


def test_the_live_meta_learning_rate_ends_at_a_tenth_of_where_the_page_starts_it() -> None:
    assert live_omniglot_config("maml", meta_lr=0.02).meta_lr_final == pytest.approx(0.002)
    assert live_omniglot_config("maml", meta_lr_final=0.005).meta_lr_final == 0.005
    assert live_omniglot_config("maml", anneal=False).meta_lr_final is None
    assert live_omniglot_config("maml", n_way=20).meta_lr_final is None  # not tuned at 20-way
    chosen = live_algorithms()
    assert all(c.meta_lr_final is None for c in live_run_configs(chosen, 5, 1, "hw15").values())
    assert all(c.meta_lr_final == pytest.approx(c.meta_lr * ANNEAL_TO[5])
               for c in live_run_configs(chosen, 5, 1, meta_lr=0.004).values())


def test_an_override_wins_and_none_keeps_the_default() -> None:
    config = live_omniglot_config("maml", meta_batch_size=3, meta_lr=None)
    assert config.meta_batch_size == 3
    assert config.meta_lr == LIVE_OMNIGLOT[5]["meta_lr"]
    assert live_omniglot_config("maml", n_way=20).meta_batch_size == (
        LIVE_OMNIGLOT[20]["meta_batch_size"])
    assert live_defaults(7) == LIVE_OMNIGLOT[5]


OWN_SETTINGS = [a.name for a in algorithms.all_algorithms("omniglot")
                if a.departures("omniglot")]


@pytest.mark.parametrize("name", OWN_SETTINGS)
def test_an_algorithm_with_its_own_omniglot_settings_keeps_them(name: str) -> None:
    config = live_omniglot_config(name)
    for key, value in algorithms.get(name).departures("omniglot", 5).items():
        assert getattr(config, key) == value
    assert config.implementation == "auto"
    assert name not in live_algorithms()


def test_the_live_defaults_serve_the_query_set_gradient_learners() -> None:
    live = live_algorithms()
    assert live, "no registered algorithm takes the live defaults"
    for name in live:
        spec = algorithms.get(name)
        assert spec.adapts and spec.outer_rule == "gradient"
        assert live_omniglot_config(name).inner_lr == LIVE_OMNIGLOT[5]["inner_lr"]


def test_a_live_runs_configs_take_the_pages_settings_and_a_presets_protocol() -> None:
    chosen = [a.name for a in algorithms.all_algorithms("omniglot")]
    settings = {"meta_batch_size": 3, "iterations": 40, "seed": 7, "inner_lr": 0.7,
                "meta_lr": 0.02}
    configs = live_run_configs(chosen, 5, 1, "hw15", gpu=True, **settings)
    assert list(configs) == chosen
    hw15 = preset_settings("hw15")
    for name, config in configs.items():
        spec = algorithms.get(name)
        own = spec.departures("omniglot", 5)
        assert (config.n_way, config.k_shot, config.seed) == (5, 1, 7)
        assert (config.meta_batch_size, config.iterations) == (3, 40)
        assert config.protocol == hw15["protocol"]  # every algorithm takes the preset's split
        for rate in ("inner_lr", "meta_lr"):  # its own rates when it has them
            assert getattr(config, rate) == own.get(rate, settings[rate]), (name, rate)
        if not own:  # the rest of the preset only where the algorithm has no settings
            assert config.n_query == hw15["n_query"], name
        assert config.implementation == "graphed"  # no compile before the first point
        assert config.inner_moments == "fresh"  # a live run's phi comes without moments
    assert live_run_configs(chosen[:1], 5, 1)[chosen[0]].implementation == (
        live_omniglot_config(chosen[0]).implementation)


def test_the_omniglot_chapters_first_steps_are_the_papers_test_steps() -> None:
    assert (omniglot_test_steps(5), omniglot_test_steps(20)) == (3, 5)
    assert omniglot_test_steps(7) == live_omniglot_config("maml", n_way=7).test_inner_steps


def test_a_live_trainer_takes_steps_on_real_omniglot(omniglot) -> None:
    trainer = live_omniglot_trainer("maml", omniglot=omniglot, iterations=3)
    records = list(trainer.run())
    assert trainer.step == 3 and trainer.implementation == "traced"
    assert all(math.isfinite(r.query_loss_after) for r in records)
    assert records[-1].status == "done"

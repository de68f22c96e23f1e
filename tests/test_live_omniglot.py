"""The live Omniglot defaults: where they come from, what overrides them, and that they train."""

from __future__ import annotations

import math

import pytest

from mamlviz import algorithms
from mamlviz.live_omniglot import (
    LIVE_OMNIGLOT,
    live_algorithms,
    live_defaults,
    live_omniglot_config,
    live_omniglot_trainer,
)


@pytest.mark.parametrize("algorithm", ["maml", "fomaml"])
def test_maml_and_first_order_maml_train_live_on_the_live_defaults(algorithm: str) -> None:
    config = live_omniglot_config(algorithm)
    assert (config.problem, config.n_way, config.k_shot) == ("omniglot", 5, 1)
    for key, value in LIVE_OMNIGLOT[5].items():
        assert getattr(config, key) == value
    assert config.inner_steps == 1 and config.test_inner_steps == 3  # the paper's, unchanged


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


def test_a_live_trainer_takes_steps_on_real_omniglot(omniglot) -> None:
    trainer = live_omniglot_trainer("maml", omniglot=omniglot, iterations=3)
    records = list(trainer.run())
    assert trainer.step == 3 and trainer.implementation == "traced"
    assert all(math.isfinite(r.query_loss_after) for r in records)
    assert records[-1].status == "done"

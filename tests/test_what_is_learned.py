"""The closing chapter's engine: step sizes, which layers adapt, a metric, and the cost of
a meta-step, each checked against what it claims; and the figures drawing them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mamlviz import landscape as ls
from mamlviz.algorithms import names
from mamlviz.cost import meta_step_costs
from mamlviz.errors import ConfigError
from mamlviz.figures.what_is_learned import (
    cost_by_steps_figure,
    directions_figure,
    layer_change_figure,
    prototype_figure,
    step_size_figure,
)
from mamlviz.models import Conv4, SinusoidMLP
from mamlviz.models.mlp import init_params
from mamlviz.what_is_learned import layer_changes, layers_of, prototype_map, step_size_curves

torch.set_num_threads(1)


def test_step_size_curves_are_mamls_objective_and_its_minimum() -> None:
    curves = step_size_curves("lecture", (0.1, 0.8), points=61)
    tasks = ls.PRESETS_1D["lecture"]
    i = 17
    phi = torch.tensor([curves.grid[i]], dtype=torch.float64)
    assert curves.objective[1, i] == pytest.approx(
        float(ls.maml_objective(tasks, phi, 0.8, 1)), rel=1e-12)
    assert curves.best_phi[0] == curves.grid[np.argmin(curves.objective[0])]
    # the step size changes where the best phi is: worth learning
    assert curves.best_phi[0] != curves.best_phi[1]
    fig = step_size_figure(curves)
    assert {t.meta for t in fig.data} >= {"alpha-0.1", "alpha-0.8"}
    with pytest.raises(ConfigError, match="preset"):
        step_size_curves("nowhere")


def test_the_head_alone_moves_when_only_the_head_adapts() -> None:
    phi = init_params(SinusoidMLP(), seed=0)
    changes = layer_changes(phi, 0.01, 3, tasks=4)
    assert list(changes["head"]) == layers_of(phi) == ["net.0", "net.2", "net.4"]
    assert changes["head"]["net.0"] == changes["head"]["net.2"] == 0.0
    assert changes["head"]["net.4"] > 0 and all(v > 0 for v in changes["every"].values())
    fig = layer_change_figure(changes, {"every": ("MAML", "maml"), "head": ("ANIL", "anil")},
                              {"net.4": "head"})
    assert [t.meta for t in fig.data] == ["maml", "anil"] and "head" in fig.data[1].x


def test_prototype_map_classifies_by_the_nearest_class_mean() -> None:
    model = Conv4(3)
    phi = init_params(model, seed=1)
    g = torch.Generator().manual_seed(0)
    sx, qx = torch.rand(6, 28, 28, generator=g), torch.rand(9, 28, 28, generator=g)
    sy, qy = torch.arange(3).repeat_interleave(2), torch.arange(3).repeat(3)
    shown = prototype_map(model, phi, sx, sy, qx, qy)
    assert shown.support.shape == (6, 2) and shown.prototypes.shape == (3, 2)
    # each prototype is its class's mean, in the plane too (the projection is linear)
    assert np.allclose(shown.prototypes[1], shown.support[sy.numpy() == 1].mean(0), atol=1e-5)
    assert shown.accuracy == pytest.approx(float((shown.predicted == qy.numpy()).mean()))
    fig = prototype_figure(shown)
    assert {t.meta for t in fig.data} == {"query", "wrong", "prototype"}


def test_cost_table_memory_grows_with_steps_for_maml_only() -> None:
    table = meta_step_costs((1, 3), n_tasks=1, n_query=1, repeats=1,
                            names=("maml", "anil", "protonet"))
    maml, anil, proto = (table.peak_bytes[n] for n in ("maml", "anil", "protonet"))
    assert maml[1] > maml[0] > 0
    assert proto[0] == proto[1]
    assert anil[1] < maml[1]
    assert all(s > 0 for values in table.seconds.values() for s in values)
    fig = cost_by_steps_figure(table, {"maml": "MAML"})
    assert [t.meta for t in fig.data] == ["maml", "maml", "anil", "anil", "protonet", "protonet"]
    with pytest.raises(ConfigError, match="inner_steps"):
        meta_step_costs((0, 2))


def test_directions_figure_has_an_arrow_per_landscape_method() -> None:
    directions = ls.update_directions(ls.PRESETS_2D["lecture"], (1.0, -0.5), 0.7, 1)
    fig = directions_figure(directions, {})
    assert {t.meta for t in fig.data} == set(ls.METHODS) | {"phi"}
    assert set(ls.METHODS) < set(names())

"""Step 2 and 3 of meta-learning in the engine: tasks, l^n, L(F), F*, and their figures."""

from __future__ import annotations

import math

import pytest
import torch

from mamlviz.errors import ConfigError
from mamlviz.evaluate import adaptation_curves
from mamlviz.figures.three_steps import (
    episode_figure,
    fit_figure,
    goodness_figure,
    tasks_figure,
)
from mamlviz.inner import adapt, mse, task_loss
from mamlviz.models.mlp import SinusoidMLP
from mamlviz.three_steps import (
    Goodness,
    adapted_fit,
    best,
    compare,
    goodness,
    random_init,
    sinusoid_task_set,
)

torch.set_num_threads(1)


def test_task_sets_are_seeded_and_training_differs_from_testing() -> None:
    a = sinusoid_task_set(4, 5, 10, seed=1)
    b = sinusoid_task_set(4, 5, 10, seed=1)
    test = sinusoid_task_set(4, 5, 10, seed=1, testing=True)
    torch.testing.assert_close(a.batch.support_x, b.batch.support_x)
    assert not torch.equal(a.amplitude, test.amplitude)
    assert a.batch.support_x.shape == (4, 5, 1) and a.batch.query_x.shape == (4, 10, 1)
    # The points lie on each task's own curve.
    torch.testing.assert_close(a.batch.support_y[2, :, 0], a.curve(2, a.batch.support_x[2, :, 0]))
    with pytest.raises(ConfigError):
        sinusoid_task_set(0, 5, 10, seed=1)


def test_goodness_is_the_sum_of_query_losses_after_adaptation() -> None:
    tasks = sinusoid_task_set(3, 10, 10, seed=2)
    phi = random_init(0)
    g = goodness(phi, tasks, 0.01, 2)
    model = SinusoidMLP()
    by_hand = []
    for n in range(3):
        b = tasks.batch
        theta = adapt(model, mse, phi, b.support_x[n], b.support_y[n], 0.01, 2)
        by_hand.append(float(task_loss(model, mse, theta, b.query_x[n], b.query_y[n])))
    assert g.per_task == pytest.approx(by_hand, rel=1e-5)
    assert g.total == pytest.approx(sum(by_hand), rel=1e-5)
    curves = adaptation_curves(model, mse, phi, tasks.batch, 0.01, 0)
    assert g.before == pytest.approx(curves[:, 0].tolist(), rel=1e-6)
    assert goodness(phi, tasks, 0.01, 0).per_task == pytest.approx(g.before, rel=1e-6)


def test_best_is_the_argmin_among_finite_candidates() -> None:
    scores = {"a": Goodness([1.0, 2.0], [3.0, 3.0]), "b": Goodness([0.5, 0.5], [3.0, 3.0]),
              "c": Goodness([math.nan, 0.0], [3.0, 3.0])}
    assert best(scores) == "b"
    assert not scores["c"].finite
    assert best({"c": scores["c"]}) is None


def test_a_better_init_wins_and_divergence_is_not_finite() -> None:
    tasks = sinusoid_task_set(5, 10, 10, seed=3)
    # phi fitted to these very tasks' queries is a better init than a random one.
    phi = random_init(0)
    model = SinusoidMLP()
    fitted = {k: v.clone().requires_grad_() for k, v in phi.items()}
    opt = torch.optim.Adam(fitted.values(), lr=0.01)
    for _ in range(200):
        opt.zero_grad()
        loss = sum(task_loss(model, mse, fitted, tasks.batch.query_x[n], tasks.batch.query_y[n])
                   for n in range(5))
        loss.backward()
        opt.step()
    fitted = {k: v.detach() for k, v in fitted.items()}
    scores = compare({"random": phi, "fitted": fitted}, tasks, 0.01, 1)
    assert best(scores) == "fitted"
    assert not goodness(phi, tasks, 5.0, 10).finite
    with pytest.raises(ConfigError):
        goodness(phi, tasks, -1.0, 1)
    with pytest.raises(ConfigError):
        goodness(phi, tasks, 0.01, -1)


def test_figures_have_titles_legends_and_labels() -> None:
    train = sinusoid_task_set(3, 5, 10, seed=4)
    test = sinusoid_task_set(3, 5, 10, seed=4, testing=True)
    fig = tasks_figure(train, test, labels={"title": "任务"})
    assert fig.layout.title.text == "任务"
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert sum(1 for tr in fig.data if tr.showlegend) == 2  # support and query

    phi = random_init(0)
    scores = compare({"random": phi, "other": random_init(1)}, train, 0.01, 1)
    g = goodness_figure(scores, {"random": "随机初始化"})
    bars = [tr for tr in g.data if tr.type == "bar"]
    assert len(bars) == 3 and g.layout.barmode == "stack"
    assert list(bars[0].x) == ["随机初始化", "other"]
    total = next(tr for tr in g.data if tr.meta == "total")
    assert total.y[0] == pytest.approx(scores["random"].total)
    assert g.layout.xaxis.title.text and g.layout.yaxis.title.text

    x, y = adapted_fit(phi, test, 1, 0.01, 3)
    assert x.shape == y.shape == (200,)
    f = fit_figure(test, 1, {"random": (x.tolist(), y.tolist())})
    assert {tr.meta for tr in f.data} == {"truth", "fit-random", "support", "query"}


def test_episode_figure_places_classes_in_columns() -> None:
    n_way, k_shot = 3, 2
    sx = torch.rand(n_way * k_shot, 1, 28, 28)
    sy = torch.arange(n_way).repeat_interleave(k_shot)
    qx = torch.rand(n_way, 1, 28, 28)
    qy = torch.arange(n_way)
    fig = episode_figure(sx, sy, qx, qy, n_way, k_shot, labels={"class": "类别 {label}"})
    assert len(fig.data) == n_way * (k_shot + 1)
    assert "类别 0" in [a.text for a in fig.layout.annotations]
    assert fig.layout.title.text

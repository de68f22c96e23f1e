"""The first-order approximation measured: meta-gradients, cosine, cost, and their figures."""

from __future__ import annotations

import math

import pytest
import torch

from mamlviz.errors import ConfigError
from mamlviz.figures.first_order import components_figure, cosine_figure, cost_figure
from mamlviz.first_order import (
    MetaGradients,
    SavedTensorMeter,
    Timing,
    agreement,
    compare_step_times,
    cosine,
    cosine_sweep,
    flatten,
    meta_gradients,
    meta_step_cost,
    naive_meta_gradient,
    query_gradient_at_adapted,
    sinusoid_loop,
)
from mamlviz.reference import naive_step
from mamlviz.three_steps import random_init, sinusoid_task_set

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def phi() -> dict[str, torch.Tensor]:
    return random_init(3)


@pytest.fixture(scope="module")
def batch():
    return sinusoid_task_set(6, 10, 10, seed=5).batch


def test_cosine_is_one_without_inner_step(phi, batch) -> None:
    for steps in (1, 3):
        grads = meta_gradients(phi, batch, 0.0, steps)
        assert grads.cosine == pytest.approx(1.0, abs=1e-6)
        torch.testing.assert_close(grads.full, grads.first_order)
        assert grads.relative_difference == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("steps", [1, 2])
def test_full_equals_the_naive_loop(phi, batch, steps: int) -> None:
    grads = meta_gradients(phi, batch, 0.01, steps)
    ours = flatten(naive_meta_gradient(phi, batch, 0.01, steps, first_order=False))
    reference, _, _ = naive_step("maml", sinusoid_loop(0.01, steps), phi, *batch.tensors())
    torch.testing.assert_close(grads.full, ours, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(grads.full, flatten(reference), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("steps", [1, 3])
def test_first_order_is_the_query_gradient_at_theta_hat(phi, batch, steps: int) -> None:
    grads = meta_gradients(phi, batch, 0.02, steps)
    at_theta_hat = flatten(query_gradient_at_adapted(phi, batch, 0.02, steps))
    torch.testing.assert_close(grads.first_order, at_theta_hat, rtol=1e-4, atol=1e-6)
    naive_first = flatten(naive_meta_gradient(phi, batch, 0.02, steps, first_order=True))
    torch.testing.assert_close(grads.first_order, naive_first, rtol=1e-4, atol=1e-6)


def test_second_order_terms_matter_and_grow_with_the_learning_rate(phi, batch) -> None:
    small = meta_gradients(phi, batch, 0.001, 1).cosine
    large = meta_gradients(phi, batch, 0.05, 1).cosine
    assert 0.99 < small < 1.0
    assert large < small
    per_tensor = meta_gradients(phi, batch, 0.01, 1).per_tensor_cosine()
    assert set(per_tensor) == set(phi)


def test_sweep_and_divergence(phi, batch) -> None:
    sweep = cosine_sweep(phi, batch, [0.0, 0.01, 50.0], steps=(1, 2))
    assert list(sweep) == [1, 2]
    assert sweep[1][0] == pytest.approx(1.0, abs=1e-6)
    diverged = meta_gradients(phi, batch, 50.0, 3)
    assert not diverged.finite
    assert math.isnan(diverged.cosine) and math.isnan(diverged.relative_difference)
    fig = cosine_figure([0.0, 0.01, 50.0], sweep, (50.0, math.nan))
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert len(fig.data) == 2  # no marker for a diverged current setting
    assert math.isnan(sweep[2][2]) and fig.data[1].y[2] is None  # diverged: a gap


def test_cosine_edge_cases() -> None:
    assert math.isnan(cosine(torch.zeros(3), torch.ones(3)))
    assert math.isnan(cosine(torch.tensor([math.inf, 1.0]), torch.ones(2)))
    assert cosine(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0])) == pytest.approx(0.0)
    assert cosine(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 4.0])) == pytest.approx(1.0)


def test_bad_settings_raise_config_errors(phi, batch) -> None:
    with pytest.raises(ConfigError):
        meta_gradients(phi, batch, -0.1, 1)
    with pytest.raises(ConfigError):
        meta_gradients(phi, batch, 0.01, 0)
    with pytest.raises(ConfigError):
        meta_step_cost(phi, batch, 0.01, 1, False, repeats=0)


def test_saved_tensor_meter_counts_and_releases() -> None:
    meter = SavedTensorMeter()
    x = torch.randn(1000, requires_grad=True)
    with meter.measure():
        y = (x * x).sum()  # saves x (4,000 bytes), once however often it is saved
    assert meter.peak >= 4000
    assert meter.current >= 4000
    y.backward()
    del y
    assert meter.current == 0


def test_cost_full_holds_more_memory_than_first_order(phi, batch) -> None:
    full = meta_step_cost(phi, batch, 0.01, 2, first_order=False, repeats=1)
    first = meta_step_cost(phi, batch, 0.01, 2, first_order=True, repeats=1)
    assert full.saved_bytes_peak > first.saved_bytes_peak > 0
    assert full.seconds_naive > 0 and first.seconds_batched > 0
    assert full.cuda_peak_bytes is None  # measured on the CPU here
    fig = cost_figure(full, first, labels={"title": "代价"})
    assert fig.layout.title.text == "代价"
    memory = next(tr for tr in fig.data if tr.meta == "memory")
    assert memory.y[0] == pytest.approx(full.saved_bytes_peak / 1e3)


def test_components_figure(phi, batch) -> None:
    grads = meta_gradients(phi, batch, 0.01, 1)
    fig = components_figure(grads, labels={"x": "完整"})
    assert fig.layout.xaxis.title.text == "完整"
    points = next(tr for tr in fig.data if tr.meta == "components")
    assert len(points.x) == sum(v.numel() for v in phi.values()) == 1761


# ------------------------------------------------- what the numbers mean; timing turn about


def _grads_of(full: list[float], first: list[float]) -> MetaGradients:
    return MetaGradients(torch.tensor(full), torch.tensor(first), ("w",), (len(full),))


def test_agreement_names_the_angle_and_the_dropped_part() -> None:
    same = agreement(_grads_of([1.0, 0.0], [1.0, 0.01]))
    assert same.verdict == "same" and same.angle_degrees < 1
    tilted = agreement(_grads_of([1.0, 0.0], [1.0, 1.0]))
    assert tilted.verdict == "tilted"
    assert tilted.angle_degrees == pytest.approx(45.0)
    assert tilted.dropped_norm == pytest.approx(1.0) and tilted.full_norm == pytest.approx(1.0)
    assert tilted.relative_difference == pytest.approx(1.0)
    opposed = agreement(_grads_of([1.0, 0.0], [-1.0, 0.2]))
    assert opposed.verdict == "opposed" and opposed.angle_degrees > 90
    with pytest.raises(ConfigError):
        agreement(_grads_of([math.nan, 0.0], [1.0, 0.0]))


def test_agreement_matches_the_measured_meta_gradients(phi, batch) -> None:
    grads = meta_gradients(phi, batch, 0.05, 1)
    agree = agreement(grads)
    assert agree.cosine == pytest.approx(grads.cosine)
    assert agree.relative_difference == pytest.approx(grads.relative_difference)
    assert math.cos(math.radians(agree.angle_degrees)) == pytest.approx(grads.cosine)


def test_step_times_alternate_full_and_first_order(phi, batch, monkeypatch) -> None:
    import mamlviz.first_order as fo

    calls: list[bool] = []
    monkeypatch.setattr(fo, "naive_meta_gradient",
                        lambda *args: calls.append(args[-1]))
    timing = compare_step_times(phi, batch, 0.01, 1, repeats=4)
    assert calls[:2] == [False, True]  # warm-up, one of each
    # Turn about, and who goes first alternates pair by pair.
    assert calls[2:] == [False, True, True, False, False, True, True, False]
    assert timing.repeats == 4
    for q in (timing.full, timing.first_order):
        assert q[0] <= q[1] <= q[2]
    with pytest.raises(ConfigError):
        compare_step_times(phi, batch, 0.01, 1, repeats=0)
    with pytest.raises(ConfigError):
        compare_step_times(phi, batch, -1.0, 1)


def test_timing_says_when_first_order_is_not_faster() -> None:
    assert Timing((1.0, 2.0, 3.0), (0.5, 1.0, 1.5), 15).first_order_faster
    assert not Timing((1.0, 2.0, 3.0), (0.2, 0.5, 0.8), 15).overlapping
    assert Timing((1.0, 2.0, 3.0), (1.5, 1.9, 2.5), 15).overlapping
    assert not Timing((1.0, 2.0, 3.0), (1.5, 2.0, 2.5), 15).first_order_faster

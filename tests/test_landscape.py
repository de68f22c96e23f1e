"""The analytic landscapes: exact gradients, closed forms, the lecture's story, figures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import grad

from mamlviz.errors import ConfigError
from mamlviz.figures.landscape import (
    landscape_1d_figure,
    landscape_2d_figure,
    trajectories_1d_figure,
)
from mamlviz.landscape import (
    DEFAULT_INNER_LR,
    DEFAULT_PHI_2D,
    MAX_INNER_STEPS,
    METHODS,
    PRESETS_1D,
    PRESETS_2D,
    Well,
    adapt,
    adapted,
    direction_field,
    landscape_1d,
    landscape_2d,
    maml_gradient,
    maml_objective,
    maml_optimum,
    objective_curve,
    pretrain_gradient,
    pretrain_objective,
    pretrain_optimum,
    quadratic_1d,
    task_1d,
    trajectory,
    two_tasks_1d,
    update_directions,
)

torch.set_num_threads(1)
F64 = torch.float64
LECTURE = PRESETS_1D["lecture"]
LECTURE_LR = DEFAULT_INNER_LR["lecture"]


def t(*xs: float) -> torch.Tensor:
    return torch.tensor(xs, dtype=F64)


def central_difference(fn, phi: torch.Tensor, h: float = 1e-6) -> torch.Tensor:
    out = torch.zeros_like(phi)
    for i in range(phi.numel()):
        e = torch.zeros_like(phi)
        e[i] = h
        out[i] = (fn(phi + e) - fn(phi - e)) / (2 * h)
    return out


def assert_close(a, b, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("steps", [1, 2, 3])
@pytest.mark.parametrize("phi", [-1.0, 0.3, 1.4, 2.2])
def test_1d_gradients_match_finite_differences(phi: float, steps: int) -> None:
    p = t(phi)
    assert_close(pretrain_gradient(LECTURE, p),
                 central_difference(lambda x: pretrain_objective(LECTURE, x), p))
    assert_close(maml_gradient(LECTURE, p, 0.8, steps),
                 central_difference(lambda x: maml_objective(LECTURE, x, 0.8, steps), p))


@pytest.mark.parametrize("steps", [1, 2, 3])
@pytest.mark.parametrize("preset,phi", [("two wells", (1.0, 0.5)), ("two wells", (-0.4, 1.3)),
                                        ("lecture", (1.0, -0.5))])
def test_2d_gradients_match_finite_differences(preset: str, phi: tuple[float, float],
                                               steps: int) -> None:
    tasks, p = PRESETS_2D[preset], t(*phi)
    assert_close(pretrain_gradient(tasks, p),
                 central_difference(lambda x: pretrain_objective(tasks, x), p))
    assert_close(maml_gradient(tasks, p, 0.7, steps),
                 central_difference(lambda x: maml_objective(tasks, x, 0.7, steps), p))


def test_one_step_maml_gradient_closed_form_quadratic() -> None:
    a, c, eps, phi = 1.5, 0.7, 0.3, -0.4
    task = quadratic_1d(a, c)
    theta_hat = phi - eps * a * (phi - c)
    expected = (1 - eps * a) * a * (theta_hat - c)  # (1 - eps l'') l'(theta_hat)
    assert_close(maml_gradient([task], t(phi), eps, 1), [expected], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("phi", [0.4, 1.1, 2.0])
def test_one_step_maml_gradient_closed_form_general_task(phi: float) -> None:
    task, eps = LECTURE[1], 0.9
    p = t(phi)
    l1 = grad(lambda x: task(x))
    l2 = grad(lambda x: l1(x).sum())
    theta_hat = p - eps * l1(p)
    expected = (1 - eps * l2(p)) * l1(theta_hat)
    assert_close(maml_gradient([task], p, eps, 1), expected, rtol=1e-12, atol=1e-14)


def test_zero_steps_or_zero_lr_make_maml_pretraining() -> None:
    grid = np.linspace(-2, 4, 31)
    pre = objective_curve(LECTURE, grid, "pretrain")
    assert_close(objective_curve(LECTURE, grid, "maml", 1.0, 0), pre, rtol=1e-14)
    assert_close(objective_curve(LECTURE, grid, "maml", 0.0, 3), pre, rtol=1e-14)


def test_vmapped_curve_equals_pointwise() -> None:
    grid = np.linspace(-2, 4, 13)
    curve = objective_curve(LECTURE, grid, "maml", LECTURE_LR, 2)
    loop = [float(maml_objective(LECTURE, t(x), LECTURE_LR, 2)) for x in grid]
    assert_close(curve, loop, rtol=1e-13)


def test_adapt_is_plain_gradient_descent() -> None:
    task = quadratic_1d(2.0, 1.0)
    iterates = adapt(task, t(3.0), 0.1, 3)
    assert [round(float(x), 12) for x in iterates] == [3.0, 2.6, 2.28, 2.024]


# ----------------------------------------------------------------------------- optima


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_quadratic_optima_closed_form(steps: int) -> None:
    a, c, eps = np.array([1.0, 2.0, 0.5]), np.array([-1.0, 2.0, 0.5]), 0.3
    tasks = [quadratic_1d(ai, ci) for ai, ci in zip(a, c)]
    grid = np.linspace(-3, 3, 601)
    # theta_hat - c = (1 - eps a)^k (phi - c): MAML weighs task n by a (1 - eps a)^(2k).
    w = a * (1 - eps * a) ** (2 * steps)
    assert_close(maml_optimum(tasks, grid, eps, steps), [np.sum(w * c) / np.sum(w)],
                 rtol=1e-10, atol=1e-12)
    assert_close(pretrain_optimum(tasks, grid), [np.sum(a * c) / np.sum(a)],
                 rtol=1e-10, atol=1e-12)


def test_2d_optimum_is_a_stationary_point() -> None:
    tasks = PRESETS_2D["two wells"]
    xs = np.linspace(-3, 3, 61)
    mesh = np.stack(np.meshgrid(xs, xs), axis=-1)
    phi = maml_optimum(tasks, mesh, 0.7, 1)
    assert np.linalg.norm(maml_gradient(tasks, phi, 0.7, 1).numpy()) < 1e-8


def test_lecture_preset_tells_the_story() -> None:
    data = landscape_1d(LECTURE, LECTURE_LR, 1)
    pre, maml = data.pretrain_optimum, data.maml_optimum
    assert abs(maml - pre) > 1.0  # visibly different optima

    def after(phi: float) -> list[float]:
        return [float(task(adapted(task, t(phi), LECTURE_LR, 1))) for task in LECTURE]

    pre_after, maml_after = after(pre), after(maml)
    # From the pre-training optimum, task 2 stays in its shallow local minimum...
    assert abs(float(adapted(LECTURE[1], t(pre), LECTURE_LR, 1)[0]) - 0.0) < 0.3
    assert pre_after[1] > maml_after[1] + 0.5
    # ...while one step from MAML's phi reaches a good minimum of each task.
    assert max(maml_after) < 0.2
    assert sum(maml_after) < sum(pre_after) - 0.5
    # And pre-training is indeed better "now", at phi itself.
    assert data.pretrain.min() < float(pretrain_objective(LECTURE, t(maml)))


@pytest.mark.parametrize("name", sorted(PRESETS_1D))
def test_every_1d_preset_builds(name: str) -> None:
    data = landscape_1d(PRESETS_1D[name], DEFAULT_INNER_LR[name], 1, n_points=301)
    assert np.isfinite(data.maml).all() and np.isfinite(data.pretrain).all()
    assert data.task_losses.shape == (2, 301)


def test_aligned_preset_optima_agree_far_apart_differ() -> None:
    aligned = landscape_1d(PRESETS_1D["aligned"], DEFAULT_INNER_LR["aligned"], 1, n_points=301)
    assert abs(aligned.maml_optimum - aligned.pretrain_optimum) < 0.5
    far = landscape_1d(PRESETS_1D["far apart"], DEFAULT_INNER_LR["far apart"], 1, n_points=301)
    assert abs(far.maml_optimum - far.pretrain_optimum) > 1.0


# ----------------------------------------------------------------------------- directions


@pytest.mark.parametrize("steps", [1, 2])
def test_fomaml_is_minus_the_gradients_at_theta_hat(steps: int) -> None:
    tasks, phi = PRESETS_2D["two wells"], (1.0, 0.5)
    d = update_directions(tasks, phi, 0.7, steps)
    expected = np.zeros(2)
    for task, th in zip(tasks, d.theta_hat):
        x = torch.tensor(th, dtype=F64, requires_grad=True)
        (g,) = torch.autograd.grad(task(x), x)
        expected -= g.numpy()
    assert_close(d.fomaml, expected, rtol=1e-12, atol=1e-14)
    assert_close(d.maml, -maml_gradient(tasks, t(*phi), 0.7, steps).numpy(), rtol=1e-12)


def test_reptile_with_one_step_is_inner_lr_times_pretraining() -> None:
    tasks, eps = PRESETS_2D["lecture"], 0.6
    d = update_directions(tasks, (1.0, -0.5), eps, 3, reptile_steps=1)
    assert_close(d.reptile, eps * d.pretrain, rtol=1e-12, atol=1e-14)


def test_directions_differ_on_the_default_2d_phi() -> None:
    for name, tasks in PRESETS_2D.items():
        d = update_directions(tasks, DEFAULT_PHI_2D[name], 1.2, 1)
        unit = {m: v / np.linalg.norm(v) for m, v in d.as_dict().items()}
        assert unit["maml"] @ unit["pretrain"] < 0.9  # not the same arrow


@pytest.mark.parametrize("steps", [0, 1, 3])
def test_directions_are_finite(steps: int) -> None:
    for tasks in PRESETS_1D.values():
        for phi in (-2.0, 0.0, 1.3, 4.0):
            d = update_directions(tasks, phi, 1.0, steps)
            assert all(np.isfinite(v).all() for v in d.as_dict().values())
    for tasks in PRESETS_2D.values():
        d = update_directions(tasks, (0.5, -1.0), 1.0, steps)
        assert all(np.isfinite(v).all() and v.shape == (2,) for v in d.as_dict().values())


# ----------------------------------------------------------------------------- trajectories


def test_trajectories_start_together_and_reach_their_optima() -> None:
    grid = np.linspace(-3, 6, 901)
    # MAML's objective is sharp at its optimum (curvature ~17): meta_lr < 2 / 17.
    runs = {m: trajectory(m, LECTURE, 0.9, 0.05 if m != "reptile" else 0.05 / LECTURE_LR,
                          200, LECTURE_LR, 1) for m in METHODS}
    assert all(r.phis[0, 0] == 0.9 and not r.diverged for r in runs.values())
    assert abs(runs["pretrain"].phis[-1, 0] - pretrain_optimum(LECTURE, grid)[0]) < 1e-3
    assert abs(runs["maml"].phis[-1, 0] - maml_optimum(LECTURE, grid, LECTURE_LR, 1)[0]) < 1e-3


def test_divergence_is_flagged_not_raised() -> None:
    run = trajectory("maml", PRESETS_1D["quadratic"], 1.0, 1e4, 50, 0.1, 1)
    assert run.diverged and run.note
    assert np.isfinite(run.phis).all() and len(run.phis) < 51


# ----------------------------------------------------------------------------- config errors


@pytest.mark.parametrize("call,field", [
    (lambda: maml_gradient(LECTURE, t(0.0), -0.1, 1), "inner_lr"),
    (lambda: maml_gradient(LECTURE, t(0.0), float("nan"), 1), "inner_lr"),
    (lambda: update_directions(LECTURE, 0.0, 0.1, -1), "steps"),
    (lambda: update_directions(LECTURE, 0.0, 0.1, 1.5), "steps"),
    (lambda: update_directions(LECTURE, 0.0, 0.1, MAX_INNER_STEPS + 1), "steps"),
    (lambda: update_directions(LECTURE, 0.0, 0.1, 1, reptile_steps=-2), "reptile_steps"),
    (lambda: update_directions(LECTURE, (0.0, 1.0), 0.1, 1), "phi"),
    (lambda: update_directions(LECTURE, float("inf"), 0.1, 1), "phi"),
    (lambda: update_directions([], 0.0, 0.1, 1), "tasks"),
    (lambda: update_directions([LECTURE[0], PRESETS_2D["lecture"][0]], 0.0, 0.1, 1), "tasks"),
    (lambda: trajectory("sgd", LECTURE, 0.0, 0.1, 10, 0.1, 1), "method"),
    (lambda: trajectory("maml", LECTURE, 0.0, 0.0, 10, 0.1, 1), "meta_lr"),
    (lambda: trajectory("maml", LECTURE, 0.0, 0.1, -1, 0.1, 1), "n_steps"),
    (lambda: objective_curve(LECTURE, [0.0, 1.0], "reptile"), "objective"),
    (lambda: objective_curve(PRESETS_2D["lecture"], [0.0, 1.0, 2.0], "pretrain"), "grid"),
    (lambda: Well((0.0,), 1.0, 0.0), "width"),
    (lambda: Well((0.0,), -1.0, 1.0), "depth"),
    (lambda: task_1d([(0.0, 1.0, 1.0)], bowl=-1.0), "bowl"),
    (lambda: two_tasks_1d(local_depth=3.0, deep_depth=2.0), "local_depth"),
    (lambda: landscape_1d(LECTURE, 0.1, 1, lo=2.0, hi=1.0), "range"),
    (lambda: landscape_2d(LECTURE, (0.0, 0.0), 0.1, 1), "tasks"),
])
def test_invalid_config_names_the_field(call, field: str) -> None:
    with pytest.raises(ConfigError) as info:
        call()
    assert info.value.field == field


# ----------------------------------------------------------------------------- figures


def by_meta(fig, key: str):
    matches = [tr for tr in fig.data if tr.meta == key]
    assert matches, f"no trace {key!r} in {[tr.meta for tr in fig.data]}"
    return matches[0]


def test_1d_figure_traces_and_optimum_markers() -> None:
    data = landscape_1d(LECTURE, LECTURE_LR, 1, n_points=451)
    fig = landscape_1d_figure(data)
    names = {tr.name for tr in fig.data}
    assert {"pretrain optimum", "MAML optimum"} <= names
    for key in ("task 1", "task 2", "pretrain", "maml", "phi", "theta_hat"):
        by_meta(fig, key)
    assert by_meta(fig, "pretrain optimum").x[0] == pytest.approx(data.pretrain_optimum)
    assert by_meta(fig, "MAML optimum").x[0] == pytest.approx(data.maml_optimum)
    assert by_meta(fig, "MAML optimum").x[0] == pytest.approx(
        maml_optimum(LECTURE, np.linspace(-3, 6, 451), LECTURE_LR, 1)[0])
    assert list(by_meta(fig, "theta_hat").x) == pytest.approx(list(data.theta_hat))
    assert len(fig.layout.annotations) == 2  # one arrow phi -> theta_hat^n per task
    assert fig.layout.xaxis.title.text and fig.layout.font.size >= 14


def test_figure_labels_can_be_translated() -> None:
    data = landscape_1d(LECTURE, LECTURE_LR, 1, n_points=101)
    fig = landscape_1d_figure(data, labels={"MAML optimum": "MAML 最优点", "x": "参数 phi"})
    assert by_meta(fig, "MAML optimum").name == "MAML 最优点"
    assert fig.layout.xaxis.title.text == "参数 phi"


def test_2d_figure_has_contours_and_four_arrows() -> None:
    tasks = PRESETS_2D["two wells"]
    data = landscape_2d(tasks, DEFAULT_PHI_2D["two wells"], 1.2, 1, n_points=41)
    fig = landscape_2d_figure(data)
    # the task contours: lines computed in Python, one scatter trace per task
    for key in ("task 1", "task 2"):
        assert by_meta(fig, key).type == "scatter" and by_meta(fig, key).mode == "lines"
    assert [tr.meta for tr in fig.data].count("task 1") == 1
    assert [tr.meta for tr in fig.data].count("task 2") == 1
    for method in METHODS:
        line = by_meta(fig, method)
        drawn = np.array([line.x[1] - line.x[0], line.y[1] - line.y[0]])
        true = getattr(data.directions, method)
        assert drawn @ true / (np.linalg.norm(drawn) * np.linalg.norm(true)) == pytest.approx(1.0)
    assert {tr.name for tr in fig.data} >= {"pre-training", "MAML", "first-order MAML", "Reptile"}
    assert list(by_meta(fig, "phi").x) == [data.directions.phi[0]]


def test_trajectory_figure_has_a_frame_per_step() -> None:
    data = landscape_1d(LECTURE, LECTURE_LR, 1, n_points=101)
    runs = [trajectory(m, LECTURE, 0.9, 0.2, 5, LECTURE_LR, 1) for m in METHODS]
    runs.append(trajectory("maml", PRESETS_1D["quadratic"], 1.0, 1e4, 50, 0.1, 1))
    fig = trajectories_1d_figure(data, runs[:4])
    assert len(fig.frames) == 6
    assert by_meta(fig, "reptile").x[0] == 0.9
    assert "diverged" in trajectories_1d_figure(data, runs[4:]).data[-1].name


def test_a_legend_moved_beside_the_plot_keeps_nothing_of_the_one_below() -> None:
    """The 2-D chart's legend is placed in the plot's frame: one that kept "container"
    from the default below made plotly.js reserve its height as top margin (a 292x260
    plot in a 1460x620 chart)."""
    from mamlviz.figures import LEGEND_ABOVE, LEGEND_BELOW, LEGEND_RIGHT

    assert LEGEND_BELOW.keys() == LEGEND_RIGHT.keys() == LEGEND_ABOVE.keys()
    tasks = PRESETS_2D["two wells"]
    data = landscape_2d(tasks, DEFAULT_PHI_2D["two wells"], 1.2, 1, n_points=41)
    legend = landscape_2d_figure(data).layout.legend
    assert (legend.yref, legend.xref, legend.orientation) == ("paper", "paper", "v")


def test_a_singular_direction_does_not_flatten_the_others() -> None:
    """The lecture's landscape at its default alpha: iMAML's direction spikes past +-100
    where 1 + l''/lambda passes 0; the chart keeps the others readable and says so."""
    from mamlviz.figures.meta_updates import direction_field_figure

    grid = np.linspace(-3.0, 6.0, 2001)
    field = direction_field(PRESETS_1D["lecture"], grid, 1.2, 1, 5)
    assert np.abs(field["imaml"]).max() > 100  # the case this guards
    fig = direction_field_figure(grid, field)
    lo, hi = fig.layout.yaxis.range
    assert hi - lo < 20
    for trace in fig.data:
        if trace.showlegend is False:
            continue
        y = np.asarray(trace.y)
        inside = bool(np.all((y >= lo) & (y <= hi)))
        assert inside == (trace.meta != "imaml"), trace.name
        assert trace.name.endswith("(leaves the chart)") == (trace.meta == "imaml")


def test_an_animation_s_controls_start_below_the_x_axis_title() -> None:
    """The slider's value label was drawn over the x-axis title (fixed 50 px pad)."""
    from mamlviz.figures import style

    data = landscape_1d(PRESETS_1D["lecture"], 0.4, 1, n_points=101)
    runs = [trajectory(m, PRESETS_1D["lecture"], 2.0, meta_lr=0.1, n_steps=5, inner_lr=0.4,
                       steps=1) for m in ("maml", "reptile")]
    for big in (False, True):
        fig = style(trajectories_1d_figure(data, runs), big=big)
        size = fig.layout.font.size
        # two lines of text (tick labels, the title) below the axis, each ~1.5 x font
        assert fig.layout.sliders[0].pad.t >= 3 * size + 10
        assert fig.layout.updatemenus[0].pad.t > fig.layout.sliders[0].pad.t
        assert fig.layout.margin.b >= fig.layout.sliders[0].pad.t + 2 * size + 40

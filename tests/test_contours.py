"""Contour lines computed in Python (``mamlviz.figures.contours``), checked against
functions whose level sets are known exactly: circles, straight lines, a saddle."""

from __future__ import annotations

import numpy as np
import pytest

from mamlviz.figures.contours import contour_levels, contour_lines
from mamlviz.figures.landscape import TASK_COLORS, landscape_2d_figure
from mamlviz.figures.meta_updates import trajectories_2d_figure
from mamlviz.landscape import DEFAULT_PHI_2D, METHODS, PRESETS_2D, landscape_2d, trajectory
from pages import _chart


def grid(f, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """f sampled as plotly's contour z: row i is y = ys[i], column j is x = xs[j]."""
    x, y = np.meshgrid(xs, ys)
    return f(x, y)


def polylines(x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """The NaN-separated pieces of a line trace, each as [n, 2] points."""
    points = np.stack([x, y], axis=1)
    gaps = np.flatnonzero(np.isnan(x))
    assert np.array_equal(gaps, np.flatnonzero(np.isnan(y)))
    pieces = [piece[~np.isnan(piece[:, 0])] for piece in np.split(points, gaps)]
    assert all(len(piece) >= 2 for piece in pieces) or not len(points)
    return [piece for piece in pieces if len(piece)]


# ----------------------------------------------------------------------------- levels


def test_levels_are_round_steps_strictly_inside_the_range() -> None:
    z = np.array([[0.0, 1.0], [np.nan, 10.0], [np.inf, -np.inf]])  # finite range 0..10
    assert contour_levels(z, 5) == pytest.approx([2.0, 4.0, 6.0, 8.0])  # step 2
    assert contour_levels(z, 4) == pytest.approx([5.0])  # 2.5 rounds up to a step of 5
    assert contour_levels(z, 10) == pytest.approx(np.arange(1.0, 10.0))  # never the ends
    # 0..99 in at most 18 levels: a step of 10 (5 would give 19)
    assert contour_levels(np.arange(100.0).reshape(10, 10)) == pytest.approx(
        np.arange(10.0, 100.0, 10.0))
    assert contour_levels(np.array([[0.013, 0.031]]), 4) == pytest.approx(
        [0.015, 0.02, 0.025, 0.03])


@pytest.mark.parametrize("z", [np.full((5, 5), 3.0), np.full((5, 5), np.nan), np.empty((0, 0))])
def test_no_levels_for_a_constant_or_empty_z(z: np.ndarray) -> None:
    assert contour_levels(z).size == 0
    assert all(a.size == 0 for a in contour_lines(np.arange(z.shape[1]),
                                                  np.arange(z.shape[0]), z,
                                                  contour_levels(z)))


def test_z_must_be_rows_of_y_by_columns_of_x() -> None:
    with pytest.raises(ValueError, match="shape"):
        contour_lines(np.arange(3.0), np.arange(4.0), np.zeros((3, 4)), [0.5])


# ----------------------------------------------------------------------------- known level sets


@pytest.mark.parametrize("level", [0.25, 1.1, 2.25])
def test_a_paraboloid_gives_closed_circles(level: float) -> None:
    xs = ys = np.linspace(-2, 2, 81)
    h = xs[1] - xs[0]
    x, y = contour_lines(xs, ys, grid(lambda x, y: x**2 + y**2, xs, ys), [level])
    lines = polylines(x, y)
    # One closed curve: both cells beside an edge used the same crossing, bit for bit,
    # or the stitching would have broken the circle into pieces.
    assert len(lines) == 1
    circle = lines[0]
    assert np.array_equal(circle[0], circle[-1])
    assert len(np.unique(circle[:-1], axis=0)) == len(circle) - 1  # each point used once
    # Linear interpolation of a quadratic along an edge errs by at most h^2 / 4 in z.
    radius = np.hypot(circle[:, 0], circle[:, 1])
    assert np.abs(radius - np.sqrt(level)).max() < h**2 / np.sqrt(level)
    assert len(circle) > 20  # it is a circle, not a few points


def test_several_levels_give_one_loop_each() -> None:
    xs = ys = np.linspace(-2, 2, 41)
    levels = [0.5, 1.0, 1.5]
    lines = polylines(*contour_lines(xs, ys, grid(lambda x, y: x**2 + y**2, xs, ys), levels))
    assert len(lines) == 3
    radii = sorted(float(np.hypot(*line.T).mean()) for line in lines)
    assert radii == pytest.approx(np.sqrt(levels), abs=0.01)


@pytest.mark.parametrize("level", [0.25, 0.55, 0.9])
def test_a_ramp_gives_one_straight_line_across_the_plot(level: float) -> None:
    xs, ys = np.linspace(0, 1, 11), np.linspace(-1, 2, 7)
    lines = polylines(*contour_lines(xs, ys, grid(lambda x, y: x + 0 * y, xs, ys), [level]))
    assert len(lines) == 1
    line = lines[0]
    assert line[:, 0] == pytest.approx(np.full(len(line), level), abs=1e-12)
    assert sorted(line[:, 1]) == pytest.approx(list(ys))  # one point per row, bottom to top
    assert {line[0, 1], line[-1, 1]} == {ys[0], ys[-1]}  # spans the whole y range


def test_a_saddle_is_drawn_and_resolved_deterministically() -> None:
    xs = ys = np.linspace(-1, 1, 20)  # no grid line through 0: the middle cell is a saddle
    h = xs[1] - xs[0]
    z = grid(lambda x, y: x * y, xs, ys)
    x, y = contour_lines(xs, ys, z, [0.0])
    assert np.nanmax(np.abs(x * y)) < h**2
    assert len(polylines(x, y)) == 2  # the two arms of the cross, not stitched across
    again = contour_lines(xs, ys, z, [0.0])
    assert np.array_equal(x, again[0], equal_nan=True)
    assert np.array_equal(y, again[1], equal_nan=True)


def segments_of(x: np.ndarray, y: np.ndarray) -> set[frozenset[tuple[float, float]]]:
    return {frozenset(map(tuple, line.tolist())) for line in polylines(x, y)}


def test_a_saddle_cell_follows_its_centre() -> None:
    xs = ys = np.array([0.0, 1.0])
    z = np.array([[1.0, -1.0], [-1.0, 1.0]])  # bottom-left and top-right above 0
    # Centre (mean 0) not above the level: the corners above are cut off one by one.
    assert segments_of(*contour_lines(xs, ys, z, [0.0])) == {
        frozenset({(0.0, 0.5), (0.5, 0.0)}), frozenset({(1.0, 0.5), (0.5, 1.0)})}
    # Centre above the level: the corners below are cut off instead.
    assert segments_of(*contour_lines(xs, ys, z, [-0.5])) == {
        frozenset({(0.75, 0.0), (1.0, 0.25)}), frozenset({(0.0, 0.75), (0.25, 1.0)})}


def test_cells_with_a_nan_corner_are_skipped() -> None:
    xs = ys = np.linspace(-2, 2, 41)
    z = grid(lambda x, y: x**2 + y**2, xs, ys)
    i, j = 20, 30  # the grid point (1, 0), just inside the circle of radius sqrt(1.1)
    assert (xs[j], ys[i]) == pytest.approx((1.0, 0.0))
    z[i, j] = np.nan
    lines = polylines(*contour_lines(xs, ys, z, [1.1]))
    assert len(lines) == 1
    arc = lines[0]
    assert np.isfinite(arc).all()
    assert not np.array_equal(arc[0], arc[-1])  # the circle is cut open there
    inside = ((arc[:, 0] > xs[j - 1]) & (arc[:, 0] < xs[j + 1])
              & (arc[:, 1] > ys[i - 1]) & (arc[:, 1] < ys[i + 1]))
    assert not inside.any()
    # Both ends of the arc stop at the skipped cells.
    for end in (arc[0], arc[-1]):
        assert xs[j - 1] <= end[0] <= xs[j + 1] and ys[i - 1] <= end[1] <= ys[i + 1]


# ----------------------------------------------------------------------------- the figures


@pytest.fixture(scope="module")
def data_2d():
    tasks = PRESETS_2D["two wells"]
    return landscape_2d(tasks, DEFAULT_PHI_2D["two wells"], 1.2, 1, n_points=41)


def check_task_lines(fig, data, width: float) -> None:
    for i in range(len(data.task_losses)):
        trace = next(tr for tr in fig.data if tr.meta == f"task {i + 1}")
        assert trace.type == "scatter" and trace.mode == "lines" and trace.showlegend
        assert trace.line.color == TASK_COLORS[i] and trace.line.width == width
        assert trace.hoverinfo == "skip"
        assert np.nansum(np.isfinite(np.asarray(trace.x, float))) > 100
    # The lines do not reach the grid's edges everywhere: the axes still show all of it.
    assert fig.layout.xaxis.range == (data.xs[0], data.xs[-1])
    assert fig.layout.yaxis.range == (data.ys[0], data.ys[-1])
    assert _chart.bundle_for(fig) == "basic"
    assert _chart.bundle_for(fig.to_dict()) == "basic"


def test_the_2d_landscape_draws_with_the_basic_bundle(data_2d) -> None:
    check_task_lines(landscape_2d_figure(data_2d), data_2d, 1.5)


def test_the_2d_paths_draw_with_the_basic_bundle(data_2d) -> None:
    tasks = PRESETS_2D["two wells"]
    runs = [trajectory(m, tasks, (3.0, -2.0), 0.05, 5, 1.2, 1) for m in METHODS]
    fig = trajectories_2d_figure(data_2d, runs)
    check_task_lines(fig, data_2d, 1)
    assert all(tr.opacity == 0.6 for tr in fig.data if tr.meta in ("task 1", "task 2"))

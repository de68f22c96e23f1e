"""Figures of how the methods move phi: steps of an animation, second inner steps,
1-D direction fields and 2-D meta-training paths.

Pure functions on the arrays computed by ``mamlviz.landscape``; they return a
``plotly.graph_objects.Figure`` and never run the engine. Visible strings come
from ``labels`` (English by default) and traces carry fixed English keys in
``meta``, as in ``mamlviz.figures.landscape``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from ..algorithms import get
from ..landscape import METHODS, Landscape2D, Trajectory
from .contours import contour_levels, contour_lines
from .landscape import LABELS_2D, METHOD_COLORS, TASK_COLORS, _layout, _plane

LABELS_FIELD: dict[str, str] = {
    "title": "Update direction at every phi (where it crosses 0 going down, the method settles)",
    "x": "parameter phi",
    "y": "update direction",
    "off chart": "leaves the chart",
    **{m: LABELS_2D[m] for m in METHODS},
}
# A curve's share of points (each end) that may leave the y range: a few points where
# a direction is singular (iMAML's where 1 + l''/lambda passes 0, its inner problem
# no longer convex) would otherwise squash every other curve into a flat line.
OFF_CHART_SHARE = 0.5  # percent

LABELS_PATHS_2D: dict[str, str] = {
    "title": "phi during meta-training in the plane, same start for every method",
    "x": "phi_1",
    "y": "phi_2",
    "task": "task {n}: contours of l^{n}",
    "start": "start",
    "diverged": "diverged",
    **{m: LABELS_2D[m] for m in METHODS},
}

LABELS_SECOND_STEP: dict[str, str] = {"second step": "second step at theta_hat^m"}


def show_frame(fig: go.Figure, k: int) -> go.Figure:
    """A copy of an animated figure drawn at frame ``k`` (clamped), its slider there too.

    Lets a page step an animation frame by frame on the server side while the
    figure's own play button still animates in the browser.
    """
    out = go.Figure(fig)
    if not out.frames:
        return out
    k = int(min(max(k, 0), len(out.frames) - 1))
    frame = out.frames[k]
    for index, data in zip(frame.traces, frame.data):
        out.data[index].x = data.x
        out.data[index].y = data.y
    if out.layout.sliders:
        sliders = [copy.deepcopy(s) for s in out.layout.sliders]
        sliders[0].active = k
        out.layout.sliders = sliders
    return out


def add_second_steps(fig: go.Figure, theta_hat: np.ndarray, steps: np.ndarray,
                     labels: Mapping[str, str] | None = None) -> go.Figure:
    """The lecture's 'real implementation': a second step from each theta_hat^m.

    ``steps[m]`` is ``-inner_lr * grad l^m(theta_hat^m)``; first-order MAML
    moves phi parallel to it (summed over tasks), with its own learning rate.
    Adds one dotted arrow per task, starting at theta_hat^m.
    """
    lab = {**LABELS_SECOND_STEP, **(labels or {})}
    theta_hat, steps = np.asarray(theta_hat, float), np.asarray(steps, float)
    for m, (start, step) in enumerate(zip(theta_hat, steps)):
        tip = start + step
        color = TASK_COLORS[m % len(TASK_COLORS)]
        fig.add_trace(go.Scatter(x=[start[0], tip[0]], y=[start[1], tip[1]], mode="lines",
                                 name=lab["second step"], meta="second step",
                                 legendgroup="second step", showlegend=m == 0,
                                 line={"color": color, "width": 2, "dash": "dot"}))
        fig.add_annotation(x=tip[0], y=tip[1], ax=start[0], ay=start[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.5,
                           arrowcolor=color, text="")
    return fig


def direction_field_figure(grid: np.ndarray, field: Mapping[str, np.ndarray],
                           labels: Mapping[str, str] | None = None,
                           methods: Sequence[str] = METHODS) -> go.Figure:
    """Each method's 1-D update direction as a curve over phi, with the zero line.

    Where a curve crosses zero from above to below, phi settles under that
    method: for pre-training and MAML these are minima of their objectives, for
    Reptile the points its update pulls towards.
    """
    lab = {**LABELS_FIELD, **(labels or {})}
    x = np.asarray(grid, float).reshape(-1)
    curves = {m: np.asarray(field[m], float).reshape(-1) for m in methods}
    lo, hi = _robust_range(curves.values())
    fig = go.Figure()
    for method in methods:
        y = curves[method]
        off = bool(np.any((y < lo) | (y > hi)))
        name = lab[method] + (f" ({lab['off chart']})" if off else "")
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, meta=method,
                                 line={"color": METHOD_COLORS[method],
                                       "width": get(method).line_width,
                                       "dash": get(method).dash}))
        crossing = np.flatnonzero((y[:-1] > 0) & (y[1:] <= 0))
        if crossing.size:
            xs = [x[i] + (x[i + 1] - x[i]) * y[i] / (y[i] - y[i + 1]) for i in crossing]
            fig.add_trace(go.Scatter(x=xs, y=[0.0] * len(xs), mode="markers",
                                     name=lab[method], meta=f"{method} settles",
                                     showlegend=False,
                                     marker={"color": METHOD_COLORS[method], "size": 11,
                                             "line": {"width": 1, "color": "black"}}))
    fig.add_hline(y=0.0, line={"color": "black", "width": 1})
    fig.update_yaxes(range=[lo, hi])
    return _layout(fig, lab)


def _robust_range(curves: Iterable[np.ndarray]) -> tuple[float, float]:
    """A y range holding every curve but a few singular points of each, and 0."""
    lows, highs = [0.0], [0.0]
    for y in curves:
        finite = y[np.isfinite(y)]
        if finite.size:
            lows.append(float(np.percentile(finite, OFF_CHART_SHARE)))
            highs.append(float(np.percentile(finite, 100 - OFF_CHART_SHARE)))
    lo, hi = min(lows), max(highs)
    pad = 0.08 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def trajectories_2d_figure(data: Landscape2D, trajectories: Sequence[Trajectory],
                           labels: Mapping[str, str] | None = None) -> go.Figure:
    """Meta-training paths of phi over the two tasks' contours, one line per method."""
    lab = {**LABELS_PATHS_2D, **(labels or {})}
    fig = go.Figure()
    for i, z in enumerate(data.task_losses):
        color = TASK_COLORS[i % len(TASK_COLORS)]
        x, y = contour_lines(data.xs, data.ys, z, contour_levels(z, 18))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=lab["task"].format(n=i + 1),
                                 meta=f"task {i + 1}", showlegend=True,
                                 line={"color": color, "width": 1}, opacity=0.6,
                                 hoverinfo="skip"))
    for t in trajectories:
        name = lab[t.method] + (f" ({lab['diverged']})" if t.diverged else "")
        phis = np.asarray(t.phis, float)
        # A step size learned beside phi (Meta-SGD's α, one per coordinate): on every
        # point's hover, and written at the end of the path.
        rates = [] if t.rates is None else [
            "α=(" + ", ".join(f"{a:.2f}" for a in r) + ")" for r in np.asarray(t.rates, float)]
        fig.add_trace(go.Scatter(x=phis[:, 0], y=phis[:, 1],
                                 mode="lines+markers+text" if rates else "lines+markers",
                                 name=name, meta=t.method, hovertext=rates or None,
                                 text=[""] * (len(rates) - 1) + rates[-1:] if rates else None,
                                 textposition="top right",
                                 line={"color": METHOD_COLORS[t.method], "width": 3},
                                 marker={"size": [4] * (len(phis) - 1) + [14]}))
    if trajectories:
        start = np.asarray(trajectories[0].phis[0], float)
        fig.add_trace(go.Scatter(x=[start[0]], y=[start[1]], mode="markers+text",
                                 name=lab["start"], meta="start", text=[lab["start"]],
                                 textposition="bottom left",
                                 marker={"size": 13, "color": "black", "symbol": "x"}))
    return _plane(_layout(fig, lab), data.xs, data.ys)

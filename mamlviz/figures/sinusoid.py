"""Figures of the live sinusoid chapter: streaming meta-training curves, a new task's fits.

Pure functions: plain numbers in, ``plotly.graph_objects.Figure`` out. Every
visible string comes from a ``labels`` dict (English by default); traces carry
a fixed English key in ``meta`` so tests find them in any language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from mamlviz.algorithms import all_algorithms
from mamlviz.figures import LEGEND_BELOW, height_with_legend_below, panel_axes, panels, white

COLORS = {**{a.name: a.colour for a in all_algorithms()}, "random": "#7f7f7f"}
STEP_DASH = {0: "dot", 1: "dash", 10: "solid"}
MAX_POINTS = 600
# plotly_white by hand: naming a template deep-copies it, 60% of a streamed frame's cost.
LIGHT: dict[str, Any] = {"template": None, "plot_bgcolor": "white", "paper_bgcolor": "white"}
GRID: dict[str, Any] = {"gridcolor": "#ebf0f8", "zerolinecolor": "#ebf0f8", "showline": False}

LABELS_TRAINING: dict[str, str] = {
    "title": "Meta-training: query loss on the meta-batch",
    "x": "meta-iteration",
    "y": "query MSE (log scale)",
    "after": "{name}: after adaptation",
    "before": "{name}: before adaptation",
    "diverged": "{name} diverged",
}

LABELS_FITS: dict[str, str] = {
    "title": "A new task: each model's fit after 0, 1 and 10 gradient steps",
    "truth": "true curve",
    "support": "K points (support set)",
    "steps": "after {n} steps",
    "step1": "after 1 step",
    "diverged": "diverged",
    "x": "x",
    "y": "y",
}

LABELS_MSE: dict[str, str] = {
    "title": "Query MSE against adaptation steps (mean over testing tasks, 95% CI)",
    "x": "gradient steps on the support set",
    "y": "query MSE",
    "this_task": "{name}: this task",
}


def _color(key: str, i: int) -> str:
    """An algorithm's colour for ``key`` ("maml", "maml:..." or a variant "maml@lake");
    a palette colour by position for any other key."""
    palette = list(COLORS.values())
    return COLORS.get(key.split(":")[0].split("@")[0], palette[i % len(palette)])


def decimate(xs: Sequence[Any], ys: Sequence[Any], max_points: int = MAX_POINTS
             ) -> tuple[list[Any], list[Any]]:
    """At most ``max_points`` evenly spaced points, the last one always kept."""
    n = len(xs)
    if n <= max_points:
        return list(xs), list(ys)
    stride = math.ceil(n / max_points)
    idx = list(range(0, n, stride))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return [xs[i] for i in idx], [ys[i] for i in idx]


def smooth(values: Sequence[float | None], window: int) -> list[float | None]:
    """Trailing moving average over finite values (None where there is none)."""
    v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
    if v.size == 0:
        return []
    ok = np.isfinite(v)
    total = np.cumsum(np.where(ok, v, 0.0))
    count = np.cumsum(ok)
    if window < v.size:
        total[window:] = total[window:] - total[:-window].copy()
        count[window:] = count[window:] - count[:-window].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return [float(m) if c else None for m, c in zip(mean, count)]


def _array(values: Sequence[float | None]) -> np.ndarray:
    """Numbers as a float array (None as NaN): plotly checks an array at once, a list per item."""
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def loss_traces(key: str, finite: Sequence[Any], name: str, color: str,
                labels: Mapping[str, str], window: int, show_before: bool = True,
                width: float | None = None) -> list[go.Scatter]:
    """One algorithm's smoothed query-loss curves: after (solid) and before (dotted)
    adaptation, decimated for a live chart. ``labels["after"]``/``["before"]`` name them."""
    steps = [r.step for r in finite]
    traces = []
    for part, field, dash in (("after", "query_loss_after", "solid"),
                              ("before", "query_loss_before", "dot")):
        if part == "before" and not show_before:
            continue
        xs, ys = decimate(steps, smooth([getattr(r, field) for r in finite], window))
        line = {"color": color, "dash": dash} | ({} if width is None else {"width": width})
        traces.append(go.Scatter(x=np.asarray(xs, dtype=np.int64), y=_array(ys), mode="lines",
                                 name=labels[part].format(name=name), line=line,
                                 meta=f"{key}:{part}", legendgroup=key))
    return traces


def training_figure(records: Mapping[str, Sequence[Any]], names: Mapping[str, str],
                    labels: Mapping[str, str] = LABELS_TRAINING, window: int = 25,
                    show_before: bool = True) -> go.Figure:
    """Query loss after (solid) and before (dotted) adaptation per algorithm, smoothed.

    ``records`` maps a key to its ``Record``s (anything with step, query_loss_before,
    query_loss_after, status). A diverged run keeps its curve and gets a red marker.
    """
    lab = {**LABELS_TRAINING, **labels}
    traces: list[go.Scatter] = []
    for i, (key, recs) in enumerate(records.items()):
        name = names.get(key, key)
        color = _color(key, i)
        finite = [r for r in recs if r.status != "diverged"]
        traces += loss_traces(key, finite, name, color, lab, window, show_before, width=2.5)
        if recs and recs[-1].status == "diverged":
            y_last = next((v for v in reversed(smooth(
                [r.query_loss_after for r in finite], window)) if v is not None), 1.0)
            traces.append(go.Scatter(x=[recs[-1].step], y=[y_last], mode="markers+text",
                                     marker={"color": "#d62728", "size": 14, "symbol": "x"},
                                     text=[lab["diverged"].format(name=name)],
                                     textposition="top center", showlegend=False,
                                     meta=f"{key}:diverged"))
    # The layout in one piece, checked once: the live chart rebuilds this figure five
    # times a second, and each update_layout call validates again (8.4 -> 3.4 ms).
    fig = go.Figure(data=traces, layout={
        "title": lab["title"], "uirevision": "live", "legend": LEGEND_BELOW,
        "xaxis": {"title": lab["x"], **GRID},
        "yaxis": {"title": lab["y"], "type": "log", **GRID}, **LIGHT})
    # LIGHT's "no template" holds only once set on the figure: a new figure takes Plotly's.
    return fig.update_layout(template=None)


def fits_figure(truth: tuple[Sequence[float], Sequence[float]],
                support: tuple[Sequence[float], Sequence[float]],
                fits: Mapping[str, Mapping[str, Any]], names: Mapping[str, str],
                labels: Mapping[str, str] = LABELS_FITS) -> go.Figure:
    """One panel per model: the true curve, the K points, the fit after 0, 1, 10 steps.

    ``fits[key] = {"x": [...], "fits": {steps: [...] or None}}`` (see
    ``mamlviz.newtask.sinusoid_fits``); a None fit is marked as diverged.
    """
    lab = {**LABELS_FITS, **labels}
    keys = list(fits)
    fig = panels([names.get(k, k) for k in keys] or [""], shared_yaxes=True)
    tx, ty = list(truth[0]), list(truth[1])
    finite_y = [v for v in ty if math.isfinite(v)] + [v for v in support[1] if math.isfinite(v)]
    span = max([abs(v) for v in finite_y] + [1.0])
    traces: list[go.Scatter] = []
    for c, key in enumerate(keys, start=1):
        first = c == 1
        axes = panel_axes(c)
        traces.append(go.Scatter(x=tx, y=ty, mode="lines", name=lab["truth"],
                                 line={"color": "#d62728", "width": 3}, showlegend=first,
                                 legendgroup="truth", meta="truth", **axes))
        traces.append(go.Scatter(x=list(support[0]), y=list(support[1]), mode="markers",
                                 name=lab["support"], legendgroup="support", showlegend=first,
                                 marker={"color": "#d62728", "size": 11, "symbol": "triangle-up"},
                                 meta="support", **axes))
        entry = fits[key]
        for steps, ys in sorted(entry["fits"].items()):
            label = lab["step1"] if steps == 1 else lab["steps"].format(n=steps)
            if ys is None:
                fig.add_annotation(text=f"{label}: {lab['diverged']}", showarrow=False,
                                   xref=f"{axes['xaxis']} domain",
                                   yref=f"{axes['yaxis']} domain", x=0.5, y=0.05,
                                   font={"color": "#d62728"})
                continue
            traces.append(go.Scatter(x=entry["x"], y=ys, mode="lines", name=label,
                                     legendgroup=f"steps{steps}", showlegend=first,
                                     line={"color": _color(key, c - 1),
                                           "dash": STEP_DASH.get(steps, "longdash"), "width": 2.5},
                                     meta=f"{key}:fit{steps}", **axes))
    fig.add_traces(traces)
    fig.update_yaxes(range=[-1.3 * span, 1.3 * span])
    white(fig)
    fig.update_layout(title=lab["title"], legend=LEGEND_BELOW)
    fig.update_xaxes(title_text=lab["x"])
    fig.layout.yaxis.title.text = lab["y"]  # the first panel's, the others share it
    return fig


def mse_steps_figure(curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
                     names: Mapping[str, str], labels: Mapping[str, str] = LABELS_MSE,
                     this_task: Mapping[str, Sequence[float]] | None = None) -> go.Figure:
    """Mean query MSE after 0..S steps with a 95% CI band; optionally one task's own curve."""
    lab = {**LABELS_MSE, **labels}
    fig = go.Figure()
    for i, (key, (mean, ci)) in enumerate(curves.items()):
        color = _color(key, i)
        steps = list(range(len(mean)))
        hi = [m + (c if math.isfinite(c) else 0.0) for m, c in zip(mean, ci)]
        lo = [max(m - (c if math.isfinite(c) else 0.0), 0.0) for m, c in zip(mean, ci)]
        fig.add_trace(go.Scatter(x=steps + steps[::-1], y=hi + lo[::-1], fill="toself",
                                 fillcolor=color, opacity=0.18, line={"width": 0},
                                 hoverinfo="skip", showlegend=False, meta=f"{key}:ci"))
        fig.add_trace(go.Scatter(x=steps, y=list(mean), mode="lines+markers",
                                 name=names.get(key, key), line={"color": color, "width": 3},
                                 error_y={"type": "data", "array": list(ci), "visible": False},
                                 meta=f"{key}:mean"))
        if this_task and key in this_task:
            ys = [v if math.isfinite(v) else None for v in this_task[key]]
            fig.add_trace(go.Scatter(x=list(range(len(ys))), y=ys, mode="lines",
                                     name=lab["this_task"].format(name=names.get(key, key)),
                                     line={"color": color, "dash": "dot"},
                                     meta=f"{key}:task"))
    white(fig)
    fig.update_layout(title=lab["title"], xaxis_title=lab["x"], yaxis_title=lab["y"],
                      # Tall enough that the legend's rows below leave the plot over half
                      # the chart on a laptop's projector: 520 px for 12 entries.
                      legend=LEGEND_BELOW, height=height_with_legend_below(fig, 280))
    # A model whose steps diverge (Meta-SGD's step sizes, learned for one step, taken ten
    # times) would stretch the axis to 1e30 and flatten every curve: past the error before
    # adaptation, a curve leaves the chart upwards.
    start = [m[0] + (c[0] if math.isfinite(c[0]) else 0.0) for m, c in curves.values()
             if len(m) and math.isfinite(m[0])]
    highest = [v for m, _ in curves.values() for v in m if math.isfinite(v)]
    if start and highest and max(highest) > 1.5 * max(start):
        fig.update_yaxes(range=[0, 1.5 * max(start)])
    return fig

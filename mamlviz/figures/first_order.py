"""Figures of the first-order approximation: cosine similarity, components, cost.

Pure functions over what ``mamlviz.first_order`` measured; every visible string
comes from a ``labels`` dict (English by default); traces carry ``meta`` keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mamlviz.figures import LEGEND_BELOW, white

from ..first_order import Cost, MetaGradients

FONT_SIZE = 15
STEP_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
FULL_COLOR, FIRST_COLOR = "#ff7f0e", "#17becf"

LABELS_COSINE: dict[str, str] = {
    "title": "Cosine of the full and first-order meta-gradients against α",
    "x": "inner learning rate α",
    "y": "cosine similarity",
    "steps": "{s} inner step(s)",
    "current": "your setting",
}

LABELS_COMPONENTS: dict[str, str] = {
    "title": "Every component of ∇φ L: exact versus first order",
    "x": "full (second-order) meta-gradient",
    "y": "first-order meta-gradient",
    "points": "one parameter φᵢ",
    "diagonal": "equal (y = x)",
}

LABELS_COST: dict[str, str] = {
    "title": "Cost of one meta-step",
    "time": "time per meta-step (ms)",
    "memory": "saved for backward (KB)",
    "naive": "naive loop (torch.autograd)",
    "batched": "batched (torch.func, vmap)",
    "memory_bar": "peak bytes saved for backward",
    "full": "full (second order)",
    "first_order": "first order",
}


def _labels(defaults: Mapping[str, str], labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**defaults, **(labels or {})}


def _finite_or_none(values: Sequence[float]) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in values]


def cosine_figure(inner_lrs: Sequence[float], sweep: Mapping[int, Sequence[float]],
                  current: tuple[float, float] | None = None,
                  labels: Mapping[str, str] | None = None) -> go.Figure:
    """One line per number of inner steps; NaN (diverged) points are left as gaps."""
    lab = _labels(LABELS_COSINE, labels)
    fig = go.Figure()
    for i, (steps, values) in enumerate(sweep.items()):
        fig.add_trace(go.Scatter(x=list(inner_lrs), y=_finite_or_none(values),
                                 mode="lines+markers", name=lab["steps"].format(s=steps),
                                 line={"color": STEP_COLORS[i % len(STEP_COLORS)], "width": 2.5},
                                 meta=f"steps-{steps}"))
    if current is not None and math.isfinite(current[1]):
        fig.add_trace(go.Scatter(x=[current[0]], y=[current[1]], mode="markers",
                                 name=lab["current"], meta="current",
                                 marker={"symbol": "star", "size": 16, "color": "black"}))
    white(fig)
    fig.update_layout(title=lab["title"], xaxis_title=lab["x"], yaxis_title=lab["y"],
                      font={"size": FONT_SIZE}, height=430,
                      yaxis={"range": [-1.05, 1.05]}, legend=LEGEND_BELOW)
    return fig


def components_figure(grads: MetaGradients, labels: Mapping[str, str] | None = None
                      ) -> go.Figure:
    """Scatter of full against first-order components: on the diagonal where they agree."""
    lab = _labels(LABELS_COMPONENTS, labels)
    full, first = grads.full.tolist(), grads.first_order.tolist()
    finite = [v for v in full + first if math.isfinite(v)]
    lim = max((abs(v) for v in finite), default=1.0) * 1.05 or 1.0
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[-lim, lim], y=[-lim, lim], mode="lines", name=lab["diagonal"],
                             line={"color": "grey", "dash": "dash"}, meta="diagonal"))
    # SVG, not WebGL: a model's ~1,800 points draw fast enough, and the lecture's chart
    # component loads only the plotly.js bundle that SVG traces need.
    fig.add_trace(go.Scatter(x=full, y=first, mode="markers", name=lab["points"],
                             marker={"size": 4, "color": FIRST_COLOR, "opacity": 0.6},
                             meta="components"))
    white(fig)
    fig.update_layout(title=lab["title"], xaxis_title=lab["x"], yaxis_title=lab["y"],
                      font={"size": FONT_SIZE}, height=430,
                      legend=LEGEND_BELOW)
    return fig


def cost_figure(full: Cost, first_order: Cost, labels: Mapping[str, str] | None = None
                ) -> go.Figure:
    """Time (two implementations) and memory of a full versus a first-order meta-step."""
    lab = _labels(LABELS_COST, labels)
    fig = make_subplots(rows=1, cols=2, subplot_titles=(lab["time"], lab["memory"]))
    kinds = [lab["full"], lab["first_order"]]
    for key, color, attr in (("naive", "#1f77b4", "seconds_naive"),
                             ("batched", "#2ca02c", "seconds_batched")):
        fig.add_trace(go.Bar(x=kinds, y=[1e3 * getattr(full, attr), 1e3 * getattr(first_order,
                                                                                  attr)],
                             name=lab[key], marker={"color": color}, meta=f"time-{key}",
                             texttemplate="%{y:.2f}", textposition="outside"), row=1, col=1)
    fig.add_trace(go.Bar(x=kinds, y=[full.saved_bytes_peak / 1e3, first_order.saved_bytes_peak
                                     / 1e3],
                         name=lab["memory_bar"], marker={"color": [FULL_COLOR, FIRST_COLOR]},
                         meta="memory", texttemplate="%{y:.0f}", textposition="outside"),
                  row=1, col=2)
    fig.update_yaxes(title_text=lab["time"], row=1, col=1)
    fig.update_yaxes(title_text=lab["memory"], row=1, col=2)
    white(fig)
    fig.update_layout(title=lab["title"], font={"size": FONT_SIZE},
                      height=430, barmode="group", legend=LEGEND_BELOW)
    return fig

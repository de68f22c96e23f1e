"""Figures of the closing chapter: what each method learns, and what a meta-step costs.

Pure functions over what ``mamlviz.what_is_learned``, ``mamlviz.landscape`` and
``mamlviz.cost`` computed; every visible string comes from a ``labels`` dict (English
by default), algorithm names from ``names``; traces carry ``meta`` keys (the
algorithm's registry name where a trace is one algorithm's).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mamlviz.figures import white

from ..algorithms import get
from ..cost import CostTable
from ..landscape import Directions
from ..what_is_learned import PrototypeMap, StepSizeCurves
from . import LEGEND_BELOW, LEGEND_RIGHT

FONT_SIZE = 15
HEIGHT = 380
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                 "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
STEP_COLOURS = ("#9ecae1", "#4292c6", "#08306b", "#6baed6", "#2171b5")

LABELS_DIRECTIONS = {"title": "Where each method moves φ (2-D landscape)", "x": "φ₁",
                     "y": "φ₂ (the head, for ANIL)", "phi": "φ"}
LABELS_STEP_SIZE = {"title": "MAML's L(φ) for three inner step sizes α", "x": "φ",
                    "y": "L(φ) after one step", "alpha": "α = {a:g}", "best": "best φ"}
LABELS_LAYERS = {"title": "How far one task's inner loop moves each layer", "x": "layer",
                 "y": "‖θ̂ − φ‖ / ‖φ‖ (mean over tasks)"}
LABELS_PROTOTYPES = {"title": "An episode as a metric sees it (accuracy {acc:.0%})",
                     "x": "first principal component", "y": "second principal component",
                     "support": "support (class {k})", "prototype": "prototypes",
                     "query": "queries (colour: nearest prototype)", "wrong": "misclassified"}
LABELS_COST = {"title": "Cost of one meta-step against inner steps (Conv4, CPU)",
               "x": "inner steps", "time": "time (ms)", "memory": "peak memory (MB)"}


def _labels(defaults: Mapping[str, str], labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**defaults, **(labels or {})}


def _layout(fig: go.Figure, title: str, legend: Mapping[str, object] = LEGEND_BELOW
            ) -> go.Figure:
    white(fig)
    fig.update_layout(title=title, font={"size": FONT_SIZE},
                      height=HEIGHT, legend=dict(legend), margin={"t": 60})
    return fig


def directions_figure(directions: Directions, names: Mapping[str, str],
                      labels: Mapping[str, str] | None = None) -> go.Figure:
    """An arrow from phi along each algorithm's update direction, all of one length
    (the directions differ in size by orders of magnitude; their angle is the point)."""
    lab = _labels(LABELS_DIRECTIONS, labels)
    phi = np.asarray(directions.phi, dtype=float)
    fig = go.Figure()
    for name, d in directions.as_dict().items():
        d = np.asarray(d, dtype=float)
        norm = float(np.linalg.norm(d))
        if not np.isfinite(norm) or norm == 0:
            continue
        tip = phi + d / norm
        algorithm = get(name)
        fig.add_trace(go.Scatter(x=[phi[0], tip[0]], y=[phi[1], tip[1]], mode="lines+markers",
                                 name=names.get(name, name), meta=name,
                                 line={"color": algorithm.colour, "width": 3,
                                       "dash": algorithm.dash},
                                 marker={"symbol": "arrow", "angleref": "previous",
                                         "size": [0, 14]}))
    fig.add_trace(go.Scatter(x=[phi[0]], y=[phi[1]], mode="markers", name=lab["phi"],
                             meta="phi", marker={"color": "black", "size": 10}))
    # the plot, not the range, gives way to keep one unit the same length on both axes
    fig.update_xaxes(title_text=lab["x"], range=[phi[0] - 1.3, phi[0] + 1.3], constrain="domain")
    fig.update_yaxes(title_text=lab["y"], range=[phi[1] - 1.3, phi[1] + 1.3],
                     scaleanchor="x", scaleratio=1)
    return _layout(fig, lab["title"], LEGEND_RIGHT)


def step_size_figure(curves: StepSizeCurves, labels: Mapping[str, str] | None = None
                     ) -> go.Figure:
    lab = _labels(LABELS_STEP_SIZE, labels)
    fig = go.Figure()
    for i, (alpha, values, best) in enumerate(zip(curves.inner_lrs, curves.objective,
                                                  curves.best_phi)):
        colour = STEP_COLOURS[i % len(STEP_COLOURS)]
        fig.add_trace(go.Scatter(x=curves.grid, y=values, mode="lines",
                                 name=lab["alpha"].format(a=alpha), meta=f"alpha-{alpha:g}",
                                 line={"color": colour, "width": 2.5}))
        fig.add_trace(go.Scatter(x=[best], y=[float(values.min())], mode="markers",
                                 name=lab["best"], meta=f"best-{alpha:g}", showlegend=i == 0,
                                 marker={"color": colour, "size": 11, "symbol": "star",
                                         "line": {"color": "black", "width": 1}}))
    fig.update_xaxes(title_text=lab["x"])
    fig.update_yaxes(title_text=lab["y"])
    return _layout(fig, lab["title"])


def layer_change_figure(changes: Mapping[str, Mapping[str, float]],
                        modes: Mapping[str, tuple[str, str]], layers: Mapping[str, str],
                        labels: Mapping[str, str] | None = None) -> go.Figure:
    """Grouped bars: per layer, how far each mode's inner loop moved it. ``modes`` maps a
    mode ("every", "head") to (legend text, registry name whose colour it takes)."""
    lab = _labels(LABELS_LAYERS, labels)
    fig = go.Figure()
    for mode, (text, algorithm) in modes.items():
        values = changes[mode]
        fig.add_trace(go.Bar(x=[layers.get(k, k) for k in values], y=list(values.values()),
                             name=text, meta=algorithm,
                             marker={"color": get(algorithm).colour},
                             texttemplate="%{y:.3f}", textposition="outside"))
    fig.update_xaxes(title_text=lab["x"])
    fig.update_yaxes(title_text=lab["y"])
    fig.update_layout(barmode="group")
    return _layout(fig, lab["title"])


def prototype_figure(data: PrototypeMap, labels: Mapping[str, str] | None = None
                     ) -> go.Figure:
    lab = _labels(LABELS_PROTOTYPES, labels)
    fig = go.Figure()
    n_way = data.prototypes.shape[0]
    colours = [CLASS_COLOURS[k % len(CLASS_COLOURS)] for k in range(n_way)]
    fig.add_trace(go.Scatter(x=data.query[:, 0], y=data.query[:, 1], mode="markers",
                             name=lab["query"], meta="query",
                             marker={"color": [colours[int(k)] for k in data.predicted],
                                     "size": 8, "opacity": 0.7}))
    wrong = data.predicted != data.query_y
    fig.add_trace(go.Scatter(x=data.query[wrong, 0], y=data.query[wrong, 1], mode="markers",
                             name=lab["wrong"], meta="wrong",
                             marker={"symbol": "x-thin", "size": 12,
                                     "line": {"color": "black", "width": 2}}))
    fig.add_trace(go.Scatter(x=data.prototypes[:, 0], y=data.prototypes[:, 1], mode="markers",
                             name=lab["prototype"], meta="prototype",
                             marker={"color": colours, "size": 20, "symbol": "star",
                                     "line": {"color": "black", "width": 1.5}}))
    fig.update_xaxes(title_text=lab["x"])
    fig.update_yaxes(title_text=lab["y"])
    return _layout(fig, lab["title"].format(acc=data.accuracy))


def cost_by_steps_figure(table: CostTable, names: Mapping[str, str],
                         labels: Mapping[str, str] | None = None) -> go.Figure:
    """Time and peak memory of one meta-step against the inner steps, one line per
    algorithm (an algorithm without an inner loop is flat)."""
    lab = _labels(LABELS_COST, labels)
    # The y axes name the two panels: titles above them as well were drawn into the
    # figure's title once a projector's font made it two lines tall.
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1)
    steps = list(table.inner_steps)
    for name in table.seconds:
        algorithm = get(name)
        style = {"color": algorithm.colour, "width": algorithm.line_width,
                 "dash": algorithm.dash}
        for col, values, legend in ((1, [1e3 * s for s in table.seconds[name]], True),
                                    (2, [b / 1e6 for b in table.peak_bytes[name]], False)):
            fig.add_trace(go.Scatter(x=steps, y=values, mode="lines+markers",
                                     name=names.get(name, name), meta=name, line=style,
                                     legendgroup=name, showlegend=legend), row=1, col=col)
    for col, title in ((1, lab["time"]), (2, lab["memory"])):
        fig.update_xaxes(title_text=lab["x"], tickvals=steps, row=1, col=col)
        fig.update_yaxes(title_text=title, rangemode="tozero", row=1, col=col)
    _layout(fig, lab["title"])
    # Taller than the others: two rows of x-axis text and the legend under two panels.
    fig.update_layout(height=HEIGHT + 80)
    return fig

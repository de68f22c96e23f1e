"""Figures of the live Omniglot chapter: image grids, episodes with marks, accuracy curves.

Pure functions: tensors and numbers in, ``plotly.graph_objects.Figure`` out.
Visible strings come from a ``labels`` dict (English by default); traces carry a
fixed English ``meta`` key for tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mamlviz.figures import LEGEND_BELOW, height_with_legend_below, white

from .png import add_picture
from .sinusoid import GRID, LIGHT, _color, loss_traces

PAD = 4
GRID_MAX_WIDTH = 1100
LABEL_FONT_PX = 11
# A label's line (font size x 1.3) and room above and below it; presentation mode
# grows the labels' font by 1.4 and the whole figure by up to 1.5, so this holds there too.
LABEL_BAND_PX = 22
RIGHT, WRONG = "#2ca02c", "#d62728"

LABELS_GRID: dict[str, str] = {"title": ""}

LABELS_ACCURACY: dict[str, str] = {
    "title": "Accuracy on this episode's queries against adaptation steps",
    "x": "gradient steps on the support set",
    "y": "query accuracy (%)",
    "paper": "{name}: paper {value:.1f}%",
}

LABELS_LIVE: dict[str, str] = {
    "title": "Omniglot meta-training",
    "loss": "query loss (cross-entropy)",
    "accuracy": "testing accuracy (%)",
    "x": "meta-iteration",
    "after": "{name}: loss after adaptation",
    "before": "{name}: loss before adaptation",
    "acc": "{name}: accuracy on testing tasks",
    "chance": "chance",
    "reference": "{name}: {value:.1f}%",
}


def image_grid_figure(images: Any, titles: Sequence[str] | None = None, columns: int = 10,
                      marks: Sequence[bool | None] | None = None,
                      labels: Mapping[str, str] = LABELS_GRID, tile_px: int = 72,
                      meta: str = "grid") -> go.Figure:
    """Images ([n, 28, 28] or [n, 1, 28, 28], 1 = ink) tiled in one picture.

    ``titles`` go under each tile; ``marks`` draws a green (True) or red (False)
    frame around a tile (right or wrong answers).
    """
    lab = {**LABELS_GRID, **labels}
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim == 4:
        arr = arr[:, 0]
    n = int(arr.shape[0])
    size = int(arr.shape[-1]) if n else 28
    cols = max(1, min(columns, n or 1))
    rows = max(1, math.ceil(n / cols))
    cell = size + PAD
    plot_width = min(GRID_MAX_WIDTH - 20, cols * tile_px + 20)
    px_per_unit = plot_width / (cols * cell + PAD)
    # Under each row its labels get a band of their own, sized in pixels (text does not
    # scale with the drawings): with only the 4-unit gap a row's labels were drawn
    # through the next row's frames and drawings (20-way, 2 rows).
    band = math.ceil(LABEL_BAND_PX / px_per_unit) if titles else 0
    pitch = cell + band
    canvas = np.zeros((rows * pitch + PAD, cols * cell + PAD), dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, cols)
        top, left = PAD + r * pitch, PAD + c * cell
        canvas[top:top + size, left:left + size] = arr[i]
    height, width = canvas.shape
    # The drawings are one picture (mamlviz.figures.png: plotly.js's small bundle, a
    # few KB), row 0 on top as the y axis is reversed below.
    fig = go.Figure()
    add_picture(fig, 1.0 - canvas, left=-0.5, right=width - 0.5, top=-0.5,
                bottom=height - 0.5, meta=meta, scale=3)
    for i in range(n):
        r, c = divmod(i, cols)
        x0, y0 = PAD + c * cell - 0.5, PAD + r * pitch - 0.5
        if marks is not None and i < len(marks) and marks[i] is not None:
            color = RIGHT if marks[i] else WRONG
            fig.add_shape(type="rect", x0=x0 - 1, y0=y0 - 1, x1=x0 + size + 1, y1=y0 + size + 1,
                          line={"color": color, "width": 3})
        if titles is not None and i < len(titles):
            fig.add_annotation(x=x0 + size / 2, y=y0 + size + 1.5, text=titles[i],
                               showarrow=False, yanchor="top", font={"size": LABEL_FONT_PX})
    fig.update_xaxes(visible=False, range=[-0.5, width - 0.5])
    fig.update_yaxes(visible=False, range=[height - 0.5, -0.5], scaleanchor="x")
    top_margin = 50 if lab["title"] else 10
    # Drawn to scale: the figure is the canvas at px_per_unit plus its margins, so the
    # plot fills it and the label band keeps its pixels.
    white(fig)
    fig.update_layout(title=lab["title"] or None,
                      width=plot_width + 20, height=round(height * px_per_unit) + top_margin + 10,
                      margin={"l": 10, "r": 10, "t": top_margin, "b": 10})
    return fig


def accuracy_steps_figure(curves: Mapping[str, Sequence[float]], names: Mapping[str, str],
                          labels: Mapping[str, str] = LABELS_ACCURACY,
                          paper: Mapping[str, float] | None = None,
                          ci: Mapping[str, Sequence[float]] | None = None) -> go.Figure:
    """Accuracy (0..1 in, % drawn) after 0..S steps per model; the paper's number dashed.

    A paper's number is a dashed line named in the legend, not a label on the line: the
    papers' numbers lie within a point of each other (98.7, 98.3, 97.7 at 5-way), and
    labels there were drawn over one another.
    """
    lab = {**LABELS_ACCURACY, **labels}
    fig = go.Figure()
    last_step = max((len(acc) - 1 for acc in curves.values()), default=0)
    for i, (key, acc) in enumerate(curves.items()):
        color = _color(key, i)
        steps = list(range(len(acc)))
        error = None
        if ci and key in ci:
            error = {"type": "data", "array": [100 * c if math.isfinite(c) else 0 for c in ci[key]]}
        # A variant of an algorithm ("maml@lake": another training split) takes its colour,
        # dotted, so the two read as one method trained two ways.
        line = {"color": color, "width": 3, "dash": "dot" if "@" in key else "solid"}
        fig.add_trace(go.Scatter(x=steps, y=[100 * a for a in acc], mode="lines+markers",
                                 name=names.get(key, key), line=line,
                                 error_y=error, meta=f"{key}:accuracy"))
        if paper and key in paper:
            fig.add_trace(go.Scatter(x=[0, last_step], y=[paper[key], paper[key]], mode="lines",
                                     name=lab["paper"].format(name=names.get(key, key),
                                                              value=paper[key]),
                                     line={"color": color, "dash": "dash", "width": 1.5},
                                     hoverinfo="name", meta=f"{key}:paper"))
    white(fig)
    fig.update_layout(title=lab["title"], xaxis_title=lab["x"], yaxis_title=lab["y"],
                      yaxis_range=[0, 102],
                      # Tall enough that the legend's rows below (a line per model and
                      # paper) leave the plot over half the chart on a laptop's projector:
                      # 620 px for 11 entries.
                      legend=LEGEND_BELOW, height=height_with_legend_below(fig, 400))
    return fig


def live_training_figure(records: Mapping[str, Sequence[Any]],
                         evals: Mapping[str, Sequence[Any]], names: Mapping[str, str],
                         n_way: int, labels: Mapping[str, str] = LABELS_LIVE,
                         window: int = 10,
                         references: Mapping[str, float] | None = None) -> go.Figure:
    """Two panels: the meta-batch query loss (smoothed) and testing accuracy as it streams.

    ``references`` (name -> accuracy in 0..1) are drawn across the accuracy panel as
    dashed lines labelled by ``labels["reference"]``: another's numbers (a homework's pass
    lines), which the caller names as such.
    """
    lab = {**LABELS_LIVE, **labels}
    fig = make_subplots(rows=1, cols=2, subplot_titles=[lab["loss"], lab["accuracy"]])
    for i, (key, recs) in enumerate(records.items()):
        name = names.get(key, key)
        color = _color(key, i)
        finite = [r for r in recs if r.status != "diverged"]
        for trace in loss_traces(key, finite, name, color, lab, window):
            fig.add_trace(trace, row=1, col=1)
        points = list(evals.get(key, []))
        fig.add_trace(go.Scatter(x=[p.step for p in points], y=[100 * p.value for p in points],
                                 mode="lines+markers", name=lab["acc"].format(name=name),
                                 line={"color": color, "width": 3}, legendgroup=key,
                                 meta=f"{key}:accuracy"), row=1, col=2)
    fig.add_hline(y=100 / n_way, line={"color": "#7f7f7f", "dash": "dot"},
                  annotation_text=lab["chance"], row=1, col=2)
    for name, value in (references or {}).items():
        fig.add_hline(y=100 * value, line={"color": "#9467bd", "dash": "dash", "width": 1},
                      annotation_text=lab["reference"].format(name=name, value=100 * value),
                      annotation_position="top left", annotation_font={"size": 10},
                      name=f"reference:{name}", row=1, col=2, exclude_empty_subplots=False)
    fig.update_yaxes(range=[0, 102], row=1, col=2)
    # Without a template nothing makes room for the axis titles: they sat on the tick
    # labels, the more so with presentation mode's larger fonts.
    fig.update_xaxes(title_text=lab["x"], automargin=True, title_standoff=8)
    fig.update_yaxes(automargin=True)
    fig.update_layout(title=lab["title"], uirevision="live", **LIGHT,
                      legend=LEGEND_BELOW)
    fig.update_xaxes(**GRID)
    fig.update_yaxes(**GRID)
    return fig

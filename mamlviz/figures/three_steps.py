"""Figures of the three steps of meta-learning: tasks, an Omniglot episode, L(F) = sum_n l^n.

Pure functions: data from ``mamlviz.three_steps`` (or an Omniglot episode) in,
``plotly.graph_objects.Figure`` out. Every visible string comes from a
``labels`` dict (English by default). Traces carry a fixed English key in
``meta`` so tests can find them whatever the language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from mamlviz.algorithms import all_algorithms
from mamlviz.figures import LEGEND_BELOW, white
from mamlviz.figures.png import add_picture

from ..three_steps import CURVE_POINTS, Goodness, SinusoidTaskSet

FONT_SIZE = 15
FIT_Y_LIMIT = 6.0  # amplitudes are at most 5: the fit figure's y axis never goes past ±6
TASK_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
               "#bcbd22", "#17becf", "#ff7f0e", "#393b79", "#637939")
CANDIDATE_COLORS = {"random": "#7f7f7f", **{a.name: a.colour for a in all_algorithms()}}

LABELS_TASKS: dict[str, str] = {
    "title": "Training tasks and testing tasks: y = a sin(x + b)",
    "training": "training tasks",
    "testing": "testing tasks",
    "x": "x",
    "y": "y",
    "task": "task {n}",
    "support": "support set (training data)",
    "query": "query set (testing data)",
}

LABELS_GOODNESS: dict[str, str] = {
    "title": "L(F) = sum over tasks of l^n, for each learning algorithm F",
    "x": "learning algorithm F (its initialisation phi)",
    "y": "L(F): query loss (MSE),<br>stacked over tasks",
    "task": "l<sup>{n}</sup> (task {n})",
    "total": "{value:.2f}",
    "best": "best",
}

LABELS_FIT: dict[str, str] = {
    "title": "Task {n}: what each F learns from the support set",
    "x": "x",
    "y": "y",
    "truth": "true function",
    "support": "support set",
    "query": "query set",
}

LABELS_EPISODE: dict[str, str] = {
    "title": "An Omniglot {n_way}-way {k_shot}-shot task",
    "class": "class {label}",
    "support": "support {k}",
    "query": "query {k}",
}


def _labels(defaults: Mapping[str, str], labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**defaults, **(labels or {})}


def _color(n: int) -> str:
    return TASK_COLORS[n % len(TASK_COLORS)]


def _task_traces(fig: go.Figure, tasks: SinusoidTaskSet, lab: Mapping[str, str], col: int,
                 show_legend: bool) -> None:
    b = tasks.batch
    lo = float(min(b.support_x.min(), b.query_x.min()))
    hi = float(max(b.support_x.max(), b.query_x.max()))
    x = torch.linspace(lo, hi, CURVE_POINTS)
    for n in range(tasks.n_tasks):
        color, group = _color(n), f"task{n}-{col}"
        name = lab["task"].format(n=n + 1)
        fig.add_trace(go.Scatter(x=x.tolist(), y=tasks.curve(n, x).tolist(), mode="lines",
                                 line={"color": color, "width": 1.5}, opacity=0.6, name=name,
                                 legendgroup=group, showlegend=False, meta=f"curve-{col}-{n}",
                                 hovertemplate=f"{name}<extra></extra>"),
                      row=1, col=col)
        fig.add_trace(go.Scatter(x=b.support_x[n, :, 0].tolist(), y=b.support_y[n, :, 0].tolist(),
                                 mode="markers", name=lab["support"], legendgroup="support",
                                 showlegend=show_legend and n == 0, meta=f"support-{col}-{n}",
                                 marker={"color": color, "size": 9, "symbol": "circle",
                                         "line": {"color": "black", "width": 1}}),
                      row=1, col=col)
        fig.add_trace(go.Scatter(x=b.query_x[n, :, 0].tolist(), y=b.query_y[n, :, 0].tolist(),
                                 mode="markers", name=lab["query"], legendgroup="query",
                                 showlegend=show_legend and n == 0, meta=f"query-{col}-{n}",
                                 marker={"color": color, "size": 8, "symbol": "x-thin",
                                         "line": {"color": color, "width": 2}}),
                      row=1, col=col)


def tasks_figure(training: SinusoidTaskSet, testing: SinusoidTaskSet,
                 labels: Mapping[str, str] | None = None) -> go.Figure:
    """Training tasks (left) and testing tasks (right): each curve with its support and query."""
    lab = _labels(LABELS_TASKS, labels)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=(lab["training"], lab["testing"]))
    _task_traces(fig, training, lab, 1, True)
    _task_traces(fig, testing, lab, 2, False)
    fig.update_xaxes(title_text=lab["x"])
    fig.update_yaxes(title_text=lab["y"], row=1, col=1)
    white(fig)
    fig.update_layout(title=lab["title"], font={"size": FONT_SIZE},
                      legend=LEGEND_BELOW, height=430)
    return fig


def goodness_figure(scores: Mapping[str, Goodness], names: Mapping[str, str] | None = None,
                    labels: Mapping[str, str] | None = None,
                    short_names: Mapping[str, str] | None = None) -> go.Figure:
    """One stacked bar per candidate F: its per-task losses l^n add up to L(F).

    ``scores`` maps a candidate's key ("random" or an algorithm's name) to its
    Goodness; ``names`` gives each key's display name (the bars' x values and
    their hover text), ``short_names`` the tick labels under the bars (default:
    the display names): they stay horizontal, so keep them short, ``<br>``
    breaks lines. Non-finite losses are not drawn (the page warns about them);
    the best finite L(F) is marked.
    """
    lab = _labels(LABELS_GOODNESS, labels)
    keys = list(scores)
    display = [(names or {}).get(k, k) for k in keys]
    ticks = [(short_names or {}).get(k, d) for k, d in zip(keys, display)]
    n_tasks = max((len(g.per_task) for g in scores.values()), default=0)
    fig = go.Figure()
    for n in range(n_tasks):
        values = [scores[k].per_task[n] if scores[k].finite else None for k in keys]
        fig.add_trace(go.Bar(x=display, y=values, name=lab["task"].format(n=n + 1),
                             marker={"color": _color(n), "line": {"color": "white", "width": 1}},
                             meta=f"task-{n}",
                             hovertemplate="%{x}<br>" + lab["task"].format(n=n + 1)
                             + " = %{y:.3f}<extra></extra>"))
    finite = {k: g.total for k, g in scores.items() if g.finite}
    best = min(finite, key=finite.__getitem__) if finite else None
    totals = [finite.get(k) for k in keys]
    # Short text over each bar (two lines for the best), never wider than a bar.
    text = [(f"★ {lab['best']}<br>" if k == best else "") + lab["total"].format(value=t)
            if t is not None else "—" for k, t in zip(keys, totals)]
    fig.add_trace(go.Scatter(x=display, y=[t if t is not None else 0 for t in totals],
                             mode="text", text=text, textposition="top center",
                             textfont={"size": FONT_SIZE}, showlegend=False, meta="total",
                             hoverinfo="skip", cliponaxis=False))
    top = max(finite.values(), default=1.0)
    white(fig)
    fig.update_layout(barmode="stack", title=lab["title"], xaxis_title=lab["x"],
                      yaxis_title=lab["y"], font={"size": FONT_SIZE},
                      # Below, not beside: two of these share a row, and a legend at the
                      # side left the bars too narrow for their tick labels.
                      legend={**LEGEND_BELOW, "traceorder": "normal"}, height=600,
                      yaxis={"range": [0, top * 1.3 if top > 0 else 1]})
    fig.update_xaxes(tickmode="array", tickvals=display, ticktext=ticks, tickangle=0,
                     automargin=True)
    return fig


def fit_figure(tasks: SinusoidTaskSet, n: int, fits: Mapping[str, tuple[list[float], list[float]]],
               names: Mapping[str, str] | None = None,
               labels: Mapping[str, str] | None = None) -> go.Figure:
    """Task ``n``: its true curve, support and query points, and each F's adapted prediction."""
    lab = _labels(LABELS_FIT, labels)
    b = tasks.batch
    lo, hi = -5.0, 5.0
    if fits:
        xs = next(iter(fits.values()))[0]
        lo, hi = min(xs), max(xs)
    x = torch.linspace(lo, hi, CURVE_POINTS)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x.tolist(), y=tasks.curve(n, x).tolist(), mode="lines",
                             name=lab["truth"], line={"color": "black", "dash": "dot"},
                             meta="truth"))
    for key, (fx, fy) in fits.items():
        fig.add_trace(go.Scatter(x=list(fx), y=list(fy), mode="lines",
                                 name=(names or {}).get(key, key), meta=f"fit-{key}",
                                 line={"color": CANDIDATE_COLORS.get(key, None), "width": 2.5}))
    fig.add_trace(go.Scatter(x=b.support_x[n, :, 0].tolist(), y=b.support_y[n, :, 0].tolist(),
                             mode="markers", name=lab["support"], meta="support",
                             marker={"color": "black", "size": 10}))
    fig.add_trace(go.Scatter(x=b.query_x[n, :, 0].tolist(), y=b.query_y[n, :, 0].tolist(),
                             mode="markers", name=lab["query"], meta="query",
                             marker={"color": "black", "size": 8, "symbol": "x-thin",
                                     "line": {"color": "black", "width": 2}}))
    white(fig)
    fig.update_layout(title=lab["title"].format(n=n + 1), xaxis_title=lab["x"],
                      yaxis_title=lab["y"], font={"size": FONT_SIZE},
                      # 620: the legend's rows below (eight algorithms) leave the plot over
                      # half the chart on a laptop.
                      legend=LEGEND_BELOW, height=620,
                      yaxis={"range": fit_y_range(fig)})
    return fig


def fit_y_range(fig: go.Figure, limit: float = FIT_Y_LIMIT) -> list[float]:
    """A y range that shows every curve and point, padded, but never beyond ±``limit``.

    Tasks have amplitude at most 5, so ±6 shows any true curve and its points
    whole; a fit that flies further off is clipped at the edge rather than
    squashing the task into a thin line.
    """
    ys = [float(y) for tr in fig.data for y in (tr.y or ()) if y is not None
          and math.isfinite(float(y))]
    lo, hi = (min(ys), max(ys)) if ys else (-1.0, 1.0)
    pad = max(0.08 * (hi - lo), 0.1)
    return [max(lo - pad, -limit), min(hi + pad, limit)]


def episode_figure(support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor,
                   query_y: torch.Tensor, n_way: int, k_shot: int,
                   labels: Mapping[str, str] | None = None) -> go.Figure:
    """One Omniglot task: a column per class, K support rows on top, the query rows below.

    Images are [N*K, 1, 28, 28] (support) and [N*Q, 1, 28, 28] (query) in [0, 1],
    grouped by class label as ``OmniglotTasks.episodes`` returns them.
    """
    lab = _labels(LABELS_EPISODE, labels)
    n_query = query_x.shape[0] // n_way
    rows = k_shot + n_query
    titles = [lab["class"].format(label=c) for c in range(n_way)] + [""] * (n_way * (rows - 1))
    fig = make_subplots(rows=rows, cols=n_way, horizontal_spacing=0.01, vertical_spacing=0.03,
                        subplot_titles=titles)

    def add(images: torch.Tensor, ys: torch.Tensor, row0: int, part: str) -> None:
        seen: dict[int, int] = {}
        for img, y in zip(images, ys.tolist()):
            k = seen.get(y, 0)
            seen[y] = k + 1
            size = img.shape[-1]
            # A picture per drawing (mamlviz.figures.png: plotly.js's small bundle).
            add_picture(fig, 1.0 - img[0].detach().cpu().numpy(), left=0, right=size,
                        top=size, bottom=0, meta=f"{part}-{y}-{k}", scale=4,
                        row=row0 + k, col=y + 1)

    add(support_x, support_y, 1, "support")
    add(query_x, query_y, k_shot + 1, "query")
    size = support_x.shape[-1]
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, range=[0, size])
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, scaleanchor="x",
                     constrain="domain", range=[0, size])
    fig.update_xaxes(constrain="domain")
    for r in range(rows):
        text = (lab["support"].format(k=r + 1) if r < k_shot
                else lab["query"].format(k=r - k_shot + 1))
        fig.update_yaxes(title_text=text, row=r + 1, col=1,
                         title_font={"color": "#1f77b4" if r < k_shot else "#d62728"})
    white(fig)
    fig.update_layout(title=lab["title"].format(n_way=n_way, k_shot=k_shot),
                      font={"size": FONT_SIZE},
                      height=min(140 * rows + 120, 900), margin={"l": 90})
    return fig

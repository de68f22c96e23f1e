"""Figures of the analytic loss landscapes (MAML versus model pre-training).

Pure functions: they take the arrays computed by ``mamlviz.landscape`` and
return a ``plotly.graph_objects.Figure``; nothing here runs the engine. Every
visible string comes from a ``labels`` dict (English by default), so the app
can pass another language. Each trace also carries a fixed English key in
``meta`` so tests and callers can find it whatever the labels say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from mamlviz.figures import place_legend

from ..algorithms import all_algorithms
from ..landscape import AFTER, METHODS, NOW, Landscape1D, Landscape2D, Trajectory
from .contours import contour_levels, contour_lines
from .sinusoid import GRID, LIGHT

FONT_SIZE = 16
TASK_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b")
METHOD_COLORS = {a.name: a.colour for a in all_algorithms()}

LABELS_1D: dict[str, str] = {
    "title": "Pre-training versus MAML on two tasks",
    "x": "parameter phi",
    "y": "loss",
    "task": "task {n}: l^{n}(phi)",
    NOW: "pre-training objective: sum_n l^n(phi)",
    AFTER: "MAML objective: sum_n l^n(theta_hat^n)",
    "pretrain optimum": "pretrain optimum",
    "MAML optimum": "MAML optimum",
    "phi": "phi",
    "theta_hat": "theta_hat^n (after adaptation)",
}

LABELS_2D: dict[str, str] = {
    "title": "Where each method moves phi",
    "x": "phi_1",
    "y": "phi_2",
    "task": "task {n}: contours of l^{n}",
    "phi": "phi",
    "theta_hat": "theta_hat^n (one inner step)",
    "inner step": "inner step",
    **{a.name: a.label for a in all_algorithms()},
    "norm": "length",
}

LABELS_TRAJECTORY: dict[str, str] = {
    "title": "phi during meta-training, same start for every method",
    "x": "parameter phi",
    "y": "loss",
    "step": "meta-step",
    "play": "play",
    "diverged": "diverged",
    f"{NOW} objective": LABELS_1D[NOW],
    f"{AFTER} objective": LABELS_1D[AFTER],
    **{m: LABELS_2D[m] for m in METHODS},
}


def _labels(defaults: Mapping[str, str], labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**defaults, **(labels or {})}


def _task_name(lab: Mapping[str, str], i: int) -> str:
    return lab["task"].format(n=i + 1)


def _layout(fig: go.Figure, lab: Mapping[str, str]) -> go.Figure:
    # plotly_white by hand (LIGHT, GRID): naming the template deep-copies it, a
    # sizeable part of the cost of a figure rebuilt on every slider change.
    fig.update_layout(
        title=lab["title"], xaxis_title=lab["x"], yaxis_title=lab["y"],
        font={"size": FONT_SIZE},
        margin={"t": 60, "l": 60, "r": 20, "b": 40}, **LIGHT,
    )
    fig.update_xaxes(automargin=True, **GRID)
    fig.update_yaxes(automargin=True, **GRID)
    return place_legend(fig, "below")


def _plane(fig: go.Figure, xs: np.ndarray, ys: np.ndarray) -> go.Figure:
    """Axes on exactly the computed region, to scale (one unit of phi_1 is one of
    phi_2); the plot area shrinks to that shape ('domain') rather than the axes
    widening past the data, so the contours fill the plot."""
    fig.update_xaxes(range=[float(xs[0]), float(xs[-1])], constrain="domain")
    fig.update_yaxes(range=[float(ys[0]), float(ys[-1])], scaleanchor="x", scaleratio=1,
                     constrain="domain")
    # The title starts at the left: centred, it ran into the legend column in
    # presentation mode's larger fonts.
    place_legend(fig, "right")
    fig.update_layout(height=620, title={"x": 0.0, "xref": "paper", "xanchor": "left"})
    return fig


def landscape_1d_figure(data: Landscape1D, labels: Mapping[str, str] | None = None) -> go.Figure:
    """The lecture's 1-D picture: task losses, both objectives, their optima, adaptation.

    Arrows run from phi to theta_hat^n on each task's curve: where ``steps``
    inner steps of size ``inner_lr`` take that task.
    """
    lab = _labels(LABELS_1D, labels)
    fig = go.Figure()
    for i, losses in enumerate(data.task_losses):
        fig.add_trace(go.Scatter(x=data.grid, y=losses, mode="lines", name=_task_name(lab, i),
                                 meta=f"task {i + 1}",
                                 line={"color": TASK_COLORS[i % len(TASK_COLORS)], "width": 2}))
    fig.add_trace(go.Scatter(x=data.grid, y=data.pretrain, mode="lines", name=lab[NOW],
                             meta=NOW, line={"color": METHOD_COLORS[NOW],
                                                    "width": 3, "dash": "dash"}))
    fig.add_trace(go.Scatter(x=data.grid, y=data.maml, mode="lines", name=lab[AFTER],
                             meta=AFTER, line={"color": METHOD_COLORS[AFTER], "width": 3}))
    for key, x, curve, symbol in (
        ("pretrain optimum", data.pretrain_optimum, data.pretrain, "diamond"),
        ("MAML optimum", data.maml_optimum, data.maml, "star"),
    ):
        color = METHOD_COLORS[NOW if key.startswith(NOW) else AFTER]
        fig.add_trace(go.Scatter(x=[x], y=[float(np.interp(x, data.grid, curve))], mode="markers",
                                 name=lab[key], meta=key,
                                 marker={"symbol": symbol, "size": 16, "color": color,
                                         "line": {"width": 1, "color": "black"}}))
        fig.add_vline(x=x, line={"color": color, "width": 1, "dash": "dot"})
    # Adaptation from phi: where the inner steps take each task.
    n = len(data.theta_hat)
    colors = [TASK_COLORS[i % len(TASK_COLORS)] for i in range(n)]
    fig.add_trace(go.Scatter(x=[data.phi] * n, y=data.loss_at_phi, mode="markers",
                             name=lab["phi"], meta="phi",
                             marker={"size": 11, "color": "white", "line": {"width": 2,
                                                                              "color": colors}}))
    fig.add_trace(go.Scatter(x=data.theta_hat, y=data.loss_at_theta_hat, mode="markers",
                             name=lab["theta_hat"], meta="theta_hat",
                             marker={"size": 11, "color": colors, "symbol": "circle"}))
    for i in range(n):
        fig.add_annotation(x=data.theta_hat[i], y=data.loss_at_theta_hat[i], ax=data.phi,
                           ay=data.loss_at_phi[i], xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowwidth=2, arrowcolor=colors[i],
                           text="")
    top = float(np.nanmax(data.task_losses)) * 1.15
    fig.update_yaxes(range=[min(0.0, float(np.nanmin(data.task_losses))) - 0.05 * top,
                            float(np.nanmax(np.concatenate([data.pretrain, data.maml]))) * 1.05])
    return _layout(fig, lab)


def landscape_2d_figure(data: Landscape2D, labels: Mapping[str, str] | None = None,
                        arrow_length: float | None = 0.15) -> go.Figure:
    """The lecture's 2-D figure: task contours and the four update directions at phi.

    From phi, inner steps on task n give theta_hat^n (dashed); first-order
    MAML follows the gradients at theta_hat^n, MAML corrects them by second
    derivatives, pre-training uses the gradient at phi and Reptile points
    towards the adapted parameters. Arrows are drawn with the same length,
    ``arrow_length`` times the x range, so their directions compare (their
    true lengths are in the hover text); ``None`` draws them to scale.
    """
    lab = _labels(LABELS_2D, labels)
    fig = go.Figure()
    for i, z in enumerate(data.task_losses):
        color = TASK_COLORS[i % len(TASK_COLORS)]
        x, y = contour_lines(data.xs, data.ys, z, contour_levels(z, 18))
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=_task_name(lab, i),
                                 meta=f"task {i + 1}", showlegend=True,
                                 line={"color": color, "width": 1.5}, hoverinfo="skip"))
    d = data.directions
    phi = d.phi
    for i, th in enumerate(d.theta_hat):
        fig.add_trace(go.Scatter(x=[phi[0], th[0]], y=[phi[1], th[1]], mode="lines",
                                 name=lab["inner step"], meta="inner step",
                                 legendgroup="inner step", showlegend=i == 0,
                                 line={"color": TASK_COLORS[i % len(TASK_COLORS)], "width": 2,
                                       "dash": "dash"}))
    fig.add_trace(go.Scatter(x=d.theta_hat[:, 0], y=d.theta_hat[:, 1], mode="markers",
                             name=lab["theta_hat"], meta="theta_hat",
                             marker={"size": 11, "color": [TASK_COLORS[i % len(TASK_COLORS)]
                                                           for i in range(len(d.theta_hat))]}))
    span = float(data.xs[-1] - data.xs[0])
    for method in METHODS:
        v = np.asarray(getattr(d, method), dtype=float)
        norm = float(np.linalg.norm(v))
        shown = v if arrow_length is None or norm == 0 else v / norm * arrow_length * span
        tip = phi + shown
        color = METHOD_COLORS[method]
        fig.add_trace(go.Scatter(x=[phi[0], tip[0]], y=[phi[1], tip[1]], mode="lines",
                                 name=lab[method], meta=method, line={"color": color, "width": 3},
                                 hovertext=f"{lab[method]}: {lab['norm']} {norm:.3g}",
                                 hoverinfo="text"))
        fig.add_annotation(x=tip[0], y=tip[1], ax=phi[0], ay=phi[1], xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=3, arrowwidth=3,
                           arrowcolor=color, text="")
    fig.add_trace(go.Scatter(x=[phi[0]], y=[phi[1]], mode="markers+text", name=lab["phi"],
                             meta="phi", text=[lab["phi"]], textposition="bottom left",
                             marker={"size": 13, "color": "black"}))
    return _plane(_layout(fig, lab), data.xs, data.ys)


def trajectories_1d_figure(data: Landscape1D, trajectories: Sequence[Trajectory],
                           labels: Mapping[str, str] | None = None,
                           frame_ms: int = 150) -> go.Figure:
    """An animation of phi under each method, from the same start, over the objectives.

    Each method's phi moves along its own row below the curves (its x is phi),
    so the methods never hide one another; a run that diverged stops and is
    marked in its legend entry. The legend sits above the plot and the play
    button and slider below it, in a margin of their own; trajectories of one
    point (nothing to animate yet) get neither.
    """
    lab = _labels(LABELS_TRAJECTORY, labels)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=data.grid, y=data.pretrain, mode="lines",
                             name=lab[f"{NOW} objective"], meta=f"{NOW} objective",
                             line={"color": METHOD_COLORS[NOW], "dash": "dash"}))
    fig.add_trace(go.Scatter(x=data.grid, y=data.maml, mode="lines",
                             name=lab[f"{AFTER} objective"], meta=f"{AFTER} objective",
                             line={"color": METHOD_COLORS[AFTER]}))
    top = float(np.nanmax(np.concatenate([data.pretrain, data.maml])))
    rows = {t.method: -0.08 * top * (i + 1) for i, t in enumerate(trajectories)}
    n_frames = max((len(t.phis) for t in trajectories), default=1)

    def at(t: Trajectory, k: int) -> float:
        return float(t.phis[min(k, len(t.phis) - 1), 0])

    for t in trajectories:
        name = lab[t.method] + (f" ({lab['diverged']})" if t.diverged else "")
        fig.add_trace(go.Scatter(x=[at(t, 0)], y=[rows[t.method]], mode="markers", name=name,
                                 meta=t.method, marker={"size": 14,
                                                        "color": METHOD_COLORS[t.method]}))
    first = len(fig.data) - len(trajectories)
    animated = n_frames > 1
    if animated:
        fig.frames = [
            go.Frame(name=str(k), traces=list(range(first, first + len(trajectories))),
                     data=[go.Scatter(x=[at(t, k)], y=[rows[t.method]]) for t in trajectories])
            for k in range(n_frames)
        ]
        # Below the x axis title: the play button on the left, the slider beside it.
        fig.update_layout(
            updatemenus=[{"type": "buttons", "showactive": False, "direction": "left",
                          "x": 0, "xanchor": "left", "y": 0, "yanchor": "top",
                          "pad": {"t": 72, "r": 10},
                          "buttons": [{"label": lab["play"], "method": "animate",
                                       "args": [None, {"frame": {"duration": frame_ms},
                                                       "fromcurrent": True}]}]}],
            sliders=[{"x": 0.12, "len": 0.88, "xanchor": "left", "y": 0, "yanchor": "top",
                      "pad": {"t": 50, "b": 10},
                      "currentvalue": {"prefix": lab["step"] + " "},
                      "steps": [{"label": str(k), "method": "animate",
                                 "args": [[str(k)], {"mode": "immediate",
                                                     "frame": {"duration": 0}}]}
                                for k in range(n_frames)]}],
        )
    fig.update_yaxes(range=[min(rows.values(), default=0.0) - 0.08 * top, top * 1.05])
    _layout(fig, lab)
    # The legend above the plot: beside it, it took a quarter of the width of a laptop's
    # page, and with the controls below the plot was under half the chart.
    # One more legend row per three methods beyond six gets its own room, so the plot
    # keeps at least half of a laptop-wide chart.
    extra = 40 * max(0, -(-len(trajectories) // 3) - 2)
    fig.update_layout(height=(680 if animated else 480) + extra,
                      margin={"t": 60, "l": 60, "r": 20, "b": 140 if animated else 50})
    place_legend(fig, "above")
    return fig

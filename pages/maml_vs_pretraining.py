"""Chapter 'MAML versus pre-training': the lecture's 1-D picture, live.

Two task loss curves, the pre-training objective sum_n l^n(phi) and the MAML
objective sum_n l^n(theta_hat^n), their optima, the adapted points
theta_hat^n; then phi moving under pre-training, MAML, first-order MAML and
Reptile from the same start. All numbers come from ``mamlviz.landscape``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from mamlviz import landscape as ls
from mamlviz.errors import MamlvizError
from mamlviz.figures.landscape import landscape_1d_figure, trajectories_1d_figure
from mamlviz.figures.meta_updates import show_frame
from pages import _i18n, _ui
from pages import _landscape_ui as lui

_ui.through_the_router()

def comparison(t: Mapping[str, str], steps: int, inner_lr: float, now: list[float],
               after: list[float], lecture: bool = False) -> str:
    """The caption under the landscape: what the two optima's numbers (pre-training's
    first, MAML's second) say for these settings, never the lecture's case regardless."""
    numbers = {"pre_now": lui.fmt(now[0]), "maml_now": lui.fmt(now[1]),
               "pre_after": lui.fmt(after[0]), "maml_after": lui.fmt(after[1])}
    text = t["explain"].format(steps=steps, lr=inner_lr)
    # Compared as the table shows them: a difference in the 6th digit is no difference.
    now = [float(numbers["pre_now"]), float(numbers["maml_now"])]
    after = [float(numbers["pre_after"]), float(numbers["maml_after"])]
    if now == [now[0]] * 2 and after == [after[0]] * 2:
        return text + t["same"].format(**numbers)
    if after[1] >= after[0]:
        return text + t["not_better"].format(**numbers)
    if now[1] > now[0]:
        # The lecture's tasks are built so that task 2 is stuck at pre-training's φ.
        return text + (t["stuck"] if lecture else "") + t["worse_now"].format(**numbers)
    return text + t["better_both"].format(**numbers)


def the_two_objectives(t: Mapping[str, str]) -> None:
    """Pre-training's loss of phi itself against MAML's loss after adapting."""
    st.title(t["title"])
    st.markdown(t["intro"])
    st.latex(r"L_{\text{pre}}(\phi)=\sum_{n=1}^{N} l^n(\phi)\qquad\qquad "
             r"L_{\text{MAML}}(\phi)=\sum_{n=1}^{N} l^n(\hat\theta^n),\quad "
             r"\hat\theta^n=\phi-\alpha\nabla_\phi l^n(\phi)")


@st.fragment
def meta_training(t: Mapping[str, str], spec: tuple, inner_lr: float, steps: int,
                  data: ls.Landscape1D, overshoot: bool, data_key: tuple) -> None:
    """phi under each method, from one start, computed when asked for (a fragment: its
    play and step buttons rerun it alone)."""
    names = lui.method_names()
    st.subheader(t["anim"])
    st.caption(t["anim_help"])
    cols = st.columns(5)
    phi0 = cols[0].slider(t["phi0"], lui.LO_1D, lui.HI_1D, 1.0, step=0.1, key="mvp_phi0")
    meta_lr = cols[1].slider(t["meta_lr"], 0.01, 0.3, 0.05, step=0.01, key="mvp_meta_lr")
    eps = cols[2].slider(t["reptile_eps"], 0.05, 1.0, 0.5, step=0.05, key="mvp_eps")
    k = cols[3].slider(t["reptile_k"], 1, 10, 5, key="mvp_k")
    n_steps = cols[4].slider(t["n_steps"], 10, 80, 40, step=10, key="mvp_n")

    # Meta-training is computed only once asked for (run / step), and again only
    # when the landscape above changes and the student asks again: a slider above
    # then redraws the landscape without waiting for four trajectories.
    landscape = (spec, inner_lr, steps)

    def request() -> None:
        st.session_state["mvp_traj_for"] = landscape

    live = st.session_state.get("mvp_traj_for") == landscape
    runs: list[ls.Trajectory] = []
    after: dict[str, Any] = {}
    if live:
        try:
            runs, after = lui.trajectories_1d(spec, inner_lr, steps, float(phi0),
                                              float(meta_lr), float(eps), int(k), int(n_steps))
        except MamlvizError as exc:
            st.warning(t["bad"] + str(exc))
            return
        for run in runs:
            if run.diverged:
                st.warning(t["diverged"].format(method=names[run.method], step=len(run.phis)))
    n_frames = max(len(run.phis) for run in runs) if runs else int(n_steps) + 1
    if not live:
        st.button(t["run"], key="mvp_run", on_click=request, type="primary")
    frame = lui.frame_buttons("mvp_frame", n_frames, lui.button_labels(), on_press=request)
    if not live:
        st.caption(t["run_help"])
        # Every method at the start, nothing computed yet: a one-point "trajectory".
        runs = [ls.Trajectory(m, np.array([[float(phi0)]])) for m in ls.METHODS]

    def label(run: ls.Trajectory, k: int) -> str:
        """A method's φ and its loss after training, at meta-step ``k``: written on its
        marker, so what the figure says follows its own ▶ play and slider."""
        i = min(k, len(run.phis) - 1)
        # a step size meta-learned beside φ (Meta-SGD's α) moves too
        rate = "" if run.rates is None else f"  α={lui.fmt(run.rates[i, 0])}"
        return f"φ={lui.fmt(run.phis[i, 0])}  L={lui.fmt(float(after[run.method][i]))}{rate}"

    def training_figure() -> go.Figure:
        fig = trajectories_1d_figure(lui.drawable(data), runs,
                                     labels=lui.figure_labels("trajectory"))
        if overshoot:
            lui.clip_y(fig, data)
        if not live:
            return fig
        for frame_k, moved in enumerate(fig.frames):
            for run, trace in zip(runs, moved.data):
                trace.text = [label(run, frame_k)]
        fig = show_frame(fig, frame)
        for run, trace in zip(runs, [trace for trace in fig.data if trace.meta in after]):
            trace.update(mode="markers+text", text=[label(run, frame)],
                         textposition="middle right", cliponaxis=False)
        return fig

    settings = (float(phi0), float(meta_lr), float(eps), int(k), int(n_steps), frame)
    _ui.show_figure(training_figure, "maml-vs-pretraining-training", key="mvp_traj",
                    cache_key=(data_key, settings) if live else (data_key, float(phi0)))
    if not live:
        return
    # The table is the end of meta-training, which no play or step changes; the figure's
    # labels give each method's numbers at the step it shows.
    st.caption(t["final"].format(n=n_frames - 1))
    rows = [{t["method"]: names[run.method], t["table_phi"]: lui.fmt(run.phis[-1, 0]),
             t["table_after"]: lui.fmt(float(after[run.method][-1])),
             # the inner step size a method learned (Meta-SGD's α); the others keep α
             "α": lui.fmt(inner_lr if run.rates is None else run.rates[-1, 0])}
            for run in runs]
    st.markdown(_ui.markdown_table(rows))
    _ui.show_source(ls.trajectory, t["source_traj"])


@st.fragment
def landscape_section(t: Mapping[str, str]) -> None:
    """The landscape, its numbers and the meta-training below it. A fragment: a class
    moving α or the steps reruns this section alone, not the lecture's header and
    sidebar around it."""
    names = lui.method_names()
    # ------------------------------------------------------------------------- controls

    c1, c2, c3 = st.columns([2, 1, 1])
    preset = str(c1.selectbox(t["preset"], [*ls.PRESETS_1D, "shape"], key="mvp_preset",
                          format_func=lui.preset_names().__getitem__))
    inner_lr = c2.slider(t["inner_lr"], 0.0, 3.0, float(ls.DEFAULT_INNER_LR.get(preset, 1.2)),
                         step=0.05, key=f"mvp_lr_{preset}")
    steps = c3.slider(t["steps"], 1, 10, 1, key="mvp_steps")
    if preset == "shape":
        s1, s2, s3, s4 = st.columns(4)
        spec: tuple = ("shape",
                       s1.slider(t["deep_at"], 1.0, 5.0, 2.5, step=0.1, key="mvp_deep_at"),
                       s2.slider(t["local_depth"], 0.0, 3.0, 1.0, step=0.1, key="mvp_local"),
                       s3.slider(t["deep_depth"], 0.5, 3.0, 2.0, step=0.1, key="mvp_deep"),
                       s4.slider(t["width"], 0.4, 1.6, 1.0, step=0.05, key="mvp_width"))
        if spec[2] > spec[3]:
            st.warning(t["local_too_deep"])
            return
    else:
        spec = ("preset", preset)
    a1, a2 = st.columns([2, 2])
    anchor = str(a1.radio(t["anchor"], [ls.AFTER, ls.NOW, "phi"], horizontal=True,
                          key="mvp_anchor", format_func=lambda a: t[f"anchor_{a}"]))
    phi = (a2.slider(t["phi"], lui.LO_1D, lui.HI_1D, 1.0, step=0.05, key="mvp_phi")
           if anchor == "phi" else None)

    # ------------------------------------------------------------------------- the picture

    try:
        data = lui.landscape_1d(spec, float(inner_lr), int(steps), anchor, phi)
    except MamlvizError as exc:
        st.warning(t["bad"] + str(exc))
        return

    overshoot = lui.overshoots(data)
    if overshoot:
        st.warning(t["overshoot"])
    # Everything the landscape (and so its figure) depends on: the figure is built once per
    # server for these settings and shared by every student who moves to them.
    data_key = (spec, float(inner_lr), int(steps), anchor, phi)

    def landscape_figure() -> go.Figure:
        fig = landscape_1d_figure(lui.drawable(data), labels=lui.figure_labels("1d"))
        if overshoot:
            lui.clip_y(fig, data)
        return fig

    _ui.show_figure(landscape_figure, "maml-vs-pretraining", key="mvp_landscape",
                    cache_key=data_key)
    optima = (data.pretrain_optimum, data.maml_optimum)
    now, after = lui.objectives_at_1d(spec, float(inner_lr), int(steps), optima)
    st.caption(comparison(t, steps, float(inner_lr), [float(v) for v in now],
                          [float(v) for v in after], lecture=spec == ("preset", "lecture")))
    st.markdown(_ui.markdown_table([
        {t["table_where"]: names[method], t["table_phi"]: lui.fmt(x),
         t["table_now"]: lui.fmt(float(n)), t["table_after"]: lui.fmt(float(a))}
        for method, x, n, a in zip((ls.NOW, ls.AFTER), optima, now, after)]))
    _ui.show_source(ls.landscape_1d, t["source"])

    st.subheader(t["once_title"])
    st.markdown(t["once"])

    if overshoot:
        st.info(t["no_anim"])
    else:
        meta_training(t, spec, float(inner_lr), int(steps), data, overshoot, data_key)


def render() -> None:
    t = _i18n.texts("maml_vs_pretraining")
    the_two_objectives(t)
    landscape_section(t)
    _ui.chapter_figures("maml-vs-pretraining")  # last: a zip of the figures this page showed


render()

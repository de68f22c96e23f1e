"""Chapter 'Reptile': the algorithm, its update next to MAML's and pre-training's,
and its own curve and paths on the 1-D and 2-D landscapes.

Reptile: Nichol, Achiam & Schulman 2018, arXiv 1803.02999. Numbers come from
``mamlviz.landscape`` (``direction_field``, ``trajectory``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from mamlviz import landscape as ls
from mamlviz.errors import MamlvizError
from mamlviz.figures.landscape import trajectories_1d_figure
from mamlviz.figures.meta_updates import direction_field_figure, trajectories_2d_figure
from pages import _i18n, _ui
from pages import _landscape_ui as lui

_ui.through_the_router()

Spec = tuple[str, str]  # a 1-D landscape: ("preset", its name)

def the_algorithm(t: Mapping[str, str]) -> None:
    """Reptile's pseudo-code, and its update next to pre-training's and MAML's."""
    st.title(t["title"])
    st.markdown(t["intro"])
    st.subheader(t["algorithm"])
    _ui.pseudo_code(t["pseudo"])
    st.subheader(t["compare"])
    st.latex(t["latex_pretrain"])
    st.latex(t["latex_maml"])
    st.latex(t["latex_reptile"])
    st.caption(t["compare_note"])


def direction_field_1d(t: Mapping[str, str]) -> tuple[Spec, float, int, float]:
    """Reptile's update direction at every phi of a 1-D landscape: (landscape, inner rate,
    Reptile's k and epsilon), which the paths below use too."""
    st.subheader(t["one_d"])
    c = st.columns([2, 1, 1, 1])
    preset = str(c[0].selectbox(t["preset"], list(ls.PRESETS_1D), key="rp_preset",
                                format_func=lui.preset_names().__getitem__))
    inner_lr = float(c[1].slider(t["inner_lr"], 0.05, 2.0, float(ls.DEFAULT_INNER_LR[preset]),
                                 step=0.05, key=f"rp_lr_{preset}"))
    k = int(c[2].slider(t["reptile_k"], 1, 10, 5, key="rp_k"))
    eps = float(c[3].slider(t["reptile_eps"], 0.05, 1.0, 0.5, step=0.05, key="rp_eps"))
    spec = ("preset", preset)
    try:
        field = lui.direction_field_1d(spec, inner_lr, 1, k)
        lui.landscape_1d(spec, inner_lr, 1)  # refused here, before any figure, if it fails
    except MamlvizError as exc:
        st.warning(t["bad"] + str(exc))
        st.stop()
    st.caption(t["one_d_help"])
    # Figures are built once per server for their inputs (show_figure's cache_key).
    _ui.show_figure(lambda: direction_field_figure(lui.field_grid_1d(), field,
                                                   labels=lui.figure_labels("field")),
                    "reptile-direction-field", key="rp_field", cache_key=(spec, inner_lr, k))
    curvature = lui.max_curvature_1d(spec)
    if k >= 2 and inner_lr * curvature > 2:
        st.info(t["jagged"].format(lr=inner_lr, k=k, limit=2 / inner_lr, c=curvature,
                                   n=lui.N_FIELD))
    _ui.show_source(ls.direction_field, t["source"])
    return spec, inner_lr, k, eps


def results(t: Mapping[str, str], runs: list[ls.Trajectory], after: dict[str, Any]) -> None:
    """Where each method's phi ended, and its loss after adapting from there."""
    names = lui.method_names()
    rows = []
    for run in runs:
        if run.diverged:
            st.warning(t["diverged"].format(method=names[run.method]))
        rows.append({t["method"]: names[run.method],
                     t["final_phi"]: ", ".join(lui.fmt(float(x)) for x in run.phis[-1]),
                     t["after"]: lui.fmt(float(after[run.method][-1]))})
    st.markdown(_ui.markdown_table(rows))


def paths_1d(t: Mapping[str, str], spec: Spec, inner_lr: float, k: int, eps: float
             ) -> tuple[float, int]:
    """Meta-training from one phi0 on the 1-D landscape, every method side by side; the
    outer rate and the meta-steps, which the 2-D paths use too."""
    st.markdown(f"**{t['paths_1d']}**")
    p = st.columns(3)
    phi0 = float(p[0].slider(t["phi0"], lui.LO_1D, lui.HI_1D, 2.0, step=0.1, key="rp_phi0"))
    meta_lr = float(p[1].slider(t["meta_lr"], 0.01, 0.3, 0.1, step=0.01, key="rp_meta_lr"))
    n_steps = int(p[2].slider(t["n_steps"], 10, 80, 40, step=10, key="rp_n"))
    data = lui.landscape_1d(spec, inner_lr, 1)  # cached: checked in direction_field_1d
    runs, after = lui.trajectories_1d(spec, inner_lr, 1, phi0, meta_lr, eps, k, n_steps)
    _ui.show_figure(lambda: trajectories_1d_figure(lui.drawable(data), runs,
                                                   labels=lui.figure_labels("trajectory")),
                    "reptile-1d-training", key="rp_traj_1d",
                    cache_key=(spec, inner_lr, phi0, meta_lr, eps, k, n_steps))
    results(t, runs, after)
    st.info(t["worse"])
    return meta_lr, n_steps


def paths_2d(t: Mapping[str, str], k: int, meta_lr: float, eps: float, n_steps: int) -> None:
    """The same on a 2-D landscape: phi's path under each method from one start."""
    st.subheader(t["two_d"])
    q = st.columns([2, 1, 1, 1])
    preset = str(q[0].selectbox(t["preset"], list(ls.PRESETS_2D), key="rp_preset_2d",
                                format_func=lui.preset_names().__getitem__))
    phi0 = (float(q[1].slider(t["x0"], -3.0, 5.0, 3.0, step=0.1, key="rp_x0")),
            float(q[2].slider(t["y0"], -3.0, 4.0, -2.0, step=0.1, key="rp_y0")))
    inner_lr = float(q[3].slider(t["inner_lr"], 0.05, 2.0, 1.2, step=0.05, key="rp_lr_2d"))
    try:
        data = lui.landscape_2d(preset, phi0, inner_lr, 1, k)
        runs, after = lui.trajectories_2d(preset, phi0, inner_lr, 1, meta_lr, eps, k, n_steps)
    except MamlvizError as exc:
        st.warning(t["bad"] + str(exc))
        st.stop()
    _ui.show_figure(lambda: trajectories_2d_figure(data, runs,
                                                   labels=lui.figure_labels("paths")),
                    "reptile-2d-paths", key="rp_paths_2d",
                    cache_key=(preset, *phi0, inner_lr, meta_lr, eps, k, n_steps))
    results(t, runs, after)


def render() -> None:
    t = _i18n.texts("reptile")
    the_algorithm(t)
    spec, inner_lr, k, eps = direction_field_1d(t)
    meta_lr, n_steps = paths_1d(t, spec, inner_lr, k, eps)
    paths_2d(t, k, meta_lr, eps, n_steps)
    st.subheader(t["differ"])
    st.markdown(t["differ_text"])
    _ui.chapter_figures("reptile")  # last: a zip of the figures this page showed


render()

"""Chapter 'Reptile': the algorithm, its update next to MAML's and pre-training's,
and its own curve and paths on the 1-D and 2-D landscapes.

Reptile: Nichol, Achiam & Schulman 2018, arXiv 1803.02999. Numbers come from
``mamlviz.landscape`` (``direction_field``, ``trajectory``).
"""

from __future__ import annotations

import streamlit as st

from mamlviz import landscape as ls
from mamlviz.errors import MamlvizError
from mamlviz.figures.landscape import trajectories_1d_figure
from mamlviz.figures.meta_updates import direction_field_figure, trajectories_2d_figure
from pages import _i18n, _ui
from pages import _landscape_ui as lui

_ui.through_the_router()

t = _i18n.texts("reptile")
names = lui.method_names()
st.title(t["title"])
st.markdown(t["intro"])

st.subheader(t["algorithm"])
_ui.pseudo_code(t["pseudo"])

st.subheader(t["compare"])
st.latex(t["latex_pretrain"])
st.latex(t["latex_maml"])
st.latex(t["latex_reptile"])
st.caption(t["compare_note"])

# ----------------------------------------------------------------------------- 1-D

st.subheader(t["one_d"])
c = st.columns([2, 1, 1, 1])
preset = str(c[0].selectbox(t["preset"], list(ls.PRESETS_1D), key="rp_preset",
                        format_func=lui.preset_names().__getitem__))
inner_lr = c[1].slider(t["inner_lr"], 0.05, 2.0, float(ls.DEFAULT_INNER_LR[preset]), step=0.05,
                       key=f"rp_lr_{preset}")
k = c[2].slider(t["reptile_k"], 1, 10, 5, key="rp_k")
eps = c[3].slider(t["reptile_eps"], 0.05, 1.0, 0.5, step=0.05, key="rp_eps")
spec = ("preset", preset)
try:
    field = lui.direction_field_1d(spec, float(inner_lr), 1, int(k))
    data = lui.landscape_1d(spec, float(inner_lr), 1)
except MamlvizError as exc:
    st.warning(t["bad"] + str(exc))
    st.stop()
st.caption(t["one_d_help"])
# Figures are built once per server for their inputs (show_figure's cache_key).
_ui.show_figure(lambda: direction_field_figure(lui.field_grid_1d(), field,
                                               labels=lui.figure_labels("field")),
                "reptile-direction-field", key="rp_field",
                cache_key=(spec, float(inner_lr), int(k)))
curvature = lui.max_curvature_1d(spec)
if int(k) >= 2 and float(inner_lr) * curvature > 2:
    st.info(t["jagged"].format(lr=inner_lr, k=k, limit=2 / float(inner_lr), c=curvature,
                               n=lui.N_FIELD))
_ui.show_source(ls.direction_field, t["source"])

st.markdown(f"**{t['paths_1d']}**")
p = st.columns(3)
phi0 = p[0].slider(t["phi0"], lui.LO_1D, lui.HI_1D, 2.0, step=0.1, key="rp_phi0")
meta_lr = p[1].slider(t["meta_lr"], 0.01, 0.3, 0.1, step=0.01, key="rp_meta_lr")
n_steps = p[2].slider(t["n_steps"], 10, 80, 40, step=10, key="rp_n")


def results(runs: list[ls.Trajectory], after: dict) -> None:
    rows = []
    for run in runs:
        if run.diverged:
            st.warning(t["diverged"].format(method=names[run.method]))
        rows.append({t["method"]: names[run.method],
                     t["final_phi"]: ", ".join(lui.fmt(float(x)) for x in run.phis[-1]),
                     t["after"]: lui.fmt(float(after[run.method][-1]))})
    st.markdown(_ui.markdown_table(rows))


runs, after = lui.trajectories_1d(spec, float(inner_lr), 1, float(phi0), float(meta_lr),
                                  float(eps), int(k), int(n_steps))
_ui.show_figure(lambda: trajectories_1d_figure(lui.drawable(data), runs,
                                               labels=lui.figure_labels("trajectory")),
                "reptile-1d-training", key="rp_traj_1d",
                cache_key=(spec, float(inner_lr), float(phi0), float(meta_lr), float(eps),
                           int(k), int(n_steps)))
results(runs, after)
st.info(t["worse"])

# ----------------------------------------------------------------------------- 2-D

st.subheader(t["two_d"])
q = st.columns([2, 1, 1, 1])
preset_2d = str(q[0].selectbox(t["preset"], list(ls.PRESETS_2D), key="rp_preset_2d",
                           format_func=lui.preset_names().__getitem__))
x0 = q[1].slider(t["x0"], -3.0, 5.0, 3.0, step=0.1, key="rp_x0")
y0 = q[2].slider(t["y0"], -3.0, 4.0, -2.0, step=0.1, key="rp_y0")
lr_2d = q[3].slider(t["inner_lr"], 0.05, 2.0, 1.2, step=0.05, key="rp_lr_2d")
try:
    data_2d = lui.landscape_2d(preset_2d, (float(x0), float(y0)), float(lr_2d), 1, int(k))
    runs_2d, after_2d = lui.trajectories_2d(preset_2d, (float(x0), float(y0)), float(lr_2d), 1,
                                            float(meta_lr), float(eps), int(k), int(n_steps))
except MamlvizError as exc:
    st.warning(t["bad"] + str(exc))
    st.stop()
_ui.show_figure(lambda: trajectories_2d_figure(data_2d, runs_2d,
                                               labels=lui.figure_labels("paths")),
                "reptile-2d-paths", key="rp_paths_2d",
                cache_key=(preset_2d, float(x0), float(y0), float(lr_2d), float(meta_lr),
                           float(eps), int(k), int(n_steps)))
results(runs_2d, after_2d)

st.subheader(t["differ"])
st.markdown(t["differ_text"])
_ui.chapter_figures("reptile")  # last: a zip of the figures this page showed

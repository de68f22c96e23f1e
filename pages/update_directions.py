"""Chapter 'Real implementation': every algorithm's update direction on a 2-D landscape.

From phi, one inner step on task m gives theta_hat^m; the gradient at
theta_hat^m (a second step) gives phi's update direction. Pre-training uses
the gradient at phi itself; MAML corrects the first-order direction by second
derivatives; Reptile points towards the adapted parameters. All numbers come
from ``mamlviz.landscape.update_directions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from mamlviz import landscape as ls
from mamlviz.errors import MamlvizError
from mamlviz.figures.landscape import landscape_2d_figure
from mamlviz.figures.meta_updates import add_second_steps
from pages import _i18n, _ui
from pages import _landscape_ui as lui

_ui.through_the_router()

Settings = tuple[str, tuple[float, float], float, int, int]  # preset, phi, alpha, steps, k


def introduction(t: Mapping[str, str]) -> None:
    st.title(t["title"])
    st.markdown(t["intro"])


def landscape_settings(t: Mapping[str, str]) -> tuple[Settings, bool, bool]:
    """The landscape, phi, the inner rate and steps, Reptile's k; and how to draw them
    (arrows to scale, the second steps)."""
    c1, c2, c3 = st.columns([2, 1, 1])
    preset = str(c1.selectbox(t["preset"], list(ls.PRESETS_2D), key="ud_preset",
                              format_func=lui.preset_names().__getitem__))
    x0, y0 = ls.DEFAULT_PHI_2D[preset]
    phi_x = c2.slider(t["x"], -3.0, 5.0, float(x0), step=0.05, key=f"ud_x_{preset}")
    phi_y = c3.slider(t["y"], -3.0, 4.0, float(y0), step=0.05, key=f"ud_y_{preset}")
    d1, d2, d3 = st.columns(3)
    inner_lr = d1.slider(t["inner_lr"], 0.05, 2.5, 1.2, step=0.05, key="ud_lr")
    steps = d2.slider(t["steps"], 1, 5, 1, key="ud_steps")
    reptile_k = d3.slider(t["reptile_k"], 1, 10, 3, key="ud_k")
    e1, e2 = st.columns(2)
    to_scale = e1.toggle(t["to_scale"], value=False, key="ud_scale")
    second = e2.toggle(t["second"], value=True, key="ud_second")
    settings = (preset, (float(phi_x), float(phi_y)), float(inner_lr), int(steps),
                int(reptile_k))
    return settings, bool(to_scale), bool(second)


def update_directions(t: Mapping[str, str], settings: Settings, to_scale: bool,
                      second: bool) -> dict[str, Any]:
    """Every method's update direction from phi on the landscape (the page stops, with a
    warning, when the inner steps leave it); method -> its direction."""
    preset, phi, inner_lr, steps, _ = settings
    try:
        data = lui.landscape_2d(*settings)
        second_steps = lui.second_steps_2d(preset, phi, inner_lr, steps)
    except MamlvizError as exc:
        st.warning(t["bad"] + str(exc))
        st.stop()

    d = data.directions
    vectors = {m: np.asarray(getattr(d, m), dtype=float) for m in ls.METHODS}
    finite = (all(np.isfinite(v).all() for v in vectors.values())
              and np.isfinite(d.theta_hat).all())
    box = (data.xs[0] - 4, data.xs[-1] + 4, data.ys[0] - 4, data.ys[-1] + 4)
    inside = finite and bool(((d.theta_hat[:, 0] > box[0]) & (d.theta_hat[:, 0] < box[1])
                              & (d.theta_hat[:, 1] > box[2])
                              & (d.theta_hat[:, 1] < box[3])).all())
    if not inside:
        st.warning(t["far"])
        st.stop()

    def _figure() -> Any:
        fig = landscape_2d_figure(data, labels=lui.figure_labels("2d"),
                                  arrow_length=None if to_scale else 0.15)
        if second:
            add_second_steps(fig, d.theta_hat, second_steps, labels=lui.figure_labels("2d"))
        return fig

    # Built once per server for these inputs (show_figure's cache_key).
    _ui.show_figure(_figure, "update-directions", key="ud_figure",
                    cache_key=(*settings, to_scale, second))
    return vectors


def direction_tables(t: Mapping[str, str], vectors: dict[str, Any]) -> None:
    """The directions as numbers, and how far each pair points the same way."""
    names = lui.method_names()
    st.markdown(f"**{t['table']}**")
    rows = []
    for m, v in vectors.items():
        rows.append({t["method"]: names[m], t["dx"]: round(float(v[0]), 4),
                     t["dy"]: round(float(v[1]), 4),
                     t["length"]: round(float(np.linalg.norm(v)), 4),
                     t["angle"]: round(float(np.degrees(np.arctan2(v[1], v[0]))), 1)})
    st.markdown(_ui.markdown_table(rows))

    st.markdown(f"**{t['cosine']}**")
    unit = {m: v / n if (n := np.linalg.norm(v)) > 0 else v for m, v in vectors.items()}
    st.markdown(_ui.markdown_table([
        {"": names[a], **{names[b]: f"{float(unit[a] @ unit[b]):.3f}" for b in ls.METHODS}}
        for a in ls.METHODS]))


def formulas(t: Mapping[str, str]) -> None:
    st.markdown(f"**{t['formulas']}**")
    st.latex(r"\hat\theta^m=\phi-\alpha\nabla_\phi l^m(\phi)")
    st.latex(r"\text{pre-training: }-\sum_m\nabla_\phi l^m(\phi)\qquad"
             r"\text{MAML: }-\sum_m\nabla_\phi l^m(\hat\theta^m)")
    st.latex(r"\text{first-order MAML: }-\sum_m\nabla_{\hat\theta}l^m(\hat\theta^m)\qquad"
             r"\text{Reptile: }\sum_m(\tilde\theta^m-\phi)")
    st.latex(r"\text{iMAML: }-\sum_m\left(I+\tfrac{1}{\lambda}\nabla^2 l^m(\hat\theta^m)"
             r"\right)^{-1}\nabla_{\hat\theta}l^m(\hat\theta^m)\qquad"
             r"\text{Meta-SGD: }-\sum_m\nabla_{(\phi,\alpha)}l^m(\phi-\alpha\circ\nabla l^m(\phi))")


def render() -> None:
    t = _i18n.texts("update_directions")
    introduction(t)
    settings, to_scale, second = landscape_settings(t)
    vectors = update_directions(t, settings, to_scale, second)
    direction_tables(t, vectors)
    formulas(t)
    _ui.show_source(ls.update_directions, t["source"])
    _ui.chapter_figures("update-directions")  # last: a zip of the figures this page showed


render()

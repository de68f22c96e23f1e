"""Chapter 'Real implementation': every algorithm's update direction on a 2-D landscape.

From phi, one inner step on task m gives theta_hat^m; the gradient at
theta_hat^m (a second step) gives phi's update direction. Pre-training uses
the gradient at phi itself; MAML corrects the first-order direction by second
derivatives; Reptile points towards the adapted parameters. All numbers come
from ``mamlviz.landscape.update_directions``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from mamlviz import landscape as ls
from mamlviz.errors import MamlvizError
from mamlviz.figures.landscape import landscape_2d_figure
from mamlviz.figures.meta_updates import add_second_steps
from pages import _landscape_ui as lui
from pages import _ui

_ui.through_the_router()

TEXT = {
    "en": {
        "title": "Real implementation: where each method moves φ",
        "intro": (
            "How MAML really runs, one task m per meta-step: from φ, **one** update on task m "
            "gives θ̂ᵐ = φ − α∇lᵐ(φ) (dashed). Then compute the gradient of lᵐ **at θ̂ᵐ**: "
            "a second update step (dotted). φ moves in the direction of that second step "
            "(first-order MAML exactly so; MAML after a correction by second derivatives), "
            "with its own learning rate, so the length differs. **Pre-training** moves φ "
            "along the gradient at φ itself. **Reptile** moves φ towards θ̃ᵐ, reached after "
            "k steps. **iMAML** pulls each task's steps back towards φ (λ/2 ‖θ − φ‖²) and "
            "follows the implicit gradient (I + H/λ)⁻¹∇lᵐ(θ̂ᵐ), with no derivatives through "
            "the steps. **Meta-SGD** learns α as well, one per coordinate: it starts at α, so "
            "here its arrow is MAML's (drawn over it); its α then moves during "
            "meta-training (see MAML versus pre-training)."),
        "preset": "Tasks",
        "x": "φ₁",
        "y": "φ₂",
        "inner_lr": "inner learning rate α",
        "steps": "inner steps (MAML)",
        "reptile_k": "Reptile's inner steps k",
        "to_scale": "draw the arrows to scale (otherwise: same length, directions only)",
        "second": "show the second step at θ̂ᵐ",
        "bad": "These settings do not work: ",
        "far": ("The inner steps fly far from φ at these settings (θ̂ᵐ is off the picture): "
                "lower the inner learning rate."),
        "table": "The update directions at φ (each is what the method adds to φ, "
                 "before its meta learning rate)",
        "method": "method",
        "dx": "Δφ₁",
        "dy": "Δφ₂",
        "length": "length",
        "angle": "angle (degrees)",
        "cosine": "Cosine between the directions (1: same direction, 0: orthogonal, "
                  "−1: opposite)",
        "formulas": "The updates",
        "source": "Engine code behind the arrows: mamlviz.landscape.update_directions",
    },
    "zh": {
        "title": "MAML 的实际实现：每种方法把 φ 往哪里更新",
        "intro": (
            "MAML 实际上是怎么运行的（每次拿一个 task m）：从 φ 出发，在 task m 上 update "
            "**一次**得到 θ̂ᵐ = φ − α∇lᵐ(φ)（虚线）。再计算 θ̂ᵐ 对它的 loss function 的偏微分，"
            "也就是**第二次**更新参数（点线）。φ 的更新方向就和第二次更新参数的方向相同"
            "（一阶近似 MAML 完全相同；MAML 还要乘上二次微分的修正），大小可能不一样，"
            "毕竟它们的 learning rate 不一样。**预训练**的参数更新完全和每个 task 在 φ 上的 "
            "gradient 方向相同。**Reptile** 在 task 上多更新几次（k 次）得到 θ̃ᵐ，再把 φ "
            "往 θ̃ᵐ 移动。**iMAML** 在每个 task 的更新里把参数拉回 φ（λ/2 ‖θ − φ‖²），"
            "沿着隐式梯度 (I + H/λ)⁻¹∇lᵐ(θ̂ᵐ) 更新，不需要对更新过程求导。**Meta-SGD** "
            "把 α 也一起学（每个坐标一个）：一开始就是 α，所以这里它的箭头和 MAML 的重合"
            "（画在 MAML 的上面）；meta-training 中 α 会跟着改变（见「MAML 与预训练」）。"),
        "preset": "task",
        "x": "φ₁",
        "y": "φ₂",
        "inner_lr": "内层学习率 α",
        "steps": "update 次数（MAML）",
        "reptile_k": "Reptile 的 update 次数 k",
        "to_scale": "按真实长度画箭头（否则：同样长度，只比较方向）",
        "second": "画出在 θ̂ᵐ 上的第二步",
        "bad": "这组设定不行：",
        "far": "在这组设定下内层更新走得太远（θ̂ᵐ 超出了画面）：请调小内层学习率。",
        "table": "φ 上的各个更新方向（每种方法加到 φ 上的量，还没乘 meta 学习率）",
        "method": "方法",
        "dx": "Δφ₁",
        "dy": "Δφ₂",
        "length": "长度",
        "angle": "角度（度）",
        "cosine": "方向之间的 cosine（1：同方向，0：正交，−1：反方向）",
        "formulas": "更新公式",
        "source": "箭头背后的引擎代码：mamlviz.landscape.update_directions",
    },
}

t = _ui.texts(TEXT)
names = lui.method_names()
st.title(t["title"])
st.markdown(t["intro"])

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

phi = (float(phi_x), float(phi_y))
try:
    data = lui.landscape_2d(preset, phi, float(inner_lr), int(steps), int(reptile_k))
    second_steps = lui.second_steps_2d(preset, phi, float(inner_lr), int(steps))
except MamlvizError as exc:
    st.warning(t["bad"] + str(exc))
    st.stop()

d = data.directions
vectors = {m: np.asarray(getattr(d, m), dtype=float) for m in ls.METHODS}
finite = all(np.isfinite(v).all() for v in vectors.values()) and np.isfinite(d.theta_hat).all()
box = (data.xs[0] - 4, data.xs[-1] + 4, data.ys[0] - 4, data.ys[-1] + 4)
inside = finite and bool(((d.theta_hat[:, 0] > box[0]) & (d.theta_hat[:, 0] < box[1])
                          & (d.theta_hat[:, 1] > box[2]) & (d.theta_hat[:, 1] < box[3])).all())
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
                cache_key=(preset, phi, float(inner_lr), int(steps), int(reptile_k),
                           bool(to_scale), bool(second)))

st.markdown(f"**{t['table']}**")
rows = []
for m, v in vectors.items():
    rows.append({t["method"]: names[m], t["dx"]: round(float(v[0]), 4),
                 t["dy"]: round(float(v[1]), 4), t["length"]: round(float(np.linalg.norm(v)), 4),
                 t["angle"]: round(float(np.degrees(np.arctan2(v[1], v[0]))), 1)})
st.markdown(_ui.markdown_table(rows))

st.markdown(f"**{t['cosine']}**")
unit = {m: v / n if (n := np.linalg.norm(v)) > 0 else v for m, v in vectors.items()}
st.markdown(_ui.markdown_table([
    {"": names[a], **{names[b]: f"{float(unit[a] @ unit[b]):.3f}" for b in ls.METHODS}}
    for a in ls.METHODS]))

st.markdown(f"**{t['formulas']}**")
st.latex(r"\hat\theta^m=\phi-\alpha\nabla_\phi l^m(\phi)")
st.latex(r"\text{pre-training: }-\sum_m\nabla_\phi l^m(\phi)\qquad"
         r"\text{MAML: }-\sum_m\nabla_\phi l^m(\hat\theta^m)")
st.latex(r"\text{first-order MAML: }-\sum_m\nabla_{\hat\theta}l^m(\hat\theta^m)\qquad"
         r"\text{Reptile: }\sum_m(\tilde\theta^m-\phi)")
st.latex(r"\text{iMAML: }-\sum_m\left(I+\tfrac{1}{\lambda}\nabla^2 l^m(\hat\theta^m)\right)^{-1}"
         r"\nabla_{\hat\theta}l^m(\hat\theta^m)\qquad"
         r"\text{Meta-SGD: }-\sum_m\nabla_{(\phi,\alpha)}l^m(\phi-\alpha\circ\nabla l^m(\phi))")
_ui.show_source(ls.update_directions, t["source"])
_ui.chapter_figures("update-directions")  # last: a zip of the figures this page showed

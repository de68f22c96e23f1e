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
from pages import _landscape_ui as lui
from pages import _ui

_ui.through_the_router()

TEXT = {
    "en": {
        "title": "MAML versus model pre-training",
        "intro": (
            "Pre-training and MAML both look for one initialization φ shared by every task, "
            "but they judge φ differently. **Pre-training** minimises Σₙ lⁿ(φ): how good φ "
            "is **now**. **MAML** minimises Σₙ lⁿ(θ̂ⁿ), where θ̂ⁿ is what training on task n "
            "from φ gives: how good φ is **after training**, its **potential**."),
        "preset": "Task shapes",
        "inner_lr": "inner learning rate α",
        "steps": "inner steps",
        "deep_at": "task 2's deep (global) minimum at",
        "local_depth": "depth of task 2's local minimum",
        "deep_depth": "depth of the deep minima",
        "width": "well width",
        "anchor": "draw the adaptation θ̂ⁿ from",
        "anchor_maml": "MAML's φ",
        "anchor_pretrain": "pre-training's φ",
        "anchor_phi": "a φ of my choice",
        "phi": "φ",
        "local_too_deep": "Task 2's local minimum cannot be deeper than its global minimum: "
                          "lower the local depth or raise the deep one.",
        "bad": "These settings do not make a landscape: ",
        "overshoot": (
            "The inner learning rate α is too large for these tasks: somewhere the inner "
            "steps overshoot and fly off (on a quadratic of curvature c, gradient descent "
            "diverges once α·c > 2), so the MAML curve leaves the picture. Lower α or the "
            "number of inner steps."),
        "explain": (
            "x axis: the model's parameter (one parameter); y axis: loss. Each arrow runs "
            "from φ to θ̂ⁿ: where {steps} inner step(s) of size α = {lr:g} take task n."),
        "stuck": (
            " Pre-training's φ sits where task 2 has a local minimum: training on task 2 "
            "stays stuck there."),
        "worse_now": (
            " MAML's φ is worse now (Σₙ lⁿ(φ) = {maml_now} against {pre_now}), but after "
            "training it is better ({maml_after} against {pre_after}): its potential."),
        "better_both": (
            " With these settings MAML's φ is better both now ({maml_now} against "
            "{pre_now}) and after training ({maml_after} against {pre_after})."),
        "same": (
            " With these settings both objectives have their minimum at the same φ "
            "(Σₙ lⁿ(φ) = {pre_now} now, {pre_after} after training): the inner steps are "
            "too large for MAML to find anything better. Try a smaller α."),
        "not_better": (
            " With these settings MAML's φ is no better after training ({maml_after} "
            "against {pre_after}): the inner steps overshoot, or these tasks leave MAML "
            "nothing to gain. Try a smaller α."),
        "table_where": "φ found by",
        "table_phi": "φ",
        "table_now": "now: Σₙ lⁿ(φ)",
        "table_after": "after training: Σₙ lⁿ(θ̂ⁿ)",
        "once_title": "MAML updates once",
        "once": (
            "During meta-training MAML updates the parameters only **once**: "
            "θ̂ = φ − α∇l(φ). The lecture's reasons:\n"
            "- **speed**: each meta-step trains on many tasks, and every extra inner step "
            "is another gradient (and another level of second derivatives);\n"
            "- **one step is the target**: φ is learned so that one step is enough;\n"
            "- at **test** time you can still update several times, which often does better;\n"
            "- **few-shot** tasks have very little data: many updates overfit easily.\n\n"
            "Move the *inner steps* slider above: every extra step changes the MAML "
            "objective and costs more to compute."),
        "anim": "Meta-training: φ under each method, from the same start",
        "anim_help": (
            "Press ▶ in the figure to play, or step with the buttons. Each method's φ "
            "moves along its own row under the curves (its x is φ). Pre-training follows "
            "−∇Σₙlⁿ(φ); MAML the exact −∇Σₙlⁿ(θ̂ⁿ); first-order MAML drops the second "
            "derivatives; Reptile moves φ by ε·mean(θ̃ⁿ − φ) after k inner steps; iMAML "
            "follows its implicit gradient; Meta-SGD learns its inner step size α beside φ "
            "(its label shows α as it changes)."),
        "no_anim": "Meta-training is shown once the inner steps stop overshooting.",
        "phi0": "start φ₀",
        "meta_lr": "meta learning rate η",
        "reptile_eps": "Reptile's step ε",
        "reptile_k": "Reptile's inner steps k",
        "n_steps": "meta-steps",
        "final": ("After all {n} meta-steps (the labels in the figure give each method's φ "
                  "and loss L = Σₙ lⁿ(θ̂ⁿ) at the step it shows):"),
        "method": "method",
        "diverged": "{method} diverged at meta-step {step}: lower the meta learning rate "
                    "(or ε).",
        "source": "Engine code behind the figure: mamlviz.landscape.landscape_1d",
        "source_traj": "Engine code behind the animation: mamlviz.landscape.trajectory",
        "run": "▶ run meta-training",
        "run_help": (
            "Every method starts at φ₀. Press **run meta-training** (or step) to compute "
            "every method's path for the settings above, then ▶ play in the figure. Changing the "
            "task shapes, α or the inner steps asks for a new run."),
    },
    "zh": {
        "title": "MAML 与 Model Pre-training",
        "intro": (
            "Model Pre-training 和 MAML 都在找一组所有 task 共用的初始化参数 φ，但衡量 φ "
            "好坏的方式不一样。**预训练**最小化 Σₙ lⁿ(φ)：直接用当前的参数计算各个 task 的 "
            "loss，注重**现在的表现**。**MAML** 最小化 Σₙ lⁿ(θ̂ⁿ)，θ̂ⁿ 是从 φ 出发在 task n "
            "上训练以后得到的参数：注重**训练以后**的表现，也就是参数的**潜力**。"),
        "preset": "task 的形状",
        "inner_lr": "内层学习率 α",
        "steps": "update 次数",
        "deep_at": "task 2 的 global minima 的位置",
        "local_depth": "task 2 的 local minima 的深度",
        "deep_depth": "global minima 的深度",
        "width": "谷的宽度",
        "anchor": "从哪个 φ 画出训练以后的 θ̂ⁿ",
        "anchor_maml": "MAML 找到的 φ",
        "anchor_pretrain": "预训练找到的 φ",
        "anchor_phi": "自己选一个 φ",
        "phi": "φ",
        "local_too_deep": "task 2 的 local minima 不能比它的 global minima 更深："
                          "请调小 local minima 的深度，或调大 global minima 的深度。",
        "bad": "这组设定画不出 loss 曲线：",
        "overshoot": (
            "内层学习率 α 对这些 task 太大了：在某些地方更新会越走越远（曲率为 c 的二次"
            "函数上，α·c > 2 时 gradient descent 就会发散），MAML 的曲线超出了画面。"
            "请调小 α 或 update 次数。"),
        "explain": (
            "横轴是模型参数（简化为一个参数），纵轴是 loss。箭头从 φ 指向 θ̂ⁿ：在 task n 上"
            "用学习率 α = {lr:g} update {steps} 次以后到达的地方。"),
        "stuck": "预训练找到的 φ 处，task 2 有一个 local minima：在 task 2 上训练会卡在那里。",
        "worse_now": (
            "MAML 的 φ 现在的 loss 比较差（Σₙ lⁿ(φ) = {maml_now}，预训练 {pre_now}），"
            "但训练以后更好（{maml_after}，预训练 {pre_after}）：这就是它的潜力。"),
        "better_both": (
            "在这组设定下，MAML 的 φ 现在（{maml_now}，预训练 {pre_now}）和训练以后"
            "（{maml_after}，预训练 {pre_after}）都更好。"),
        "same": (
            "在这组设定下，两个目标的最低点在同一个 φ（现在 Σₙ lⁿ(φ) = {pre_now}，"
            "训练以后 {pre_after}）：内层步长太大，MAML 找不到更好的 φ。试试小一点的 α。"),
        "not_better": (
            "在这组设定下，MAML 的 φ 训练以后并不更好（{maml_after}，预训练 {pre_after}）："
            "内层更新冲过了头，或者这些 task 没有给 MAML 留下好处。试试小一点的 α。"),
        "table_where": "φ 的来源",
        "table_phi": "φ",
        "table_now": "现在：Σₙ lⁿ(φ)",
        "table_after": "训练以后：Σₙ lⁿ(θ̂ⁿ)",
        "once_title": "MAML 只更新一次",
        "once": (
            "在 MAML 中我们只 update 参数**一次**：训练阶段只做 one-step training，"
            "θ̂ = φ − α∇l(φ)。只更新一次是有些理由的：\n"
            "- 为了**速度**：多次计算梯度更新参数是比较耗时的，而且 MAML 要 train 很多个 task；\n"
            "- 把**只更新一次作为目标**；\n"
            "- 在**测试**的时候，解 testing task 时多 update 几次结果可能就会更好；\n"
            "- 如果是 **few-shot** learning 的 task，由于 data 很少，update 很多次很容易 "
            "overfitting。\n\n"
            "试试上面的“update 次数”滑杆：每多一步，MAML 的 loss 曲线就会变，计算也更贵。"),
        "anim": "Meta-training：同一个起点，φ 在各个方法下怎么移动",
        "anim_help": (
            "按图里的 ▶ 播放，或用按钮一步一步走。每个方法的 φ 在曲线下方自己的一行上移动"
            "（横坐标就是 φ）。预训练沿 −∇Σₙlⁿ(φ)；MAML 沿精确的 −∇Σₙlⁿ(θ̂ⁿ)；一阶近似 "
            "MAML 不计算二次微分；Reptile 在每个 task 上走 k 步得到 θ̃ⁿ，再把 φ 往 θ̃ⁿ 移动 "
            "ε·mean(θ̃ⁿ − φ)；iMAML 沿隐式梯度更新；Meta-SGD 把内层步长 α 和 φ 一起学"
            "（它的标注显示 α 怎么变化）。"),
        "no_anim": "等内层更新不再发散以后，这里才显示 meta-training。",
        "phi0": "起点 φ₀",
        "meta_lr": "meta 学习率 η",
        "reptile_eps": "Reptile 的步长 ε",
        "reptile_k": "Reptile 的 update 次数 k",
        "n_steps": "meta 更新次数",
        "final": ("全部 {n} 次更新以后（图中的标注是图上显示的那一步每个方法的 φ 和 "
                  "loss L = Σₙ lⁿ(θ̂ⁿ)）："),
        "method": "方法",
        "diverged": "{method} 在第 {step} 次更新时发散了：请调小 meta 学习率（或 ε）。",
        "source": "画图背后的引擎代码：mamlviz.landscape.landscape_1d",
        "source_traj": "动画背后的引擎代码：mamlviz.landscape.trajectory",
        "run": "▶ 运行 meta-training",
        "run_help": (
            "所有方法都从 φ₀ 出发。按 **运行 meta-training**（或“下一步”）计算上面设定下每种方法"
            "的路径，再按图里的 ▶ 播放。改变 task 的形状、α 或 update 次数以后需要重新运行。"),
    },
}



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


t = _ui.texts(TEXT)
names = lui.method_names()
st.title(t["title"])
st.markdown(t["intro"])
st.latex(r"L_{\text{pre}}(\phi)=\sum_{n=1}^{N} l^n(\phi)\qquad\qquad "
         r"L_{\text{MAML}}(\phi)=\sum_{n=1}^{N} l^n(\hat\theta^n),\quad "
         r"\hat\theta^n=\phi-\alpha\nabla_\phi l^n(\phi)")

# ----------------------------------------------------------------------------- meta-training


@st.fragment
def meta_training(spec: tuple, inner_lr: float, steps: int, data: ls.Landscape1D,
                  overshoot: bool, data_key: tuple) -> None:
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
def landscape_section() -> None:
    """The landscape, its numbers and the meta-training below it. A fragment: a class
    moving α or the steps reruns this section alone, not the lecture's header and
    sidebar around it."""
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
        meta_training(spec, float(inner_lr), int(steps), data, overshoot, data_key)


landscape_section()
_ui.chapter_figures("maml-vs-pretraining")  # last: a zip of the figures this page showed

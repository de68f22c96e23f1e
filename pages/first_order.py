"""Warning of math: the first-order approximation, next to numbers measured on the sinusoid MLP.

Thin: widgets in, ``mamlviz.first_order`` measures, ``mamlviz.figures.first_order`` draws.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import streamlit as st

from mamlviz.figures.first_order import components_figure, cosine_figure, cost_figure
from mamlviz.first_order import agreement, compare_step_times, meta_gradients, meta_step_cost
from mamlviz.three_steps import random_init, sinusoid_task_set
from pages import _algorithms, _ui

_ui.through_the_router()

INNER_LRS = [0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5]
SWEEP_STEPS = (1, 2, 3)
N_QUERY = 10
SECOND_ORDER = _algorithms.second_order()  # MAML: its meta-gradient against the first-order one

TEXT = {
    "en": {
        "title": "Warning of math: the first-order approximation",
        "intro": (
            "The MAML paper reports that MAML and its *first-order approximation* give similar "
            "results. What is approximated? (Students who do not want the maths may nap for "
            "this section.)"
        ),
        "update": "MAML updates the initialisation φ with the gradient of L(φ):",
        "chain": (
            "A change of $\\phi_i$ moves every parameter $\\hat\\theta_j$ of the trained model, "
            "so by the chain rule:"
        ),
        "first_factor": (
            "The first factor is easy: the gradient of the query loss at $\\hat\\theta$. The "
            "second needs $\\hat\\theta_j$ in terms of $\\phi$ (one inner step of size α):"
        ),
        "cases": "Two cases:",
        "approx": (
            "The paper's **first-order approximation** drops the second derivatives: "
            "$\\partial\\hat\\theta_j/\\partial\\phi_i$ becomes 1 for $i = j$ and 0 otherwise, so"
        ),
        "approx_after": (
            "the gradient of the query loss taken at $\\hat\\theta$ itself: no Hessian, no graph "
            "through the inner step."
        ),
        "measured": "Measured on the real sinusoid MLP (1-40-40-1, 1,761 parameters)",
        "measured_body": (
            "Both meta-gradients of $L(\\phi) = \\frac{1}{N}\\sum_n l^n(\\hat\\theta^n)$ on the "
            "same N sinusoid tasks (K = 10 support and 10 query points each), computed by the "
            "engine's own MAML and first-order MAML steps."
        ),
        "phi": "initialisation φ",
        "phi_maml": "meta-learned φ (shipped MAML checkpoint)",
        "phi_random": "random init",
        "maml_missing": "The MAML checkpoint is not available ({error}); using a random init.",
        "inner_lr": "α (inner learning rate)",
        "inner_steps": "inner steps",
        "n_tasks": "tasks in the meta-batch N",
        "seed": "random seed",
        "cosine": "cosine similarity",
        "norm_full": "|full meta-gradient|",
        "norm_first": "|first-order meta-gradient|",
        "rel": "|full − first order| / |full|",
        "cosine_help": "1 means the same direction; 0 means orthogonal.",
        "diverged": (
            "With α = {lr} and {steps} inner step(s) the inner loop diverges: the meta-gradients "
            "are not finite numbers. Choose a smaller learning rate or fewer steps."
        ),
        "zero_lr": (
            "With α = 0 there is no inner step, $\\hat\\theta = \\phi$, and the two "
            "meta-gradients are identical (cosine 1)."
        ),
        "sweep_head": "How good is the approximation? Cosine versus the inner learning rate",
        "sweep_body": (
            "The second-order terms are multiplied by α: at small α the two directions agree, and "
            "they part as α and the number of inner steps grow. Gaps are settings where the "
            "inner loop diverged."
        ),
        "agree_same": (
            "Here the derivation's ≈ 0 holds: the dropped second-order terms, "
            "{rel:.0%} of the full meta-gradient's length, turn its direction by only "
            "{angle:.1f}°."
        ),
        "agree_tilted": (
            "**Why is this not ≈ 0?** The derivation's ≈ 0 compares *one* term, "
            "α·∂²l/∂φᵢ∂φⱼ, with 1. First order drops all of them at once: for each φᵢ a sum "
            "over all 1,761 θ̂ⱼ, weighted by the query gradient. Measured here, that dropped "
            "part has length {dropped:.3g}, {rel:.0%} of the full meta-gradient's {full:.3g}, "
            "and turns its direction by {angle:.0f}° (cosine {cos:.2f}). Under 90° the two "
            "still point downhill together: a small first-order step still lowers L(φ), "
            "along a different path."
        ),
        "agree_opposed": (
            "**Here first order fails.** The dropped second-order terms are {rel:.0%} of the "
            "full meta-gradient's length and turn it by {angle:.0f}°: a first-order step "
            "would climb L(φ) instead of descending it."
        ),
        "agree_meta_learned": (
            " The full meta-gradient is short at a meta-learned φ, because meta-training has "
            "brought L(φ) near a minimum, so even small second-order terms weigh a lot "
            "against it; from a random init, at the same settings, the cosine is {other:.2f}."
        ),
        "components_head": "Each of the 1,761 components",
        "cost_head": "What the exact gradient costs",
        "cost_body": (
            "Time: median over {repeats} meta-steps (time.perf_counter), full and first "
            "order taken turn about so both share the same load, for the plain autograd "
            "loop over tasks; the engine's batched step, median of {batched} steps. Memory: "
            "the most bytes that autograd holds for backward at once in the plain loop "
            "(counted with torch.autograd.graph.saved_tensors_hooks); the full gradient must "
            "keep the graph of every inner step, the first-order one frees it after each step."
        ),
        "timing_spread": (
            "Middle half of the {repeats} steps: full {f0:.2f}–{f2:.2f} ms, first order "
            "{o0:.2f}–{o2:.2f} ms."
        ),
        "timing_noise": (
            "First order is faster by its median, but the two ranges overlap: the "
            "difference is within this computer's noise."
        ),
        "timing_slower": (
            "**This time first order measured no faster** ({first:.2f} ms against "
            "{full:.2f} ms). It does strictly less work (no graph through the inner "
            "step, no second backward pass), so other programs on this shared CPU landed "
            "on its steps. Rerun (R) to measure again."
        ),
        "time_full": "time, full",
        "time_first": "time, first order",
        "mem_full": "memory, full",
        "mem_first": "memory, first order",
        "cuda_peak": "CUDA peak allocated: full {full:.1f} KB, first order {first:.1f} KB.",
        "device": "Measured on: {device}.",
        "source": "How the two meta-gradients and their cost are measured (engine source)",
    },
    "zh": {
        "title": "数学警告：一阶近似（first-order approximation）",
        "intro": (
            "在 MAML 的原始论文中，MAML 和 first order approx 的结果很相似，那 approx 是怎么做的"
            "呢？解释这个东西需要一点点数学（这一段不想听的同学可以睡一会 😁）。"
        ),
        "update": "MAML 用 L(φ) 的梯度来更新初始化参数 φ：",
        "chain": (
            "$\\phi_i$ 的变化会通过 $\\hat\\theta$ 中的每个参数 $\\hat\\theta_j$ 影响最终训练出来"
            "的 $\\hat\\theta$，所以根据 chain rule："
        ),
        "first_factor": (
            "前面的项 $\\partial l(\\hat\\theta)/\\partial\\hat\\theta_j$ 是容易得到的，就是 query "
            "set 的 loss 在 $\\hat\\theta$ 的梯度。后面的项需要用 $\\phi$ 表示 $\\hat\\theta_j$"
            "（一步学习率为 α 的更新）："
        ),
        "cases": "分为 i = j 和 i ≠ j 两种情况考虑：",
        "approx": (
            "在 MAML 的论文中，作者提出不计算二次微分这一项，称作 **using a first-order "
            "approximation**：i = j 时 $\\partial\\hat\\theta_j/\\partial\\phi_i$ 变成 1，"
            "i ≠ j 时偏微分的答案总是 0，于是"
        ),
        "approx_after": (
            "也就是直接在 $\\hat\\theta$ 上对 $\\hat\\theta$ 做偏微分：不需要二次微分，也不需要"
            "保留内层更新的计算图。"
        ),
        "measured": "在真实的正弦曲线 MLP（1-40-40-1，1,761 个参数）上测量",
        "measured_body": (
            "在同样的 N 个正弦曲线任务上（每个任务 K = 10 个 support set 样本、10 个 query set "
            "样本），用引擎自己的 MAML 与一阶近似 MAML 计算 "
            "$L(\\phi) = \\frac{1}{N}\\sum_n l^n(\\hat\\theta^n)$ 的两种 meta-gradient。"
        ),
        "phi": "初始化参数 φ",
        "phi_maml": "元学习得到的 φ（随附的 MAML checkpoint）",
        "phi_random": "随机初始化",
        "maml_missing": "MAML checkpoint 不可用（{error}），改用随机初始化。",
        "inner_lr": "α（内层学习率）",
        "inner_steps": "内层更新步数",
        "n_tasks": "每批任务数 N",
        "seed": "随机种子",
        "cosine": "余弦相似度",
        "norm_full": "|完整 meta-gradient|",
        "norm_first": "|一阶近似 meta-gradient|",
        "rel": "|完整 − 一阶| / |完整|",
        "cosine_help": "1 表示方向相同，0 表示互相垂直。",
        "diverged": (
            "当 α = {lr}、内层 {steps} 步时，内层训练发散了：meta-gradient 不是有限数值。"
            "请选更小的学习率或更少的步数。"
        ),
        "zero_lr": (
            "α = 0 时没有内层更新，$\\hat\\theta = \\phi$，两种 meta-gradient 完全相同"
            "（余弦相似度为 1）。"
        ),
        "sweep_head": "近似得有多好？余弦相似度与内层学习率",
        "sweep_body": (
            "二次微分项都乘上了 α：α 很小时两个方向几乎一致；α 和内层步数变大，它们就分开了。"
            "曲线的缺口表示内层训练发散的设置。"
        ),
        "agree_same": (
            "这里推导中的 ≈ 0 成立：被丢掉的二次微分项只有完整 meta-gradient 长度的 {rel:.0%}，"
            "方向只偏了 {angle:.1f}°。"
        ),
        "agree_tilted": (
            "**为什么这里不是 ≈ 0？** 推导中的 ≈ 0 比较的是*一个*项 α·∂²l/∂φᵢ∂φⱼ 和 1。一阶近似"
            "一次丢掉了所有这些项：对每个 φᵢ，是对全部 1,761 个 θ̂ⱼ 的求和，再乘上 query 的梯度。"
            "这里实测被丢掉的部分长度为 {dropped:.3g}，是完整 meta-gradient（{full:.3g}）的 "
            "{rel:.0%}，让方向偏了 {angle:.0f}°（余弦相似度 {cos:.2f}）。小于 90° 表示两者仍然"
            "一起指向下坡：一阶近似的一小步仍然让 L(φ) 下降，只是走了不同的路。"
        ),
        "agree_opposed": (
            "**这里一阶近似失效了。** 被丢掉的二次微分项是完整 meta-gradient 长度的 {rel:.0%}，"
            "让方向偏了 {angle:.0f}°：一阶近似的一步会让 L(φ) 上升而不是下降。"
        ),
        "agree_meta_learned": (
            "在元学习得到的 φ 上，完整 meta-gradient 很短（meta 训练已经把 L(φ) 带到极小值附近），"
            "所以即使很小的二次微分项也显得很重；同样的设置下从随机初始化出发，余弦相似度是 "
            "{other:.2f}。"
        ),
        "components_head": "1,761 个分量，逐一比较",
        "cost_head": "完整梯度的代价",
        "cost_body": (
            "时间：{repeats} 次 meta 更新的中位数（time.perf_counter），完整和一阶近似轮流"
            "测量，承受同样的负载，这是逐个任务的 autograd 循环；引擎的批量实现是 {batched} "
            "次的中位数。内存：在 autograd 循环中，为反向传播而保存的张量"
            "同时占用的最大字节数（用 torch.autograd.graph.saved_tensors_hooks 统计）；完整梯度"
            "必须保留每一步内层更新的计算图，一阶近似在每一步之后就释放了。"
        ),
        "timing_spread": (
            "{repeats} 次中间一半的时间：完整 {f0:.2f}–{f2:.2f} ms，一阶近似 {o0:.2f}–{o2:.2f} ms。"
        ),
        "timing_noise": "按中位数一阶近似更快，但两个范围有重叠：差别在这台电脑的噪声之内。",
        "timing_slower": (
            "**这一次一阶近似测得并不更快**（{first:.2f} ms 对 {full:.2f} ms）。它做的计算严格"
            "更少（不需要内层更新的计算图，也没有第二次反向传播），所以是这台共享 CPU 上的其他"
            "程序占用了它的时间。按 R 重新测量。"
        ),
        "time_full": "时间，完整",
        "time_first": "时间，一阶近似",
        "mem_full": "内存，完整",
        "mem_first": "内存，一阶近似",
        "cuda_peak": "CUDA 峰值分配：完整 {full:.1f} KB，一阶近似 {first:.1f} KB。",
        "device": "测量设备：{device}。",
        "source": "两种 meta-gradient 及其代价是怎么测量的（引擎源代码）",
    },
}

FIG_TEXT = {
    "cosine": {"title": "完整与一阶近似 meta-gradient 的余弦相似度 vs 内层学习率",
               "x": "内层学习率 α", "y": "余弦相似度", "steps": "内层 {s} 步",
               "current": "当前设置"},
    "components": {"title": "grad_φ L 的每个分量：完整 vs 一阶近似",
                   "x": "完整（二次微分）meta-gradient", "y": "一阶近似 meta-gradient",
                   "points": "一个参数 φ_i", "diagonal": "相等（y = x）"},
    "cost": {"title": "一次 meta 更新的代价", "time": "每次 meta 更新的时间（ms）",
             "memory": "为反向传播保存的内存（KB）", "naive": "逐任务循环（torch.autograd）",
             "batched": "批量实现（torch.func, vmap）",
             "memory_bar": "为反向传播保存的峰值字节数", "full": "完整（二次微分）",
             "first_order": "一阶近似"},
}
# Timing: full and first order alternate for this many steps each (one step is tens of
# ms on a CPU); the median of so many is not moved by a shared CPU's bursts.
TIMING_REPEATS = 15
COST_REPEATS = 3  # the batched step's time and the memory count, steadier than the loop


def _fig_labels(name: str) -> dict[str, str]:
    return FIG_TEXT[name] if _ui.lang() == "zh" else {}


def _phi(which: str, seed: int) -> Any:
    if which == SECOND_ORDER:
        value = _ui.sinusoid_checkpoints().get(SECOND_ORDER)
        if value is not None and not isinstance(value, BaseException):
            return value[1]
    return random_init(seed)


@st.cache_data(show_spinner=False, max_entries=32)
def _batch(n_tasks: int, seed: int) -> Any:
    return sinusoid_task_set(n_tasks, 10, N_QUERY, seed).batch


@st.cache_data(show_spinner=False, max_entries=256)
def _grads(which: str, n_tasks: int, seed: int, inner_lr: float, steps: int) -> Any:
    return meta_gradients(_phi(which, seed), _batch(n_tasks, seed), inner_lr, steps)


@st.cache_data(show_spinner=False, max_entries=64)
def _sweep(which: str, n_tasks: int, seed: int) -> dict[int, list[float]]:
    return {s: [_grads(which, n_tasks, seed, lr, s).cosine for lr in INNER_LRS]
            for s in SWEEP_STEPS}


@st.cache_data(show_spinner=False, max_entries=64)
def _costs(which: str, n_tasks: int, seed: int, inner_lr: float, steps: int,
           device: str) -> tuple[Any, ...]:
    phi = {k: v.to(device) for k, v in _phi(which, seed).items()}
    batch = _batch(n_tasks, seed).to(device)
    timing = compare_step_times(phi, batch, inner_lr, steps, TIMING_REPEATS)
    costs = [meta_step_cost(phi, batch, inner_lr, steps, first_order, COST_REPEATS)
             for first_order in (False, True)]
    # The loop's time shown (and drawn) is the alternating median, not meta_step_cost's own.
    return (timing, *(dataclasses.replace(cost, seconds_naive=times[1], repeats=TIMING_REPEATS)
                      for cost, times in zip(costs, (timing.full, timing.first_order))))


def _cost_device() -> str:
    """Where the cost is measured: the training device when it is CUDA, else the CPU."""
    from mamlviz.device import pick_device
    from mamlviz.errors import MamlvizError

    try:
        return "cuda" if pick_device().type == "cuda" else "cpu"
    except MamlvizError:
        return "cpu"


def _kb(n_bytes: float) -> str:
    return f"{n_bytes / 1e3:,.1f} KB"


t = _ui.texts(TEXT)
st.title(t["title"])
st.markdown(t["intro"])

st.markdown(t["update"])
st.latex(r"\phi \leftarrow \phi - \eta \nabla_\phi L(\phi), \qquad "
         r"L(\phi) = \sum_{n=1}^{N} l^n(\hat\theta^n), \qquad "
         r"\nabla_\phi L(\phi) = \sum_{n=1}^{N} \nabla_\phi l^n(\hat\theta^n)")
st.markdown(t["chain"])
st.latex(r"\nabla_\phi l(\hat\theta) = \begin{bmatrix} \partial l(\hat\theta)/\partial\phi_1 \\ "
         r"\vdots \\ \partial l(\hat\theta)/\partial\phi_i \\ \vdots \end{bmatrix}, \qquad "
         r"\frac{\partial l(\hat\theta)}{\partial \phi_i} = \sum_j "
         r"\frac{\partial l(\hat\theta)}{\partial \hat\theta_j}"
         r"\frac{\partial \hat\theta_j}{\partial \phi_i}")
st.markdown(t["first_factor"])
st.latex(r"\hat\theta_j = \phi_j - \alpha \frac{\partial l(\phi)}{\partial \phi_j}")
st.markdown(t["cases"])
st.latex(r"i \neq j:\quad \frac{\partial \hat\theta_j}{\partial \phi_i} = "
         r"-\alpha \frac{\partial^2 l(\phi)}{\partial \phi_i \partial \phi_j} \approx 0"
         r"\qquad\qquad "
         r"i = j:\quad \frac{\partial \hat\theta_j}{\partial \phi_i} = "
         r"1 - \alpha \frac{\partial^2 l(\phi)}{\partial \phi_i^2} \approx 1")
st.markdown(t["approx"])
st.latex(r"\frac{\partial l(\hat\theta)}{\partial \phi_i} \approx "
         r"\frac{\partial l(\hat\theta)}{\partial \hat\theta_i}, \qquad "
         r"\nabla_\phi l(\hat\theta) \approx \nabla_{\hat\theta} l(\hat\theta)")
st.markdown(t["approx_after"])

st.header(t["measured"])
st.markdown(t["measured_body"])
checkpoint = _ui.sinusoid_checkpoints().get(SECOND_ORDER)
maml_ok = checkpoint is not None and not isinstance(checkpoint, BaseException)
c1, c2, c3, c4, c5 = st.columns([2, 2, 1, 1, 1])
which = str(c1.radio(t["phi"], [SECOND_ORDER, "random"] if maml_ok else ["random"],
                     key="fo_phi", format_func=lambda v: t["phi_maml"] if v == SECOND_ORDER
                     else t["phi_random"]))
if not maml_ok:
    c1.caption(t["maml_missing"].format(error=checkpoint))
inner_lr = c2.select_slider(t["inner_lr"], INNER_LRS, value=0.01, key="fo_inner_lr")
steps = c3.slider(t["inner_steps"], 1, 5, 1, key="fo_steps")
n_tasks = c4.slider(t["n_tasks"], 1, 50, 25, key="fo_n_tasks")
seed = int(c5.number_input(t["seed"], 0, 10_000, 0, step=1, key="fo_seed"))

grads = _grads(which, n_tasks, seed, inner_lr, steps)
if not grads.finite:
    st.warning(t["diverged"].format(lr=inner_lr, steps=steps))
else:
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(t["cosine"], f"{grads.cosine:.4f}", help=t["cosine_help"])
    m2.metric(t["norm_full"], f"{float(grads.full.norm()):.4g}")
    m3.metric(t["norm_first"], f"{float(grads.first_order.norm()):.4g}")
    m4.metric(t["rel"], f"{grads.relative_difference:.3f}")
    if inner_lr == 0:
        st.info(t["zero_lr"])
    else:
        agree = agreement(grads)
        sentence = t[f"agree_{agree.verdict}"].format(
            rel=agree.relative_difference, angle=agree.angle_degrees, cos=agree.cosine,
            dropped=agree.dropped_norm, full=agree.full_norm)
        if which == SECOND_ORDER and agree.verdict != "same":
            other = _grads("random", n_tasks, seed, inner_lr, steps)
            if other.finite:
                sentence += t["agree_meta_learned"].format(other=other.cosine)
        st.markdown(sentence)

st.subheader(t["sweep_head"])
st.markdown(t["sweep_body"])
current = (inner_lr, grads.cosine if grads.finite else math.nan)
# Figures are built once per server for their inputs (show_figure's cache_key).
grads_key = (which, n_tasks, seed, inner_lr, steps)
_ui.show_figure(lambda: cosine_figure(INNER_LRS, _sweep(which, n_tasks, seed), current,
                                      labels=_fig_labels("cosine")),
                "first-order-cosine", key="fo_cosine_fig", cache_key=grads_key)

if grads.finite:
    st.subheader(t["components_head"])
    _ui.show_figure(lambda: components_figure(grads, labels=_fig_labels("components")),
                    "first-order-components", key="fo_components_fig", cache_key=grads_key)

st.subheader(t["cost_head"])
device = _cost_device()
timing, full_cost, first_cost = _costs(which, n_tasks, seed, inner_lr, steps, device)
st.markdown(t["cost_body"].format(repeats=timing.repeats, batched=COST_REPEATS))
k1, k2, k3, k4 = st.columns(4)
k1.metric(t["time_full"], f"{1e3 * full_cost.seconds_naive:.2f} ms")
k2.metric(t["time_first"], f"{1e3 * first_cost.seconds_naive:.2f} ms")
k3.metric(t["mem_full"], _kb(full_cost.saved_bytes_peak))
k4.metric(t["mem_first"], _kb(first_cost.saved_bytes_peak))
if full_cost.cuda_peak_bytes is not None and first_cost.cuda_peak_bytes is not None:
    st.caption(t["cuda_peak"].format(full=full_cost.cuda_peak_bytes / 1e3,
                                     first=first_cost.cuda_peak_bytes / 1e3))
st.caption(t["device"].format(device=device))
ms = {k: 1e3 * v for k, v in zip(("f0", "f1", "f2", "o0", "o1", "o2"),
                                  (*timing.full, *timing.first_order))}
st.caption(t["timing_spread"].format(repeats=timing.repeats, **ms))
if not timing.first_order_faster:
    st.info(t["timing_slower"].format(first=ms["o1"], full=ms["f1"]))
elif timing.overlapping:
    st.caption(t["timing_noise"])
# Keyed by the measurements themselves, not the settings: if _costs' smaller cache
# measures these settings again, the figure still shows the numbers printed above it.
_ui.show_figure(lambda: cost_figure(full_cost, first_cost, labels=_fig_labels("cost")),
                "first-order-cost", key="fo_cost_fig", cache_key=(full_cost, first_cost))

_ui.show_source(meta_gradients, t["source"])
_ui.chapter_figures("first-order")  # last: a zip of the figures this page showed

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
from pages import _landscape_ui as lui
from pages import _ui

_ui.through_the_router()

TEXT = {
    "en": {
        "title": "Reptile",
        "intro": (
            "Very simple. Initialise φ₀. Take a task m and train on it for **several** steps "
            "from φ, reaching θ̃ᵐ; move φ a little towards θ̃ᵐ. Take the next task n, train "
            "several steps, move φ towards θ̃ⁿ; and so on. It looks much like pre-training "
            "(the authors say so themselves), but Reptile is not limited to one or two steps: "
            "with more inner steps it can take into account what the other two cannot."),
        "algorithm": "The algorithm (serial version, as in the lecture)",
        "compare": "Reptile, MAML and pre-training: what each adds to φ",
        "compare_note": (
            "With k = 1 inner step, θ̃ − φ = −α∇l(φ): Reptile **is** pre-training (with a "
            "smaller step). With k ≥ 2 it picks up second-order information, like MAML, "
            "without computing any second derivative."),
        "one_d": "Reptile's own curve on the 1-D landscape",
        "one_d_help": (
            "Each curve is a method's update direction at every φ. Where it crosses zero "
            "going down (a dot), φ settles. Pre-training's and MAML's dots are minima of "
            "their objectives; Reptile minimises no simple objective of its own, but its "
            "curve says where it goes. Change k: at k = 1 Reptile's curve is α times "
            "pre-training's."),
        "jagged": (
            "**Why Reptile's curve is so jagged here: it is real, not a drawing artefact.** "
            "Gradient descent with step α = {lr:g} cannot settle at the bottom of a well that "
            "curves more sharply than 2/α = {limit:.2f} (each step jumps past the bottom by "
            "more than it started from), and these wells curve up to {c:.2f}. So the k = {k} "
            "inner steps bounce from wall to wall inside the wells, and where θ̃ lands after "
            "k bounces changes quickly, and back and forth, as φ moves: each extra step folds "
            "the map φ → θ̃ once more. (The curve is computed exactly on {n} points; at the "
            "largest α and k the bouncing turns chaotic and the curve has detail finer than "
            "any grid.) Lower α or k and it turns smooth; with k = 1 it is exactly α times "
            "pre-training's smooth curve. Pre-training and MAML take at most one inner step "
            "here, so their curves stay smooth."),
        "preset": "Task shapes",
        "inner_lr": "inner learning rate α",
        "reptile_k": "Reptile's inner steps k",
        "reptile_eps": "Reptile's step ε (outer)",
        "meta_lr": "meta learning rate η (other methods)",
        "phi0": "start φ₀",
        "n_steps": "meta-steps",
        "x0": "start φ₁",
        "y0": "start φ₂",
        "paths_1d": "Meta-training from the same start (press ▶ in the figure)",
        "two_d": "Reptile's path on the 2-D landscape",
        "method": "method",
        "final_phi": "φ after meta-training",
        "after": "after training on each task: Σₙ lⁿ(θ̂ⁿ)",
        "worse": (
            "The lecture's verdict (from the Reptile paper's sinusoid figure): the "
            "pre-training curve is far worse than the meta-learners'. Here too, compare the "
            "last column: the loss *after* one step of training on each task, from the φ "
            "each method found. Pre-training found the φ that is best *now*; the "
            "meta-learners found φ with more potential. (On these small landscapes every "
            "method can settle in a local minimum of its own; move the start to see it.)"),
        "diverged": "{method} diverged: lower its step size.",
        "bad": "These settings do not work: ",
        "differ": "Where this page differs from the Reptile paper (arXiv 1803.02999)",
        "differ_text": (
            "- **Tasks and losses**: the paper trains networks on sampled tasks (sinusoids, "
            "Omniglot, Mini-ImageNet) with minibatches; here the task losses are exact "
            "analytic curves, so every gradient is exact and nothing is random.\n"
            "- **Batched, not serial**: the paper's main algorithm samples one task per "
            "step (the serial version above); we use its batched version, "
            "φ ← φ + ε · (1/n) Σᵢ (θ̃ⁱ − φ), over all tasks at every meta-step, so all "
            "methods see the same tasks and compare fairly.\n"
            "- **Inner optimiser**: the paper uses Adam (or SGD) in the inner loop and "
            "anneals ε linearly to 0; we use plain gradient descent with a fixed ε.\n"
            "- **Evaluation**: the paper measures accuracy on new tasks after a few steps; "
            "here we show the summed loss after training on the same tasks.\n"
            "Otherwise the update is the paper's: θ̃ is k steps of gradient descent from φ, "
            "and φ moves towards it."),
        "pseudo": (
            "initialise φ\n"
            "for iteration = 1, 2, ...:\n"
            "    sample a task m\n"
            "    θ̃ = φ;  repeat k times: θ̃ = θ̃ − α · ∇lᵐ(θ̃)            # several steps\n"
            "    φ = φ + ε · (θ̃ − φ)                                    # move φ towards θ̃ᵐ\n"),
        "latex_pretrain": (r"\text{Pre-training: }\ \phi\leftarrow\phi-\eta\sum_m"
                           r"\nabla_\phi l^m(\phi)"),
        "latex_maml": (r"\text{MAML: }\ \phi\leftarrow\phi-\eta\sum_m\nabla_\phi l^m(\hat\theta^m),"
                       r"\quad\hat\theta^m=\phi-\alpha\nabla_\phi l^m(\phi)"),
        "latex_reptile": (r"\text{Reptile: }\ \phi\leftarrow\phi+\epsilon_{\text{outer}}\,"
                          r"(\tilde\theta^m-\phi),\quad\tilde\theta^m=\text{$k$ steps of "
                          r"gradient descent on }l^m\text{ from }\phi"),
        "source": "Engine code behind the curves: mamlviz.landscape.direction_field",
    },
    "zh": {
        "title": "Reptile",
        "intro": (
            "非常简单。初始化参数 φ₀ 以后，在 task m 上训练更新参数，可以**多更新几次**，"
            "得到 θ̃ᵐ，然后根据 θ̃ᵐ 把 φ 往它的方向更新一点；同样地继续，在 task n 上训练、"
            "多更新几次参数得到 θ̃ⁿ，据此更新 φ，如此往复。你可能会说，这不是和预训练很像吗？"
            "作者自己也这么说。但是 Reptile 并没有限制你只能走两步，所以如果你多更新几次"
            "参数多走几步，或许 Reptile 可以考虑到另外两者没有考虑到的东西。"),
        "algorithm": "算法（逐个 task 的版本，和课上一样）",
        "compare": "Reptile、MAML 与预训练：各自加到 φ 上的量",
        "compare_note": (
            "只走 k = 1 步时，θ̃ − φ = −α∇l(φ)：Reptile **就是**预训练（步长更小）。"
            "k ≥ 2 时它就能像 MAML 一样用到二次的信息，却不必计算任何二次微分。"),
        "one_d": "一维 loss 曲线上 Reptile 自己的曲线",
        "one_d_help": (
            "每条曲线是一种方法在每个 φ 上的更新方向。从正穿到负的零点（圆点）就是 φ 会停下"
            "的地方。预训练和 MAML 的零点是它们 loss 的极小值；Reptile 没有一个简单的 loss，"
            "但它的曲线告诉我们它会去哪里。调一下 k：k = 1 时 Reptile 的曲线正好是预训练的 "
            "α 倍。"),
        "jagged": (
            "**为什么 Reptile 的曲线这么锯齿：这是真的，不是画图的误差。** 步长 α = {lr:g} 的 "
            "gradient descent 停不进弯曲程度（二次微分）超过 2/α = {limit:.2f} 的谷底：每一步"
            "冲过谷底的距离比出发时离谷底还远。这里的谷最弯的地方达到 {c:.2f}，所以 k = {k} 步"
            "内层更新在谷里来回弹跳；φ 稍微一动，弹跳 k 次以后 θ̃ 落在哪里就变化得很快、忽前"
            "忽后：每多一步，φ → θ̃ 的映射就多折叠一次。（曲线是在 {n} 个点上精确算出来的；"
            "α 和 k 最大时弹跳变成混沌，曲线的细节比任何网格都细。）调小 α 或 k，曲线就会变"
            "平滑；k = 1 时它正好是预训练平滑曲线的 α 倍。预训练和 MAML 在这里最多只走一步"
            "内层更新，所以它们的曲线是平滑的。"),
        "preset": "task 的形状",
        "inner_lr": "内层学习率 α",
        "reptile_k": "Reptile 的 update 次数 k",
        "reptile_eps": "Reptile 的外层步长 ε",
        "meta_lr": "meta 学习率 η（其他方法）",
        "phi0": "起点 φ₀",
        "n_steps": "meta 更新次数",
        "x0": "起点 φ₁",
        "y0": "起点 φ₂",
        "paths_1d": "从同一个起点 meta-training（按图里的 ▶ 播放）",
        "two_d": "二维 loss 上 Reptile 的路径",
        "method": "方法",
        "final_phi": "meta-training 以后的 φ",
        "after": "在各个 task 上训练以后：Σₙ lⁿ(θ̂ⁿ)",
        "worse": (
            "课上的结论（来自 Reptile 论文的正弦曲线实验）：特别惨的那条线是 pre-training，"
            "和预训练比起来 meta learning 的效果要好很多。这里也一样，看最后一栏：从每种方法"
            "找到的 φ 出发、在每个 task 上训练一步以后的 loss。预训练找的是**现在**最好的 φ，"
            "meta learning 找的是更有**潜力**的 φ。（在这些小的 loss 曲线上，每种方法都可能"
            "停在自己的 local minima；移动起点就能看到。）"),
        "diverged": "{method} 发散了：请调小它的步长。",
        "bad": "这组设定不行：",
        "differ": "这一页和 Reptile 论文（arXiv 1803.02999）的不同之处",
        "differ_text": (
            "- **task 与 loss**：论文在抽样出来的 task（正弦曲线、Omniglot、Mini-ImageNet）上"
            "用 minibatch 训练网络；这里 task 的 loss 是精确的解析曲线，每个 gradient 都是"
            "精确的，没有随机性。\n"
            "- **批量版本而不是逐个 task**：论文的主算法每次抽一个 task（上面的版本）；我们用"
            "论文中的批量版本 φ ← φ + ε · (1/n) Σᵢ (θ̃ⁱ − φ)，每次 meta 更新用所有 task，"
            "这样所有方法看到同样的 task，比较公平。\n"
            "- **内层优化器**：论文在内层用 Adam（或 SGD），并把 ε 线性降到 0；我们用普通的 "
            "gradient descent 和固定的 ε。\n"
            "- **评估**：论文在新的 task 上走几步以后测准确率；这里显示在同样的 task 上训练"
            "以后的 loss 总和。\n"
            "除此之外，更新和论文一样：θ̃ 是从 φ 出发的 k 步 gradient descent，φ 往它移动。"),
        "pseudo": (
            "初始化 φ\n"
            "for iteration = 1, 2, ...:\n"
            "    抽一个 task m\n"
            "    θ̃ = φ;  重复 k 次: θ̃ = θ̃ − α · ∇lᵐ(θ̃)              # 多走几步\n"
            "    φ = φ + ε · (θ̃ − φ)                                    # 把 φ 往 θ̃ᵐ 移动\n"),
        "latex_pretrain": r"\text{预训练：}\ \phi\leftarrow\phi-\eta\sum_m\nabla_\phi l^m(\phi)",
        "latex_maml": (r"\text{MAML：}\ \phi\leftarrow\phi-\eta\sum_m\nabla_\phi l^m(\hat\theta^m),"
                       r"\quad\hat\theta^m=\phi-\alpha\nabla_\phi l^m(\phi)"),
        "latex_reptile": (r"\text{Reptile：}\ \phi\leftarrow\phi+\epsilon_{\text{outer}}\,"
                          r"(\tilde\theta^m-\phi),\quad\tilde\theta^m=\text{从 }\phi"
                          r"\text{ 出发在 }l^m\text{ 上走 $k$ 步 gradient descent}"),
        "source": "曲线背后的引擎代码：mamlviz.landscape.direction_field",
    },
}

t = _ui.texts(TEXT)
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

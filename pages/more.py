"""Chapter 'More, and things to think about': MAML for machine translation (MetaNMT), what
else can be learned (the initialization, the step sizes, which layers adapt, a metric),
each shown by a small figure the engine computes, what a meta-step of each costs, turtles
all the way down, and the crazy idea.

Thin: ``mamlviz.what_is_learned``, ``mamlviz.landscape`` and ``mamlviz.cost`` compute,
``mamlviz.figures.what_is_learned`` draws; which algorithm stands for which part comes
from the registry (``pages/_algorithms.py``).
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st
import torch

from pages import _algorithms, _data, _ui

_ui.through_the_router()

TEXT = {
    "en": {
        "title": "More, and things to think about",
        "nmt_title": "An application: MAML for machine translation",
        "nmt": (
            "Gu, Wang, Chen, Cho & Li, *Meta-Learning for Low-Resource Neural Machine "
            "Translation* (EMNLP 2018, [arXiv 1808.08437](https://arxiv.org/abs/1808.08437)):\n"
            "- **18 training tasks**: 18 high-resource languages, each translated into "
            "English;\n"
            "- **2 validation tasks**: 2 more languages into English (Ro, Romanian, is one); "
            "test languages such as Fi (Finnish) appear in neither;\n"
            "- the paper plots translation quality (BLEU) against the amount of training "
            "data in each target task (its figure is not redrawn here): **MetaNMT** (MAML) "
            "beats **MultiNMT** (multilingual model pre-training) at **every** amount of "
            "training data, and **most at the smallest**: where data is scarce, the "
            "initialization's potential matters most."),
        "other_title": "Other parts of the learning algorithm can be learned too",
        "other": (
            "Everything so far learned one part of the learning algorithm: the "
            "initialization φ. Other parts that people design by hand can be learned as "
            "well: the **network architecture**, the **activation function**, the **update "
            "rule** (how to update the parameters, the learning rate), ..."),
        "learned_title": "What each method learns, side by side",
        "learned_intro": (
            "Each figure below is computed now by this app's engine, on the same tasks for "
            "every method."),
        "init_title": "The initialization: MAML, first-order MAML, Reptile, ANIL",
        "init": (
            "On the lecture's 2-D landscape (two tasks), each arrow is the direction in which "
            "one method moves φ after one inner step (α = {lr}; Reptile: {k} steps); all "
            "arrows are drawn the same length, their angles are what differs. ANIL adapts "
            "only the \"head\", here the second coordinate φ₂: its inner step moves along φ₂ "
            "alone, so its arrow differs from MAML's."),
        "step_title": "The step sizes: Meta-SGD",
        "step": (
            "MAML fixes the inner step size α by hand. Its objective L(φ) (the loss after one "
            "inner step, on the lecture's 1-D landscape) depends on α: so does the best φ "
            "(stars). Meta-SGD (Li et al. 2017) learns α along with φ, one step size per "
            "weight, so the update rule itself is learned."),
        "layers_title": "Which layers adapt: ANIL",
        "layers": (
            "*Rapid learning or feature reuse?* (Raghu et al. 2019): ANIL adapts only the last "
            "layer (the head) in the inner loop and keeps the features. The bars: how far "
            "{steps} inner steps (α = {lr}) move each layer of the sinusoid network from {phi}, "
            "relative to the layer's size, averaged over {tasks} new tasks: "
            "{every} moves every layer, {head} only the head."),
        "phi_maml": "the shipped MAML model's φ",
        "phi_random": "a random φ (the MAML checkpoint is not available: {error})",
        "layer_names": "input layer|hidden layer|head",
        "metric_title": "A metric: Prototypical Networks",
        "metric": (
            "No inner loop at all (Snell et al. 2017): the network maps every image to a "
            "point; each class's **prototype** is the mean of its support images' points, and "
            "a query gets the class of the nearest prototype (squared Euclidean distance). "
            "Below, one {n_way}-way {k_shot}-shot Omniglot episode of new characters as "
            "{embedding} sees it, drawn in the plane of the two main directions of the "
            "points (classified in all 64 dimensions). This is the crazy idea below, "
            "realised: support and queries in, answers out."),
        "embedding_trained": "the shipped Prototypical Networks model",
        "embedding_random": "an untrained Conv4 (no Prototypical Networks model is shipped)",
        "metric_missing": "The Omniglot data is not available here, so the episode is not drawn.",
        "cost_title": "What a meta-step costs",
        "cost": (
            "Time and memory of one meta-step (Conv4, {tasks} tasks of 5-way 1-shot, measured "
            "now on this server's CPU, so noisy) against the number of inner steps. MAML "
            "differentiates through every inner step: its memory grows with them. First-order "
            "MAML keeps no graph of the inner steps; ANIL computes the features once and "
            "adapts only the head; Prototypical Networks have no inner loop, so their cost is "
            "flat. Memory is the most bytes the step's operators held at once."),
        "cost_spinner": "Measuring one meta-step of each method...",
        "turtles_title": "Think about it: turtles all the way down",
        "turtles": (
            "MAML and Reptile learn the best initialization, but MAML itself needs its "
            "initialization φ₀ to be initialized. Should we train a model to find *that* "
            "initialization, whose own initialization then needs a model, ...? Like the "
            "myth of the world standing on a turtle, which stands on another turtle: "
            "turtles all the way down."),
        "crazy_title": "A crazy idea?",
        "crazy": (
            "Machine learning and deep learning algorithms are still, mostly, gradient "
            "descent. Could we build a more powerful algorithm: give it all the **training "
            "data** and it returns the **model** we need, however it got there, gradient "
            "descent or not? Or, since we apply the model to testing data anyway, one big "
            "black box: give it the **training data and the testing data**, and it returns "
            "the **answers** on the testing data directly, testing included. Whether these "
            "ideas work is the next lecture."),
        "refs": "References",
        "ref_list": (
            "- Finn, Abbeel & Levine, *Model-Agnostic Meta-Learning for Fast Adaptation of "
            "Deep Networks*, ICML 2017, [arXiv 1703.03400](https://arxiv.org/abs/1703.03400)\n"
            "- Nichol, Achiam & Schulman, *On First-Order Meta-Learning Algorithms* "
            "(Reptile), 2018, [arXiv 1803.02999](https://arxiv.org/abs/1803.02999)\n"
            "- Gu, Wang, Chen, Cho & Li, *Meta-Learning for Low-Resource Neural Machine "
            "Translation*, EMNLP 2018, [arXiv 1808.08437](https://arxiv.org/abs/1808.08437)\n"
            "- Li, Zhou, Chen & Li, *Meta-SGD: Learning to Learn Quickly for Few-Shot "
            "Learning*, 2017, [arXiv 1707.09835](https://arxiv.org/abs/1707.09835)\n"
            "- Raghu, Raghu, Bengio & Vinyals, *Rapid Learning or Feature Reuse? Towards "
            "Understanding the Effectiveness of MAML* (ANIL), ICLR 2020, "
            "[arXiv 1909.09157](https://arxiv.org/abs/1909.09157)\n"
            "- Snell, Swersky & Zemel, *Prototypical Networks for Few-shot Learning*, NeurIPS "
            "2017, [arXiv 1703.05175](https://arxiv.org/abs/1703.05175)\n"
            "- Rajeswaran, Finn, Kakade & Levine, *Meta-Learning with Implicit Gradients* "
            "(iMAML), NeurIPS 2019, [arXiv 1909.04630](https://arxiv.org/abs/1909.04630)"),
    },
    "zh": {
        "title": "更多，以及一些思考",
        "nmt_title": "MAML 实际应用：机器翻译",
        "nmt": (
            "Gu、Wang、Chen、Cho、Li，*Meta-Learning for Low-Resource Neural Machine "
            "Translation*（EMNLP 2018，[arXiv 1808.08437](https://arxiv.org/abs/1808.08437)）：\n"
            "- **18 个不同的 task**：18 种不同语言翻译成英文；\n"
            "- **2 个验证 task**：2 种不同语言翻译成英文（Ro 是 validation tasks 中的任务）；"
            "Fi 既没有出现在 training tasks，也没出现在 validation tasks；\n"
            "- 论文把翻译质量（BLEU）画成每个 task 中训练资料量的函数（这里没有重画那张图）。"
            "**MetaNMT** 是 MAML 的结果，**MultiNMT** 是 "
            "Model Pre-training 的结果，我们可以看到在**所有情况**下前者都好过后者，"
            "**尤其是在训练资料量少的情况下**，MAML 更能发挥优势。"),
        "other_title": "还有其他部分可以让机器学习",
        "other": (
            "上面所有的讨论都是在初始化参数这件事上让机器自己学习。那有没有其他部分可以让"
            "机器学习呢？当然有很多：比如说，学习**网络结构**和**激活函数**、学习**如何更新"
            "参数**……"),
        "learned_title": "每种方法学的是什么：并排来看",
        "learned_intro": "下面每张图都是本应用的引擎现场算出来的，每种方法用的是同样的任务。",
        "init_title": "学初始化参数：MAML、一阶近似 MAML、Reptile、ANIL",
        "init": (
            "在课上的二维地形（两个任务）上，每个箭头是一种方法在一步内循环"
            "（α = {lr}；Reptile 走 {k} 步）之后移动 φ 的方向；箭头都画成一样长，不同的是方向。"
            "ANIL 只调整\"头\"，这里就是第二个坐标 φ₂：它的内循环只沿 φ₂ 走，"
            "所以它的箭头和 MAML 的不一样。"),
        "step_title": "学步长：Meta-SGD",
        "step": (
            "MAML 的内循环步长 α 是人手定的。它的目标 L(φ)（课上一维地形上，走一步之后的 "
            "loss）随 α 而变，最好的 φ（星号）也随之而变。Meta-SGD（Li et al. 2017）把 α 和 "
            "φ 一起学，每个参数一个步长：连更新规则本身也让机器学。"),
        "layers_title": "学哪些层要调：ANIL",
        "layers": (
            "*Rapid learning or feature reuse?*（Raghu et al. 2019）：ANIL 在内循环里只调最后"
            "一层（头），特征保持不动。柱子表示：从{phi}出发，{steps} 步内循环（α = {lr}）"
            "把正弦网络的每一层移动了多远（相对于这一层本身的大小，{tasks} 个新任务的平均）："
            "{every} 每一层都动，{head} 只动头。"),
        "phi_maml": "附带的 MAML 模型的 φ",
        "phi_random": "随机的 φ（MAML 模型不可用：{error}）",
        "layer_names": "输入层|隐藏层|头",
        "metric_title": "学一个度量：原型网络（Prototypical Networks）",
        "metric": (
            "完全没有内循环（Snell et al. 2017）：网络把每张图映射成一个点；每一类的"
            "**原型**是它的 support 图片对应的点的平均，query 被分到最近的原型那一类"
            "（欧氏距离的平方）。下图是一个由新字符组成的 {n_way}-way {k_shot}-shot Omniglot "
            "episode 在{embedding}眼中的样子，画在这些点最主要的两个方向构成的平面上"
            "（分类是在全部 64 维里做的）。这正是下面那个 crazy idea 的一种实现："
            "给它 support 和 query，它直接给出答案。"),
        "embedding_trained": "附带的原型网络模型",
        "embedding_random": "一个没训练过的 Conv4（没有附带原型网络模型）",
        "metric_missing": "这里没有 Omniglot 数据，所以不画这个 episode。",
        "cost_title": "一次 meta 更新的代价",
        "cost": (
            "一次 meta 更新的时间和内存（Conv4，{tasks} 个 5-way 1-shot 任务，在这台服务器的 "
            "CPU 上现场测量，所以有噪声），横轴是内循环步数。MAML 要对每一步内循环求导，内存"
            "随步数增长。一阶近似 MAML 不保留内循环的计算图；ANIL 只算一次特征、只调头；"
            "原型网络没有内循环，所以代价是平的。内存是这一步的运算同时占用的最多字节数。"),
        "cost_spinner": "正在测量每种方法的一次 meta 更新……",
        "turtles_title": "Think about it：套娃",
        "turtles": (
            "我们使用 MAML 或 Reptile 来寻找最好的初始化参数，但是这个算法本身也需要初始化"
            "参数，那我们是不是也要训练一个模型找到这个模型的初始化参数……就好像神话中说世界"
            "在乌龟背上，那这只乌龟应该在另一只乌龟背上……这就是套娃啊。"),
        "crazy_title": "Crazy Idea?",
        "crazy": (
            "传统的机器学习和深度学习的算法基本上都还是 gradient descent。你能不能做一个"
            "更厉害的算法，只要我们给它所有的 **training data**，它就可以返回给我们需要的 "
            "**model**？它是不是梯度下降 train 出来的不重要，它只要能给我一个能完成这个任务"
            "的 model 就好。或者，反正最后都要应用到测试集上，那我们干脆就搞一个大黑箱，把 "
            "**training set 和 testing set** 全部丢给它，它直接返回 testing data 的**结果**，"
            "连测试都帮你做好。这些想法能不能做到，留到下一节讲。"),
        "refs": "参考文献",
    },
}

FIG_TEXT: dict[str, dict[str, dict[str, str]]] = {
    "en": {},
    "zh": {
        "directions": {"title": "每种方法移动 φ 的方向（二维地形）", "y": "φ₂（对 ANIL 来说是头）"},
        "step_size": {"title": "三个内循环步长 α 下 MAML 的 L(φ)", "y": "走一步之后的 L(φ)",
                      "best": "最好的 φ"},
        "layers": {"title": "一个任务的内循环把每一层移动了多远", "x": "层",
                   "y": "‖θ̂ − φ‖ / ‖φ‖（任务平均）"},
        "prototypes": {"title": "度量眼中的一个 episode（准确率 {acc:.0%}）",
                       "x": "第一主成分", "y": "第二主成分", "prototype": "原型",
                       "query": "query（颜色：最近的原型）", "wrong": "分错的"},
        "cost": {"title": "一次 meta 更新的代价与内循环步数（Conv4，CPU）", "x": "内循环步数",
                 "time": "时间（ms）", "memory": "内存峰值（MB）"},
    },
}
PRESET_2D, PHI_2D, LR_2D, REPTILE_K = "lecture", (2.0, 1.0), 0.7, 3
STEP_LRS = (0.1, 0.4, 0.8)
LAYER_STEPS, LAYER_TASKS = 5, 25
COST_STEPS, COST_TASKS = (1, 2, 4), 2
N_WAY, K_SHOT, N_QUERY, EPISODE_SEED = 5, 5, 5, 7


def _fig_labels(name: str) -> dict[str, str]:
    return dict(FIG_TEXT.get(_ui.lang(), {}).get(name, {}))


@st.cache_data(show_spinner=False)
def _layer_changes() -> tuple[dict[str, dict[str, float]], str | None, float]:
    """Per-layer inner-loop movement from the shipped MAML model's phi (or a random phi and
    why), and the inner rate used: the model's own."""
    from mamlviz.models import SinusoidMLP
    from mamlviz.models.mlp import init_params
    from mamlviz.what_is_learned import layer_changes

    shipped = _ui.sinusoid_checkpoints().get(_algorithms.second_order())
    if isinstance(shipped, tuple):
        config, phi = shipped
        return layer_changes(phi, config.inner_lr, LAYER_STEPS, LAYER_TASKS), None, \
            config.inner_lr
    phi = init_params(SinusoidMLP(), seed=0)
    return layer_changes(phi, 0.01, LAYER_STEPS, LAYER_TASKS), str(shipped), 0.01


@st.cache_data(show_spinner=False)
def _prototype_map(source: str | None) -> tuple[Any, bool] | None:
    """The episode as ProtoNets embeds it, and whether the embedding is a trained one."""
    from mamlviz.data.omniglot import OmniglotData
    from mamlviz.models import Conv4
    from mamlviz.models.mlp import init_params
    from mamlviz.runs import load_run
    from mamlviz.tasks.omniglot import OmniglotTasks
    from mamlviz.what_is_learned import prototype_map

    data = _data.omniglot()
    if not isinstance(data, OmniglotData):
        return None
    metric = next(a.name for a in _algorithms.all_algorithms() if a.family == "metric-based")
    path = _ui.checkpoints_dir() / f"omniglot_{metric}_{N_WAY}w1s.pt"
    model = Conv4(N_WAY)
    trained = path.exists()
    phi = load_run(path, "omniglot")[1] if trained else init_params(model, seed=0)
    split = data.split()[1].with_rotations(False)
    episode = OmniglotTasks(split, N_WAY).episodes(
        1, K_SHOT, N_QUERY, generator=torch.Generator().manual_seed(EPISODE_SEED)).batch
    sx, sy, qx, qy = (t[0] for t in episode.tensors())
    return prototype_map(model, phi, sx, sy, qx, qy), trained


@st.cache_data(show_spinner=False)
def _costs() -> Any:
    from mamlviz.cost import meta_step_costs

    torch.set_num_threads(1)  # a page shares the server's cores with the class
    return meta_step_costs(COST_STEPS, n_tasks=COST_TASKS)


def section_init(t: Any, names: dict[str, str]) -> None:
    from mamlviz import landscape as ls
    from mamlviz.figures.what_is_learned import directions_figure

    st.markdown(f"#### {t['init_title']}")
    st.markdown(t["init"].format(lr=LR_2D, k=REPTILE_K))
    directions = ls.update_directions(ls.PRESETS_2D[PRESET_2D], PHI_2D, LR_2D, 1, REPTILE_K)
    _ui.show_figure(lambda: directions_figure(directions, names, _fig_labels("directions")),
                    "more-directions", key="more_directions",
                    cache_key=(PRESET_2D, PHI_2D, LR_2D, REPTILE_K, tuple(names.items())))


def section_step_sizes(t: Any) -> None:
    from mamlviz.figures.what_is_learned import step_size_figure
    from mamlviz.what_is_learned import step_size_curves

    st.markdown(f"#### {t['step_title']}")
    st.markdown(t["step"])
    _ui.show_figure(lambda: step_size_figure(step_size_curves("lecture", STEP_LRS),
                                             _fig_labels("step_size")),
                    "more-step-sizes", key="more_step_sizes", cache_key=STEP_LRS)


def section_layers(t: Any, names: dict[str, str]) -> None:
    from mamlviz.figures.what_is_learned import layer_change_figure

    every = _algorithms.second_order()
    head = next(a.name for a in _algorithms.all_algorithms() if a.inner_mask is not None)
    changes, error, lr = _layer_changes()
    st.markdown(f"#### {t['layers_title']}")
    phi = t["phi_maml"] if error is None else t["phi_random"].format(error=error)
    st.markdown(t["layers"].format(steps=LAYER_STEPS, lr=lr, phi=phi, tasks=LAYER_TASKS,
                                   every=names[every], head=names[head]))
    layers = dict(zip(changes["every"], t["layer_names"].split("|")))
    modes = {"every": (names[every], every), "head": (names[head], head)}
    _ui.show_figure(lambda: layer_change_figure(changes, modes, layers, _fig_labels("layers")),
                    "more-layers", key="more_layers",
                    cache_key=(tuple(modes.items()), tuple(layers.items()), error))


def section_metric(t: Any) -> None:
    from mamlviz.figures.what_is_learned import prototype_figure

    st.markdown(f"#### {t['metric_title']}")
    shown = _prototype_map(os.environ.get(_data.SOURCE_ENV))
    if shown is None:
        st.markdown(t["metric"].format(n_way=N_WAY, k_shot=K_SHOT,
                                       embedding=t["embedding_random"]))
        st.info(t["metric_missing"])
        return
    data, trained = shown
    st.markdown(t["metric"].format(n_way=N_WAY, k_shot=K_SHOT, embedding=t[
        "embedding_trained" if trained else "embedding_random"]))
    _ui.show_figure(lambda: prototype_figure(data, _fig_labels("prototypes")),
                    "more-prototypes", key="more_prototypes", cache_key=(trained, EPISODE_SEED))


def section_cost(t: Any, names: dict[str, str]) -> None:
    from mamlviz.figures.what_is_learned import cost_by_steps_figure

    st.subheader(t["cost_title"])
    st.markdown(t["cost"].format(tasks=COST_TASKS))
    with st.spinner(t["cost_spinner"]):
        table = _costs()
    _ui.show_figure(lambda: cost_by_steps_figure(table, names, _fig_labels("cost")),
                    "more-cost", key="more_cost",
                    cache_key=(COST_STEPS, COST_TASKS, tuple(names.items())))


t = _ui.texts(TEXT)
names = _algorithms.labels(_ui.lang())
st.title(t["title"])
st.subheader(t["nmt_title"])
st.markdown(t["nmt"])
st.subheader(t["other_title"])
st.markdown(t["other"])
st.subheader(t["learned_title"])
st.markdown(t["learned_intro"])
section_init(t, names)
section_step_sizes(t)
section_layers(t, names)
section_metric(t)
section_cost(t, names)
for part in ("turtles", "crazy"):
    st.subheader(t[f"{part}_title"])
    st.markdown(t[part])
st.subheader(t["refs"])
st.markdown(t["ref_list"])

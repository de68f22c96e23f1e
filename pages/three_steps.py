"""The three steps of meta-learning, on real sinusoid tasks and a real Omniglot episode.

Thin: widgets in, ``mamlviz.three_steps`` computes, ``mamlviz.figures.three_steps`` draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from mamlviz.errors import MamlvizError
from mamlviz.figures.three_steps import episode_figure, fit_figure, goodness_figure, tasks_figure
from mamlviz.three_steps import (
    adapted_fit,
    best,
    compare,
    goodness,
    random_init,
    sinusoid_task_set,
)
from pages import _algorithms, _data, _ui

_ui.through_the_router()

N_QUERY = 10
INNER_LRS = [0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
CANDIDATES = ("random", *_algorithms.names("sinusoid"))

TEXT = {
    "en": {
        "title": "The three steps of meta-learning",
        "intro": (
            "Machine learning finds a function f from training data. Meta-learning finds the "
            "**learning algorithm F** itself, the function that eats training data and returns "
            "f\\*: $f^* = F(D_{train})$. It takes the same three steps as machine learning, "
            "with the function f replaced by the learning algorithm F."
        ),
        "step1": "Step 1: define a set of learning algorithms",
        "step1_body": (
            "A learning algorithm is the whole process: network architecture, how the "
            "parameters are initialised, how they are updated, the learning rate... Different "
            "choices give different learning algorithms. Here everything is fixed except the "
            "**initialisation φ**: F adapts φ to a task with a few gradient steps on its "
            "support set, so choosing F means choosing φ."
        ),
        "step2": "Step 2: define the goodness of a learning algorithm F",
        "step2_body": (
            "We need many tasks, each with a training set (**support set**) and a testing set "
            "(**query set**). Apply F to each task: train on its support set, test on its query "
            "set, which gives the task's loss $l^n$. The loss of F is the sum over tasks. The "
            "tasks used to find F are **training tasks**; the tasks that judge it are "
            "**testing tasks**."
        ),
        "sinusoid_head": "Real tasks: sinusoids y = a sin(x + b)",
        "sinusoid_body": (
            "Each task is one curve (amplitude a in [0.1, 5], phase b in [0, π]). Its K "
            "support points (circles) train, its query points (crosses) test. Training tasks "
            "and testing tasks are drawn from two different random streams."
        ),
        "n_tasks": "number of tasks N",
        "k_shot": "K (support points per task)",
        "seed": "random seed",
        "omniglot_head": "Real tasks: an Omniglot episode",
        "omniglot_body": (
            "N-way K-shot classification: N characters, K drawings of each in the support set. "
            "Training tasks draw characters from the training characters, testing tasks from "
            "the testing characters (never seen during meta-training)."
        ),
        "n_way": "N (ways: classes per task)",
        "k_shot_omni": "K (shots: drawings per class in the support set)",
        "which_tasks": "draw the task from",
        "train_chars": "training characters (a training task)",
        "test_chars": "testing characters (a testing task)",
        "candidates_head": "Several candidate learning algorithms F",
        "candidates_body": (
            "Every candidate runs the same update rule, k gradient steps of size α on the "
            "support set; only the initialisation φ differs. Each bar is one F; its coloured "
            "pieces are the per-task losses $l^n$ on the query sets, so the height of the bar "
            "is $L(F)$."
        ),
        "inner_steps": "k (inner gradient steps on the support set)",
        "inner_lr": "α (inner learning rate)",
        "random": "random init",
        "init_adapted": "meta-learned init ({name})",
        "init_now": "{name} init",
        "short_random": "random",
        "missing_checkpoint": "{name} is not shown: {error}",
        "step3": "Step 3: find the best learning algorithm F*",
        "step3_body": (
            "$F^* = \\arg\\min_F L(F)$ over the **training tasks**. Then judge it on **testing "
            "tasks**: their support sets adapt it into $f^*$, their query sets score it. "
            "A meta-learned φ wins not because it fits the tasks *now* (look at k = 0) but "
            "because it fits them *after training on the support set*."
        ),
        "train_title": "Step 2 (training tasks): L(F) = Σₙ lⁿ",
        "test_title": "Step 3 (testing tasks): L(F*) judged",
        "best_train": "F\\* = argmin L(F) on the training tasks: **{name}** (L = {value:.3f}).",
        "best_test": "On the testing tasks: **{name}** has the smallest L(F) = {value:.3f}.",
        "diverged": (
            "With α = {lr} and k = {steps} the inner loop diverges for: {names}. Their losses "
            "are not finite and are left out of the chart; choose a smaller learning rate or "
            "fewer steps."
        ),
        "none_finite": "Every candidate diverged: no finite L(F) to compare.",
        "worse": (
            "With α = {lr}, training on the support sets makes the query loss *larger* than "
            "before training for: {names}. The inner learning rate is too large."
        ),
        "fit_head": "Why: what each F learns from one task's support set",
        "fit_task": "testing task to look at",
        "source": "How L(F) is computed (engine source)",
        "x": "x",
        "y": "y",
    },
    "zh": {
        "title": "元学习的三个步骤",
        "intro": (
            "Machine Learning 是让机器从训练数据中找一个 function f；Meta Learning 要找的是"
            "**学习算法 F** 本身：这个学习算法吃 training data 然后吐出目标模型 f\\*，"
            "$f^* = F(D_{train})$。Meta Learning 也分三步，只要把 **Function f** 换成"
            "**学习的算法 F**。"
        ),
        "step1": "第一步：定义一组 learning algorithm",
        "step1_body": (
            "网络（模型）架构、初始化参数的方法、更新参数的方法、学习率等要素构成的整个 process，"
            "可以被称为一个 learning algorithm；选择不同的设计，就相当于得到了不同的 learning "
            "algorithm。这里其他部分都保持相同，只有**初始化参数 φ** 是希望机器通过学习得出来的："
            "F 从 φ 出发，在 support set 上做几步梯度下降，所以选择 F 就是选择 φ。"
        ),
        "step2": "第二步：衡量一个 learning algorithm F 的好坏",
        "step2_body": (
            "我们需要很多个 task，每个 task 都有 training set（**Support set**）和 testing set"
            "（**Query set**）。把 learning algorithm 应用到每个 task 上，用 support set 训练，"
            "用 query set 测试，得到每一个 task 的 loss $l^n$；F 的整体 loss 就是每个 task 的 "
            "loss 之和。用来找 F 的任务叫做 **Training Tasks**，用来测试 F 的任务叫做 "
            "**Testing Tasks**。"
        ),
        "sinusoid_head": "真实的任务：正弦曲线 y = a sin(x + b)",
        "sinusoid_body": (
            "每个 task 是一条曲线（振幅 a 取自 [0.1, 5]，相位 b 取自 [0, π]）。它的 K 个 "
            "support set 样本（圆点）用来训练，query set 样本（叉号）用来测试。Training Tasks "
            "和 Testing Tasks 来自两条不同的随机数序列。"
        ),
        "n_tasks": "任务数 N",
        "k_shot": "K（每个任务的 support set 样本数）",
        "seed": "随机种子",
        "omniglot_head": "真实的任务：一个 Omniglot 任务",
        "omniglot_body": (
            "N-ways K-shot classification：分 N 个类别，support set 中每个类别有 K 个样例。"
            "从训练符号集中抽 N 个符号组成训练任务 training task，从测试符号集中抽则组成测试任务 "
            "testing task（meta training 时从未见过）。"
        ),
        "n_way": "N（ways：每个任务的类别数）",
        "k_shot_omni": "K（shots：support set 中每类的样例数）",
        "which_tasks": "任务来自",
        "train_chars": "训练符号集（training task）",
        "test_chars": "测试符号集（testing task）",
        "candidates_head": "几个候选的 learning algorithm F",
        "candidates_body": (
            "每个候选用相同的更新方法：在 support set 上做 k 步、学习率为 α 的梯度下降；只有初始化"
            "参数 φ 不同。每根柱子是一个 F，其中每一段颜色是一个 task 在 query set 上的 loss "
            "$l^n$，所以柱子的高度就是 $L(F)$。"
        ),
        "inner_steps": "k（在 support set 上的梯度下降步数）",
        "inner_lr": "α（内层学习率）",
        "random": "随机初始化",
        "init_adapted": "元学习的初始化（{name}）",
        "init_now": "{name}的初始化",
        "short_random": "随机",
        "missing_checkpoint": "{name} 暂不显示：{error}",
        "step3": "第三步：找出最好的 learning algorithm F*",
        "step3_body": (
            "$F^* = \\arg\\min_F L(F)$，使所有 **Training Tasks** 的 loss 之和最小。然后用 "
            "**Testing Tasks** 测试这个 $F^*$：把测试任务的 support set 丢入 $F^*$ 得到 $f^*$，"
            "再用它的 query set 计算 loss。元学习得到的 φ 胜出，不是因为它*现在*就拟合这些任务"
            "（看 k = 0），而是因为它在 support set 上*训练以后*表现好。"
        ),
        "train_title": "第二步，在 Training Tasks 上：L(F) = Σₙ lⁿ",
        "test_title": "第三步，在 Testing Tasks 上测试 F*",
        "best_train": ("在 Training Tasks 上，F\\* = argmin L(F) 是：**{name}**"
                       "（L = {value:.3f}）。"),
        "best_test": "在 Testing Tasks 上，L(F) 最小的是：**{name}**（L = {value:.3f}）。",
        "diverged": (
            "当 α = {lr}、k = {steps} 时，以下候选的内层训练发散了：{names}。它们的 loss 不是"
            "有限数值，图中不显示；请选更小的学习率或更少的步数。"
        ),
        "none_finite": "所有候选都发散了：没有有限的 L(F) 可以比较。",
        "worse": (
            "当 α = {lr} 时，以下候选在 support set 上训练以后，query set 的 loss 反而比训练前"
            "更大：{names}。内层学习率太大了。"
        ),
        "fit_head": "为什么：每个 F 从一个任务的 support set 学到了什么",
        "fit_task": "要查看的 testing task",
        "source": "L(F) 是怎么算的（引擎源代码）",
        "x": "x",
        "y": "y",
    },
}

FIG_TEXT: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "tasks": {},
        "goodness": {},
        "fit": {},
        "episode": {},
    },
    "zh": {
        "tasks": {"title": "Training Tasks 与 Testing Tasks：y = a sin(x + b)",
                  "training": "Training Tasks", "testing": "Testing Tasks",
                  "task": "task {n}", "support": "Support set（训练数据）",
                  "query": "Query set（测试数据）"},
        "goodness": {"title": "每个 learning algorithm F：L(F) = 各 task 的 lⁿ 之和",
                     "x": "learning algorithm F（它的初始化参数 φ）",
                     "y": "L(F)：query set 上的 loss（MSE），<br>按 task 堆叠",
                     "task": "l<sup>{n}</sup>（task {n}）", "total": "{value:.2f}",
                     "best": "最好"},
        "fit": {"title": "task {n}：每个 F 从 support set 学到的函数",
                "truth": "真实函数", "support": "Support set", "query": "Query set"},
        "episode": {"title": "一个 Omniglot {n_way}-ways {k_shot}-shot 任务",
                    "class": "类别 {label}", "support": "support {k}", "query": "query {k}"},
    },
}


def _fig_labels(name: str) -> dict[str, str]:
    return {**FIG_TEXT["en"][name], **FIG_TEXT.get(_ui.lang(), {}).get(name, {})}


@st.cache_data(show_spinner=False, max_entries=64)
def _task_sets(n_tasks: int, k_shot: int, seed: int) -> tuple[Any, Any]:
    return (sinusoid_task_set(n_tasks, k_shot, N_QUERY, seed),
            sinusoid_task_set(n_tasks, k_shot, N_QUERY, seed, testing=True))


def _candidate_name(t: Mapping[str, str], key: str, short: bool = False) -> str:
    """A candidate's name: random, or the initialisation an algorithm learns (meta-learned
    for those that adapt in training); short names break before the last word."""
    if key == "random":
        return t["short_random"] if short else t["random"]
    label = _algorithms.labels(_ui.lang())[key]
    if short:
        return "<br>".join(label.rsplit(" ", 1))
    return t["init_adapted" if _algorithms.get(key).adapts else "init_now"].format(name=label)


def _candidates(seed: int) -> tuple[dict[str, Any], dict[str, BaseException]]:
    """The candidate inits that exist (random init always), and why the others are absent."""
    found: dict[str, Any] = {"random": random_init(seed)}
    missing: dict[str, BaseException] = {}
    for key, value in _ui.sinusoid_checkpoints().items():
        if isinstance(value, BaseException):
            missing[key] = value
        else:
            found[key] = value[1]
    return {k: found[k] for k in CANDIDATES if k in found}, missing


@st.cache_data(show_spinner=False, max_entries=128)
def _scores(n_tasks: int, k_shot: int, seed: int, inner_lr: float, steps: int,
            keys: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    training, testing = _task_sets(n_tasks, k_shot, seed)
    candidates, _ = _candidates(seed)
    chosen = {k: candidates[k] for k in keys}
    return (compare(chosen, training, inner_lr, steps), compare(chosen, testing, inner_lr, steps))


@st.cache_data(show_spinner=False, max_entries=128)
def _fits(n_tasks: int, k_shot: int, seed: int, inner_lr: float, steps: int, n: int,
          keys: tuple[str, ...]) -> dict[str, tuple[list[float], list[float]]]:
    _, testing = _task_sets(n_tasks, k_shot, seed)
    candidates, _ = _candidates(seed)
    out = {}
    for k in keys:
        x, y = adapted_fit(candidates[k], testing, n, inner_lr, steps)
        out[k] = (x.tolist(), y.tolist())
    return out


def _omniglot() -> Any:
    """Omniglot's MAML split (the data found once per server by pages/_data.py), or the error."""
    data = _data.omniglot()
    return data if isinstance(data, BaseException) else data.split()


@st.cache_data(show_spinner=False, max_entries=32)
def _episode(n_way: int, k_shot: int, seed: int, testing: bool) -> Any:
    import torch

    from mamlviz.tasks.omniglot import OmniglotTasks

    splits = _omniglot()
    split = splits[1] if testing else splits[0]
    episodes = OmniglotTasks(split, n_way).episodes(
        1, k_shot, 1, generator=torch.Generator().manual_seed(seed))
    return episodes.batch.task(0)


t = _ui.texts(TEXT)
st.title(t["title"])
st.markdown(t["intro"])

st.header(t["step1"])
st.markdown(t["step1_body"])
st.latex(r"\hat\theta^n = \phi - \alpha \nabla_\phi l^n_{\mathrm{support}}(\phi)"
         r"\quad(\text{k steps})")

st.header(t["step2"])
st.markdown(t["step2_body"])
st.latex(r"L(F) = \sum_{n=1}^{N} l^n")

st.subheader(t["sinusoid_head"])
st.markdown(t["sinusoid_body"])
c1, c2, c3 = st.columns(3)
n_tasks = c1.slider(t["n_tasks"], 1, 10, 5, key="ts_n_tasks")
k_shot = c2.slider(t["k_shot"], 1, 20, 10, key="ts_k_shot")
seed = int(c3.number_input(t["seed"], 0, 10_000, 0, step=1, key="ts_seed"))
# Each figure is built once per server for its inputs (show_figure's cache_key): a new
# session or a student repeating another's setting costs no figure building.
_ui.show_figure(lambda: tasks_figure(*_task_sets(n_tasks, k_shot, seed),
                                     labels=_fig_labels("tasks")),
                "tasks", key="ts_tasks_fig", cache_key=(n_tasks, k_shot, seed))

st.subheader(t["omniglot_head"])
st.markdown(t["omniglot_body"])
splits = _omniglot()
if isinstance(splits, BaseException):
    fetched = _data.missing(splits, key="ts")  # the data once a download ends, else None
    splits = splits if fetched is None else fetched.split("maml")
if not isinstance(splits, BaseException):
    o1, o2, o3 = st.columns(3)
    n_way = o1.slider(t["n_way"], 2, 10, 5, key="ts_n_way")
    k_omni = o2.slider(t["k_shot_omni"], 1, 5, 1, key="ts_k_omni")
    which = o3.radio(t["which_tasks"], ["train", "test"], key="ts_which",
                     format_func=lambda v: t["train_chars"] if v == "train" else t["test_chars"])
    try:
        def _episode_figure() -> Any:
            ep = _episode(n_way, k_omni, seed, which == "test")
            return episode_figure(ep.support_x[0], ep.support_y[0], ep.query_x[0],
                                  ep.query_y[0], n_way, k_omni, labels=_fig_labels("episode"))

        _ui.show_figure(_episode_figure, "omniglot-episode", key="ts_episode_fig",
                        cache_key=(n_way, k_omni, seed, which))
    except MamlvizError as exc:
        _ui.error_box(exc)

st.header(t["candidates_head"])
st.markdown(t["candidates_body"])
candidates, missing = _candidates(seed)
for key, error in missing.items():
    st.caption(t["missing_checkpoint"].format(name=_candidate_name(t, key), error=error))
s1, s2 = st.columns(2)
steps = s1.slider(t["inner_steps"], 0, 10, 1, key="ts_steps")
inner_lr = s2.select_slider(t["inner_lr"], INNER_LRS, value=0.01, key="ts_inner_lr")
keys = tuple(candidates)
score_key = (n_tasks, k_shot, seed, inner_lr, steps, keys)
scores_train, scores_test = _scores(*score_key)
names = {k: _candidate_name(t, k) for k in keys}
# The bars' tick labels: short enough to stay horizontal under half-width charts.
short_names = {k: _candidate_name(t, k, short=True) for k in keys}

diverged = [names[k] for k in keys
            if not (scores_train[k].finite and scores_test[k].finite)]
if diverged:
    st.warning(t["diverged"].format(lr=inner_lr, steps=steps, names=", ".join(diverged)))
worse = [names[k] for k in keys if names[k] not in diverged and steps > 0
         and scores_test[k].total > sum(scores_test[k].before)]
if worse:
    st.warning(t["worse"].format(lr=inner_lr, names=", ".join(worse)))

st.header(t["step3"])
st.markdown(t["step3_body"])
g1, g2 = _ui.chart_columns(2)
with g1:
    _ui.show_figure(lambda: goodness_figure(scores_train, names,
                                            labels={**_fig_labels("goodness"),
                                                    "title": t["train_title"]},
                                            short_names=short_names),
                    "goodness-training", key="ts_goodness_train", cache_key=score_key)
with g2:
    _ui.show_figure(lambda: goodness_figure(scores_test, names,
                                            labels={**_fig_labels("goodness"),
                                                    "title": t["test_title"]},
                                            short_names=short_names),
                    "goodness-testing", key="ts_goodness_test", cache_key=score_key)
best_train, best_test = best(scores_train), best(scores_test)
if best_train is None:
    st.warning(t["none_finite"])
else:
    st.markdown(t["best_train"].format(name=names[best_train],
                                       value=scores_train[best_train].total))
    if best_test is not None:
        st.markdown(t["best_test"].format(name=names[best_test],
                                          value=scores_test[best_test].total))

st.subheader(t["fit_head"])
task_n = st.slider(t["fit_task"], 1, n_tasks, 1, key="ts_fit_task") if n_tasks > 1 else 1
finite_keys = tuple(k for k in keys if scores_test[k].finite)
fit_key = (n_tasks, k_shot, seed, inner_lr, steps, task_n - 1, finite_keys)
_ui.show_figure(lambda: fit_figure(_task_sets(n_tasks, k_shot, seed)[1], task_n - 1,
                                   _fits(*fit_key), names, labels=_fig_labels("fit")),
                "adapted-fit", key="ts_fit_fig", cache_key=fit_key)

_ui.show_source(goodness, t["source"])
_ui.chapter_figures("three-steps")  # last: a zip of the figures this page showed

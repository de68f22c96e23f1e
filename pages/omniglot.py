"""Omniglot, live: the data, an N-way K-shot episode, the models adapting, you against them.

Thin: widgets in; ``mamlviz`` loads the data, samples episodes, adapts
(``mamlviz.newtask``) and meta-trains in a worker thread (``mamlviz.live``);
``mamlviz.figures.omniglot`` draws. Data and shipped checkpoints are loaded
once per server and shared by every session; a session's own training run and
the models it produces live in its ``st.session_state``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from mamlviz.config import PRESET_REFERENCES, PRESETS, preset_settings
from mamlviz.errors import MamlvizError
from mamlviz.figures.omniglot import (
    accuracy_steps_figure,
    image_grid_figure,
    live_training_figure,
)
from mamlviz.live import LiveRun, process_rss_bytes
from mamlviz.live_omniglot import live_defaults, live_omniglot_config
from mamlviz.newtask import omniglot_adapt, omniglot_evaluator, random_conv4_phi
from mamlviz.own_drawings import decode_drawing, is_blank, own_episode
from pages import _algorithms, _classroom, _data, _drawing, _ui
from pages._live_chart import live_chart

_ui.through_the_router()

ALGORITHMS = _algorithms.names("omniglot")
RUN_KEY = "omni_live_run"
# Adaptation steps shown for one episode. MAML's paper adapts with 3 to 5 steps at test
# time; Reptile's with 50 small Adam steps, most of whose gain comes in the first ten (its
# model card scores 50). Each step of each model costs a gradient on the support set, and a
# new episode adapts every model: 50 steps made a 20-way episode take seconds.
MAX_STEPS = 10

TEXT = {
    "en": {
        "title": "Omniglot, live",
        "intro": (
            "Omniglot: 1,623 characters from 50 alphabets, each drawn by 20 people. An "
            "**N-way K-shot** task shows K drawings of each of N characters (the support set) "
            "and asks for the class of other drawings of the same characters (the query set). "
            "The characters are split: training tasks use the training characters, testing "
            "tasks the testing characters, never seen during meta-training."
        ),
        "data_head": "The data",
        "found": "Omniglot found at `{source}`: {bg} background characters ({bga} alphabets) "
                 "and {ev} evaluation characters ({eva} alphabets), 20 drawings each.",
        "browse_head": "Browse alphabets and characters",
        "alphabet": "alphabet",
        "drawer": "drawer (1 to 20)",
        "character": "character",
        "all_drawers": "All 20 drawings of {name}",
        "episode_head": "An N-way K-shot episode",
        "n_way": "N (ways)",
        "k_shot": "K (shots)",
        "from": "characters from",
        "random": "random testing characters",
        "seed": "episode seed",
        "support": "Support set (training data of the task): K drawings of each class",
        "query": "Query set (testing data): which class is each one?",
        "class": "class {n}",
        "qnum": "#{n}",
        "too_few": "This alphabet has only {n} characters: choose N ≤ {n}.",
        "models_head": "The models adapt to this episode",
        "models_body": ("Each model starts from its φ and adapts on the support set with its "
                        "own inner loop: plain gradient steps for MAML, first-order MAML and "
                        "pre-training, small Adam steps for Reptile (its paper takes 50 at test "
                        "time, as does the table below; after 10 it is within about a point of "
                        "that). The marks show the answers after {steps} steps (green right, "
                        "red wrong)."),
        "steps": "adaptation steps",
        "no_checkpoint": ("No model was meta-trained for {N}-way {K}-shot yet; the app ships "
                          "models for {shipped}. Only the untrained baseline and this "
                          "session's own models are shown: choose one of those settings, or "
                          "meta-train one live below."),
        "bad_checkpoint": "{name}: the checkpoint cannot be used: {error}",
        "random_init": "untrained (random φ)",
        "session_model": "{name} (trained in this session)",
        "pred": "→ {p}",
        "table_head": ("Against the papers (Table 1 of MAML, arXiv 1703.03400, and of "
                       "Reptile, arXiv 1803.02999)"),
        "model": "model", "paper_col": "paper (%)", "ours_col": "ours, 600 testing tasks (%)",
        "iterations_col": "our meta-iterations (papers: 60,000; Reptile 100,000 to 200,000)",
        "table_note": ("Ours differ from the papers' in training time (the meta-iterations "
                       "above) and in scoring 15 query images per class while meta-training "
                       "MAML (the paper's code: 1). Our inner loss is the mean over the "
                       "support images; the paper's code sums them, so its inner rate 0.1 "
                       "at 20-way is our 2.0 (at 5-way our 0.4, its 0.08, already matches "
                       "the paper). 20-way MAML's meta learning rate was annealed at the "
                       "end of its run. Reptile trains with its paper's setup (10 "
                       "shots per class, Adam inner steps whose state carries over from task "
                       "to task and into testing, an annealed step), for fewer "
                       "meta-iterations. The model card `assets/checkpoints/README.md` gives "
                       "the commands and the device."),
        "episode_col": "this episode (%)",
        "human_head": "You against the models",
        "human_body": ("Look at the support set above, then give each query drawing its class. "
                       "The models answer the same queries."),
        "your_answer": "query #{n}",
        "choose": "choose a class",
        "unanswered": "Give every query drawing a class first (still open: {queries}).",
        "loss_note": ("Why can the loss *before adaptation* climb while the accuracy rises? "
                      "Each task numbers its classes afresh, so φ itself cannot know which "
                      "class is which; meta-training makes φ a good *starting point*, and "
                      "what it improves is the loss after adaptation and the accuracy, "
                      "both measured after the inner steps."),
        "submit": "Submit my answers",
        "your_score": "Your score: {right} / {total}",
        "own_head": "Your own characters",
        "own_body": ("Invent five symbols nobody has seen: draw one example of each in the "
                     "first five boxes (classes 0 to 4), then draw one of them again in the "
                     "last box. Every shipped 5-way model adapts on your five drawings, "
                     "preprocessed exactly as Omniglot's (28x28, Lanczos), and says which "
                     "class your last drawing is: one-shot learning on characters that "
                     "no model has ever seen."),
        "own_class": "class {c}", "own_query": "which class is this?", "own_clear": "Clear",
        "own_missing": "Draw in every box to get the models' answers (still empty: {boxes}).",
        "own_answers": "Their answers after {steps} adaptation steps:",
        "own_model": "model", "own_says": "says", "own_sure": "probability",
        "own_none": "No 5-way 1-shot model is shipped: nothing to ask.",
        "own_bad": "This drawing could not be read ({error}): clear it and draw again.",
        "model_score": "{name}: {right} / {total}",
        "answers": "Answers",
        "truth": "true class", "you": "you",
        "human_after": "Change the episode (seed, N, K) to play again.",
        "live_head": "Meta-train from scratch, live",
        "live_body": (
            "The paper meta-trains for 60,000 iterations with 32 tasks per step. On this "
            "machine ({device}) that takes days; the defaults here are the settings that reached "
            "90% on testing tasks soonest on one CPU thread: second-order MAML, 8 tasks per "
            "meta-batch, one query image per class, the paper's inner step (2.0 on our mean "
            "loss) and a meta learning rate of 0.01. Here Reptile's Adam starts afresh on "
            "every task; its paper's code (and our shipped model) keeps Adam's state from "
            "task to task."
        ),
        "algorithms": "algorithms",
        "meta_batch": "meta-batch",
        "meta_lr": "meta learning rate β",
        "idle": "Press Train to meta-train on Omniglot; the curves stream here.",
        "step_col": "steps", "acc_col": "testing accuracy (%)",
        "diverged": ("{name} diverged at step {step}: its loss became infinite. The curve so far "
                     "is kept; lower the learning rates."),
        "preset": "preset",
        "preset_custom": "my own settings",
        "preset_hw15": "HW15 (ML2022 Spring homework 15)",
        "hw15_note": (
            "HW15's settings: 5-way 1-shot, one query per class, inner steps of 0.4 on the "
            "mean cross-entropy, Adam 0.001, meta-batch 32, one inner step in training, 3 "
            "when validating (the accuracy curve here), 10 at test time, the 30 background "
            "alphabets for training. Its 0.4 and the MAML paper's 0.4 are different steps: "
            "the homework's loss is the mean over the 5 support images, as ours; the paper's "
            "code sums them (divided by K = 1), 5 times the mean, so the paper's 0.4 is "
            "2.0 here and the homework's 0.4 is the paper's 0.08."
        ),
        "reference": "HW15 {name} (homework's own test set, not ours)",
        "inner_lr_help": ("A step on the mean cross-entropy over the N×K support images. The "
                          "MAML paper's α steps on their sum divided by K, N times the mean: "
                          "its α is this rate ÷ N (its 0.4 at 5-way is 2.0 here)."),
    },
    "zh": {
        "title": "Omniglot 实战",
        "intro": (
            "Omniglot：来自 50 种文字的 1,623 个字符，每个字符由 20 个人各画一次。"
            "**N-way K-shot** 任务给出 N 个字符、每个字符 K 张图（支持集），要求判断同样字符的"
            "其他图属于哪一类（查询集）。字符被分成两部分：训练任务只用训练字符，测试任务只用"
            "测试字符，元训练时从未见过。"
        ),
        "data_head": "数据",
        "found": "在 `{source}` 找到 Omniglot：background 集 {bg} 个字符（{bga} 种文字），"
                 "evaluation 集 {ev} 个字符（{eva} 种文字），每个字符 20 张图。",
        "browse_head": "浏览文字和字符",
        "alphabet": "文字",
        "drawer": "书写者（1 到 20）",
        "character": "字符",
        "all_drawers": "{name} 的全部 20 张图",
        "episode_head": "一个 N-way K-shot 任务",
        "n_way": "N（类别数）",
        "k_shot": "K（每类样本数）",
        "from": "字符来自",
        "random": "随机的测试字符",
        "seed": "任务随机种子",
        "support": "支持集（任务的训练资料）：每类 K 张图",
        "query": "查询集（测试资料）：每张图属于哪一类？",
        "class": "类别 {n}",
        "qnum": "#{n}",
        "too_few": "这种文字只有 {n} 个字符：请选择 N ≤ {n}。",
        "models_head": "模型适应这个任务",
        "models_body": ("每个模型从自己的 φ 出发，用自己的内层循环在支持集上适应："
                        "MAML、一阶 MAML 和预训练做普通梯度下降，Reptile 做小步的 Adam"
                        "（它的论文在测试时走 50 步，下表也是；走 10 步时只差大约一个百分点）。"
                        "标记显示走 {steps} 步之后的答案"
                        "（绿色正确，红色错误）。"),
        "steps": "适应步数",
        "no_checkpoint": ("还没有为 {N}-way {K}-shot 元训练过模型；应用提供的模型是 {shipped}。"
                          "只显示未训练的基线和本会话自己训练的模型：请选其中一种设定，"
                          "或在下面实时元训练一个。"),
        "bad_checkpoint": "{name}：检查点无法使用：{error}",
        "random_init": "未训练（随机 φ）",
        "session_model": "{name}（本会话训练）",
        "pred": "→ {p}",
        "table_head": ("与论文对比（MAML 论文表 1，arXiv 1703.03400；"
                       "Reptile 论文表 1，arXiv 1803.02999）"),
        "model": "模型", "paper_col": "论文 (%)", "ours_col": "我们，600 个测试任务 (%)",
        "iterations_col": "我们的元迭代次数（论文：60,000；Reptile 100,000 至 200,000）",
        "table_note": ("我们与论文的不同：训练时间（上表的元迭代次数）；元训练 MAML 时每类用 15 张"
                       "查询图（论文代码用 1 张）。我们的内层损失是支持集图像损失的平均；"
                       "论文代码是求和，"
                       "所以它在 20-way 的内层学习率 0.1 相当于我们的 2.0（5-way 时我们的 0.4，"
                       "即它的 0.08，已经达到论文的正确率）。20-way MAML 在训练末段让元学习率逐渐"
                       "减小到 0。Reptile 按它论文的设置训练（每类 10 个样本、"
                       "内层用 Adam 且其状态从一个任务延续到下一个任务、直到测试，"
                       "逐渐减小的步长），但元迭代次数较少。训练命令和设备见模型卡 "
                       "`assets/checkpoints/README.md`。"),
        "episode_col": "本任务 (%)",
        "human_head": "你与模型比赛",
        "human_body": "先看上面的支持集，再给每张查询图选类别。模型回答同样的查询。",
        "your_answer": "查询 #{n}",
        "choose": "选一个类别",
        "unanswered": "请先给每张查询图选一个类别（还没选：{queries}）。",
        "loss_note": ("为什么*适应之前*的 loss 会上升，而正确率却在提高？每个任务都重新给类别编号，"
                      "φ 本身无法知道哪个类别是哪个；元训练让 φ 成为一个好的*起点*，它改进的是适应"
                      "之后的 loss 和正确率，两者都是在内层更新之后测量的。"),
        "submit": "提交我的答案",
        "your_score": "你的得分：{right} / {total}",
        "own_head": "你自己的字符",
        "own_body": ("发明五个没人见过的符号：在前五个格子里各画一个（类别 0 到 4），"
                     "再在最后一个格子里把其中一个重画一遍。每个随附的 5-way 模型在你的五张图上"
                     "做 adaptation（预处理和 Omniglot 完全一样：28x28，Lanczos），"
                     "然后回答最后一张是哪一类："
                     "在任何模型都没见过的字符上做 one-shot learning。"),
        "own_class": "类别 {c}", "own_query": "这是哪一类？", "own_clear": "清除",
        "own_missing": "每个格子都画上，模型才会回答（还空着：{boxes}）。",
        "own_answers": "adaptation {steps} 步以后，它们的回答：",
        "own_model": "模型", "own_says": "回答", "own_sure": "概率",
        "own_none": "没有随附的 5-way 1-shot 模型：没有模型可以问。",
        "own_bad": "这张图读不出来（{error}）：请清除后重画。",
        "model_score": "{name}：{right} / {total}",
        "answers": "答案",
        "truth": "正确类别", "you": "你",
        "human_after": "改变任务（种子、N、K）可以再玩一次。",
        "live_head": "从零开始实时元训练",
        "live_body": (
            "论文用每步 32 个任务元训练 60,000 次迭代。在这台机器（{device}）上要好几天；"
            "这里的默认设置是在单个 CPU 线程上最快让测试任务正确率达到 90% 的设置：二阶 MAML、"
            "元批量 8、每类 1 张查询图、论文的内层步长（对我们的平均损失为 2.0）、元学习率 0.01。"
            "这里 Reptile 的 Adam 在每个任务上重新开始；它论文的代码"
            "（以及我们提供的模型）让 Adam 的状态从一个任务延续到下一个任务。"
        ),
        "algorithms": "算法",
        "meta_batch": "元批量",
        "meta_lr": "元学习率 β",
        "idle": "按“训练”在 Omniglot 上元训练；曲线会实时显示在这里。",
        "step_col": "步数", "acc_col": "测试正确率 (%)",
        "diverged": "{name} 在第 {step} 步发散：损失变成无穷大。已保留之前的曲线；请降低学习率。",
        "preset": "预设",
        "preset_custom": "自己的设置",
        "preset_hw15": "HW15（ML2022 春季作业 15）",
        "hw15_note": (
            "HW15 的设置：5-way 1-shot，每类 1 张查询图，内层在平均交叉熵上以 0.4 为步长，"
            "Adam 0.001，元批量 32，训练时内层 1 步、验证时 3 步（这里的正确率曲线）、测试时 "
            "10 步，用 30 种 background 文字训练。它的 0.4 和 MAML 论文的 0.4 是不同的步长："
            "作业的损失是 5 张支持集图像的平均，和我们一样；论文代码把它们相加（再除以 K = 1），"
            "是平均的 5 倍，所以论文的 0.4 在这里是 2.0，作业的 0.4 相当于论文的 0.08。"
        ),
        "reference": "HW15 {name}（作业自己的测试集，不是我们的）",
        "inner_lr_help": ("在 N×K 张支持集图像的平均交叉熵上走的步长。MAML 论文的 α "
                          "走在它们的和除以 K 上，是平均的 N 倍：论文的 α 等于这里的步长 ÷ N"
                          "（它 5-way 的 0.4 在这里是 2.0）。"),
    },
}

FIG_TEXT: dict[str, dict[str, dict[str, str]]] = {
    "en": {"accuracy": {}, "live": {}},
    "zh": {
        "accuracy": {"title": "本任务查询集正确率与适应步数", "x": "在支持集上的梯度步数",
                     "y": "查询集正确率 (%)", "paper": "{name}：论文 {value:.1f}%"},
        "live": {"title": "Omniglot 元训练", "loss": "查询集损失（交叉熵）",
                 "accuracy": "测试正确率 (%)", "x": "元迭代", "after": "{name}：适应后损失",
                 "before": "{name}：适应前损失", "acc": "{name}：测试任务正确率",
                 "chance": "随机猜测"},
    },
}


ANSWER_COLUMNS = 10  # as the query grid: the answers keep the drawings' order and rows
THUMBNAIL_PX = 84  # 28 px drawings at 3x, each pixel a block: no blur


def _thumbnail(drawing: Any) -> Any:
    """One query drawing (1 = ink) as a white picture with black ink, 3x, pixels kept sharp."""
    import numpy as np

    ink = np.asarray(drawing, dtype=np.float32).reshape(28, 28)
    return np.kron(255 * (1.0 - ink), np.ones((3, 3))).astype(np.uint8)


def _fig_labels(name: str) -> dict[str, str]:
    return {**FIG_TEXT["en"][name], **FIG_TEXT.get(_ui.lang(), {}).get(name, {})}


def _omniglot(env_source: str | None) -> Any:
    """Omniglot once per server ($MAMLVIZ_OMNIGLOT, else the cache: pages/_data.py), or the error.

    ``env_source`` only keys the caches built from the data.
    """
    return _data.omniglot()


@st.cache_resource(show_spinner=False)
def _checkpoint(algorithm: str, n_way: int, k_shot: int) -> Any:
    """A shipped checkpoint, loaded once per server: (config, phi, the inner Adam moments its
    training kept or None), an error, or None if absent."""
    from mamlviz.runs import load_learner

    path = _ui.CHECKPOINTS / f"omniglot_{algorithm}_{n_way}w{k_shot}s.pt"
    if not path.exists():
        return None
    try:
        return load_learner(path, problem="omniglot")
    except MamlvizError as exc:
        return exc


def _from_card(path: Path, show: Callable[[dict[str, Any]], str]) -> str:
    """One value of a shipped model's model-card JSON, or a dash if it is absent or bad."""
    try:
        return show(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return "—"


def _reported(algorithm: str, n_way: int, k_shot: int) -> tuple[str, str]:
    """A shipped model's 600-task accuracy and its meta-iterations, from its model-card JSON."""
    stem = _ui.CHECKPOINTS / f"omniglot_{algorithm}_{n_way}w{k_shot}s"
    accuracy = _from_card(stem.with_suffix(".eval.json"),
                          lambda r: f"{100 * r['accuracy']:.1f} ± {100 * r['ci95']:.1f}")
    iterations = _from_card(stem.with_suffix(".train.json"), lambda r: f"{r['step']:,}")
    return accuracy, iterations


def _split(data: Any, source: str) -> Any:
    from mamlviz.data.omniglot import OmniglotSplit

    if source == "random":
        return data.split()[1].with_rotations(False)
    chars = [c for c in range(data.n_characters) if data.alphabet[c] == source]
    return OmniglotSplit(data, "test", "maml", torch.tensor(chars), False)


@st.cache_data(show_spinner=False, max_entries=64)
def _episode(env_source: str | None, n_way: int, k_shot: int, seed: int, source: str
             ) -> dict[str, Any]:
    """An episode with one query per class, the queries shuffled (shared across sessions)."""
    from mamlviz.tasks.omniglot import OmniglotTasks

    data = _omniglot(env_source)
    generator = torch.Generator().manual_seed(seed)
    episodes = OmniglotTasks(_split(data, source), n_way).episodes(1, k_shot, 1,
                                                                    generator=generator)
    batch = episodes.batch.task(0)
    order = torch.randperm(n_way, generator=torch.Generator().manual_seed(seed + 1))
    return {"support_x": batch.support_x[0], "support_y": batch.support_y[0],
            "query_x": batch.query_x[0][order], "query_y": batch.query_y[0][order]}


@st.cache_data(show_spinner=False, max_entries=256)
def _shipped_adapt(env_source: str | None, n_way: int, k_shot: int, seed: int, source: str,
                   algorithm: str) -> dict[str, Any]:
    """A shipped model adapted on an episode: computed once per server, shared by sessions."""
    config, phi, moments = _checkpoint(algorithm, n_way, k_shot)
    ep = _episode(env_source, n_way, k_shot, seed, source)
    return omniglot_adapt(phi, n_way, config.inner_lr, MAX_STEPS, ep["support_x"],
                          ep["support_y"], ep["query_x"], ep["query_y"],
                          config.inner_optimizer, config.test_inner_batch, moments,
                          algorithm=algorithm)


@st.cache_data(show_spinner=False, max_entries=64)
def _random_adapt(env_source: str | None, n_way: int, k_shot: int, seed: int,
                  source: str) -> dict[str, Any]:
    ep = _episode(env_source, n_way, k_shot, seed, source)
    lr = 0.4 if n_way < 12 else 0.1
    return omniglot_adapt(random_conv4_phi(n_way, 0), n_way, lr, MAX_STEPS, ep["support_x"],
                          ep["support_y"], ep["query_x"], ep["query_y"])


def _own_drawings(t: dict[str, str], names: dict[str, str], steps: int) -> None:
    """The student draws five classes and a query; every shipped 5-way 1-shot model
    adapts on the drawings and answers (``mamlviz.own_drawings``)."""
    st.subheader(t["own_head"])
    st.markdown(t["own_body"])
    ways = 5
    boxes = st.columns(ways + 1)
    drawn: list[Any] = []
    for i, box in enumerate(boxes):
        with box:
            st.caption(t["own_class"].format(c=i) if i < ways else t["own_query"])
            url = _drawing.canvas(key=f"omni_own_{i}", clear=t["own_clear"])
            ink = None
            if url is not None:
                try:
                    ink = decode_drawing(url)
                except MamlvizError as exc:
                    st.warning(t["own_bad"].format(error=exc))
            drawn.append(None if ink is None or is_blank(ink) else ink)
    empty = [str(i) if i < ways else "?" for i, ink in enumerate(drawn) if ink is None]
    if empty:
        st.caption(t["own_missing"].format(boxes=", ".join(empty)))
        return
    episode = own_episode(drawn[:ways], drawn[ways])
    rows = []
    for algorithm in ALGORITHMS:
        loaded = _checkpoint(algorithm, ways, 1)
        if loaded is None or isinstance(loaded, BaseException):
            continue
        config, phi, moments = loaded
        result = omniglot_adapt(phi, ways, config.inner_lr, steps, episode["support_x"],
                                episode["support_y"], episode["query_x"], episode["query_y"],
                                config.inner_optimizer, config.test_inner_batch, moments,
                                algorithm=algorithm)
        by_step = result["predictions_by_step"]
        # the query is the last of the query set; ProtoNets: one point, no steps
        said = by_step[min(steps, len(by_step) - 1)][-1]
        rows.append({t["own_model"]: names[algorithm],
                     t["own_says"]: t["own_class"].format(c=said),
                     t["own_sure"]: f"{result['confidence'][-1]:.2f}"})
    if not rows:
        st.info(t["own_none"])
        return
    st.caption(t["own_answers"].format(steps=steps))
    st.markdown(_ui.markdown_table(rows))


def _apply_preset() -> None:
    """A preset chosen: its values go into the live-training widgets (still editable)."""
    name = st.session_state.get("omni_live_preset", "custom")
    if name not in PRESETS:
        return
    chosen = preset_settings(name)
    if "algorithm" in chosen:
        st.session_state["omni_algorithms"] = [chosen["algorithm"]]
    st.session_state["omni_live_n"] = chosen["n_way"]
    st.session_state["omni_live_k"] = chosen["k_shot"]
    st.session_state["omni_live_batch"] = chosen["meta_batch_size"]
    st.session_state[f"omni_live_lr_{chosen['n_way']}"] = chosen["inner_lr"]
    st.session_state["omni_live_meta_lr"] = chosen["meta_lr"]


def _live_panel(t: dict[str, str], names: dict[str, str], n_way: int) -> None:
    run: LiveRun | None = st.session_state.get(RUN_KEY)
    if run is None:
        st.info(t["idle"])
        return
    snap = run.snapshot()
    _classroom.queue_status(snap, "omni")
    preset = st.session_state.get("omni_live_run_preset")
    references = {t["reference"].format(name=k): v
                  for k, v in PRESET_REFERENCES.get(preset or "", {}).items()}
    live_chart(lambda: live_training_figure(snap.records, snap.evals, names, n_way,
                                            labels=_fig_labels("live"),
                                            references=references),
               key="omni_live_chart", height=440, version=snap.version)
    st.caption(t["loss_note"])
    c1, c2, c3 = st.columns(3)
    c1.metric(t["its"], f"{sum(snap.it_per_s.values()) if snap.running else 0.0:.2f}")
    c2.metric(t["device"], snap.device or _ui.device_name())
    c3.metric(t["memory"], f"{process_rss_bytes() / 2**20:.0f} MiB")
    rows = []
    for key, state in snap.status.items():
        evals = snap.evals.get(key) or []
        rows.append({t["model"]: names.get(key, key), t["status"]: t.get(f"state_{state}", state),
                     t["step_col"]: snap.steps.get(key, 0),
                     t["acc_col"]: round(100 * evals[-1].value, 1) if evals else None})
    st.markdown(_ui.markdown_table(rows))
    _classroom.run_messages(t, snap, names)
    was_running = st.session_state.get("omni_was_running", False)
    st.session_state["omni_was_running"] = snap.running
    if was_running and not snap.running:
        st.rerun()


t = _classroom.live_texts(TEXT)
names = _algorithms.labels(_ui.lang(), "omniglot")
st.title(t["title"])
st.markdown(t["intro"])

st.header(t["data_head"])
env_source = os.environ.get("MAMLVIZ_OMNIGLOT")
data = _omniglot(env_source)
if isinstance(data, BaseException) or data is None:
    data = _data.missing(data, key="omni")  # the data once a download ends, else None
if data is None:
    st.subheader(t["table_head"])
    st.markdown(_ui.markdown_table([{t["model"]: f"{names[a.name]} {n}-way {k}-shot",
                                     t["paper_col"]: f"{a.paper_accuracy(n, k):.1f}"}
                                    for a in _algorithms.all_algorithms("omniglot")
                                    for (n, k) in a.paper]))
    st.stop()

counts = data.counts()
st.success(t["found"].format(source=data.source, bg=counts["background"]["characters"],
                             bga=counts["background"]["alphabets"],
                             ev=counts["evaluation"]["characters"],
                             eva=counts["evaluation"]["alphabets"]))

# -- browse -------------------------------------------------------------------------------------
st.header(t["browse_head"])
alphabets = data.alphabets()
b1, b2 = st.columns([3, 1])
alphabet = b1.selectbox(t["alphabet"], alphabets, key="omni_alphabet",
                        format_func=lambda a: a.replace("_", " "))
drawer = b2.slider(t["drawer"], 1, 20, 1, key="omni_drawer")
chars = [c for c in range(data.n_characters) if data.alphabet[c] == alphabet]
# Figures are built once per server for their inputs (show_figure's cache_key): image
# grids are the page's most expensive figures to build.
_ui.show_figure(lambda: image_grid_figure(data.images[chars, drawer - 1].float() / 255.0,
                                          [data.character[c].removeprefix("character")
                                           for c in chars], columns=12, meta="alphabet"),
                "omniglot-alphabet", key="omni_alphabet_fig",
                cache_key=(env_source, alphabet, drawer))
character = st.selectbox(t["character"], chars, key="omni_character",
                         format_func=lambda c: data.character[c])
st.caption(t["all_drawers"].format(name=f"{alphabet} / {data.character[character]}"))
_ui.show_figure(lambda: image_grid_figure(data.images[character].float() / 255.0,
                                          [str(d) for d in range(1, 21)], columns=10,
                                          meta="drawers"),
                "omniglot-character", key="omni_character_fig",
                cache_key=(env_source, character))

# -- episode ------------------------------------------------------------------------------------
st.header(t["episode_head"])
e1, e2, e3, e4 = st.columns(4)
n_way = e1.select_slider(t["n_way"], list(range(2, 21)), value=5, key="omni_n_way")
k_shot = e2.select_slider(t["k_shot"], [1, 2, 3, 4, 5], value=1, key="omni_k_shot")
eval_alphabets = data.alphabets("evaluation") + data.alphabets("background")
source = e3.selectbox(t["from"], ["random", *eval_alphabets], key="omni_source",
                      format_func=lambda s: t["random"] if s == "random" else s.replace("_", " "))
seed = int(e4.number_input(t["seed"], 0, 1_000_000, 0, key="omni_seed"))
try:
    ep = _episode(env_source, n_way, k_shot, seed, source)
except MamlvizError as exc:
    n_chars = sum(1 for a in data.alphabet if a == source)
    st.warning(t["too_few"].format(n=n_chars) if source != "random" else str(exc))
    st.stop()
episode_id = (n_way, k_shot, seed, source)
support_titles = [t["class"].format(n=int(y)) for y in ep["support_y"]]
st.subheader(t["support"])
_ui.show_figure(lambda: image_grid_figure(ep["support_x"], support_titles,
                                          columns=min(10, n_way * k_shot), meta="support"),
                "omniglot-support", key="omni_support_fig", cache_key=(env_source, episode_id))
st.subheader(t["query"])
query_titles = [t["qnum"].format(n=i + 1) for i in range(n_way)]
_ui.show_figure(lambda: image_grid_figure(ep["query_x"], query_titles, columns=10,
                                          meta="query"),
                "omniglot-query", key="omni_query_fig", cache_key=(env_source, episode_id))

# -- human versus model -------------------------------------------------------------------------
# Right under the drawings, each answer under its own drawing: a class must see the support
# set, a query drawing and its answer at once (the form used to sit ~1,000 px further down,
# after the models). The scores come below the models, which answer the same queries.
st.subheader(t["human_head"])
st.markdown(t["human_body"])
options = list(range(n_way))
with st.form("omni_human"):
    cols = st.columns(min(ANSWER_COLUMNS, n_way))
    answers: list[Any] = []
    for i in range(n_way):
        with cols[i % len(cols)]:
            st.image(_thumbnail(ep["query_x"][i]), width=THUMBNAIL_PX)
            answers.append(st.selectbox(
                t["your_answer"].format(n=i + 1), options, key=f"omni_answer_{i}", index=None,
                placeholder=t["choose"], format_func=lambda n: t["class"].format(n=n)))
    submitted = st.form_submit_button(t["submit"])
score_box = st.container()  # filled once the models have answered (below)

# -- models ---------------------------------------------------------------------------------------
st.header(t["models_head"])
results: dict[str, dict[str, Any]] = {}
model_names: dict[str, str] = {}
absent = []
for algorithm in ALGORITHMS:
    loaded = _checkpoint(algorithm, n_way, k_shot)
    if loaded is None:
        absent.append(algorithm)
    elif isinstance(loaded, BaseException):
        st.caption(t["bad_checkpoint"].format(name=names[algorithm], error=loaded))
    else:
        results[algorithm] = _shipped_adapt(env_source, n_way, k_shot, seed, source, algorithm)
        model_names[algorithm] = names[algorithm]
if absent and not results:
    shipped = [f"{n}-way {k}-shot" for n in (5, 20) for k in (1, 5)
               if any(_checkpoint(a, n, k) is not None for a in ALGORITHMS)]
    st.info(t["no_checkpoint"].format(N=n_way, K=k_shot, shipped=", ".join(shipped) or "—"))
run: LiveRun | None = st.session_state.get(RUN_KEY)
if run is not None:
    for key, phi in run.phis().items():
        config = run.configs[key]
        if config.n_way == n_way:
            results[f"session:{key}"] = omniglot_adapt(
                phi, n_way, config.inner_lr, MAX_STEPS, ep["support_x"], ep["support_y"],
                ep["query_x"], ep["query_y"], config.inner_optimizer, config.test_inner_batch,
                algorithm=key)
            model_names[f"session:{key}"] = t["session_model"].format(name=names[key])
results["random"] = _random_adapt(env_source, n_way, k_shot, seed, source)
model_names["random"] = t["random_init"]

steps = st.slider(t["steps"], 0, MAX_STEPS, 3 if n_way < 12 else 5, key="omni_steps")
st.markdown(t["models_body"].format(steps=steps))
tabs = st.tabs([model_names[k] for k in results])
for tab, (key, result) in zip(tabs, results.items()):
    predictions = result["predictions_by_step"][steps]
    marks = [p == y for p, y in zip(predictions, result["labels"])]
    titles = [f"#{i + 1} {t['pred'].format(p=p)}" for i, p in enumerate(predictions)]
    with tab:
        # A session's own model is its alone: only the shipped models' figures are shared.
        shared = not key.startswith("session:")
        _ui.show_figure(partial(image_grid_figure, ep["query_x"], titles, columns=10,
                                marks=marks, meta=f"{key}:predictions"),
                        f"omniglot-predictions-{key}", key=f"omni_pred_{key}",
                        cache_key=(env_source, episode_id, steps) if shared else None)
paper = {k: v for k in results if k in ALGORITHMS
         and (v := _algorithms.get(k).paper_accuracy(n_way, k_shot)) is not None}
shared = not any(k.startswith("session:") for k in results)
_ui.show_figure(lambda: accuracy_steps_figure({k: r["accuracy_by_step"]
                                              for k, r in results.items()},
                                             model_names, labels=_fig_labels("accuracy"),
                                             paper=paper),
                "omniglot-accuracy-steps", key="omni_acc_fig",
                cache_key=(env_source, episode_id, tuple(results)) if shared else None)

st.subheader(t["table_head"])
table = []
for algorithm in ALGORITHMS:
    value = _algorithms.get(algorithm).paper_accuracy(n_way, k_shot)
    ours = results.get(algorithm)
    # a learner without steps (ProtoNets) has its one point at every step
    on_episode = ours["accuracy_by_step"][min(steps, len(ours["accuracy_by_step"]) - 1)] \
        if ours else None
    accuracy, trained_for = _reported(algorithm, n_way, k_shot)
    table.append({t["model"]: names[algorithm],
                  t["paper_col"]: f"{value:.1f}" if value is not None else "—",
                  t["ours_col"]: accuracy, t["iterations_col"]: trained_for,
                  t["episode_col"]: (f"{100 * on_episode:.0f}" if on_episode is not None
                                     else "—")})
st.markdown(_ui.markdown_table(table))
st.caption(t["table_note"])

# -- the human's score against the models', shown under the answers -------------------------
with score_box:
    missing = [i + 1 for i, a in enumerate(answers) if a is None]
    if submitted and missing:
        # Nothing is preselected, so nobody scores a drawing they never looked at.
        st.warning(t["unanswered"].format(queries=", ".join(f"#{i}" for i in missing)))
        submitted = False
    if submitted:
        st.session_state["omni_played"] = {"episode": episode_id, "answers": list(answers)}
    played = st.session_state.get("omni_played")
    if played and played["episode"] == episode_id:
        truth = [int(y) for y in ep["query_y"]]
        mine = played["answers"]
        st.markdown("### " + t["your_score"].format(
            right=sum(a == y for a, y in zip(mine, truth)), total=n_way))
        for key, result in results.items():
            predictions = result["predictions_by_step"][steps]
            st.markdown("- " + t["model_score"].format(
                name=model_names[key], right=sum(p == y for p, y in zip(predictions, truth)),
                total=n_way))
        rows = []
        for i, y in enumerate(truth):
            you = f"{mine[i]} {'✓' if mine[i] == y else '✗'}"
            row = {"#": i + 1, t["truth"]: y, t["you"]: you}
            for key, result in results.items():
                p = result["predictions_by_step"][steps][i]
                row[model_names[key]] = f"{p} {'✓' if p == y else '✗'}"
            rows.append(row)
        st.caption(t["answers"])
        st.markdown(_ui.markdown_table(rows))
        st.caption(t["human_after"])

_own_drawings(t, names, steps)

# -- live meta-training -------------------------------------------------------------------------
st.header(t["live_head"])
st.markdown(t["live_body"].format(device=_ui.device_name()))
live_run: LiveRun | None = st.session_state.get(RUN_KEY)
running = live_run is not None and live_run.alive
preset = st.selectbox(t["preset"], ["custom", *PRESETS], key="omni_live_preset",
                      format_func=lambda p: t[f"preset_{p}"], on_change=_apply_preset,
                      disabled=running)
if preset in PRESETS:
    st.caption(t[f"{preset}_note"])
l1, l2, l3, l4 = st.columns(4)
chosen = l1.multiselect(t["algorithms"], ALGORITHMS, default=_algorithms.live_default("omniglot"),
                        format_func=names.__getitem__, key="omni_algorithms", disabled=running)
live_n = l2.select_slider(t["n_way"], [5, 20], value=5, key="omni_live_n", disabled=running)
live_k = l2.select_slider(t["k_shot"], [1, 5], value=1, key="omni_live_k", disabled=running)
live = live_defaults(live_n)  # mamlviz.live_omniglot: the settings fastest to 90% on a CPU
meta_batch = l3.slider(t["meta_batch"], 1, 32, live["meta_batch_size"], key="omni_live_batch",
                       disabled=running)
iterations = int(l3.number_input(t["iterations"], 1, 60_000, live["iterations"], step=50,
                                 key="omni_live_iters", disabled=running))
inner_lr = l4.number_input(t["inner_lr"], 0.0, 100.0, live["inner_lr"], step=0.05,
                           key=f"omni_live_lr_{live_n}", disabled=running,
                           help=t["inner_lr_help"])
meta_lr = l4.number_input(t["meta_lr"], 0.0, 100.0, live["meta_lr"], step=0.001, format="%.4f",
                          key="omni_live_meta_lr", disabled=running)
_classroom.capacity_note()

c1, c2, c3, _ = st.columns([1, 1, 2, 4])
if c1.button(t["train"], type="primary", key="omni_train", disabled=running):
    if not chosen:
        st.warning(t["no_algorithm"])
    else:
        own = {a: _algorithms.get(a).departures("omniglot", live_n) for a in chosen}
        # A preset's settings that have no widget (queries, steps, protocol); an algorithm
        # with its own Omniglot inner loop (Reptile's) takes only the preset's split.
        chosen_preset = preset_settings(str(preset)) if preset in PRESETS else {}
        extra = {k: v for k, v in chosen_preset.items()
                 if k in ("n_query", "inner_steps", "test_inner_steps", "val_inner_steps",
                          "protocol")}
        try:
            configs = {a: live_omniglot_config(
                a, n_way=live_n, k_shot=live_k,
                **{k: v for k, v in extra.items() if not own[a] or k == "protocol"},
                meta_batch_size=meta_batch, iterations=iterations, seed=seed,
                # An algorithm with its own Omniglot rates (Reptile's Adam) keeps them.
                inner_lr=None if "inner_lr" in own[a] else inner_lr,
                meta_lr=None if "meta_lr" in own[a] else meta_lr,
                # A live run's weights reach this page without its optimiser's state, so
                # its Reptile starts Adam afresh on every task (said in live_body).
                inner_moments="fresh" if _algorithms.get(a).keeps_moments else None,
                # The first curve point must not wait for a compile: on a GPU the unfused
                # graph starts within a second ("auto" fuses runs of 10,000 or more).
                implementation="graphed" if torch.cuda.is_available() else None)
                for a in chosen}
        except MamlvizError as exc:
            st.error(t["bad_setting"].format(error=exc))
        else:
            test_split = data.split(next(iter(configs.values())).protocol)[1]
            # At most MAX_STEPS steps, as the episode above: Reptile's 50 would make the
            # live scoring (every 10 meta-iterations) cost as much as the training itself.
            evaluators = {a: omniglot_evaluator(test_split, live_n, live_k, c.inner_lr,
                                                min(c.steps_in_validation, MAX_STEPS),
                                                optimizer=c.inner_optimizer,
                                                batch_size=c.test_inner_batch)
                          for a, c in configs.items()}

            def evaluator(name: str, phi: Any) -> float:
                return evaluators[name](name, phi)

            if live_run is not None:
                live_run.stop()
            st.session_state[RUN_KEY] = LiveRun(configs, device=None, omniglot=data,
                                                idle_timeout=_classroom.IDLE_TIMEOUT_S,
                                                evaluator=evaluator,
                                                evaluate_every=10).start()
            st.session_state["omni_was_running"] = True
            st.session_state["omni_live_run_preset"] = preset
            running = True
            st.rerun()
if c2.button(t["stop"], key="omni_stop", disabled=not _classroom.stoppable(live_run)):
    if live_run is not None:
        live_run.stop()
        live_run.join(timeout=10)
    st.rerun()
if live_run is not None and not running and c3.button(t["clear"], key="omni_clear"):
    del st.session_state[RUN_KEY]
    st.rerun()

st.fragment(run_every=_classroom.poll_interval(live_run))(_live_panel)(
    t, names, live_run.configs[next(iter(live_run.configs))].n_way if live_run else live_n)
_ui.chapter_figures("omniglot")  # last: a zip of the figures this page showed

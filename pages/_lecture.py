"""Lecture mode: drive the chapters in the lecture's order, one point at a time.

The points of each chapter follow the lecture (``../shared/lecture/OUTLINE.md``,
sections 1-6). In presentation mode a step counter walks them: the minimal header shows
the current point and the page scrolls to the heading or chart that shows it; the next
step after a chapter's last point opens the next chapter (``CHAPTERS`` order), and the
one before its first point opens the previous chapter at its last point. Outside
presentation mode the same keys move from chapter to chapter.

Keys (a clicker sends PageUp/PageDown, a keyboard the arrows) are read by a tiny
``st.components.v2`` component (``pages/_components/lecture/keys.js``) mounted once by
the router; it ignores keys typed into a widget (a focused slider keeps its arrows).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from pages import _presentation
from pages._chapters import CHAPTERS

ASSETS = Path(__file__).resolve().parent / "_components" / "lecture"


@dataclass(frozen=True)
class Point:
    """One point of the lecture: what the header says, and what the page scrolls to:
    ``"h3"`` is the chapter's 4th heading (its title is ``"h0"``), ``"c1"`` its 2nd chart."""

    target: str
    en: str
    zh: str


POINTS: dict[str, list[Point]] = {
    "home.py": [
        Point("h0", "Machine learning finds f from data; meta-learning finds the learning "
                    "algorithm F itself: f* = F(D_train)",
              "机器学习从数据中找 f；元学习找学习算法 F 本身：f* = F(D_train)"),
        Point("h1", "Meta-learning versus life-long learning: one model for all tasks, or "
                    "a model per task and learning how to learn",
              "Meta Learning 与 Life-Long Learning：一个模型学所有任务，"
              "还是每个任务一个模型、学会如何学习"),
        Point("h2", "The chapters of the lecture", "各个章节"),
    ],
    "three_steps.py": [
        Point("h1", "Step 1: define a set of learning algorithms (here only the "
                    "initialization φ is learned)",
              "第一步：定义一组学习算法（这里只学初始化参数 φ）"),
        Point("h2", "Step 2: the goodness of F: training tasks, each with a support set "
                    "and a query set",
              "第二步：定义 F 的好坏：训练任务，每个都有 support set 与 query set"),
        Point("h5", "Apply each candidate F to every task: the losses lⁿ add up to L(F)",
              "把每个候选 F 用在每个任务上：lⁿ 加起来就是 L(F)"),
        Point("h6", "Step 3: F* = argmin L(F), judged on testing tasks",
              "第三步：F* = argmin L(F)，在测试任务上评判"),
    ],
    "omniglot.py": [
        Point("h1", "Omniglot: 1623 characters from 50 alphabets, 20 drawings each",
              "Omniglot：50 种文字的 1623 个字符，每个 20 张手写"),
        Point("h3", "N-way K-shot: N classes, K examples of each in the support set",
              "N-way K-shot：N 个类别，每类 K 个 support 样本"),
        Point("h6", "The meta-learned models adapt to the episode in a few steps",
              "元学习得到的模型几步就适应这个任务"),
        Point("h8", "You against the model", "你与模型比赛"),
        Point("h9", "Meta-train from scratch, live", "从零开始实时元训练"),
    ],
    "maml_vs_pretraining.py": [
        Point("c0", "Pre-training minimizes Σ lⁿ(φ): how good φ is now",
              "预训练最小化 Σ lⁿ(φ)：φ 现在有多好"),
        Point("c0", "MAML minimizes Σ lⁿ(θ̂ⁿ): how good φ is after training (its potential)",
              "MAML 最小化 Σ lⁿ(θ̂ⁿ)：φ 训练以后有多好（潜力）"),
        Point("h1", "MAML updates once: speed, and few-shot data overfits easily",
              "MAML 只更新一次：快，而且少量数据容易过拟合"),
        Point("h2", "Meta-training: φ under each method, from the same start",
              "Meta-training：同一个起点，φ 在各个方法下怎么移动"),
    ],
    "sinusoid.py": [
        Point("h0", "Toy example: y = a sin(x + b); each (a, b) is a task",
              "玩具示例：y = a sin(x + b)，每组 (a, b) 是一个任务"),
        Point("h1", "Meta-train MAML, first-order MAML, Reptile and pre-training, live",
              "实时元训练 MAML、一阶 MAML、Reptile 与预训练"),
        Point("h2", "A new task: pre-training ends near a flat line, MAML's φ fits it in a "
                    "few steps",
              "新任务：预训练接近一条平线，MAML 的 φ 几步就拟合上"),
    ],
    "first_order.py": [
        Point("h0", "dl(θ̂)/dφ holds second derivatives: first-order MAML drops them",
              "dl(θ̂)/dφ 含有二阶导数：一阶近似把它们去掉"),
        Point("h1", "Both meta-gradients measured on a real model",
              "在真实模型上测量两种 meta-gradient"),
        Point("h2", "How close is the approximation? Cosine similarity against the inner "
                    "learning rate",
              "近似得有多好？余弦相似度与内层学习率"),
        Point("h4", "What the exact gradient costs in time and memory", "完整梯度的时间与内存代价"),
    ],
    "update_directions.py": [
        Point("h0", "One inner step gives θ̂ᵐ; the gradient at θ̂ᵐ is φ's update direction",
              "一步内层更新得到 θ̂ᵐ；θ̂ᵐ 处的梯度就是 φ 的更新方向"),
        Point("c0", "Pre-training updates φ along the gradient at φ itself",
              "预训练沿 φ 本身的梯度更新"),
    ],
    "reptile.py": [
        Point("h1", "Reptile: several steps on a task to θ̃ᵐ, then move φ toward θ̃ᵐ",
              "Reptile：在任务上走几步到 θ̃ᵐ，再把 φ 往 θ̃ᵐ 移动"),
        Point("h2", "Reptile, MAML and pre-training compared by their update directions",
              "Reptile、MAML 与预训练的更新方向比较"),
        Point("h4", "Reptile on the 2-D landscape", "Reptile 在二维地形上的路径"),
    ],
    "more.py": [
        Point("h1", "An application: MAML for machine translation", "MAML 实际应用：机器翻译"),
        Point("h2", "Other parts of the learning algorithm can be learned too",
              "还有其他部分可以让机器学习"),
        Point("h3", "MAML's own initialization needs initializing", "MAML 的初始化也需要初始化"),
        Point("h4", "A crazy idea?", "一个疯狂的想法（Crazy Idea）？"),
    ],
}

ORDER = [file for file, *_ in CHAPTERS]
_STEP_STATE = "_mamlviz_lecture_step"  # (chapter file, step) of the step counter
KEY = "mamlviz_lecture_keys"


def points(file: str) -> list[Point]:
    """The chapter's points (a chapter without any is one step: itself)."""
    return POINTS.get(file) or [Point("h0", "", "")]


def move(file: str, step: int, direction: int, available: list[str] | None = None,
         steps: bool = True) -> tuple[str, int]:
    """The (chapter, step) one key press away; steps count from 1.

    ``direction`` is +1 or -1. With ``steps`` (presentation mode) it walks the points
    first; past a chapter's end it goes to the next chapter's first point, before its
    start to the previous chapter's last point. The first and last chapters stop there.
    ``available`` are the chapters that exist (the router lists only those).
    """
    order = [f for f in ORDER if available is None or f in available]
    count = len(points(file))
    step = min(max(step, 1), count)
    if steps and 1 <= step + direction <= count:
        return file, step + direction
    index = order.index(file) + direction
    if not 0 <= index < len(order):
        return file, step
    target = order[index]
    return target, (1 if direction > 0 or not steps else len(points(target)))


def neighbours(file: str, available: list[str]) -> tuple[str | None, str | None]:
    """The previous and next chapters in the lecture's order."""
    order = [f for f in ORDER if f in available]
    i = order.index(file)
    return (order[i - 1] if i > 0 else None, order[i + 1] if i + 1 < len(order) else None)


def current_step(file: str) -> int:
    """This chapter's step: kept in the session, else the URL's ``step`` (a reload or a
    bookmark), else 1."""
    stored = st.session_state.get(_STEP_STATE)
    if stored and stored[0] == file:
        step = int(stored[1])
    else:
        try:
            step = int(st.query_params.get("step") or 1)
        except ValueError:
            step = 1
    step = min(max(step, 1), len(points(file)))
    st.session_state[_STEP_STATE] = (file, step)
    return step


def set_step(file: str, step: int) -> None:
    st.session_state[_STEP_STATE] = (file, step)


_keys = st.components.v2.component(
    "mamlviz_lecture_keys",
    js=(ASSETS / "keys.js").read_text(encoding="utf-8"),
    isolate_styles=False,
)


def keys(file: str, step: int, presentation: bool) -> str | None:
    """Mount the key listener (in the sidebar: the main area's components are charts);
    the move a key asked for on this run ("next", "prev"), or None."""
    point = points(file)[step - 1]
    data = json.dumps({"page": file, "step": step, "target": point.target,
                       "presentation": presentation})
    result = _keys(data=data, key=KEY, on_move_change=lambda: None)
    value = getattr(result, "move", None)
    return value if value in ("next", "prev") else None


def _label(file: str, zh: bool) -> str:
    # The link shows the page's icon itself.
    row = next(r for r in CHAPTERS if r[0] == file)
    return str(row[2] if zh else row[1])


def nav(pages: dict[str, Any], file: str, where: str, zh: bool, step: int | None = None) -> None:
    """Previous and next chapter links (``where``: "head" or "foot"), carrying the URL's
    settings so presentation mode and the language survive the move."""
    before, after = neighbours(file, list(pages))
    box = st.container(key=f"mamlviz-lecture-{where}", horizontal=True,
                       wrap=False, horizontal_alignment="distribute",
                       vertical_alignment="center")
    with box:
        if before is not None:
            st.page_link(pages[before], label="← " + _label(before, zh),
                         query_params=_presentation.url_params(len(points(before))))
        if where == "head" and step is not None:
            count = len(points(file))
            point = points(file)[step - 1]
            text = point.zh if zh else point.en
            st.markdown(f'<div class="mamlviz-point">{step}/{count} · {html.escape(text)}</div>',
                        unsafe_allow_html=True)
        if after is not None:
            st.page_link(pages[after], label=_label(after, zh) + " →",
                         query_params=_presentation.url_params(1))
        if where == "head" and step is not None:
            # The sidebar is hidden while presenting: its two switches are here too.
            st.button("🌓", key="mamlviz-dark-switch", on_click=_presentation.flip,
                      args=(_presentation.DARK,),
                      help="深色高对比度" if zh else "Dark high contrast")
            st.button("✕", key="mamlviz-presentation-exit", on_click=_presentation.flip,
                      args=(_presentation.PRESENTATION,),
                      help="退出演示模式" if zh else "Leave presentation mode")

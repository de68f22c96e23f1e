"""Home: learning to learn. f* = F(D_train); machine learning finds f, meta-learning finds F.

Links to every chapter that exists, and says which device trains.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from mamlviz.figures.concepts import learning_to_learn_figure
from pages import _ui
from pages._chapters import CHAPTERS

_ui.through_the_router()

PAGES = Path(__file__).resolve().parent


TEXT = {
    "en": {
        "title": "Learning to learn",
        "intro": (
            "Meta-learning teaches a machine **how to learn**. After learning some tasks "
            "(speech recognition, image recognition, ...) it becomes a better learner and "
            "learns a new task (say, text classification) faster and better: it has learned "
            "the *skill* of learning, even though the tasks have little to do with each "
            "other."),
        "ml": (
            "Ordinary machine learning: a hand-designed learning algorithm F takes the "
            "training data and returns a model f*, which answers the testing data. "
            "Meta-learning lets the machine find F itself:"),
        "both": (
            "Machine learning and meta-learning both find a function; they just find "
            "different ones: **machine learning finds f, meta-learning finds F**. The three "
            "steps are the same: define a set of learning algorithms, define how good one is "
            "(its loss), and find the best one."),
        "figure": "data → F → f*",
        "lll_title": "Meta-learning versus life-long learning",
        "lll": (
            "They look alike, but **life-long learning** keeps **one model** and applies it "
            "to task after task, so that it keeps learning new tasks. In **meta-learning** "
            "every task gets **its own model**; what carries over is the *way of learning*, "
            "so that later learning goes faster and better."),
        "chapters": "The chapters",
        "device": "Training device: **{device}**",
    },
    "zh": {
        "title": "学习如何学习",
        "intro": (
            "Meta learning 总体来说就是让机器**学习如何学习**。我们希望机器在学过一些任务"
            "以后（语音辨识、图像识别……），它学会如何去学习更有效率，也就是说它会成为一个"
            "更优秀的学习者，因为它学会了**学习的技巧**：在新的任务（比如文本分类）上做得"
            "更快更好，虽然这些任务之间没什么直接的关系。"),
        "ml": (
            "传统的 ML：定义一个学习算法 F，用训练数据 train，吐出一组参数，也就是得到了模型 "
            "f*，这个模型可以告诉我们测试数据应该对应的结果。这个学习算法吃 training data "
            "然后吐出目标模型 f*。Meta Learning 就是要让机器自动地找这个函数 F："),
        "both": (
            "Machine Learning 和 Meta Learning 都是让机器找一个 function，只不过要找的 "
            "function 是不一样的：**Machine Learning 找 f，Meta Learning 找 F**。步骤也一样"
            "分三步：定义一组 Learning Algorithm，定义 Learning Algorithm 的 Loss，"
            "最后去 train 一发找出哪个 Learning Algorithm 比较好。"),
        "figure": "data → F → f*",
        "lll_title": "Meta Learning 与 Life-Long Learning",
        "lll": (
            "两者确实很像，但是 **LLL** 的着眼点是用**同一个模型** apply 到不同的任务上，"
            "让一个模型可以不断地学会新的任务；而 **Meta Learning** 中**不同的任务有不同的"
            "模型**，我们的着眼点是机器可以从过去的学习中学到学习的方法，让它在以后的学习中"
            "更快更好。"),
        "chapters": "各个章节",
        "device": "训练设备：**{device}**",
    },
}

FIGURE_LABELS = {
    "en": {},
    "zh": {"title": "学习如何学习：f* = F(D<sub>train</sub>)",
           "data": "training data<br>D<sub>train</sub>", "F": "学习算法 F",
           "test": "testing data", "answer": "结果", "tasks": "Training Tasks<br>"
           "（support set + query set）", "ml": "Machine Learning 找 f",
           "meta": "Meta Learning 找 F", "meta arrow": "学出"},
}

t = _ui.texts(TEXT)
zh = _ui.lang() == "zh"
st.title(t["title"])
st.markdown(t["intro"])
st.markdown(t["ml"])
st.latex(r"f^* = F(D_{\text{train}})")
_ui.show_figure(lambda: learning_to_learn_figure(FIGURE_LABELS[_ui.lang()]), "learning-to-learn",
                key="home_figure", cache_key="the same for everyone")
st.markdown(t["both"])

st.subheader(t["lll_title"])
st.markdown(t["lll"])

st.subheader(t["chapters"])
for file, en_title, zh_title, icon in CHAPTERS[1:]:  # every chapter after this one
    title = zh_title if zh else en_title
    if not (PAGES / file).exists():
        continue  # a chapter still being written is not linked
    try:
        st.page_link(f"pages/{file}", label=title, icon=icon)
    except st.errors.StreamlitAPIException:
        # Run on its own (not through the router): the page is not registered.
        st.markdown(f"{icon} {title}")

st.caption(t["device"].format(device=_ui.device_name()))
_ui.chapter_figures("home")  # last: a zip of the figures this page showed

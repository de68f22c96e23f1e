"""Chapter 'More, and things to think about': what else can be learned, turtles all the
way down, the crazy idea, and MAML for machine translation (MetaNMT). Text only."""

from __future__ import annotations

import streamlit as st

from pages import _ui

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
            "Translation*, EMNLP 2018, [arXiv 1808.08437](https://arxiv.org/abs/1808.08437)"),
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

t = _ui.texts(TEXT)
st.title(t["title"])
for part in ("nmt", "other", "turtles", "crazy"):
    st.subheader(t[f"{part}_title"])
    st.markdown(t[part])
st.subheader(t["refs"])
st.markdown(t["ref_list"])

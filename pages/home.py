"""Home: learning to learn. f* = F(D_train); machine learning finds f, meta-learning finds F.

Links to every chapter that exists, and says which device trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import streamlit as st

from mamlviz.figures.concepts import learning_to_learn_figure
from pages import _i18n, _ui
from pages._chapters import CHAPTERS

_ui.through_the_router()

PAGES = Path(__file__).resolve().parent


def learning_to_learn(t: Mapping[str, str]) -> None:
    """f* = F(D_train): machine learning finds f, meta-learning finds F."""
    st.title(t["title"])
    st.markdown(t["intro"])
    st.markdown(t["ml"])
    st.latex(r"f^* = F(D_{\text{train}})")
    labels = _i18n.texts("home.figures")["learning"]
    _ui.show_figure(lambda: learning_to_learn_figure(labels), "learning-to-learn",
                    key="home_figure", cache_key="the same for everyone")
    st.markdown(t["both"])


def life_long_learning(t: Mapping[str, str]) -> None:
    """One model for every task (life-long) against a model per task (meta-learning)."""
    st.subheader(t["lll_title"])
    st.markdown(t["lll"])


def chapters(t: Mapping[str, str]) -> None:
    """A link to every chapter that exists."""
    st.subheader(t["chapters"])
    for file, icon in CHAPTERS[1:]:  # every chapter after this one
        title = _i18n.chapter_title(file)
        if not (PAGES / file).exists():
            continue  # a chapter still being written is not linked
        try:
            st.page_link(f"pages/{file}", label=title, icon=icon)
        except st.errors.StreamlitAPIException:
            # Run on its own (not through the router): the page is not registered.
            st.markdown(f"{icon} {title}")


def render() -> None:
    t = _i18n.texts("home")
    learning_to_learn(t)
    life_long_learning(t)
    chapters(t)
    st.caption(t["device"].format(device=_ui.device_name()))
    _ui.chapter_figures("home")  # last: a zip of the figures this page showed


render()

"""The router: st.navigation over the chapters, the sidebar, and start-up work.

``streamlit_app.py`` calls ``run()`` on every script run.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from pages import _chart, _classroom, _streamlit_compat, _ui
from pages._chapters import CHAPTERS

PAGES_DIR = Path(__file__).resolve().parent

_streamlit_compat.keep_finished_runs_output()  # once per server, under load


def run() -> None:
    # Two cores serve the web server, the browsers and training: one thread each.
    torch.set_num_threads(1)

    st.set_page_config(page_title="mamlviz", page_icon="🧠", layout="wide")
    _classroom.warm_up_training()  # once per server, in the background

    if "lang" not in st.session_state:
        st.session_state["lang"] = "zh" if st.query_params.get("lang") == "zh" else "en"

    pages = [
        st.Page(str(PAGES_DIR / file), title=zh_title if _ui.lang() == "zh" else en_title,
                icon=icon,
                default=(file == "home.py"),
                # The home page is served at "/" but still reserves its url_path: keep "home"
                # free for the alias below.
                url_path="index" if file == "home.py" else file.removesuffix(".py"))
        for file, en_title, zh_title, icon in CHAPTERS
        if (PAGES_DIR / file).exists()  # chapters still being written are not listed
    ]

    def _home_alias() -> None:
        """``/home`` (the home page's file name) goes to the home page, served at ``/``."""
        st.switch_page(pages[0])

    # The default page's URL is always the root; without this, /home says "Page not found".
    pages.append(st.Page(_home_alias, title=pages[0].title, url_path="home", visibility="hidden"))
    # The config hides Streamlit's page list for its legacy pages/ mode; the chapters
    # are listed. Set before st.navigation, which reads it, and which then ends that mode
    # for every session.
    if st.get_option("client.showSidebarNavigation") is False:
        st.set_option("client.showSidebarNavigation", True)
    page = st.navigation(pages)
    with st.sidebar:
        # First in the sidebar: the browser runs this element's script as soon as it shows
        # the sidebar, so plotly.js loads while the rest of the page renders.
        _chart.preload(page.url_path)
        st.radio("Language / 语言", list(_ui.LANGS), key="lang", format_func=_ui.LANGS.get,
                 horizontal=True)
        zh = _ui.lang() == "zh"
        st.toggle("演示模式（大字体）" if zh else "Presentation mode (large fonts)",
                  key="presentation")
        st.caption(("训练设备：" if zh else "Training device: ") + _ui.device_name())

    if _ui.presentation():
        # Style only: st.html sends it to Streamlit's event container, so it takes no room
        # on the page (as Markdown it would be an empty first element, with a gap).
        st.html("<style>html, .stMarkdown p, .stMarkdown li {font-size: 1.35rem;}</style>")
    page.run()

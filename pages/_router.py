"""The router: st.navigation over the chapters, the sidebar, and start-up work.

``streamlit_app.py`` calls ``run()`` on every script run.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import torch

from pages import _chart, _classroom, _i18n, _lecture, _presentation, _streamlit_compat, _ui
from pages._chapters import CHAPTERS

PAGES_DIR = Path(__file__).resolve().parent

_streamlit_compat.keep_finished_runs_output()  # once per server, under load


def run() -> None:
    # Two cores serve the web server, the browsers and training: one thread each.
    torch.set_num_threads(1)

    st.set_page_config(page_title="mamlviz", page_icon="🧠", layout="wide")
    _classroom.warm_up_training()  # once per server, in the background

    # ?presentation=1, ?lang=en|zh, ?theme=dark: read once per session, before the widgets.
    _presentation.read_url()

    by_file = {
        file: st.Page(str(PAGES_DIR / file), title=_i18n.chapter_title(file), icon=icon,
                      default=(file == "home.py"),
                      # The home page is served at "/" but still reserves its url_path: keep
                      # "home" free for the alias below.
                      url_path="index" if file == "home.py" else file.removesuffix(".py"))
        for file, icon in CHAPTERS
        if (PAGES_DIR / file).exists()  # chapters still being written are not listed
    }
    pages = list(by_file.values())

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
        # The language switch is labelled in every language: a reader who cannot read
        # the current one must still find it.
        languages = _i18n.languages()
        st.radio(" / ".join(_i18n.texts("language", code)["choose"] for code in languages),
                 list(languages), key=_presentation.LANG,
                 format_func=languages.get, horizontal=True,
                 on_change=_presentation.remember, args=(_presentation.LANG,))
        t = _i18n.texts("router")
        st.toggle(t["presentation"],
                  key=_presentation.PRESENTATION,
                  on_change=_presentation.remember, args=(_presentation.PRESENTATION,))
        st.toggle(t["dark"],
                  key=_presentation.DARK,
                  on_change=_presentation.remember, args=(_presentation.DARK,))
        st.caption(t["device"] + _ui.device_name())
        file = next((f for f, p in by_file.items() if p is page), None)
        if file is not None:
            presenting = _ui.presentation()
            step = _lecture.current_step(file)
            moved = _lecture.keys(file, step, presenting)
            if moved is not None:
                target, step = _lecture.move(file, step, 1 if moved == "next" else -1,
                                             list(by_file), steps=presenting)
                _lecture.set_step(target, step)
                if target != file:
                    st.switch_page(by_file[target],
                                   query_params=_presentation.url_params(step))
                else:
                    # Same chapter, next point: run again so the header and the key
                    # script (which scrolls to the point) are sent the new step.
                    st.rerun()

    # Style only: st.html sends it to Streamlit's event container, so it takes no room
    # on the page (as Markdown it was an empty first element, with a gap, in the page).
    _presentation.inject()
    if file is None:  # the /home alias: it switches to the home page
        page.run()
        return
    _presentation.write_url(step if _ui.presentation() else None)
    shown_step = step if _ui.presentation() else None
    _lecture.nav(by_file, file, "head", shown_step)
    page.run()
    _lecture.nav(by_file, file, "foot", None)

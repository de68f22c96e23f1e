"""A chapter's figures for slides: one button that downloads them all as a zip.

Each chapter calls ``chapter_figures(chapter)`` last. The zip holds the figures the
page shows now (its current settings, language and presentation mode), named
``chapter-figure-lang.png`` and rendered server-side at 3x scale by
``mamlviz.figures.export`` (kaleido and the server's Chromium), only when clicked.
"""

from __future__ import annotations

import json

import streamlit as st

from mamlviz.figures import export
from pages import _i18n, _ui


def chapter_figures(chapter: str) -> None:
    t = _i18n.texts("export")
    names = list(dict.fromkeys(st.session_state.pop(_ui.SHOWN_THIS_RUN, [])))
    if not names:
        return
    reason = export.missing_renderer()
    if reason is not None:
        st.caption(t["missing"].format(reason=reason))
        return
    # The session's own dict, not a copy: a fragment that redraws its figure after this
    # run (the meta-training animation) updates what the zip holds.
    shown = st.session_state[_ui.SHOWN_FIGURES]
    lang = _i18n.lang()

    def build() -> bytes:
        figures = [json.loads(shown[name]) for name in names]
        files = export.render(figures, "png")
        return export.zip_bytes({export.file_name(chapter, name, lang, "png"): data
                                 for name, data in zip(names, files)})

    st.download_button(t["button"], data=build, file_name=f"mamlviz-{chapter}-{lang}.zip",
                       mime="application/zip", help=t["help"], on_click="ignore",
                       key="mamlviz_chapter_figures")

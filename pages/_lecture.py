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

from pages import _i18n, _presentation
from pages._chapters import CHAPTERS

ASSETS = Path(__file__).resolve().parent / "_components" / "lecture"


@dataclass(frozen=True)
class Point:
    """One point of the lecture: what the header says, and what the page scrolls to:
    ``"h3"`` is the chapter's 4th heading (its title is ``"h0"``), ``"c1"`` its 2nd chart.
    The words are the catalogues' (section ``lecture``, the chapter's stem, in order)."""

    target: str
    text: str


# Where each point of a chapter is on its page; the points' words follow in the same order.
TARGETS: dict[str, list[str]] = {
    "home.py": ["h0", "h1", "h2"],
    "three_steps.py": ["h1", "h2", "h5", "h6"],
    "omniglot.py": ["h1", "h3", "h6", "h8", "h9"],
    "maml_vs_pretraining.py": ["c0", "c0", "h1", "h2"],
    "sinusoid.py": ["h0", "h1", "h2"],
    "first_order.py": ["h0", "h1", "h2", "h4"],
    "update_directions.py": ["h0", "c0"],
    "reptile.py": ["h1", "h2", "h4"],
    "more.py": ["h1", "h2", "h3", "h4"],
}


ORDER = [file for file, *_ in CHAPTERS]
_STEP_STATE = "_mamlviz_lecture_step"  # (chapter file, step) of the step counter
KEY = "mamlviz_lecture_keys"


def points(file: str, language: str | None = None) -> list[Point]:
    """The chapter's points in ``language`` (the reader's by default); a chapter without
    any is one step: itself."""
    words = _i18n.texts("lecture", language).get(file.removesuffix(".py"), [])
    return [Point(target, str(text)) for target, text in zip(TARGETS.get(file, []), words,
                                                             strict=True)] or [Point("h0", "")]


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


def nav(pages: dict[str, Any], file: str, where: str, step: int | None = None) -> None:
    """Previous and next chapter links (``where``: "head" or "foot"), carrying the URL's
    settings so presentation mode and the language survive the move."""
    before, after = neighbours(file, list(pages))
    t = _i18n.texts("router")
    box = st.container(key=f"mamlviz-lecture-{where}", horizontal=True,
                       wrap=False, horizontal_alignment="distribute",
                       vertical_alignment="center")
    with box:
        if before is not None:
            st.page_link(pages[before], label="← " + _i18n.chapter_title(before),
                         query_params=_presentation.url_params(len(points(before))))
        if where == "head" and step is not None:
            chapter_points = points(file)
            point = chapter_points[step - 1]
            st.markdown(f'<div class="mamlviz-point">{step}/{len(chapter_points)} · '
                        f'{html.escape(point.text)}</div>',
                        unsafe_allow_html=True)
        if after is not None:
            st.page_link(pages[after], label=_i18n.chapter_title(after) + " →",
                         query_params=_presentation.url_params(1))
        if where == "head" and step is not None:
            # The sidebar is hidden while presenting: its two switches are here too.
            st.button("🌓", key="mamlviz-dark-switch", on_click=_presentation.flip,
                      args=(_presentation.DARK,),
                      help=t["dark_switch"])
            st.button("✕", key="mamlviz-presentation-exit", on_click=_presentation.flip,
                      args=(_presentation.PRESENTATION,),
                      help=t["leave"])

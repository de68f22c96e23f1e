"""Presentation and lecture mode through the router: the URL's settings, the chapter
links at head and foot, the lecture's step counter, and the stylesheets."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the router imports ``pages._ui`` from the repository root
    sys.path.insert(0, str(ROOT))

from pages import _i18n, _lecture, _presentation  # noqa: E402
from pages._chapters import CHAPTERS  # noqa: E402

pytestmark = pytest.mark.usefixtures("app_without_omniglot")


def app(**params: str) -> AppTest:
    """The whole app (router and home page) opened with these URL parameters."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def styles(at: AppTest) -> str:
    return "\n".join(el.proto.body for el in at.get("html"))


def links(at: AppTest) -> dict[str, str]:
    """The chapter links the page shows: label -> query string."""
    return {el.proto.label: el.proto.query_string for el in at.get("page_link")}


def test_presentation_and_language_are_read_from_the_url_and_kept_there() -> None:
    at = app(presentation="1", lang="zh", theme="dark")
    assert not at.exception, at.exception
    assert at.session_state["presentation"] is True
    assert at.session_state["lang"] == "zh"
    assert at.session_state["dark"] is True
    assert at.toggle(key="presentation").value is True
    # The address bar keeps them (with the lecture's step), for a reload or a bookmark.
    assert dict(at.query_params) == {"presentation": "1", "lang": "zh", "theme": "dark",
                                     "step": "1"}
    css = styles(at)
    assert _presentation.PRESENTATION_CSS in css and _presentation.DARK_CSS in css


def test_a_plain_url_opens_the_normal_app_and_keeps_the_url_plain() -> None:
    at = app()
    assert at.session_state["presentation"] is False and at.session_state["lang"] == "en"
    assert dict(at.query_params) == {}
    css = styles(at)
    assert _presentation.PRESENTATION_CSS not in css and _presentation.DARK_CSS not in css
    assert "@media print" in css  # a printed chapter is always a handout


def test_toggling_presentation_or_language_updates_the_url() -> None:
    at = app(presentation="1")
    at.toggle(key="presentation").set_value(False).run()
    assert "presentation" not in at.query_params and "step" not in at.query_params
    at.radio(key="lang").set_value("zh").run()
    assert dict(at.query_params) == {"lang": "zh"}
    at.toggle(key="presentation").set_value(True).run()
    assert dict(at.query_params) == {"presentation": "1", "lang": "zh", "step": "1"}
    assert _presentation.PRESENTATION_CSS in styles(at)


@pytest.mark.parametrize("value", ["0", "no", "maybe", ""])
def test_other_presentation_values_leave_it_off(value: str) -> None:
    at = app(presentation=value, lang="xx")
    assert not at.exception
    assert at.session_state["presentation"] is False and at.session_state["lang"] == "en"


def test_presentation_header_shows_the_lecture_point_and_carries_the_settings() -> None:
    at = app(presentation="1", lang="zh", step="2")
    home = _lecture.points("home.py", "zh")
    head = [m.value for m in at.markdown if "mamlviz-point" in m.value]
    assert len(head) == 1 and f"2/{len(home)}" in head[0] and home[1].text in head[0]
    # Next chapter at head and foot, with the settings (and the first point) in its URL.
    nxt = [(label, query) for label, query in links(at).items() if label.endswith("→")]
    assert nxt == [(f"{_i18n.chapter_title(CHAPTERS[1][0], 'zh')} →",
                    "presentation=1&lang=zh&step=1")]
    # The exit switch is on the page: the sidebar is hidden while presenting.
    at.button(key="mamlviz-presentation-exit").click().run()
    assert at.session_state["presentation"] is False
    assert "presentation" not in at.query_params


def test_every_chapter_links_its_neighbours_at_head_and_foot() -> None:
    at = app(lang="en")
    arrows = [el.proto.label for el in at.get("page_link") if "→" in el.proto.label]
    # The home page has no previous chapter; its next one is linked above and below it.
    title = _i18n.chapter_title(CHAPTERS[1][0], "en")
    assert arrows == [f"{title} →", f"{title} →"]


def test_a_step_in_the_url_beyond_the_chapter_is_clamped() -> None:
    at = app(presentation="1", step="99")
    assert at.query_params["step"] == str(len(_lecture.points("home.py")))
    at = app(presentation="1", step="two")
    assert at.query_params["step"] == "1"


# ------------------------------------------------------------------ the step counter


def test_keys_step_through_the_points_then_the_next_chapter() -> None:
    order = [file for file, *_ in CHAPTERS]
    first, second = order[0], order[1]
    n = len(_lecture.points(first))
    walk = [(first, 1)]
    for _ in range(n):
        walk.append(_lecture.move(*walk[-1], +1))
    assert walk == [(first, s) for s in range(1, n + 1)] + [(second, 1)]
    # Back from a chapter's first point: the previous chapter at its last point.
    assert _lecture.move(second, 1, -1) == (first, n)
    # The ends of the lecture stay where they are.
    assert _lecture.move(first, 1, -1) == (first, 1)
    last = order[-1]
    end = len(_lecture.points(last))
    assert _lecture.move(last, end, +1) == (last, end)


def test_outside_presentation_the_keys_move_whole_chapters() -> None:
    order = [file for file, *_ in CHAPTERS]
    assert _lecture.move(order[0], 1, +1, steps=False) == (order[1], 1)
    assert _lecture.move(order[2], 1, -1, steps=False) == (order[1], 1)


def test_missing_chapters_are_skipped() -> None:
    order = [file for file, *_ in CHAPTERS]
    available = [order[0], order[2]]
    n = len(_lecture.points(order[0]))
    assert _lecture.move(order[0], n, +1, available) == (order[2], 1)


def test_every_chapter_has_points_in_the_lectures_order_with_a_target() -> None:
    assert set(_lecture.TARGETS) == {file for file, *_ in CHAPTERS}
    for file in _lecture.TARGETS:
        en, zh = _lecture.points(file, "en"), _lecture.points(file, "zh")
        assert en and len(en) == len(zh), file
        for point, translated in zip(en, zh, strict=True):
            assert re.fullmatch(r"[hc]\d+", point.target), (file, point)
            assert point.target == translated.target
            assert point.text and translated.text, (file, point)
            assert (any("\u4e00" <= ch <= "\u9fff" for ch in translated.text)
                    or translated.text == point.text)


# ------------------------------------------------------------------ the stylesheets


def test_presentation_css_scales_what_stayed_small_and_hides_the_sidebar() -> None:
    css = _presentation.PRESENTATION_CSS
    for hook in ("stWidgetLabel", "stSliderThumbValue", "stTable", "stCaptionContainer",
                 "stRadio", "stExpander", "mamlviz-pseudo-code", "code"):
        assert hook in css, hook
    assert re.search(r'\[data-testid="stSidebar"\][^{]*\{display: none', css)


def test_print_css_hides_the_chrome_and_keeps_charts_whole() -> None:
    css = _presentation.PRINT_CSS
    assert "@page {size: A4" in css
    assert re.search(r'\[data-testid="stSidebar"\][^{]*\{display: none', css)
    assert "break-inside: avoid" in css and ".mamlviz-chart" in css
    keys_js = (_lecture.ASSETS / "keys.js").read_text(encoding="utf-8")
    assert "beforeprint" in keys_js and "afterprint" in keys_js

"""A lecture driven by the keyboard alone, in presentation mode, opened from its URL.

A teacher's bookmark opens a chapter ready to project; a clicker's PageDown and the
arrow keys step through its points, on to the next chapter and back; a reload (or a
new tab of the same URL) comes back in the same mode, language and place.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import streamlit_browser as sb

pytestmark = pytest.mark.browser

CHAPTER = "maml_vs_pretraining"
NEXT = "sinusoid"
STEPS = 4  # the chapter's points (pages/_lecture.py)

# The lecture header's "step/count" and the page's key state (set by keys.js).
HEAD_JS = """() => {
  const point = document.querySelector('.st-key-mamlviz-lecture-head .mamlviz-point');
  return {point: point ? point.innerText : null,
          step: document.documentElement.dataset.mamlvizStep || null,
          sidebar: (() => { const s = document.querySelector('[data-testid="stSidebar"]');
                            return s ? getComputedStyle(s).display : 'absent'; })(),
          label: (() => { const l = document.querySelector(
                    '[data-testid="stMain"] [data-testid="stWidgetLabel"] p');
                  return l ? parseFloat(getComputedStyle(l).fontSize) : null; })()};
}"""


def head(page: Any) -> dict[str, Any]:
    return page.evaluate(HEAD_JS)


def press(page: Any, key: str, expect_step: str) -> None:
    """Press ``key`` with nothing focused (a clicker's key goes to the page) and wait
    for the lecture to reach ``expect_step`` ("file.py:step")."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press(key)
    page.wait_for_function(
        "(want) => document.documentElement.dataset.mamlvizStep === want", arg=expect_step,
        timeout=60_000)
    sb.wait_settled(page)


def test_keyboard_drives_the_lecture_and_a_reload_keeps_its_place(
        server: sb.AppServer, page: Any, screenshot_dir: Path) -> None:
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{server.url}/{CHAPTER}?presentation=1&lang=zh")
    sb.wait_settled(page)
    sb.wait_charts(page)
    start = head(page)
    assert start["point"].startswith(f"1/{STEPS}"), start
    assert start["sidebar"] == "none", "presentation mode hides the sidebar"
    assert start["label"] >= 24, f"widget labels are projected large: {start['label']} px"
    assert re.search(r"[\u4e00-\u9fff]", start["point"]), "?lang=zh was read"

    # Next point (an arrow key), then a clicker's PageDown to the last one.
    press(page, "ArrowRight", f"{CHAPTER}.py:2")
    assert head(page)["point"].startswith(f"2/{STEPS}")
    assert "step=2" in page.url and "presentation=1" in page.url and "lang=zh" in page.url
    for step in range(3, STEPS + 1):
        press(page, "PageDown", f"{CHAPTER}.py:{step}")
    # Past the last point: the next chapter, at its first point, still presenting.
    press(page, "PageDown", f"{NEXT}.py:1")
    assert f"/{NEXT}?" in page.url and "presentation=1" in page.url, page.url
    assert head(page)["point"].startswith("1/")
    # Back: the previous chapter at its last point.
    press(page, "ArrowLeft", f"{CHAPTER}.py:{STEPS}")
    assert f"/{CHAPTER}?" in page.url and f"step={STEPS}" in page.url, page.url

    # A reload is a new session: mode, language and place come from the URL.
    page.reload()
    sb.wait_settled(page)
    sb.wait_charts(page)
    again = head(page)
    assert again["point"].startswith(f"{STEPS}/{STEPS}"), again
    assert again["sidebar"] == "none" and again["label"] >= 24
    assert re.search(r"[\u4e00-\u9fff]", again["point"])
    sb.screenshot(page, screenshot_dir / f"lecture-{CHAPTER}-reloaded.png")
    assert not sb.problems(page) and not page.js_errors, page.js_errors


def test_arrow_keys_on_a_focused_slider_move_the_slider_not_the_lecture(
        server: sb.AppServer, page: Any) -> None:
    page.goto(f"{server.url}/{CHAPTER}?presentation=1")
    sb.wait_settled(page)
    slider = page.locator(sb.SLIDER_INPUT).first
    before = slider.get_attribute("value")
    page.evaluate(sb.WATCH_RUNS_JS)
    slider.focus()
    page.keyboard.press("ArrowLeft" if before == slider.get_attribute("max") else "ArrowRight")
    page.wait_for_function(sb.RUN_FINISHED_JS, timeout=120_000)
    sb.wait_settled(page)
    assert page.locator(sb.SLIDER_INPUT).first.get_attribute("value") != before
    assert head(page)["point"].startswith(f"1/{STEPS}")
    assert f"/{CHAPTER}?" in page.url

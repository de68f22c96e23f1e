"""Faults only a real browser shows: a page URL that does not exist, edited ?lang=, a closed tab.

Each asserts the message (or the absence of one) AND that the rest still works.
The headless half (AppTest) is ``tests/test_faults.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit_browser as sb

pytestmark = pytest.mark.browser

IDLE_S = 3


def _goto_chapter_through_sidebar(page: Any, url_path: str, title: str) -> None:
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{url_path}"]').first.click()
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('[data-testid=\"stMain\"] h1')]"
        ".some(h => h.innerText.includes(t))", arg=title, timeout=90_000)
    sb.wait_settled(page)


def test_a_page_url_that_does_not_exist_says_so_and_opens_home(server: sb.AppServer,
                                                               page: Any) -> None:
    page.goto(f"{server.url}/no_such_chapter")
    sb.wait_settled(page)
    dialog = page.locator('[role="dialog"]')
    dialog.first.wait_for(timeout=30_000)
    assert "Page not found" in dialog.first.inner_text()
    assert "Learning to learn" in page.locator(sb.MAIN + " h1").first.inner_text()
    # Close the notice; the other pages still work in this session.
    page.keyboard.press("Escape")
    dialog.first.wait_for(state="detached", timeout=10_000)
    _goto_chapter_through_sidebar(page, "sinusoid", "Toy example: sinusoids, live")
    sb.wait_charts(page)
    assert not sb.problems(page), sb.problems(page)
    assert not page.js_errors, page.js_errors


@pytest.mark.parametrize("value", ["xx", "-99999999999999999999", "%00%ff", "zh" * 300])
def test_an_edited_lang_parameter_opens_english(server: sb.AppServer, page: Any,
                                                value: str) -> None:
    page.goto(f"{server.url}/maml_vs_pretraining?lang={value}")
    sb.wait_settled(page)
    sb.wait_charts(page)
    assert "MAML versus" in page.locator(sb.MAIN + " h1").first.inner_text()
    assert not sb.problems(page), sb.problems(page)
    assert not page.js_errors, page.js_errors


@pytest.fixture
def idle_server(browser_available: None, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[sb.AppServer]:
    """A server that trains one run at a time and stops runs nobody watches after 3 s."""
    monkeypatch.setenv("MAMLVIZ_IDLE_TIMEOUT", str(IDLE_S))
    monkeypatch.setenv("MAMLVIZ_MAX_TRAINING", "1")
    with sb.app_server(log_dir=tmp_path) as server:
        yield server


def _start_training(page: Any, url: str, iterations: int) -> None:
    page.goto(f"{url}/sinusoid")
    sb.wait_settled(page)
    field = page.locator('[data-testid="stNumberInput"] input[aria-label="meta-iterations"]')
    field.fill(str(iterations))
    field.press("Enter")
    page.wait_for_function(
        "(n) => document.querySelector('[data-testid=\"stNumberInput\"] "
        "input[aria-label=\"meta-iterations\"]').value === String(n)", arg=iterations)
    sb.wait_settled(page)
    page.get_by_role("button", name="Train", exact=True).click()


RUNNING_JS = """() => [...document.querySelectorAll('[data-testid="stMain"] table td')]
  .some(td => td.innerText.trim() === 'running')"""
QUEUED_JS = """() => document.querySelector('[data-testid="stMain"]').innerText
  .includes('Waiting for a free training slot')"""


def test_a_closed_tab_frees_its_training_slot(idle_server: sb.AppServer, browser: Any) -> None:
    contexts = [browser.new_context(viewport=sb.VIEWPORT, locale="en-US") for _ in range(2)]
    try:
        first, second = (c.new_page() for c in contexts)
        for tab in (first, second):
            tab.set_default_timeout(90_000)
        _start_training(first, idle_server.url, 70_000)  # far longer than the test
        first.wait_for_function(RUNNING_JS, timeout=90_000)
        assert "stops after 3 s" in first.locator(sb.MAIN).inner_text()

        # While the first tab trains, a second one waits in line: the slot is taken.
        _start_training(second, idle_server.url, 70_000)
        second.wait_for_function(QUEUED_JS, timeout=60_000)
        assert "number 1 in line" in second.locator(sb.MAIN).inner_text()
        contexts[1].close()

        contexts[0].close()  # the student closes the tab mid-run
        time.sleep(IDLE_S + 4)  # the run notices nobody watches, stops and leaves the queue

        third_context = browser.new_context(viewport=sb.VIEWPORT, locale="en-US")
        contexts.append(third_context)
        third = third_context.new_page()
        third.set_default_timeout(90_000)
        _start_training(third, idle_server.url, 50)
        third.wait_for_function("() => (" + RUNNING_JS + ")() || [...document.querySelectorAll("
                                "'[data-testid=\"stMain\"] table td')].some(td => "
                                "td.innerText.trim() === 'done')", timeout=90_000)
        text = third.locator(sb.MAIN).inner_text()
        assert "Waiting for a free training slot" not in text, text[:2000]
        assert not sb.problems(third), sb.problems(third)
    finally:
        for context in contexts:
            try:
                context.close()
            except Exception:  # noqa: BLE001  (already closed)
                pass

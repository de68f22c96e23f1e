"""Fixtures for the real-browser tests: one app server and one chromium per session.

Without playwright or chromium these tests skip locally, but fail in CI
(``CI`` or ``MAMLVIZ_REQUIRE_BROWSER`` set, as ``.ci/run`` does): a browser
test that silently never runs is worse than none.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit_browser as sb


def _required() -> bool:
    return any(os.environ.get(name, "").lower() not in ("", "0", "false", "no")
               for name in ("CI", "MAMLVIZ_REQUIRE_BROWSER"))


@pytest.fixture(scope="session")
def browser_available() -> None:
    reason = sb.missing_browser()
    if reason is None:
        return
    if _required():
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    folder = Path(os.environ.get("MAMLVIZ_SCREENSHOTS", sb.ROOT / "artifacts" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def server(browser_available: None, tmp_path_factory: pytest.TempPathFactory,
           omniglot_found: tuple[Path | None, str]) -> Iterator[sb.AppServer]:
    folder, _ = omniglot_found  # the data the tests found, wherever they found it
    app = sb.AppServer(log_dir=tmp_path_factory.mktemp("server"), omniglot=folder).start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="session")
def browser(browser_available: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = sb.launch_browser(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (a new Streamlit session) with its JS errors collected."""
    context = browser.new_context(viewport=sb.VIEWPORT, locale="en-US")
    context.set_default_timeout(60_000)
    tab = context.new_page()
    tab.js_errors = []  # type: ignore[attr-defined]
    tab.on("pageerror", lambda exc: tab.js_errors.append(str(exc)))  # type: ignore[attr-defined]
    try:
        yield tab
    finally:
        context.close()

"""Every chapter in a real browser: it renders, a slider reruns it, nothing breaks.

For each page of the router (read from ``CHAPTERS``, so new chapters are
covered) and each language: open its URL, wait for the content and the charts,
move the first slider one step, wait for the rerun and the charts again, find no
exception, no error alert and no JavaScript error, and save a full-page
screenshot (``$MAMLVIZ_SCREENSHOTS`` or ``artifacts/screenshots``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import streamlit_browser as sb

pytestmark = pytest.mark.browser

CHAPTERS = sb.chapters()


def move_first_slider(page: Any) -> str | None:
    """Press one arrow key on the main area's first slider; its new value, or None."""
    sliders = page.locator(sb.SLIDER_INPUT)
    if sliders.count() == 0:
        return None
    slider = sliders.first
    before = slider.get_attribute("value")
    at_max = before == slider.get_attribute("max")
    page.evaluate(sb.WATCH_RUNS_JS)
    slider.focus()
    page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
    page.wait_for_function(sb.RUN_FINISHED_JS, timeout=120_000)
    after = slider.get_attribute("value") if sliders.count() else None
    assert after != before, f"the slider did not move (value {before})"
    return after


@pytest.mark.parametrize("lang", sb.LANGS)
@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.name for c in CHAPTERS])
def test_page_renders_and_reruns(server: sb.AppServer, page: Any, screenshot_dir: Path,
                                 chapter: sb.Chapter, lang: str) -> None:
    page.goto(server.page_url(chapter, lang))
    sb.wait_settled(page)
    title = chapter.title(lang)
    # The router ran: the sidebar lists the chapter under its title in this language.
    sidebar = page.locator('[data-testid="stSidebarNav"]')
    assert title in sidebar.inner_text(), f"sidebar does not list {title!r}"
    charts = sb.wait_charts(page)

    moved = move_first_slider(page)
    if moved is not None:
        sb.wait_settled(page)
        assert sb.wait_charts(page) >= charts, "a chart disappeared after the slider moved"

    sb.screenshot(page, screenshot_dir / f"{chapter.name}-{lang}.png")
    shown = sb.problems(page)
    assert not shown, f"{chapter.file} ({lang}) shows: {shown}\nserver log:\n{server.log()}"
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"


# Per chart: the title's font size, and whether the whole legend shows: a legend taller
# than its room gets a scrollbar and hides its last entries below its frame.
CHART_TEXT_JS = """() => [...document.querySelectorAll('.mamlviz-chart .js-plotly-plot')].map(g => {
  const title = g.querySelector('.gtitle');
  const frame = g.querySelector('.legend .bg');
  const bar = g.querySelector('.legend .scrollbar');
  const items = [...g.querySelectorAll('.legend .traces')].map(t => t.getBoundingClientRect());
  const bottom = frame ? frame.getBoundingClientRect().bottom : Infinity;
  return {title: title ? parseFloat(getComputedStyle(title).fontSize) : null,
          legend_inside: items.every(r => r.bottom <= bottom + 1)
                         && !(bar && parseFloat(bar.getAttribute('height') || '0') > 0)};
})"""


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c.file != "more.py"],  # no charts
                         ids=lambda c: c.name)
def test_presentation_mode_enlarges_every_chart(server: sb.AppServer, page: Any,
                                                screenshot_dir: Path, chapter: sb.Chapter,
                                                request: pytest.FixtureRequest) -> None:
    """A teacher turns on presentation mode: the same page, its charts redrawn larger,
    every legend entry still on the chart, nothing broken."""
    if chapter.file == "omniglot.py":  # without the data it shows the download, no chart
        request.getfixturevalue("omniglot_source")
    page.goto(server.page_url(chapter))
    sb.wait_settled(page)
    sb.wait_charts(page)
    before = page.evaluate(CHART_TEXT_JS)
    page.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode").click()
    assert any(b["title"] for b in before), "no chart title to compare"
    # Every chart with a title redrew it larger (charts without one, image grids, are
    # compared by their legends only).
    page.wait_for_function(
        "(before) => { const now = (" + CHART_TEXT_JS + ")();"
        " return now.length === before.length"
        " && now.every((a, i) => !before[i].title || a.title > before[i].title); }",
        arg=before, timeout=60_000)
    sb.wait_settled(page)  # its first element is the page's own, not an empty style block
    sb.wait_charts(page)
    after = page.evaluate(CHART_TEXT_JS)
    assert all(a["title"] > b["title"] for a, b in zip(after, before) if b["title"])
    assert all(a["legend_inside"] for a in after), after
    sb.screenshot(page, screenshot_dir / f"{chapter.name}-presentation.png")
    assert not sb.problems(page) and not page.js_errors


# Installed before the app's own scripts: every text the sidebar's page list shows, from
# the first frame on (a list shown for one frame and replaced is still recorded).
NAV_SEEN_JS = """(() => {
  window.__mvNavSeen = [];
  new MutationObserver(() => {
    const nav = document.querySelector('[data-testid="stSidebarNav"]');
    const seen = window.__mvNavSeen;
    if (nav && seen[seen.length - 1] !== nav.innerText) seen.push(nav.innerText);
  }).observe(document, {subtree: true, childList: true, characterData: true});
})();"""


def _not_chapters(shown: list[str]) -> list[str]:
    """The entries of the page lists shown that are not the router's chapters (a line
    without a word character is a chapter's emoji icon)."""
    titles = {title for chapter in CHAPTERS for _, title in chapter.titles}
    lines = {line.strip() for text in shown for line in text.splitlines()}
    return sorted(line for line in lines
                  if re.search(r"\w", line) and line not in titles
                  and not re.fullmatch(r"View (\d+ )?(more|less)", line))


@pytest.mark.parametrize("first", ["home", "chapter"])
def test_a_fresh_servers_first_visit_shows_only_the_routers_chapters(
        browser_available: None, page: Any, tmp_path: Path, first: str) -> None:
    """A fresh server's first visitor, at the root or straight at a chapter's URL, gets
    the app's shell, and its sidebar never lists anything but the router's chapters.

    Until some session has called ``st.navigation``, Streamlit is in its legacy
    ``pages/`` mode: it lists every file in ``pages/`` (helpers too) and runs a
    chapter's URL as ``pages/<chapter>.py`` alone. The config hides that list and the
    chapter leaves the mode (``_ui.through_the_router``).
    """
    chapter = next(c for c in CHAPTERS if c.file != "home.py")
    shown = chapter if first == "chapter" else next(c for c in CHAPTERS if c.file == "home.py")
    page.add_init_script(NAV_SEEN_JS)
    with sb.app_server(log_dir=tmp_path) as fresh:
        page.goto(fresh.page_url(shown))
        sb.wait_settled(page)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stSidebar\"]')"
            ".innerText.includes('Language / 语言')", timeout=60_000)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert chapter.en in nav and "ui" not in nav.split(), nav
        seen = page.evaluate("() => window.__mvNavSeen")
        assert seen and chapter.en in seen[-1], seen  # the observer saw the chapters
        assert _not_chapters(seen) == [], seen
        assert not sb.problems(page)


# Evaluated in a page of the app: the trace types a plotly.js bundle registers, loaded
# the way a CommonJS module is (its header exports to ``module`` when there is one).
BUNDLE_TRACES_JS = """async (url) => {
  const response = await fetch(url);
  if (!response.ok) return {status: response.status};
  const module = {exports: {}};
  new Function("module", "exports", await response.text())(module, module.exports);
  return {status: response.status,
          traces: Object.keys(module.exports.PlotSchema.get().traces)};
}"""


@pytest.mark.parametrize("bundle", ["basic", "cartesian", "full"])
def test_the_server_serves_each_plotly_bundle_with_the_traces_the_app_relies_on(
        server: sb.AppServer, page: Any, bundle: str) -> None:
    from pages import _chart

    page.goto(server.url)
    sb.wait_settled(page)
    found = page.evaluate(BUNDLE_TRACES_JS, _chart.bundle_url(bundle))
    assert found["status"] == 200
    expected = _chart.TRACES.get(bundle, _chart.TRACES["cartesian"])
    assert expected <= set(found["traces"]), f"{bundle} lacks {expected - set(found['traces'])}"

"""Layout as a tested property: every chart of every chapter, at a projector's 1920x1080
and a laptop's 1366x768, normal and presentation mode.

Measured in the page (``layout_probe``): the plot area is at least half the chart, a
plot drawn to scale fills its plot area's height or width, no text overlaps another
(title, axis titles, tick labels, legend, annotations) and the modebar covers no
legend. One server; one browser context per size and mode, reused for every chapter.
"""

from __future__ import annotations

from typing import Any

import layout_probe as lp
import pytest
import streamlit_browser as sb

pytestmark = pytest.mark.browser

SIZES = [{"width": 1920, "height": 1080}, {"width": 1366, "height": 768}]
CHAPTERS = [c for c in sb.chapters() if c.file != "more.py"]  # more.py draws no chart


def _presentation_on(page: Any) -> None:
    """Presentation mode, by its sidebar toggle (a new page is a new session)."""
    page.locator('[data-testid="stSidebar"]').get_by_text("Presentation mode").click()
    page.wait_for_timeout(800)
    sb.wait_settled(page)


@pytest.mark.parametrize("presentation", [False, True], ids=["normal", "presentation"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s['width']}x{s['height']}")
def test_every_chart_is_laid_out_for_the_room(server: sb.AppServer, browser: Any,
                                              size: dict[str, int], presentation: bool) -> None:
    context = browser.new_context(viewport=size, locale="en-US")
    context.set_default_timeout(120_000)
    page = context.new_page()
    found: list[str] = []
    measured = 0
    try:
        for chapter in CHAPTERS:
            page.goto(server.page_url(chapter))
            sb.wait_settled(page)
            sb.wait_charts(page)
            if presentation:
                _presentation_on(page)
                sb.wait_charts(page)
            page.wait_for_timeout(300)  # plotly.js's automargin redraw
            for chart in page.evaluate(lp.MEASURE_JS):
                if chart is None:
                    continue
                measured += 1
                found += [f"{chapter.name}: {fault}" for fault in lp.faults(chart)]
    finally:
        context.close()
    assert measured >= len(CHAPTERS), f"only {measured} charts measured"
    assert not found, "\n".join(found)

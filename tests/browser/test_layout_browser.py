"""Layout as a tested property: every chart of every chapter, at a projector's 1920x1080
and a laptop's 1366x768, normal and presentation mode (and the laptop in Chinese).

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


# Every size and mode in English, and the laptop in Chinese too: its labels take other
# widths where room is shortest (two charts side by side at 1366 pixels).
CASES = [(size, presentation, "en") for size in SIZES for presentation in (False, True)]
CASES.append((SIZES[1], False, "zh"))


@pytest.mark.parametrize(("size", "presentation", "lang"), CASES,
                         ids=[f"{s['width']}x{s['height']}-{'presentation' if p else 'normal'}"
                              f"-{lang}" for s, p, lang in CASES])
def test_every_chart_is_laid_out_for_the_room(server: sb.AppServer, browser: Any,
                                              size: dict[str, int], presentation: bool,
                                              lang: str) -> None:
    context = browser.new_context(viewport=size, locale="en-US")
    context.set_default_timeout(120_000)
    page = context.new_page()
    found: list[str] = []
    measured = 0
    try:
        for chapter in CHAPTERS:
            page.goto(server.page_url(chapter, lang))
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


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _pixels(page: Any, box: dict[str, float]) -> Any:
    import io

    from PIL import Image

    shot = page.screenshot(clip=box)
    return Image.open(io.BytesIO(shot)).convert("RGB")


def test_dark_theme_keeps_slider_tracks_toggles_and_radio_rings_visible(server: sb.AppServer,
                                                                browser: Any) -> None:
    """The dark theme inverts the page: a slider's unfilled track and an unselected
    radio's ring came out black on black. Measured in the pixels drawn, against the
    page beside them: a contrast of at least 3 (WCAG's for controls)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    context.set_default_timeout(120_000)
    page = context.new_page()
    try:
        page.goto(f"{server.url}/maml_vs_pretraining?presentation=1&theme=dark")
        sb.wait_settled(page)
        sb.wait_charts(page)
        # "inner steps" starts at its minimum: its whole track is the unfilled part.
        track = page.locator('[data-testid="stSlider"]').filter(has_text="inner steps") \
            .locator('[role="group"] > div > div:first-child').first
        track.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        t = track.bounding_box()
        assert t is not None and t["height"] > 0
        left = t["x"] + t["width"] * 0.6  # right of the thumb
        image = _pixels(page, {"x": left, "y": t["y"] - 12, "width": 20,
                               "height": t["height"] + 12})
        beside, on_track = image.getpixel((10, 2)), image.getpixel((10, image.height - 3))
        assert _contrast(on_track, beside) >= 3, (on_track, beside)
        # The second choice of the first radio is unselected; its ring is the first box
        # in its label (a scroll first: the page scrolls inside Streamlit's main area).
        r = page.evaluate("""() => {
          const label = document.querySelectorAll(
            '[data-testid="stMain"] [data-testid="stRadio"] [role="radiogroup"] label')[1];
          const ring = label.querySelector(':scope > div > div');
          ring.scrollIntoView({block: 'center'});
          const b = ring.getBoundingClientRect();
          return {x: b.left, y: b.top, width: b.width, height: b.height};
        }""")
        page.wait_for_timeout(300)
        assert r is not None and r["width"] > 0
        image = _pixels(page, {"x": r["x"] - 4, "y": r["y"], "width": r["width"] + 8,
                               "height": r["height"]})
        mid = image.height // 2
        row = [image.getpixel((x, mid)) for x in range(image.width)]
        outside = row[0]
        assert max(_contrast(px, outside) for px in row) >= 3, row
        # A toggle that is off (the sidebar's presentation mode, outside presentation
        # mode): its track against the sidebar just left of it.
        page.goto(f"{server.url}/maml_vs_pretraining?theme=dark")
        sb.wait_settled(page)
        track = page.locator('[data-testid="stSidebar"] label', has_text="Presentation mode") \
            .locator(':scope > div:not([data-testid])').first
        b = track.bounding_box()
        assert b is not None and b["width"] > 0
        image = _pixels(page, {"x": b["x"] - 8, "y": b["y"], "width": b["width"] + 8,
                               "height": b["height"]})
        beside = image.getpixel((2, image.height // 2))
        on_track = image.getpixel((8 + round(b["width"] * 0.8), image.height // 2))
        assert _contrast(on_track, beside) >= 3, (on_track, beside)
    finally:
        context.close()

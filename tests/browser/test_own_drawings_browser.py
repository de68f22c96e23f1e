"""A student draws five symbols and a sixth like the first with the mouse; every shipped
5-way model answers under the canvases (``pages/_drawing.py``, ``mamlviz.own_drawings``)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import streamlit_browser as sb

# Five strokes a hand might make, in the canvas's unit square; the query redraws the first.
STROKES = [
    [[(0.5 + 0.3 * math.cos(a / 10), 0.5 + 0.3 * math.sin(a / 10)) for a in range(64)]],
    [[(0.2, 0.2), (0.8, 0.8)], [(0.2, 0.8), (0.8, 0.2)]],
    [[(0.15, 0.5), (0.85, 0.5)]],
    [[(0.5, 0.15), (0.5, 0.85)]],
    [[(0.2, 0.3), (0.4, 0.7), (0.6, 0.3), (0.8, 0.7)]],
]


def _draw(page: Any, box: dict[str, float], strokes: list[list[tuple[float, float]]]) -> None:
    for points in strokes:
        (x, y), *rest = points
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=3)
        page.mouse.up()


def test_the_models_name_the_class_of_a_redrawn_symbol(server: sb.AppServer, page: Any,
                                                      omniglot_source: Path,
                                                      screenshot_dir: Path) -> None:
    sb.open_chapter(page, server, "omniglot.py")
    canvases = page.locator(".mamlviz-drawing canvas")
    canvases.nth(5).wait_for(timeout=60_000)  # v2 components draw after the run's end
    assert canvases.count() == 6
    for i, strokes in enumerate([*STROKES, STROKES[0]]):
        canvases.nth(i).scroll_into_view_if_needed()
        _draw(page, canvases.nth(i).bounding_box(), strokes)
        page.wait_for_timeout(1000)
        sb.wait_settled(page)
    table = page.locator("table", has_text="probability")
    table.wait_for(timeout=60_000)
    rows = {r.split("\t")[0]: r.split("\t")[1:] for r in table.inner_text().splitlines()[1:]}
    assert rows["MAML"][0] == "class 0", rows
    assert sum(said == "class 0" for said, _ in rows.values()) >= len(rows) - 1, rows
    page.screenshot(path=str(screenshot_dir / "omniglot-own-drawings.png"))
    # Clearing a box takes the answers away until it is drawn again.
    page.locator(".mamlviz-drawing button").nth(5).click()
    sb.wait_settled(page)
    table.wait_for(state="detached", timeout=60_000)

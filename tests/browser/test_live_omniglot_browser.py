"""Omniglot, live, in a real browser: Train on the page's own defaults (``mamlviz.live_omniglot``)
and the testing accuracy in the status table climbs while the chart streams.

The speed goal (MAML 5-way 1-shot at 90% within 60 s of one CPU thread) is the
benchmark's, ``benchmarks/bench_live_omniglot.py``, on a quiet machine. Here the browser,
the server and the training share two cores, and the page scores 8 testing episodes every
10 meta-iterations: the bar is lower and the time longer.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import streamlit_browser as sb

# % testing accuracy: the live defaults score about 82% on 100 testing tasks after 150
# meta-iterations and 90% after 300 to 350 (benchmarks/README.md), and a run ends after
# 500. ``MAMLVIZ_LIVE_BAR=90`` shows the page reach 90%.
BAR = float(os.environ.get("MAMLVIZ_LIVE_BAR", "80"))
WITHIN_S = float(os.environ.get("MAMLVIZ_LIVE_WITHIN_S", "300"))


def _accuracies(page: Any) -> list[float]:
    """The testing accuracy column of the live panel's status table (one row a model)."""
    found = []
    for table in page.locator(f"{sb.MAIN} table").all():
        head = [h.strip().lower() for h in table.locator("th").all_inner_texts()]
        if "testing accuracy (%)" not in head:
            continue
        column = head.index("testing accuracy (%)")
        for row in table.locator("tbody tr").all():
            cells = row.locator("td").all_inner_texts()
            if len(cells) > column and re.fullmatch(r"\d+(\.\d+)?", cells[column].strip()):
                found.append(float(cells[column]))
    return found


def test_live_training_on_the_defaults_learns(server: sb.AppServer, page: Any,
                                              omniglot_source: Path,
                                              screenshot_dir: Path) -> None:
    sb.open_chapter(page, server, "omniglot.py")
    page.get_by_role("button", name="Train", exact=True).click()
    started = time.monotonic()
    best: list[float] = []
    while time.monotonic() - started < WITHIN_S:
        page.wait_for_timeout(2000)
        best = _accuracies(page) or best
        if best and max(best) >= BAR:
            break
    elapsed = time.monotonic() - started
    # The server is shared by the later tests: its training thread stops with the run.
    page.get_by_role("button", name="Stop", exact=True).click()
    sb.wait_settled(page)
    print(f"best testing accuracy {max(best, default=0.0)}% after {elapsed:.0f} s")
    page.locator(f"{sb.MAIN} table").last.scroll_into_view_if_needed()
    sb.screenshot(page, screenshot_dir / f"omniglot-live-training-{BAR:.0f}.png")
    assert best, "the status table never showed a testing accuracy"
    assert max(best) >= BAR, f"best testing accuracy {max(best)}% after {elapsed:.0f} s"
    # One model by default (MAML), and the run is still live or done, not failed.
    main = page.locator(sb.MAIN).inner_text().lower()
    assert "failed" not in main and "diverged" not in main, main[-800:]
    assert not sb.problems(page), sb.problems(page)
    assert not page.js_errors, page.js_errors

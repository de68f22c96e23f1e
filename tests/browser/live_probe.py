"""Watching the live training chart in a real browser: updates, blank frames, remounts.

The chart is the ``live_chart`` component (an iframe that keeps one Plotly div
and calls ``Plotly.react``). Inside that iframe a ``requestAnimationFrame`` loop
counts every painted frame and the "blank" ones, where the chart had been drawn
before but shows no SVG or no curve now (what a remount or a from-scratch
redraw looks like). In the page, a ``MutationObserver`` counts how many chart
iframes were ever inserted (1 means the chart was never remounted).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit_browser as sb

IFRAME = 'iframe[title*="live_chart"]'

# In the page: count live-chart iframes as they are inserted.
WATCH_IFRAMES_JS = """() => {
  const selector = 'IFRAME_SELECTOR';
  window.__liveIframes = document.querySelectorAll(selector).length;
  new MutationObserver(records => {
    for (const r of records) for (const n of r.addedNodes) {
      if (n.nodeType !== 1) continue;
      if (n.matches && n.matches(selector)) window.__liveIframes += 1;
      if (n.querySelectorAll) window.__liveIframes += n.querySelectorAll(selector).length;
    }
  }).observe(document.body, {childList: true, subtree: true});
}""".replace("IFRAME_SELECTOR", IFRAME)

# Inside the component's iframe: paint counter and blank-frame detector.
WATCH_FRAMES_JS = """() => {
  if (window.__probe) return;
  const probe = window.__probe = {frames: 0, blank: 0, drawn: false, firstCurveAt: null};
  function hasCurve() {
    const paths = document.querySelectorAll('#live-chart .scatterlayer .trace path.js-line');
    for (const p of paths) { const d = p.getAttribute('d'); if (d && d.length > 2) return true; }
    return false;
  }
  function tick() {
    probe.frames += 1;
    const svg = document.querySelector('#live-chart .main-svg');
    const curve = svg && hasCurve();
    if (curve && !probe.drawn) { probe.drawn = true; probe.firstCurveAt = Date.now(); }
    if (probe.drawn && !curve) probe.blank += 1;
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
}"""

READ_FRAMES_JS = """() => Object.assign({updates: window.__liveChartUpdates || 0},
                                        window.__probe)"""


@dataclass
class LiveChartStats:
    seconds_to_first_point: float
    updates: int
    seconds: float
    updates_per_s: float
    frames: int
    blank_frames: int
    iframes_inserted: int


def live_frame(page: Any, timeout_s: float = 60.0) -> Any:
    """The live chart component's frame, once the page has inserted it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if "live_chart" in frame.url:
                return frame
        page.wait_for_timeout(20)
    raise TimeoutError("the live training chart never appeared")


def train_and_watch(page: Any, url: str, watch_s: float = 8.0, iterations: int = 4000,
                    train_label: str = "Train") -> LiveChartStats:
    """Open the sinusoid page, press Train, and watch the streaming chart for ``watch_s``."""
    page.goto(url)
    sb.wait_settled(page)
    sb.wait_charts(page)  # a student presses Train on a page that has drawn
    iterations_input = page.get_by_label("meta-iterations", exact=False)
    if iterations_input.count():
        iterations_input.first.fill(str(iterations))
        iterations_input.first.press("Enter")
        sb.wait_settled(page)
    page.evaluate(WATCH_IFRAMES_JS)
    clicked_at = time.time()
    page.get_by_role("button", name=train_label, exact=True).click()
    frame = live_frame(page)
    frame.wait_for_function("() => typeof Plotly !== 'undefined'", timeout=60_000)
    frame.evaluate(WATCH_FRAMES_JS)
    frame.wait_for_function("() => window.__probe && window.__probe.drawn", timeout=60_000)
    first = frame.evaluate(READ_FRAMES_JS)
    start_updates, start = first["updates"], time.monotonic()
    page.wait_for_timeout(watch_s * 1000)
    end = frame.evaluate(READ_FRAMES_JS)
    seconds = time.monotonic() - start
    return LiveChartStats(
        seconds_to_first_point=first["firstCurveAt"] / 1000 - clicked_at,
        updates=end["updates"] - start_updates, seconds=seconds,
        updates_per_s=(end["updates"] - start_updates) / seconds,
        frames=end["frames"], blank_frames=end["blank"],
        iframes_inserted=page.evaluate("() => window.__liveIframes"))

"""Responsiveness of the app in a real browser (issue: the app). A benchmark, not a test.

Goals, on the 2-core machine:
1. a slider change on the 1-D landscape page (pages/maml_vs_pretraining.py)
   shows its new figure in the browser within 300 ms (median of 20 changes);
2. the first paint of each page is within 2 s.

Starts ``streamlit run streamlit_app.py`` on a free port and drives Debian's
chromium through Playwright (see tests/browser/streamlit_browser.py).

First paint: from navigation start (``performance.timeOrigin``) to the first
frame in which the page's content is shown and, on a page with charts, its
first Plotly chart is drawn. Two earlier marks are reported beside it: the
browser's own first contentful paint (``first-contentful-paint``, Streamlit's
shell) and the first frame with an element of the chapter's content. Measured
in the page, every animation frame, by a script injected before the page loads.
Each page is opened ``--visits`` times as a new Streamlit session in two ways:
in a new browser (a new context, HTTP cache empty: Streamlit's JavaScript chunks
and plotly.js load and compile again) and in a new tab of a browser that has
opened the app before.
The first visit to a page also fills its server-side caches. The server's very
first session (Python imports) is reported apart as ``cold_start_ms``. In-app
navigation: a click on each chapter in the sidebar, in one session, to the
first frame with the new page's title and, where it has charts, a new chart.

Slider: the "inner learning rate α" slider is moved by one step (ArrowRight) 20
times, each to a value not seen before (no cache hits); the time runs from the
key's ``keydown`` in the page to the first animation frame in which the
landscape chart's drawn SVG (trace paths, markers, annotations) differs.

Usage: python benchmarks/bench_responsiveness.py [--changes 20] [--visits 3]
       [--lang en] [--json FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import streamlit_browser as sb  # noqa: E402

SLIDER_PAGE = "maml_vs_pretraining.py"
SLIDER_LABEL = {"en": "inner learning rate α", "zh": "内层学习率 α"}

# Injected before any page script: per animation frame, note when content and
# the first chart first appear.
MARKS_JS = """
window.__mvMarks = {content: null, chart: null};
(function tick() {
  const m = window.__mvMarks;
  const now = performance.now();
  if (m.content === null) {
    const el = document.querySelector('[data-testid="stMainBlockContainer"] '
                                      + '[data-testid="stElementContainer"]');
    if (el && el.getBoundingClientRect().height > 0) m.content = now;
  }
  if (m.chart === null) {
    const svg = document.querySelector('.mamlviz-chart .js-plotly-plot .main-svg');
    if (svg && svg.getBoundingClientRect().width > 0) m.chart = now;
  }
  if (m.content === null || m.chart === null) requestAnimationFrame(tick);
})();
"""

SIGNATURE = sb.FIGURE_SIGNATURE_JS



# Arm before a click on the sidebar: the click time, then the first frame with the
# next page's title (a new h1) and the first frame with a chart that differs from
# every chart shown before the click (React may reuse a chart's node).
NAV_ARM_JS = """() => {
  const signature = SIGNATURE_FN;
  const charts = () => document.querySelectorAll('.mamlviz-chart .js-plotly-plot');
  const title = () => {
    const h = document.querySelector('[data-testid="stMain"] h1');
    return h ? h.innerText : null;
  };
  const oldTitle = title();
  const oldCharts = new Set([...charts()].map((_, i) => signature(i)));
  const w = window;
  w.__mvNav = {click: null, content: null, chart: null};
  document.addEventListener('click', () => {
    if (w.__mvNav.click === null) w.__mvNav.click = performance.now();
  }, {capture: true, once: true});
  (function tick() {
    const m = w.__mvNav;
    const now = performance.now();
    if (m.click !== null) {
      if (m.content === null && title() !== null && title() !== oldTitle) m.content = now;
      if (m.chart === null && [...charts()].some((g, i) => g.querySelector('.main-svg')
          && !oldCharts.has(signature(i)))) m.chart = now;
      if (m.content !== null && m.chart !== null) return;
    }
    requestAnimationFrame(tick);
  })();
}""".replace("SIGNATURE_FN", SIGNATURE)


def in_app_navigation(browser: Any, server: sb.AppServer, chapters: list[sb.Chapter],
                      lang: str, charts: dict[str, int]) -> dict[str, float | None]:
    """Click each chapter in the sidebar, in the lecture's order, in one session."""
    context, page = open_page(browser, server.page_url(chapters[-1], lang))
    times: dict[str, float | None] = {}
    try:
        for chapter in chapters:
            page.wait_for_timeout(300)
            page.evaluate(NAV_ARM_JS)
            link = page.locator('[data-testid="stSidebarNavLink"]').filter(
                has_text=chapter.title(lang))
            link.click()
            page.wait_for_function("() => window.__mvNav.content !== null", timeout=60_000)
            if charts.get(chapter.name):
                page.wait_for_function("() => window.__mvNav.chart !== null", timeout=60_000)
            sb.wait_settled(page)
            sb.wait_charts(page)
            nav = page.evaluate("() => window.__mvNav")
            end = nav["chart"] if charts.get(chapter.name) else nav["content"]
            times[chapter.name] = end - nav["click"]
        return times
    finally:
        context.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def open_page(browser: Any, url: str, context: Any = None) -> tuple[Any, Any]:
    """A new session on ``url``: in a new browser context (empty HTTP cache) or ``context``."""
    context = context or browser.new_context(viewport=sb.VIEWPORT)
    context.add_init_script(MARKS_JS)
    page = context.new_page()
    page.goto(url)
    sb.wait_settled(page)
    sb.wait_charts(page)
    return context, page


def first_paint(browser: Any, url: str, context: Any = None) -> dict[str, float | int | None]:
    """First paint of a new session; a new browser unless ``context`` (a new tab) is given."""
    own, page = open_page(browser, url, context)
    try:
        marks = page.evaluate("() => window.__mvMarks")
        fcp = page.evaluate("() => (performance.getEntriesByName('first-contentful-paint')[0]"
                            " || {startTime: null}).startTime")
        charts = page.locator(sb.CHART_SLOT).count()
        paint = marks["chart"] if charts else marks["content"]
        return {"first_paint_ms": paint, "fcp_ms": fcp, "content_ms": marks["content"],
                "first_chart_ms": marks["chart"], "charts": charts,
                "problems": len(sb.problems(page))}
    finally:
        page.close()
        if context is None:
            own.close()


def slider_latencies(browser: Any, server: sb.AppServer, chapter: sb.Chapter, lang: str,
                     changes: int) -> list[float]:
    context, page = open_page(browser, server.page_url(chapter, lang))
    try:
        slider = page.locator('[data-testid="stSlider"]').filter(
            has_text=SLIDER_LABEL[lang]).locator('input[type="range"]')
        latencies = []
        for _ in range(changes):
            page.wait_for_timeout(300)  # a person's pause between key presses
            before = slider.get_attribute("value")
            page.evaluate(sb.WATCH_RUNS_JS)
            page.evaluate(sb.ARM_JS)
            slider.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function("() => window.__mvDrawn !== null", timeout=60_000)
            page.wait_for_function(sb.RUN_FINISHED_JS, timeout=60_000)
            sb.wait_settled(page)
            key, drawn = page.evaluate("() => [window.__mvKey, window.__mvDrawn]")
            after = slider.get_attribute("value")
            if after == before:
                raise RuntimeError(f"the slider did not move from {before}")
            latencies.append(drawn - key)
        if sb.problems(page):
            raise RuntimeError(f"the page shows errors: {sb.problems(page)}")
        return latencies
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--visits", type=int, default=3, help="sessions per page")
    parser.add_argument("--lang", choices=sb.LANGS, default="en")
    parser.add_argument("--json", default=str(ROOT / "artifacts" / "responsiveness.json"))
    args = parser.parse_args()
    reason = sb.missing_browser()
    if reason:
        sys.exit(reason)
    from playwright.sync_api import sync_playwright

    chapters = sb.chapters()
    result: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "lang": args.lang, "pages": {},
    }
    with sb.app_server() as server, sync_playwright() as playwright:
        browser = sb.launch_browser(playwright)
        started = time.perf_counter()
        cold = first_paint(browser, server.page_url(chapters[0], args.lang))
        result["cold_start_ms"] = cold["first_paint_ms"]
        print(f"cold start (server's first session, {chapters[0].name}): "
              f"{cold['first_paint_ms']:.0f} ms", flush=True)
        print(f"{'page':<24}{'charts':>7}  first paint (ms): new browser x{args.visits} | "
              f"new tab x{args.visits}", flush=True)
        tabs = browser.new_context(viewport=sb.VIEWPORT)  # one browser, its HTTP cache warm
        first_paint(browser, server.page_url(chapters[0], args.lang), tabs)
        for chapter in chapters:
            url = server.page_url(chapter, args.lang)
            visits = [first_paint(browser, url) for _ in range(args.visits)]
            tab_visits = [first_paint(browser, url, tabs) for _ in range(args.visits)]
            paints = [float(v["first_paint_ms"]) for v in visits]  # type: ignore[arg-type]
            tab_paints = [float(v["first_paint_ms"]) for v in tab_visits]  # type: ignore[arg-type]
            fcps = [float(v["fcp_ms"]) for v in visits]  # type: ignore[arg-type]
            contents = [float(v["content_ms"]) for v in visits]  # type: ignore[arg-type]
            tab_fcps = [float(v["fcp_ms"]) for v in tab_visits]  # type: ignore[arg-type]
            tab_contents = [float(v["content_ms"]) for v in tab_visits]  # type: ignore[arg-type]
            result["pages"][chapter.name] = {
                "charts": visits[0]["charts"],
                "new_browser_fcp_ms": fcps, "new_tab_fcp_ms": tab_fcps,
                "new_browser_content_ms": contents, "new_tab_content_ms": tab_contents,
                "new_browser_fcp_median_ms": statistics.median(fcps),
                "new_browser_content_median_ms": statistics.median(contents),
                "new_browser_ms": paints, "new_browser_median_ms": statistics.median(paints),
                "new_tab_ms": tab_paints, "new_tab_median_ms": statistics.median(tab_paints),
                "problems": sum(int(v["problems"] or 0) for v in visits + tab_visits)}
            print(f"{chapter.name:<24}{visits[0]['charts']:>7}  "
                  + "  ".join(f"{p:6.0f}" for p in paints) + "  | "
                  + "  ".join(f"{p:6.0f}" for p in tab_paints)
                  + f"   (new browser medians: first contentful paint "
                  f"{statistics.median(fcps):.0f}, content {statistics.median(contents):.0f})",
                  flush=True)
        tabs.close()
        charts = {name: int(row["charts"]) for name, row in result["pages"].items()}
        navigation = in_app_navigation(browser, server, chapters, args.lang, charts)
        result["in_app_navigation_ms"] = navigation
        print("in-app navigation (sidebar click to title + first chart), ms: "
              + ", ".join(f"{name} {ms:.0f}" for name, ms in navigation.items()), flush=True)
        chapter = next(c for c in chapters if c.file == SLIDER_PAGE)
        latencies = slider_latencies(browser, server, chapter, args.lang, args.changes)
        browser.close()
        result["slider"] = {
            "page": chapter.name, "slider": SLIDER_LABEL[args.lang], "changes": len(latencies),
            "latencies_ms": [round(x, 1) for x in latencies],
            "median_ms": statistics.median(latencies), "p95_ms": percentile(latencies, 0.95),
            "max_ms": max(latencies)}
        result["wall_s"] = time.perf_counter() - started
    pages = result["pages"].values()
    worst = max(max(p["new_browser_ms"]) for p in pages)
    worst_tab = max(max(p["new_tab_ms"]) for p in pages)
    worst_median = max(p["new_browser_median_ms"] for p in pages)
    # The browser's own first paint, and the first frame with the chapter's content.
    worst_fcp = max(max(p["new_browser_fcp_ms"] + p["new_tab_fcp_ms"]) for p in pages)
    worst_content = max(max(p["new_browser_content_ms"] + p["new_tab_content_ms"])
                        for p in pages)
    s = result["slider"]
    print(f"slider on {s['page']}: {s['changes']} changes, median {s['median_ms']:.0f} ms, "
          f"p95 {s['p95_ms']:.0f} ms, max {s['max_ms']:.0f} ms (goal: median <= 300 ms)")
    print(f"browser's first contentful paint, worst visit: {worst_fcp:.0f} ms; the chapter's "
          f"content, worst visit: {worst_content:.0f} ms (goal: <= 2000 ms)")
    print(f"first chart drawn, worst visit: new browser {worst:.0f} ms (worst page median "
          f"{worst_median:.0f} ms), new tab {worst_tab:.0f} ms (goal: <= 2000 ms)")
    worst_nav = max(v for v in result["in_app_navigation_ms"].values() if v is not None)
    print(f"in-app navigation, worst page: {worst_nav:.0f} ms (goal: <= 2000 ms)")
    result["goals"] = {"slider_median_le_300ms": s["median_ms"] <= 300,
                       "first_contentful_paint_le_2000ms": worst_fcp <= 2000,
                       "content_le_2000ms": worst_content <= 2000,
                       "first_paint_new_browser_le_2000ms": worst <= 2000,
                       "first_paint_new_browser_median_le_2000ms": worst_median <= 2000,
                       "first_paint_new_tab_le_2000ms": worst_tab <= 2000,
                       "in_app_navigation_le_2000ms": worst_nav <= 2000}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Screenshots of every chapter as a class sees it projected: presentation mode, at a
projector's 1920x1080 and a laptop's 1366x768, in English and Chinese.

Opens each chapter from its URL (``?presentation=1&lang=..``, as a teacher's bookmark
does) in Debian's chromium through Playwright, against ``streamlit run`` on a free port
(tests/browser/streamlit_browser.py), and writes two pictures per chapter, size and
language into ``--out`` (outside git: the pictures are for a person to look at):

* ``<chapter>-<lang>-<W>x<H>-screen.png``: the first screen, what the room sees first;
* ``<chapter>-<lang>-<W>x<H>-page.png``: the whole chapter, scrolled through.

Each chart's layout is measured too (tests/browser/layout_probe.py: plot area, text
overlaps, modebar over a legend) and every fault, page error and exception is printed,
so a look at the pictures starts from what is known to be wrong. Exit status 1 if any.

Usage: python benchmarks/screenshots.py --out DIR [--lang en zh] [--size 1920x1080 ...]
       [--chapter omniglot ...] [--theme dark] [--normal]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import layout_probe as lp  # noqa: E402
import streamlit_browser as sb  # noqa: E402

SIZES = ("1920x1080", "1366x768")
LANGS = sb.LANGS


def _size(text: str) -> dict[str, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"{text!r} is outside 320x240..7680x4320")
    return {"width": width, "height": height}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    known = [c.name for c in sb.chapters()]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="folder for the pictures")
    ap.add_argument("--lang", nargs="+", choices=LANGS, default=list(LANGS))
    ap.add_argument("--size", nargs="+", type=_size, default=[_size(s) for s in SIZES])
    ap.add_argument("--chapter", nargs="+", choices=known, default=known)
    ap.add_argument("--theme", choices=["light", "dark"], default="light")
    ap.add_argument("--normal", action="store_true", help="normal mode, not presentation")
    return ap.parse_args(argv)


def chapter_url(server: sb.AppServer, chapter: sb.Chapter, lang: str, presentation: bool,
                theme: str) -> str:
    params = {"lang": lang}
    if presentation:
        params["presentation"] = "1"
    if theme == "dark":
        params["theme"] = "dark"
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{server.url}/{chapter.url_path}?{query}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    chapters = [c for c in sb.chapters() if c.name in args.chapter]
    reason = sb.missing_browser()
    if reason is not None:
        print(f"screenshots: no browser: {reason}", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    found: list[str] = []
    written = 0
    started = time.perf_counter()
    with sb.app_server() as server, sync_playwright() as playwright:
        browser = sb.launch_browser(playwright)
        try:
            for lang in args.lang:
                for size in args.size:
                    # One context per language and size: a chapter opened from its URL,
                    # as a bookmark opens it, in a session that has seen the others.
                    context = browser.new_context(viewport=size, locale="en-US")
                    context.set_default_timeout(180_000)
                    page = context.new_page()
                    errors: list[str] = []
                    page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
                    tag = f"{size['width']}x{size['height']}"
                    try:
                        for chapter in chapters:
                            t0 = time.perf_counter()
                            page.goto(chapter_url(server, chapter, lang, not args.normal,
                                                  args.theme))
                            sb.wait_settled(page)
                            sb.wait_charts(page)
                            page.wait_for_timeout(500)  # plotly.js's automargin redraw
                            where = f"{chapter.name} {lang} {tag}"
                            for chart in page.evaluate(lp.MEASURE_JS):
                                if chart is not None:
                                    found += [f"{where}: {f}" for f in lp.faults(chart)]
                            found += [f"{where}: {p}" for p in sb.problems(page)]
                            found += [f"{where}: page error: {e}" for e in errors]
                            errors.clear()
                            stem = args.out / f"{chapter.name}-{lang}-{tag}"
                            page.screenshot(path=f"{stem}-screen.png")
                            sb.screenshot(page, f"{stem}-page.png")
                            written += 2
                            print(f"{where}: {time.perf_counter() - t0:.1f} s", flush=True)
                    finally:
                        context.close()
        finally:
            browser.close()
    print(f"{written} pictures in {args.out} ({time.perf_counter() - started:.0f} s)")
    for line in found:
        print(f"FAULT {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

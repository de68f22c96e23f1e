"""Live chart in a real browser (issue: the live chapters).

Starts the app, opens the sinusoid chapter in headless Chromium, presses Train
(MAML and pre-training, paper settings) and watches the streaming chart:
Plotly.react updates per second, blank frames (painted frames without the
curve after it first appeared), chart remounts (iframes inserted), and the
time from the Train click to the first curve point. Goals: >= 4 updates/s,
0 blank frames, first point < 1 s on the CPU.

Usage: python benchmarks/bench_live_chart.py [--runs 3] [--watch 10] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import streamlit_browser as sb  # noqa: E402
from live_probe import train_and_watch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--watch", type=float, default=10.0)
    parser.add_argument("--json", default=str(ROOT / "artifacts" / "live_chart.json"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = []
    with sb.app_server() as server, sync_playwright() as playwright:
        browser = sb.launch_browser(playwright)
        for run in range(args.runs):
            context = browser.new_context(viewport=sb.VIEWPORT)
            page = context.new_page()
            stats = train_and_watch(page, server.page_url("sinusoid"), watch_s=args.watch)
            page.get_by_role("button", name="Stop", exact=True).click()
            sb.wait_settled(page)  # the stop reached the server before the tab closes
            context.close()
            results.append(asdict(stats))
            print(f"run {run + 1}: {stats.updates_per_s:.2f} updates/s, "
                  f"{stats.blank_frames} blank of {stats.frames} frames, "
                  f"{stats.iframes_inserted} chart iframe(s), first point "
                  f"{stats.seconds_to_first_point:.2f} s after Train", flush=True)
        browser.close()
    summary = {
        "updates_per_s_median": statistics.median(r["updates_per_s"] for r in results),
        "blank_frames_total": sum(r["blank_frames"] for r in results),
        "first_point_s_median": statistics.median(r["seconds_to_first_point"] for r in results),
        "runs": results,
    }
    print(f"median {summary['updates_per_s_median']:.2f} updates/s (goal >= 4), "
          f"{summary['blank_frames_total']} blank frames (goal 0), first point "
          f"{summary['first_point_s_median']:.2f} s (goal < 1 s)")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

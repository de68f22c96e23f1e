"""A soak: one server, a class acting for a long time; does the server's memory flatten?

Goal (issue 24): one ``streamlit run streamlit_app.py``, 10 students acting for
20 minutes; the server's resident memory (RSS) and open file descriptors, sampled
every 10 s, flatten after warm-up: no leak of sessions, sockets or runs.

The students are ``bench_load.py``'s (``tests/browser/streamlit_ws.py``, Streamlit's
websocket protocol): each visit opens home, moves the landscape slider, trains a
sinusoid run and waits for "done", three new Streamlit sessions a visit, closed as
the student leaves the page. A student starts a new visit as soon as one ends, until
``--minutes`` have passed; then the server idles for ``--cooldown`` seconds, still
sampled (sessions and runs of the class let go).

Sampled from ``/proc/<pid>``: VmRSS, the number of entries of ``fd/``, threads, and
live child processes (the training fork server and its runs). Verdict: the least-
squares slope of RSS and of open files over the second half of the acting time (after
warm-up), per 10 minutes.

Usage: python benchmarks/bench_soak.py [--students 10] [--minutes 20] [--every 10]
       [--cooldown 60] [--think 1.0] [--iterations 200] [--json FILE] [--plot STEM]
Writes the samples (JSON) and a plotly figure (STEM.html, plotly.js from its CDN, and
STEM.png when kaleido can render it).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import streamlit_browser as sb  # noqa: E402
import streamlit_load as sl  # noqa: E402
import streamlit_ws as sw  # noqa: E402
from bench_load import load_average  # noqa: E402

MIB = 2**20


def proc_sample(pid: int) -> dict[str, float] | None:
    """RSS (MiB), open file descriptors, threads and child processes of ``pid``."""
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        threads = len(os.listdir(f"/proc/{pid}/task"))
        children = 0
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                children += len(f.read().split())
    except OSError:
        return None
    rss = sl.MemorySampler(pid).read()
    return {"rss_mib": round(rss / MIB, 1), "fds": fds, "threads": threads,
            "children": children}


class Sampler:
    """``proc_sample`` every ``every_s`` seconds in a thread, with the load average."""

    def __init__(self, pid: int, every_s: float) -> None:
        self.pid = pid
        self.every_s = every_s
        self.samples: list[dict[str, Any]] = []
        self.phase = "idle"
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="soak-sampler")

    def _loop(self) -> None:
        while not self._stop.is_set():
            sample = proc_sample(self.pid)
            if sample is not None:
                self.samples.append({"t_s": round(time.monotonic() - self._t0, 1),
                                     "phase": self.phase, "load": load_average(), **sample})
            self._stop.wait(self.every_s)

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


async def student(url: str, index: int, until: float, args: argparse.Namespace
                  ) -> list[dict[str, Any]]:
    """Visits, one after another, until the monotonic time ``until``; one record each."""
    visits = []
    while time.monotonic() < until:
        result, _ = await sw.drive_student(url, index * 1000 + len(visits),
                                           iterations=args.iterations, moves=args.moves,
                                           think_s=args.think)
        latencies = [v for values in result.latencies_ms.values() for v in values]
        visits.append({"completed": result.completed, "errors": result.errors,
                       "failure": result.failure[:200], "problems": result.problems[:2],
                       "elapsed_s": round(result.elapsed_s, 1),
                       "latencies_ms": [round(v, 1) for v in latencies]})
    return visits


def slope_per_10_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value), per 10 minutes."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    cov = sum((t - mt) * (v - mv) for t, v in points)
    return 600.0 * cov / var if var else float("nan")


def verdict(samples: list[dict[str, Any]]) -> dict[str, Any]:
    acting = [s for s in samples if s["phase"] == "acting"]
    if not acting:
        return {}
    t_end = acting[-1]["t_s"]
    t_start = acting[0]["t_s"]
    late = [s for s in acting if s["t_s"] >= (t_start + t_end) / 2]

    def at(frac: float, key: str) -> float:
        target = t_start + frac * (t_end - t_start)
        return float(min(acting, key=lambda s: abs(s["t_s"] - target))[key])

    out: dict[str, Any] = {}
    for key in ("rss_mib", "fds", "threads"):
        out[key] = {
            "idle": samples[0][key],
            "at_quarters": [at(f, key) for f in (0.25, 0.5, 0.75, 1.0)],
            "max": max(float(s[key]) for s in acting),
            "second_half_slope_per_10_min": round(
                slope_per_10_min([(s["t_s"], float(s[key])) for s in late]), 2),
            "after_cooldown": samples[-1][key],
        }
    return out


def figure(samples: list[dict[str, Any]], title: str) -> Any:
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("server RSS (MiB)", "open file descriptors"))
    minutes = [s["t_s"] / 60 for s in samples]
    for row, key in ((1, "rss_mib"), (2, "fds")):
        fig.add_scatter(x=minutes, y=[s[key] for s in samples], mode="lines+markers",
                        marker={"size": 3}, line={"width": 1.5}, showlegend=False,
                        row=row, col=1)
    acting = [s["t_s"] / 60 for s in samples if s["phase"] == "acting"]
    if acting:  # the class's time, shaded; the server idles before and after
        for row in (1, 2):
            fig.add_vrect(x0=acting[0], x1=acting[-1], fillcolor="rgba(80,120,200,0.08)",
                          line_width=0, row=row, col=1)
    fig.update_xaxes(title_text="minutes", row=2, col=1)
    fig.update_layout(title=title, width=900, height=560, template="plotly_white",
                      margin={"l": 60, "r": 20, "t": 70, "b": 50})
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--cooldown", type=float, default=60.0,
                        help="seconds sampled after the class left")
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--moves", type=int, default=3)
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts" / "soak.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "artifacts" / "soak",
                        help="the figure's path without suffix (.html, .png)")
    args = parser.parse_args(argv)
    if args.students < 1 or args.minutes <= 0 or args.every <= 0 or args.cooldown < 0:
        parser.error("--students at least 1; --minutes and --every above 0; --cooldown >= 0")
    log_dir = ROOT / "artifacts" / "soak-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cores": os.cpu_count(), "load_average_at_start": load_average(),
        "students": args.students, "minutes": args.minutes, "every_s": args.every,
        "think_s": args.think, "iterations": args.iterations, "moves": args.moves,
    }
    print(f"== soak: {args.students} students for {args.minutes} min "
          f"(load average {report['load_average_at_start']})", flush=True)
    with sb.app_server(log_dir=log_dir) as server:
        sampler = Sampler(sl.server_pid(server), args.every)
        sampler.start()
        time.sleep(min(args.every, 10.0))  # a sample or so of the idle server
        sampler.phase = "acting"
        until = time.monotonic() + 60 * args.minutes

        async def everyone() -> list[list[dict[str, Any]]]:
            return await asyncio.gather(*(student(server.url, i, until, args)
                                          for i in range(args.students)))

        per_student, wall_s = sl.run_in_thread(everyone, 60 * args.minutes + 900, "the soak")
        sampler.phase = "cooldown"
        time.sleep(args.cooldown)
        sampler.stop()
        log_tail = server.log(3000)
    visits = [v for vs in per_student for v in vs]
    latencies = [ms for v in visits for ms in v["latencies_ms"]]
    report.update({
        "wall_s": round(wall_s, 1), "load_average_after": load_average(),
        "visits": len(visits), "completed": sum(v["completed"] for v in visits),
        "errors": sum(v["errors"] for v in visits),
        "visits_with_errors": [v for v in visits if v["errors"]][:10],
        "latency_ms": {"count": len(latencies),
                       "p50": round(sl.percentile(latencies, 50), 1),
                       "p95": round(sl.percentile(latencies, 95), 1)},
        "verdict": verdict(sampler.samples), "samples": sampler.samples,
    })
    if report["errors"]:
        report["server_log_tail"] = log_tail
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    fig = figure(sampler.samples, f"Soak: one server, {args.students} students for "
                 f"{args.minutes:g} min, sampled every {args.every:g} s ({report['when']})")
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(args.plot.with_suffix(".html")), include_plotlyjs="cdn")
    try:
        fig.write_image(str(args.plot.with_suffix(".png")), scale=1)
    except Exception as exc:  # noqa: BLE001  (no kaleido/Chrome here: the HTML remains)
        print(f"no PNG ({type(exc).__name__}: {exc})", file=sys.stderr)
    summary = {k: report[k] for k in ("visits", "completed", "errors", "latency_ms",
                                      "load_average_at_start", "load_average_after")}
    print(json.dumps({**summary, "verdict": report["verdict"]}, indent=1))
    print(f"wrote {args.json} and {args.plot}.html/.png")
    return 0 if report["completed"] == report["visits"] and not report["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

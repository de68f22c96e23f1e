"""A classroom at once: N concurrent browser sessions on one server. A benchmark, not a test.

Goal (issue "A classroom at once"), on the 2-core machine: N = 30 sessions,
every session's training run completes, widget response p95 under 1 s, no error
in any session, server memory bounded.

For each N (default 5, 15, 30) a fresh ``streamlit run streamlit_app.py`` is
started on 127.0.0.1 and N students use it at once. Two drivers:

- ``--driver ws`` (default): N sessions over Streamlit's own websocket protocol
  from one Python process (``tests/browser/streamlit_ws.py``). In a classroom each
  student's browser runs on the student's laptop and only the server is shared;
  thirty Chromium tabs on this 2-core machine would measure the browsers, not the
  server. Widget response: from sending the rerun to the arrival of the new chart
  (a browser adds its own drawing, on its own machine). Students pause
  ``--think`` seconds (x 0.5 to 1.5, seeded) between actions.
- ``--driver browser``: N headless Chromium contexts (Playwright), keydown to the
  first frame with the chart redrawn (``tests/browser/streamlit_load.py``); honest
  up to N = 5 here, where the browsers take most of the CPU.

Each session opens the home page, moves the "inner learning rate α" slider of
"MAML versus pre-training" ``--moves`` times (one step right each time), then on
the sinusoid page sets ``--iterations`` meta-iterations, presses Train, moves the
new task's amplitude slider while its run is in line or training, and waits for
the status ``done``.

Measured per N: sessions whose run completed; widget response p50/p95/max; errors
per session (exception elements, error alerts, "Page not found", a session that
got stuck); server RSS (``/proc/<pid>/status``: idle, sampled peak, VmHWM, after
the sessions closed). Training is admitted by the server's queue
(``MAMLVIZ_MAX_TRAINING``, default cores - 1).

Replicas through a real proxy (``--replicas 2``, ws driver): that many app servers
behind Debian's nginx on loopback, run unprivileged from a temporary folder with the
repository's configuration ``benchmarks/nginx/mamlviz-replicas.conf`` (sticky by
cookie, websockets passed through; ``tests/browser/streamlit_proxy.py``). Each
student loads the page over HTTP first, as a browser does, and sends the proxy's
cookie with every websocket. Reported besides: students and Streamlit sessions per
replica (from nginx's access log), requests that left their student's replica
(none when the affinity holds), each replica's memory.

Usage: python benchmarks/bench_load.py [--driver ws|browser] [--sessions 5 15 30]
       [--replicas 1] [--iterations 200] [--moves 3] [--think 1.0] [--timeout 900]
       [--json FILE]
Bounded: each N stops after ``--timeout`` seconds; all traffic is local.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import streamlit_browser as sb  # noqa: E402
import streamlit_load as sl  # noqa: E402
import streamlit_proxy as sp  # noqa: E402
import streamlit_ws as sw  # noqa: E402


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def one_classroom(n: int, args: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    started = time.monotonic()
    load_at_start = load_average()  # the machine is shared: say how busy it was
    if args.replicas > 1:
        with sp.replica_set(args.replicas, log_dir) as (proxy, servers):
            summary = sp.run_proxied_classroom(proxy, servers, n, iterations=args.iterations,
                                               moves=args.moves, think_s=args.think,
                                               stagger_s=args.stagger,
                                               overall_timeout_s=args.timeout)
            if summary["errors"] or summary["proxy"]["not_sticky"]:
                summary["server_log_tail"] = "\n".join(s.log(1500) for s in servers)
                summary["proxy_log_tail"] = proxy.log(1500)
        summary["load_average_at_start"] = load_at_start
        summary["load_average_after"] = load_average()
        summary["total_s"] = round(time.monotonic() - started, 1)
        return summary
    with sb.app_server(log_dir=log_dir) as server:
        if args.driver == "ws":
            summary = sw.run_ws_classroom(server, n, iterations=args.iterations,
                                          moves=args.moves, think_s=args.think,
                                          stagger_s=args.stagger,
                                          overall_timeout_s=args.timeout)
        else:
            summary = sl.run_classroom(server, n, iterations=args.iterations,
                                       moves=args.moves, stagger_s=args.stagger,
                                       overall_timeout_s=args.timeout)
        if summary["errors"]:
            summary["server_log_tail"] = server.log(3000)
    summary["load_average_at_start"] = load_at_start
    summary["load_average_after"] = load_average()
    summary["total_s"] = round(time.monotonic() - started, 1)
    return summary


def table(results: list[dict[str, Any]]) -> str:
    head = ("N", "completed", "errors (sessions)", "p50 ms", "p95 ms", "max ms",
            "idle MiB", "peak MiB", "peak - idle", "per session", "wall s")
    lines = [" | ".join(head)]
    for r in results:
        rss = r["server_rss_mib"]
        grow = rss["peak_hwm"] - rss["idle"]
        lines.append(" | ".join(str(x) for x in (
            r["sessions"], f"{r['completed']}/{r['sessions']}",
            f"{r['errors']} ({r['sessions_with_errors']})", r["latency"]["p50_ms"],
            r["latency"]["p95_ms"], r["latency"]["max_ms"], rss["idle"], rss["peak_hwm"],
            round(grow, 1), round(grow / r["sessions"], 1), r["wall_s"])))
        for kind, s in r["latency_by_kind"].items():
            lines.append(f"    {kind}: p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, "
                         f"max {s['max_ms']} ms ({s['count']} changes)")
        if "page_open" in r:
            lines.append(f"    page opens: p50 {r['page_open']['p50_ms']} ms, "
                         f"p95 {r['page_open']['p95_ms']} ms ({r['page_open']['count']})")
        lines.append(f"    run from Train to done: median {r['run_wait_s']['median']} s, "
                     f"max {r['run_wait_s']['max']} s; load average after: "
                     f"{r['load_average_after']}")
        if "proxy" in r:
            proxy = r["proxy"]
            for (addr, c), mem in zip(proxy["replicas"].items(), r["servers_rss_mib"]):
                lines.append(f"    replica {addr}: {c['students']} students, {c['sessions']} "
                             f"sessions, {c['requests']} requests; {mem['idle']} MiB idle, "
                             f"{mem['peak_hwm']} MiB peak")
            lines.append(f"    through nginx ({proxy['config']}): "
                         f"{len(proxy['not_sticky'])} requests off their student's replica, "
                         f"{len(proxy['websockets_unserved'])} websockets unserved; "
                         f"load average at start: {r['load_average_at_start']}")
        for d in r["sessions_detail"]:
            if d["errors"]:
                lines.append(f"    session {d['index']}: {d['failure'][:200]} "
                             f"{[p[:200] for p in d['problems'][:2]]} {d['js_errors'][:2]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--driver", choices=["ws", "browser"], default="ws")
    parser.add_argument("--sessions", type=int, nargs="+", default=[5, 15, 30])
    parser.add_argument("--replicas", type=int, default=1,
                        help="app servers behind nginx (more than 1: the ws driver only)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a student pauses between actions (ws driver)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--moves", type=int, default=3, help="slider changes per page")
    parser.add_argument("--stagger", type=float, default=0.1,
                        help="seconds between two sessions' starts")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per N")
    parser.add_argument("--json", type=Path, default=ROOT / "artifacts" / "load.json")
    args = parser.parse_args(argv)
    if args.replicas < 1 or (args.replicas > 1 and args.driver != "ws"):
        parser.error("--replicas: 1, or more with the ws driver")
    missing = sb.missing_browser() if args.driver == "browser" else None
    if args.replicas > 1:
        missing = sp.missing_nginx()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    log_dir = ROOT / "artifacts" / "load-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.platform()}",
        "load_average_before": load_average(),
        "max_training": os.environ.get("MAMLVIZ_MAX_TRAINING", "default (cores - 1)"),
        "driver": args.driver, "think_s": args.think, "replicas": args.replicas,
        "iterations": args.iterations, "moves": args.moves, "results": [],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for n in args.sessions:
        print(f"== {n} sessions at once (load average {load_average()})", flush=True)
        report["results"].append(one_classroom(n, args, log_dir))
        args.json.write_text(json.dumps(report, indent=1))
        print(table(report["results"][-1:]), flush=True)
    print("\n" + table(report["results"]))
    print(f"\nwrote {args.json}")
    ok = all(r["completed"] == r["sessions"] and not r["errors"]
             and not r.get("proxy", {}).get("not_sticky") for r in report["results"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

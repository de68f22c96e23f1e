"""Five students at once on a fresh server: every run completes, no session sees an error.

The small version of ``benchmarks/bench_load.py``, which holds the speed goals
(N = 30, p95 under 1 s): speed goals live in benchmarks, never in timed tests.
This test asserts what must hold on any machine: every session's run completes,
every slider move is answered, no session sees an error, memory stays bounded.
The latencies are printed for the log.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit_browser as sb
import streamlit_load as sl

pytestmark = pytest.mark.browser

SESSIONS = 5


def test_a_small_classroom_at_once(browser_available: None, tmp_path: Path) -> None:
    # A fresh server: the sessions are its first visitors, at the same moment (this
    # found a start-up race: a second session's import of pages._ui failed).
    with sb.app_server(log_dir=tmp_path) as server:
        summary = sl.run_classroom(server, SESSIONS, iterations=100, moves=2,
                                   overall_timeout_s=600)
        log = server.log(6000)
    brief = {k: summary[k] for k in ("completed", "errors", "latency", "latency_by_kind",
                                     "run_wait_s", "server_rss_mib", "wall_s")}
    print(json.dumps(brief, indent=1))
    details = summary["sessions_detail"]
    failed = [(d["index"], d["failure"], d["problems"], d["js_errors"]) for d in details
              if d["errors"] or not d["completed"]]
    assert not failed, f"sessions with trouble: {failed}\nserver log:\n{log}"
    assert summary["completed"] == SESSIONS
    assert summary["latency"]["count"] == SESSIONS * 2 * 2
    assert 0 < summary["server_rss_mib"]["peak_hwm"] < 4096, brief


def test_a_classroom_over_streamlits_protocol(tmp_path: Path) -> None:
    """The driver behind the N = 30 benchmark (no browser: Streamlit's websocket
    protocol), five students at once: it sees every page, every slider's new chart
    and every run to "done", and the server reports no error to anyone."""
    import streamlit_ws as sw

    with sb.app_server(log_dir=tmp_path) as server:
        summary = sw.run_ws_classroom(server, SESSIONS, iterations=100, moves=2, think_s=0.3,
                                      overall_timeout_s=600)
        log = server.log(6000)
    brief = {k: summary[k] for k in ("completed", "errors", "latency", "latency_by_kind",
                                     "page_open", "run_wait_s", "server_rss_mib", "wall_s")}
    print(json.dumps(brief, indent=1))
    failed = [(d["index"], d["failure"], d["problems"]) for d in summary["sessions_detail"]
              if d["errors"] or not d["completed"]]
    assert not failed, f"sessions with trouble: {failed}\nserver log:\n{log}"
    kinds = summary["latency_by_kind"]
    assert kinds["landscape"]["count"] == kinds["sinusoid_training"]["count"] == SESSIONS * 2
    assert kinds["train"]["count"] == SESSIONS
    assert summary["page_open"]["count"] == SESSIONS * 3
    assert 0 < summary["server_rss_mib"]["peak_hwm"] < 4096, brief


def test_a_class_opening_a_chapter_on_a_fresh_server(tmp_path: Path) -> None:
    """Five students open the sinusoid chapter's URL at the same moment on a server
    nobody has visited: Streamlit's legacy pages mode, left for the router, must not
    break the imports of the sessions arriving beside the first (it did: "cannot
    import name '_classroom' from 'pages'")."""
    import asyncio

    import streamlit_ws as sw

    async def everyone(url: str) -> list[sw.WsSession]:
        sessions = [sw.WsSession(url) for _ in range(SESSIONS)]
        await asyncio.gather(*(s.open("sinusoid") for s in sessions))
        for s in sessions:
            await s.close()
        return sessions

    from concurrent.futures import ThreadPoolExecutor

    with sb.app_server(log_dir=tmp_path) as server:
        # A thread of its own: Playwright's sync fixtures may run a loop in this one.
        with ThreadPoolExecutor(1) as pool:
            sessions = pool.submit(asyncio.run, everyone(server.url)).result(timeout=300)
        log = server.log(6000)
    for s in sessions:
        assert not s.exceptions, f"{s.exceptions}\nserver log:\n{log}"
        assert "meta-iterations" in s.widgets and "Train" in s.widgets
    assert "Traceback" not in log, log

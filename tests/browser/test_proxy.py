"""Replicas through a real proxy: four students through nginx in front of two app servers.

The small version of ``benchmarks/bench_load.py --replicas 2`` (which measures N = 10
and 30). What must hold on any machine: the configuration the README points at
(``benchmarks/nginx/mamlviz-replicas.conf``) passes Streamlit's websockets through,
round robin splits the class evenly, every request of a student reaches the replica
that served its first page (the affinity cookie), and every student's run completes
without an error. Latencies are printed for the log, never asserted.

Without nginx this skips with the install line; in CI (``CI`` or
``MAMLVIZ_REQUIRE_NGINX`` set, as ``.ci/run`` does) it fails instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import streamlit_proxy as sp

STUDENTS = 4
REPLICAS = 2


def _required() -> bool:
    return any(os.environ.get(name, "").lower() not in ("", "0", "false", "no")
               for name in ("CI", "MAMLVIZ_REQUIRE_NGINX"))


@pytest.fixture(scope="module")
def nginx_available() -> None:
    reason = sp.missing_nginx()
    if reason is None:
        return
    if _required():
        pytest.fail(f"the proxy test cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def test_the_template_fills_every_field(tmp_path: Path) -> None:
    text = sp.render_config(tmp_path, 8080, ["127.0.0.1:9001", "127.0.0.1:9002"])
    code = [line.split("#", 1)[0] for line in text.splitlines()]
    assert not [line for line in code if "@" in line]
    assert "        server 127.0.0.1:9002;" in code
    assert "        127.0.0.1:9001 127.0.0.1:9001;" in code
    assert f"pid {tmp_path}/nginx.pid;" in code
    assert any("listen 127.0.0.1:8080;" in line for line in code)


def test_students_through_nginx_stay_on_their_replica(nginx_available: None,
                                                      tmp_path: Path) -> None:
    with sp.replica_set(REPLICAS, tmp_path) as (proxy, servers):
        summary = sp.run_proxied_classroom(proxy, servers, STUDENTS, iterations=100,
                                           moves=2, think_s=0.3, overall_timeout_s=600)
        logs = "\n".join(s.log(3000) for s in servers) + proxy.log()
    routes = summary["proxy"]
    brief = {k: summary[k] for k in ("completed", "errors", "latency", "page_open",
                                     "run_wait_s", "servers_rss_mib", "wall_s")}
    print(json.dumps({**brief, "proxy": routes}, indent=1))
    failed = [(d["index"], d["failure"], d["problems"]) for d in summary["sessions_detail"]
              if d["errors"] or not d["completed"]]
    assert not failed, f"sessions with trouble: {failed}\nlogs:\n{logs}"
    assert summary["completed"] == STUDENTS
    # Every student got the cookie, round robin placed two on each replica, and each
    # one's three pages (three Streamlit sessions) reached that replica and no other.
    assert routes["students_by_cookie"] == {r: STUDENTS // REPLICAS for r in proxy.replicas}
    assert routes["not_sticky"] == [] and routes["websockets_unserved"] == []
    assert routes["websockets_without_cookie"] == 0
    for replica in proxy.replicas:
        counts = routes["replicas"][replica]
        assert counts["students"] == STUDENTS // REPLICAS, routes
        assert counts["sessions"] == 3 * STUDENTS // REPLICAS, routes
    assert "Traceback" not in logs, logs

"""Replicas through a real proxy: Debian's nginx on loopback in front of several app servers.

Shared by the proxy test (``tests/browser/test_proxy.py``, 4 students) and the load
benchmark (``benchmarks/bench_load.py --replicas 2``). The nginx configuration is the
repository's template ``benchmarks/nginx/mamlviz-replicas.conf`` (the one the README
points a classroom at), filled in for loopback ports. nginx runs unprivileged and in
the foreground: its configuration, pid, logs and temporary files live in a folder of
its own, nothing touches the system's nginx, and it is stopped by its pid.

Affinity is by cookie: the first page load of a student is placed round robin and
the answer sets ``mamlviz_replica``; the students of ``streamlit_ws.drive_student``
(``cookies=True``) send it with every websocket, as a browser does. From nginx's
access log (one line per request, a websocket's when it closes): students and
Streamlit sessions per replica, and every request whose cookie named another replica
than the one that served it (none when the affinity holds).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit_browser as sb

ROOT = sb.ROOT
CONFIG_TEMPLATE = ROOT / "benchmarks" / "nginx" / "mamlviz-replicas.conf"
NGINX = os.environ.get("MAMLVIZ_NGINX", "nginx")
STREAM_PATH = "/_stcore/stream"  # Streamlit's websocket: one per session
INSTALL_NGINX = "on Debian/Ubuntu: sudo apt-get install -y $(cat .ci/proxy-packages) (nginx)"


def nginx_executable() -> str | None:
    """$MAMLVIZ_NGINX, or ``nginx`` on the PATH or in /usr/sbin (root's PATH only)."""
    for candidate in (NGINX, f"/usr/sbin/{NGINX}"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


def missing_nginx() -> str | None:
    """Why the proxy cannot run here (with the install line), or None when it can."""
    if nginx_executable() is None:
        return (f"no nginx ({NGINX} not found on the PATH nor in /usr/sbin). "
                f"Install it {INSTALL_NGINX}")
    return None


def render_config(prefix: Path, listen_port: int, replicas: list[str]) -> str:
    """The template filled in: nginx listening on 127.0.0.1:``listen_port`` in front of
    ``replicas`` (``host:port`` each), its files under ``prefix``."""
    text = CONFIG_TEMPLATE.read_text(encoding="utf-8")
    fields = {
        "@prefix@": str(prefix),
        "@listen@": f"127.0.0.1:{listen_port}",
        "@upstream_servers@": "\n".join(f"        server {r};" for r in replicas),
        "@replica_routes@": "\n".join(f"        {r} {r};" for r in replicas),
    }
    for key, value in fields.items():
        text = text.replace(key, value)
    left = [line for line in text.splitlines() if "@" in line.split("#", 1)[0]]
    if left:
        raise ValueError(f"{CONFIG_TEMPLATE} has fields left unfilled: {left}")
    return text


@dataclass
class LogLine:
    upstream: str  # the replica that served it ("-" when none did)
    cookie: str  # the replica the client's cookie named ("" without one)
    status: int
    path: str


class NginxProxy:
    """nginx in the foreground on a free loopback port, in a temporary folder of its own."""

    def __init__(self, replicas: list[str], prefix: Path | None = None) -> None:
        self.replicas = replicas
        self.port = sb.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.prefix = prefix or Path(tempfile.mkdtemp(prefix="mamlviz-nginx-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def config_path(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    def start(self, timeout: float = 60.0) -> NginxProxy:
        executable = nginx_executable()
        if executable is None:
            raise FileNotFoundError(missing_nginx())
        self.prefix.mkdir(parents=True, exist_ok=True)
        # Run by root, nginx's workers are "nobody": they must reach the temporary paths.
        self.prefix.chmod(0o755)
        self.config_path.write_text(render_config(self.prefix, self.port, self.replicas))
        command = [executable, "-p", str(self.prefix), "-c", str(self.config_path),
                   "-e", str(self.prefix / "error.log")]
        check = subprocess.run(command + ["-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused {self.config_path}:\n{check.stderr}")
        out = (self.prefix / "nginx.out").open("wb")
        self._proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        sb.wait_healthy(self._proc, self.url, timeout, "nginx", self.log, self.stop,
                        urlopen=opener.open)
        return self

    def stop(self) -> None:
        """A graceful stop (SIGQUIT: open connections are logged as they close), then a
        kill if it lingers."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGQUIT)
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def log(self, tail: int = 3000) -> str:
        text = ""
        for name in ("nginx.out", "error.log"):
            try:
                text += (self.prefix / name).read_text(errors="replace")
            except OSError:
                pass
        return text[-tail:]

    def requests(self) -> list[LogLine]:
        lines = []
        try:
            raw = self.access_log.read_text(errors="replace").splitlines()
        except OSError:
            return []
        for row in raw:
            # '$msec $upstream_addr "$cookie" $status $request' (see the template)
            try:
                _, upstream, cookie, status, request = row.split(" ", 4)
            except ValueError:
                continue
            path = request.split(" ")[1] if " " in request else request
            cookie = cookie.strip('"')
            lines.append(LogLine(upstream, "" if cookie == "-" else cookie, int(status), path))
        return lines


def per_replica(proxy: NginxProxy) -> dict[str, Any]:
    """From nginx's access log: per replica, the students it was given (first page loads,
    without the cookie, that it served) and the Streamlit sessions (websockets) it
    served; the requests whose cookie named another replica than the one that served
    them (stickiness broken) and the websockets that reached no replica."""
    lines = proxy.requests()
    replicas: dict[str, dict[str, Any]] = {
        r: {"students": 0, "sessions": 0, "requests": 0} for r in proxy.replicas}
    for line in lines:
        if line.upstream in replicas:
            replicas[line.upstream]["requests"] += 1
            if line.path.startswith(STREAM_PATH):
                replicas[line.upstream]["sessions"] += 1
            elif line.path == "/" and not line.cookie:
                replicas[line.upstream]["students"] += 1
    moved = [f"{line.path}: cookie {line.cookie}, served by {line.upstream}" for line in lines
             if line.cookie in replicas and line.upstream != line.cookie]
    unserved = [f"{line.path}: {line.status}, upstream {line.upstream}" for line in lines
                if line.path.startswith(STREAM_PATH) and line.upstream not in replicas]
    no_cookie = sum(1 for line in lines
                    if line.path.startswith(STREAM_PATH) and not line.cookie)
    return {"replicas": replicas, "not_sticky": moved, "websockets_unserved": unserved,
            "websockets_without_cookie": no_cookie}


@contextmanager
def replica_set(count: int, log_dir: Path) -> Iterator[tuple[NginxProxy, list[sb.AppServer]]]:
    """``count`` app servers (started side by side) behind nginx; all stopped on exit."""
    with ExitStack() as stack:
        servers = [sb.AppServer(log_dir=log_dir) for _ in range(count)]
        for server in servers:
            stack.callback(server.stop)
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(lambda s: s.start(), servers))
        proxy = NginxProxy([f"127.0.0.1:{s.port}" for s in servers],
                           prefix=Path(tempfile.mkdtemp(prefix="mamlviz-nginx-", dir=log_dir)))
        stack.callback(proxy.stop)
        proxy.start()
        yield proxy, servers


def run_proxied_classroom(proxy: NginxProxy, servers: list[sb.AppServer], n: int,
                          **kwargs: Any) -> dict[str, Any]:
    """``n`` students through the proxy (``streamlit_ws.ws_classroom``, with the
    affinity cookie), then the proxy's per-replica counts from its access log."""
    import streamlit_load as sl
    import streamlit_ws as sw

    summary = sw.ws_classroom(proxy.url, [sl.server_pid(s) for s in servers], n,
                              cookies=True, **kwargs)
    proxy.stop()  # its access log is complete once every connection is closed
    summary["proxy"] = per_replica(proxy)
    summary["proxy"]["config"] = str(CONFIG_TEMPLATE.relative_to(ROOT))
    cookies = [d["cookies"].get("mamlviz_replica", "") for d in summary["sessions_detail"]]
    summary["proxy"]["students_by_cookie"] = {
        r: cookies.count(r) for r in proxy.replicas}
    return summary

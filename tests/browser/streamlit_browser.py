"""Drive the real app in a real browser: a Streamlit server and Debian's chromium via Playwright.

Shared by the browser tests (``tests/browser``) and the responsiveness benchmark
(``benchmarks/bench_responsiveness.py``). The browser is the system's
``/usr/bin/chromium`` (Debian package ``chromium``, installed by ``.ci/run`` from
``.ci/browser-packages``), or ``$MAMLVIZ_CHROMIUM``; on systems without it, Playwright's
own (``playwright install chromium``, which the tests never run themselves).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MAMLVIZ_CHROMIUM", "/usr/bin/chromium")
# Root in a container, a closed network: no sandbox, no GPU, no calls home.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 900}
# The app's languages: its catalogues, English first.
LANGS = tuple(sorted((p.stem for p in (ROOT / "pages" / "locales").glob("*.json")),
                     key=lambda code: (code != "en", code)))
DEFAULT_PAGE = "home.py"  # st.Page(..., default=True) in streamlit_app.py

# Streamlit's DOM (data-testid attributes are its public test hooks).
MAIN = '[data-testid="stMain"]'
MAIN_ELEMENT = '[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]'
EXCEPTION = '[data-testid="stException"]'
ERROR_ALERT = '[data-testid="stAlertContentError"]'
# A lecture chart (pages/_chart.py): plotly.js draws into a .js-plotly-plot inside it.
PLOTLY = '.mamlviz-chart'
# Where Streamlit mounts an st.components.v2 component: in the main area, a chart, or a
# drawing canvas (pages/_drawing.py), left out (the sidebar has the plotly.js preloader).
# The slot is there before the component's module has run and added PLOTLY to it.
CHART_SLOT = '[data-testid="stMain"] .stBidiComponent:not(:has(.mamlviz-drawing))'
CHART_ERROR = '.mamlviz-chart-error:not(:empty)'
SLIDER_INPUT = '[data-testid="stMain"] [data-testid="stSlider"] input[type="range"]'


@dataclass(frozen=True)
class Chapter:
    file: str
    titles: tuple[tuple[str, str], ...]  # (language, title), in LANGS order

    def title(self, lang: str) -> str:
        return dict(self.titles)[lang]

    @property
    def en(self) -> str:
        return self.title("en")

    @property
    def zh(self) -> str:
        return self.title("zh")

    @property
    def name(self) -> str:
        return self.file.removesuffix(".py")

    @property
    def url_path(self) -> str:
        """The page's URL path: the default page (home) lives at the root."""
        return "" if self.file == DEFAULT_PAGE else self.name


def chapters(root: Path = ROOT) -> list[Chapter]:
    """The router's pages, read from ``CHAPTERS`` in pages/_chapters.py (files that exist
    only), with their titles from every catalogue (pages/locales/).

    Parsed, not imported: importing the app would start Streamlit. New chapters
    are covered as soon as their file lands.
    """
    titles = {code: json.loads((root / "pages" / "locales" / f"{code}.json")
                               .read_text(encoding="utf-8"))["chapters"]
              for code in LANGS}
    tree = ast.parse((root / "pages" / "_chapters.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        target = (node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1
                  else node.target if isinstance(node, ast.AnnAssign) else None)
        if isinstance(target, ast.Name) and target.id == "CHAPTERS":
            rows = ast.literal_eval(node.value)  # type: ignore[arg-type]
            return [Chapter(file, tuple((code, titles[code][file.removesuffix(".py")])
                                        for code in LANGS))
                    for file, *_ in rows if (root / "pages" / file).exists()]
    raise LookupError("pages/_chapters.py has no CHAPTERS list")


INSTALL_BROWSER = ("on Debian/Ubuntu: sudo apt-get install -y $(cat .ci/browser-packages) "
                   "(chromium, fonts-noto-cjk, fonts-noto-color-emoji); "
                   "elsewhere: playwright install chromium")


def chromium_executable() -> str | None:
    """$MAMLVIZ_CHROMIUM or Debian's chromium when it is there; else None, which makes
    Playwright use its own (``playwright install chromium``, on systems without Debian's)."""
    if os.environ.get("MAMLVIZ_CHROMIUM") or Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    return None


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (with the install line), or None when they can."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "Python package 'playwright' is not installed (pip install -e '.[test]')"
    if chromium_executable() is not None:
        if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
            return None
        return f"MAMLVIZ_CHROMIUM={CHROMIUM} not found. Install a Chromium {INSTALL_BROWSER}"
    try:
        with sync_playwright() as playwright:
            own = Path(playwright.chromium.executable_path)
    except Exception:  # no driver for this platform: as good as no browser
        own = Path("/nonexistent")
    if own.exists():
        return None
    return f"no Chromium ({CHROMIUM} not found, nor Playwright's own). Install it {INSTALL_BROWSER}"


def wait_healthy(proc: subprocess.Popen[bytes], url: str, timeout: float, what: str,
                 log: Any, stop: Any, urlopen: Any = urllib.request.urlopen) -> None:
    """Until ``url``'s Streamlit health check answers 200: an exited ``proc`` or the
    timeout raises with the tail of its ``log()``, after ``stop()``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log()}")
        try:
            with urlopen(f"{url}/_stcore/health", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.25)
    stop()
    raise TimeoutError(f"{what} did not answer within {timeout:.0f} s:\n{log()}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppServer:
    """``streamlit run streamlit_app.py`` on a free port, as a student's machine runs it."""

    def __init__(self, port: int | None = None, log_dir: Path | None = None,
                 omniglot: Path | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir = log_dir or Path(tempfile.mkdtemp(prefix="mamlviz-server-"))
        self.log_path = log_dir / f"streamlit-{self.port}.log"
        self.omniglot = omniglot
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180.0) -> AppServer:
        env = dict(os.environ)
        shared = ROOT.parent / "shared" / "omniglot"
        if self.omniglot is not None:
            env["MAMLVIZ_OMNIGLOT"] = str(self.omniglot)
        elif shared.is_dir():  # else the app finds its cache, or offers the download
            env.setdefault("MAMLVIZ_OMNIGLOT", str(shared))
        env.setdefault("OMP_NUM_THREADS", "1")
        env["PYTHONUNBUFFERED"] = "1"
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_healthy(self._proc, self.url, timeout, "streamlit", self.log, self.stop)
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def page_url(self, chapter: Chapter | str, lang: str = "en") -> str:
        path = chapter.url_path if isinstance(chapter, Chapter) else chapter
        return f"{self.url}/{path}" + ("" if lang == "en" else f"?lang={lang}")


@contextmanager
def app_server(**kwargs: Any) -> Iterator[AppServer]:
    server = AppServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def launch_browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)


# ----------------------------------------------------------------------------- in the page

# Records in the page when Streamlit's script state last went to "running" and back.
WATCH_RUNS_JS = """() => {
  const app = document.querySelector('[data-test-script-state]');
  window.__mvRuns = {started: 0, finished: 0, changed: null};
  if (window.__mvObserver) window.__mvObserver.disconnect();
  if (window.__mvMainObserver) window.__mvMainObserver.disconnect();
  // A quick rerun can go running -> notRunning before the observer's callback runs, so
  // the states are read from the records (each one's old value, then the current one),
  // not from the attribute at callback time.
  window.__mvObserver = new MutationObserver((records) => {
    const states = records.slice(1).map(r => r.oldValue)
      .concat([app.getAttribute('data-test-script-state')]);
    for (const state of states) {
      if (state === 'running') window.__mvRuns.started += 1;
      else if (window.__mvRuns.started > window.__mvRuns.finished) window.__mvRuns.finished += 1;
    }
  });
  window.__mvObserver.observe(app, {attributes: true, attributeOldValue: true,
                                    attributeFilter: ['data-test-script-state']});
  // A rerun that costs next to nothing (a cached fragment) may never show 'running' at
  // all: React sets and clears it in one render. Its changes to the page still show.
  window.__mvMainObserver = new MutationObserver(() => {
    window.__mvRuns.changed = performance.now();
  });
  window.__mvMainObserver.observe(document.querySelector('""" + MAIN + """'),
                                  {childList: true, subtree: true, characterData: true});
}"""

# The rerun asked for has finished: seen running and now not, or (a rerun too quick to
# show 'running') the main area changed and has been quiet for half a second since.
RUN_FINISHED_JS = """() => {
  const r = window.__mvRuns;
  const state = document.querySelector('[data-test-script-state]')
    .getAttribute('data-test-script-state');
  if (!r) return false;
  if (r.started > 0) return state !== 'running';
  return r.changed !== null && state === 'notRunning' && performance.now() - r.changed > 500;
}"""

# The page has content, its script is not running any more, and no element is
# still a skeleton (Streamlit shows one while an element's code loads: charts, widgets).
SETTLED_JS = """() => {
  const app = document.querySelector('[data-test-script-state]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !!document.querySelector('""" + MAIN_ELEMENT + """')
    && !document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]');
}"""

# Every chart element in the main area has drawn its SVG.
CHARTS_DRAWN_JS = ("() => [...document.querySelectorAll('" + CHART_SLOT + "')]"
                   ".every(el => el.querySelector('" + PLOTLY + " .js-plotly-plot .main-svg'))")

# What the first chart draws: its traces' paths and markers, as a string.
FIGURE_SIGNATURE_JS = """(index) => {
  const gd = document.querySelectorAll('""" + PLOTLY + """ .js-plotly-plot')[index || 0];
  if (!gd) return null;
  const parts = [...gd.querySelectorAll('.scatterlayer path, .scatterlayer .point, .annotation')]
    .map(el => el.getAttribute('d') || el.getAttribute('transform') || el.textContent);
  return parts.join('|');
}"""


# Arm before a key press: the keydown time, then the first frame whose first chart differs.
ARM_JS = """() => {
  const signature = SIGNATURE_FN;
  const before = signature(0);
  const w = window;
  w.__mvKey = null;
  w.__mvDrawn = null;
  document.addEventListener('keydown', () => {
    if (w.__mvKey === null) w.__mvKey = performance.now();
  }, {capture: true, once: true});
  (function tick() {
    if (w.__mvKey !== null) {
      const now = signature(0);
      if (now !== null && now !== before) { w.__mvDrawn = performance.now(); return; }
    }
    requestAnimationFrame(tick);
  })();
}""".replace("SIGNATURE_FN", FIGURE_SIGNATURE_JS)

# After the chart redrew: milliseconds from the key press to that frame.
LATENCY_JS = "() => window.__mvDrawn - window.__mvKey"


def wait_settled(page: Any, timeout_ms: float = 120_000) -> None:
    """Main content is there and the script has finished its run."""
    page.wait_for_selector(MAIN_ELEMENT, timeout=timeout_ms)
    page.wait_for_function(SETTLED_JS, timeout=timeout_ms)


def open_chapter(page: Any, server: AppServer, file: str) -> None:
    """Open the chapter whose page file is ``file`` (``"omniglot.py"``) and wait for its run."""
    page.goto(server.page_url(next(c for c in chapters() if c.file == file)))
    wait_settled(page)


def wait_charts(page: Any, timeout_ms: float = 60_000) -> int:
    """Wait until every Plotly chart on the page has drawn; their number."""
    page.wait_for_function(CHARTS_DRAWN_JS, timeout=timeout_ms)
    return page.locator(CHART_SLOT).count()


def problems(page: Any) -> list[str]:
    """Exceptions and error alerts shown on the page, as text."""
    found = []
    for selector, kind in ((EXCEPTION, "exception"), (ERROR_ALERT, "error alert"),
                           (CHART_ERROR, "chart error")):
        for element in page.locator(selector).all():
            found.append(f"{kind}: {element.inner_text()[:500]}")
    for dialog in page.locator('[role="dialog"]').all():
        text = dialog.inner_text()
        if "Page not found" in text:
            found.append(f"dialog: {text[:200]}")
    return found


def screenshot(page: Any, path: Path | str, max_height: int = 12_000) -> None:
    """The whole page in one PNG.

    Streamlit scrolls inside its main area, not the document, so a "full page"
    screenshot would stop at the window: grow the window to the content first.
    """
    height = int(page.evaluate(
        "() => Math.max(...[...document.querySelectorAll("
        "'[data-testid=\"stMain\"], [data-testid=\"stSidebarContent\"]')]"
        ".map(el => el.scrollHeight))"))
    size = page.viewport_size or VIEWPORT
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]),
                                                                  max_height)})
    try:
        page.wait_for_timeout(300)  # charts follow the new size (Plotly's resize handler)
        wait_charts(page)
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)

"""A classroom at once: N browser sessions on one app server, driven concurrently.

Shared by the load test (``tests/browser/test_load.py``, N = 5) and the load
benchmark (``benchmarks/bench_load.py``, N = 5, 15, 30). One headless chromium
(Debian's, see ``streamlit_browser.py``), one browser context per student (a
new Streamlit session each), all driven at once with Playwright's asyncio API.
All traffic goes to the server on 127.0.0.1.

Each session, like a student following the lecture:

1. opens the home page;
2. opens "MAML versus pre-training" and moves its "inner learning rate α"
   slider ``moves`` times;
3. opens the sinusoid page, keeps one algorithm (MAML), sets the
   meta-iterations to ``iterations``, presses Train, moves the new task's
   amplitude slider ``moves`` times while the run is queued or training, and
   waits until the status table says ``done``.

Widget response latency: from the key's ``keydown`` in the page to the first
animation frame in which the page's first Plotly chart draws something else
(its SVG trace paths, markers and annotations). Errors: exception elements,
error alerts, Streamlit's "Page not found" dialog and uncaught JavaScript
errors, per session. Server memory: the server process's resident set, read
from ``/proc/<pid>/status`` every ``sample_s`` seconds (and its ``VmHWM`` peak).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import streamlit_browser as sb

T = TypeVar("T")

LANDSCAPE_PAGE = "maml_vs_pretraining"
LANDSCAPE_SLIDER = 'input[type="range"][aria-label="inner learning rate α"]'
AMPLITUDE_SLIDER = 'input[type="range"][aria-label="amplitude a (training: 0.1 to 5)"]'
ITERATIONS_INPUT = '[data-testid="stNumberInput"] input[aria-label="meta-iterations"]'
DROP_TAG = '[data-testid="stMultiSelect"] [data-tag][aria-label="pre-training"]'
FINISHED_WORDS = ("done", "diverged", "stopped", "failed")


DRAWN_JS = "() => window.__mvDrawn !== null && window.__mvKey !== null"

# The run's word in the status table of the sinusoid page ("done", "running", ...).
RUN_STATE_JS = """() => {
  const cells = [...document.querySelectorAll('[data-testid="stMain"] table td')]
    .map(td => td.innerText.trim());
  for (const word of ['done', 'diverged', 'stopped', 'failed']) {
    if (cells.includes(word)) return word;
  }
  return cells.length ? 'running' : null;
}"""
FINISHED_JS = ("() => { const s = (" + RUN_STATE_JS + ")(); return s !== null && "
               "['done', 'diverged', 'stopped', 'failed'].includes(s); }")


@dataclass
class SessionResult:
    index: int
    completed: bool = False  # its training run reached "done"
    run_state: str | None = None
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    js_errors: list[str] = field(default_factory=list)
    failure: str = ""  # the driver itself stopped (a timeout, a missing element)
    run_wait_s: float = 0.0  # from pressing Train to the status "done"
    cookies: dict[str, str] = field(default_factory=dict)  # what the page load set (a proxy's)
    elapsed_s: float = 0.0

    @property
    def errors(self) -> int:
        return len(self.problems) + len(self.js_errors) + (1 if self.failure else 0)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


class MemorySampler:
    """Resident memory of one process from /proc, sampled in a thread (no psutil)."""

    def __init__(self, pid: int, every_s: float = 0.5):
        self.pid = pid
        self.every_s = every_s
        self.samples: list[tuple[float, int]] = []  # (seconds since start, bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="rss-sampler")
        self._t0 = time.monotonic()

    def read(self, field_name: str = "VmRSS") -> int:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(field_name + ":"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        return 0

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss = self.read()
            if rss:
                self.samples.append((round(time.monotonic() - self._t0, 2), rss))
            self._stop.wait(self.every_s)

    def __enter__(self) -> MemorySampler:
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)

    @property
    def peak(self) -> int:
        return max((rss for _, rss in self.samples), default=0)


async def _settled(page: Any, timeout_ms: float) -> None:
    await page.wait_for_selector(sb.MAIN_ELEMENT, timeout=timeout_ms)
    await page.wait_for_function(sb.SETTLED_JS, timeout=timeout_ms)


async def _charts(page: Any, timeout_ms: float) -> None:
    await page.wait_for_function(sb.CHARTS_DRAWN_JS, timeout=timeout_ms)
    await page.wait_for_selector(sb.PLOTLY + " .js-plotly-plot .main-svg", timeout=timeout_ms)


async def _problems(page: Any) -> list[str]:
    found = []
    for selector, kind in ((sb.EXCEPTION, "exception"), (sb.ERROR_ALERT, "error alert")):
        for element in await page.locator(selector).all():
            found.append(f"{kind}: {(await element.inner_text())[:300]}")
    for dialog in await page.locator('[role="dialog"]').all():
        text = await dialog.inner_text()
        if "Page not found" in text:
            found.append(f"dialog: {text[:200]}")
    return found


async def _move(page: Any, slider_selector: str, timeout_ms: float) -> float:
    """One ArrowRight on a slider; milliseconds from keydown to the first chart redrawn."""
    slider = page.locator(slider_selector).first
    await page.evaluate(sb.ARM_JS)
    await slider.focus()
    await page.keyboard.press("ArrowRight")
    await page.wait_for_function(DRAWN_JS, timeout=timeout_ms)
    return float(await page.evaluate(sb.LATENCY_JS))


async def drive_session(browser: Any, url: str, index: int, iterations: int = 200,
                        moves: int = 3, step_timeout_s: float = 120.0,
                        run_timeout_s: float = 600.0) -> SessionResult:
    """One student's visit (see the module's docstring); never raises."""
    result = SessionResult(index)
    t0 = time.monotonic()
    timeout_ms = step_timeout_s * 1000
    context = await browser.new_context(viewport=sb.VIEWPORT, locale="en-US")
    context.set_default_timeout(timeout_ms)
    page = await context.new_page()
    page.on("pageerror", lambda exc: result.js_errors.append(str(exc)[:300]))
    step = "home"
    try:
        await page.goto(url + "/")
        await _settled(page, timeout_ms)
        result.problems += await _problems(page)

        step = LANDSCAPE_PAGE
        await page.goto(f"{url}/{LANDSCAPE_PAGE}")
        await _settled(page, timeout_ms)
        await _charts(page, timeout_ms)
        result.latencies_ms["landscape"] = [await _move(page, LANDSCAPE_SLIDER, timeout_ms)
                                            for _ in range(moves)]
        await _settled(page, timeout_ms)
        result.problems += await _problems(page)

        step = "sinusoid: settings"
        await page.goto(f"{url}/sinusoid")
        await _settled(page, timeout_ms)
        await _charts(page, timeout_ms)
        if await page.locator(DROP_TAG).count():
            await page.locator(DROP_TAG + " svg").first.click()
            await page.wait_for_function(
                "() => !document.querySelector('" + DROP_TAG.replace("'", "\\'") + "')",
                timeout=timeout_ms)
        await _settled(page, timeout_ms)
        field_ = page.locator(ITERATIONS_INPUT)
        await field_.fill(str(iterations))
        await field_.press("Enter")
        await page.wait_for_function(
            "(n) => { const e = document.querySelector('" + ITERATIONS_INPUT.replace("'", "\\'")
            + "'); return e && e.value === String(n); }", arg=iterations, timeout=timeout_ms)
        await _settled(page, timeout_ms)

        step = "sinusoid: train"
        train_at = time.monotonic()
        await page.get_by_role("button", name="Train", exact=True).click()
        await page.wait_for_function("() => (" + RUN_STATE_JS + ")() !== null",
                                     timeout=timeout_ms)
        await _charts(page, timeout_ms)
        step = "sinusoid: slider while training"
        result.latencies_ms["sinusoid_training"] = [await _move(page, AMPLITUDE_SLIDER,
                                                                timeout_ms)
                                                    for _ in range(moves)]
        step = "sinusoid: wait for the run"
        await page.wait_for_function(FINISHED_JS, timeout=run_timeout_s * 1000, polling=500)
        result.run_wait_s = time.monotonic() - train_at
        result.run_state = await page.evaluate(RUN_STATE_JS)
        result.completed = result.run_state == "done"
        await _settled(page, timeout_ms)
        result.problems += await _problems(page)
    except Exception as exc:  # a timeout or a missing element: this session failed here
        result.failure = f"{step}: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        try:
            result.problems += await _problems(page)
        except Exception:  # noqa: BLE001  (the page may be gone)
            pass
    finally:
        result.elapsed_s = time.monotonic() - t0
        try:
            await context.close()
        except Exception:  # noqa: BLE001
            pass
    return result


async def all_at_once(n: int, stagger_s: float, timeout_s: float,
                      start: Callable[[int], Awaitable[T]],
                      failed: Callable[[int, str], T]) -> list[T]:
    """Students ``0..n-1``, student ``i`` starting ``i * stagger_s`` seconds in; one
    result each, in order. A student still busy after ``timeout_s`` is cancelled and
    one whose driver raised is reported, both through ``failed(i, why)``."""
    import traceback

    async def one(i: int) -> T:
        await asyncio.sleep(i * stagger_s)
        return await start(i)

    tasks = [asyncio.ensure_future(one(i)) for i in range(n)]
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
    results = []
    for i, task in enumerate(tasks):
        if task not in done or task.cancelled():
            results.append(failed(i, "overall timeout"))
        elif (exc := task.exception()) is not None:
            where = "".join(traceback.format_exception(exc)[-3:])[-600:]
            results.append(failed(i, f"driver: {exc!r} {where}"))
        else:
            results.append(task.result())
    return results


async def _run_sessions(url: str, n: int, stagger_s: float, overall_timeout_s: float,
                        **kwargs: Any) -> list[SessionResult]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=sb.chromium_executable(),
                                                   args=sb.CHROMIUM_ARGS)
        try:
            return await all_at_once(
                n, stagger_s, overall_timeout_s,
                lambda i: drive_session(browser, url, i, **kwargs),
                lambda i, why: SessionResult(i, failure=why))
        finally:
            await browser.close()


def run_in_thread(make: Callable[[], Awaitable[T]], timeout_s: float, what: str
                  ) -> tuple[T, float]:
    """``asyncio.run(make())`` in a thread of its own, and the wall time it took.

    Beside Playwright's sync API (the browser tests' fixtures) the calling thread
    may already run an event loop, where ``asyncio.run`` refuses to start.
    """
    out: dict[str, Any] = {}

    def work() -> None:
        try:
            out["value"] = asyncio.run(make())  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001  (re-raised below, not lost)
            out["error"] = exc

    t0 = time.monotonic()
    thread = threading.Thread(target=work, name="classroom", daemon=True)
    thread.start()
    thread.join(timeout_s)
    wall_s = time.monotonic() - t0
    if "error" in out:
        raise out["error"]
    if "value" not in out:
        raise TimeoutError(f"{what} did not finish in {timeout_s:.0f} s")
    return out["value"], wall_s


def server_pid(server: sb.AppServer) -> int:
    proc = getattr(server, "_proc", None)
    if proc is None:
        raise RuntimeError("the server is not running")
    return int(proc.pid)


def run_classroom(server: sb.AppServer, n: int, iterations: int = 200, moves: int = 3,
                  stagger_s: float = 0.1, overall_timeout_s: float = 900.0,
                  sample_s: float = 0.5, step_timeout_s: float = 120.0) -> dict[str, Any]:
    """Drive ``n`` sessions at once against a running server; a JSON-ready summary.

    The asyncio loop runs in its own thread, so this works beside Playwright's
    sync API (the browser tests' fixtures) in the same process.
    """
    pid = server_pid(server)
    sampler = MemorySampler(pid, sample_s)
    idle_rss = sampler.read()
    with sampler:
        results, wall_s = run_in_thread(lambda: _run_sessions(
            server.url, n, stagger_s, overall_timeout_s, iterations=iterations, moves=moves,
            step_timeout_s=step_timeout_s, run_timeout_s=overall_timeout_s),
            overall_timeout_s + 120, f"the classroom of {n}")
    time.sleep(2)
    after_rss = sampler.read()
    return summarize(n, results, wall_s, idle_rss, sampler, after_rss,
                     hwm=sampler.read("VmHWM"))


def summarize(n: int, results: list[SessionResult], wall_s: float, idle_rss: int,
              sampler: MemorySampler, after_rss: int, hwm: int) -> dict[str, Any]:
    by_kind: dict[str, list[float]] = {}
    for r in results:
        for kind, values in r.latencies_ms.items():
            by_kind.setdefault(kind, []).extend(values)
    every = [v for values in by_kind.values() for v in values]

    def stats(values: list[float]) -> dict[str, Any]:
        return {"count": len(values), "p50_ms": round(percentile(values, 50), 1),
                "p95_ms": round(percentile(values, 95), 1),
                "max_ms": round(max(values), 1) if values else math.nan}

    mib = 2**20
    return {
        "sessions": n,
        "completed": sum(r.completed for r in results),
        "sessions_with_errors": sum(r.errors > 0 for r in results),
        "errors": sum(r.errors for r in results),
        "latency": stats(every),
        "latency_by_kind": {kind: stats(values) for kind, values in by_kind.items()},
        "run_wait_s": {"median": round(statistics.median([r.run_wait_s for r in results
                                                          if r.completed] or [math.nan]), 1),
                       "max": round(max([r.run_wait_s for r in results] or [0.0]), 1)},
        "wall_s": round(wall_s, 1),
        "server_rss_mib": {"idle": round(idle_rss / mib, 1),
                           "peak_sampled": round(sampler.peak / mib, 1),
                           "peak_hwm": round(hwm / mib, 1),
                           "after": round(after_rss / mib, 1)},
        "rss_samples_mib": [(t, round(b / mib, 1)) for t, b in sampler.samples[::4]],
        "sessions_detail": [{**asdict(r), "errors": r.errors} for r in results],
    }

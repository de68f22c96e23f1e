"""A classroom without browsers: Streamlit sessions driven over its websocket protocol.

In a real classroom every student's browser runs on the student's own laptop;
only the server is shared. Thirty headless Chromium tabs on the 2-core test
machine would measure the test harness (they need far more CPU than the server)
rather than the server. This driver speaks Streamlit's own protocol instead
(``/_stcore/stream``, protobuf ``BackMsg`` up, ``ForwardMsg`` down, the
``websockets`` client that Streamlit itself depends on), so one Python process
can play thirty students while the server does exactly the work it does for
thirty browsers: every script and fragment run, every delta, every training run.

A session behaves like the browser's client (``frontend/lib``'s ``WidgetStateManager``
and ``App``): it opens a page by name, sends the widget values it changed with
every rerun, presses buttons with one-shot triggers, and honours the server's
``auto_rerun`` requests (the live chart's fragment polling) with a timer, the way
the browser's ``setInterval`` does.

Response time of a widget: from sending the rerun to the arrival of the page's
first chart (the chart component's delta) in the new run ("chart"), and to the run's
``script_finished`` ("finished"). A browser adds its own drawing on the
student's laptop (tens of ms) to "chart".
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

WIDGETS = ("slider", "number_input", "button", "multiselect", "checkbox", "radio",
           "selectbox", "text_input", "toggle")


@dataclass
class RunResult:
    """One script (or fragment) run as the client saw it."""

    chart_s: float | None = None  # send -> first chart delta of this run
    finished_s: float | None = None  # send -> script_finished
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # st.error bodies


@dataclass
class Widget:
    id: str
    kind: str
    label: str
    integer: bool = False  # a number input of ints sends int_value
    value: float | None = None  # a slider's or number input's value as last rendered
    step: float | None = None
    fragment_id: str = ""  # a widget inside st.fragment reruns only its fragment


class WsSession:
    """One student's Streamlit session over the websocket protocol."""

    def __init__(self, base_url: str, fragment_polling: bool = True,
                 headers: dict[str, str] | None = None):
        self.ws_url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.fragment_polling = fragment_polling
        self.headers = dict(headers or {})  # sent with the upgrade (a proxy's cookie)
        self.widgets: dict[str, Widget] = {}  # by label
        self.markdown: list[str] = []  # every markdown body received, latest last
        self.exceptions: list[str] = []  # every exception element received
        self.page_not_found = False
        self._states: dict[str, WidgetState] = {}  # widget id -> the value we set
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._pollers: dict[str, asyncio.Task[None]] = {}
        self._page_hash = ""
        self._page_name = ""
        self._run: RunResult | None = None
        self._run_sent = 0.0
        self._run_done: asyncio.Event | None = None
        self._main_run_pending = False
        self._awaited_fragment = ""
        self.closed_reason = ""
        self.log: list[str] = []  # the last protocol events, for a failure's report

    # -- connection ---------------------------------------------------------------------------

    async def open(self, page_name: str, timeout_s: float = 120.0) -> RunResult:
        """Connect as a new session showing ``page_name`` (its URL path); the first run."""
        import websockets

        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                            max_size=None, open_timeout=timeout_s,
                                            additional_headers=self.headers or None)
        self._reader = asyncio.ensure_future(self._read())
        self._page_name = page_name
        return await self.rerun(timeout_s=timeout_s)

    async def close(self) -> None:
        for task in self._pollers.values():
            task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()

    # -- user actions -------------------------------------------------------------------------

    def widget(self, label: str) -> Widget:
        if label not in self.widgets:
            raise KeyError(f"no widget {label!r}; the page has {sorted(self.widgets)}")
        return self.widgets[label]

    async def set_value(self, label: str, value: Any, timeout_s: float = 120.0) -> RunResult:
        """Move a slider or type into a number input, as a student does; waits for the run."""
        w = self.widget(label)
        state = WidgetState(id=w.id)
        if w.kind == "slider":
            state.double_array_value.data.extend([float(value)])
        elif w.kind == "number_input" and w.integer:
            state.int_value = int(value)
        elif w.kind == "number_input":
            state.double_value = float(value)
        else:
            raise ValueError(f"set_value does not handle {w.kind} widgets")
        self._states[w.id] = state
        w.value = float(value)
        return await self.rerun(fragment_id=w.fragment_id, timeout_s=timeout_s)

    async def nudge(self, label: str, steps: int = 1, timeout_s: float = 120.0) -> RunResult:
        """A slider moved by ``steps`` of its step from where it is (the arrow key)."""
        w = self.widget(label)
        if w.kind != "slider" or w.value is None or not w.step:
            raise ValueError(f"{label!r} is not a slider with a value")
        value = round(w.value + steps * w.step, 10)
        return await self.set_value(label, value, timeout_s=timeout_s)

    async def click(self, label: str, timeout_s: float = 120.0) -> RunResult:
        w = self.widget(label)
        trigger = WidgetState(id=w.id, trigger_value=True)
        return await self.rerun(extra=[trigger], fragment_id=w.fragment_id, timeout_s=timeout_s)

    async def rerun(self, extra: list[WidgetState] | None = None, fragment_id: str = "",
                    timeout_s: float = 120.0) -> RunResult:
        """A rerun with our widget values (the whole page, or the fragment of the widget
        that changed, as the browser sends it); returns when it has finished."""
        self._run = RunResult()
        self._run_done = asyncio.Event()
        self._main_run_pending = True
        self._awaited_fragment = fragment_id
        self._run_sent = time.monotonic()
        await self._send(fragment_id=fragment_id, extra=extra or [])
        try:
            await asyncio.wait_for(self._run_done.wait(), timeout_s)
        finally:
            self._main_run_pending = False
        return self._run

    def status_rows(self) -> list[list[str]]:
        """The rows of the latest markdown table (the live page's status table)."""
        for body in reversed(self.markdown):
            if body.startswith("|") and "---|" in body:
                rows = [[c.strip() for c in line.strip().strip("|").split("|")]
                        for line in body.splitlines()[2:]]
                return [r for r in rows if r]
        return []

    # -- the protocol -------------------------------------------------------------------------

    async def _send(self, fragment_id: str, extra: list[WidgetState],
                    auto: bool = False) -> None:
        if not auto:
            self.log.clear()  # keep what follows the latest rerun a student asked for
        self.log.append(f"{time.monotonic():.2f} send fragment={fragment_id[:6]} auto={auto}")
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = ""
        rerun.page_script_hash = self._page_hash
        rerun.page_name = "" if self._page_hash else self._page_name
        rerun.fragment_id = fragment_id
        rerun.is_auto_rerun = auto
        rerun.widget_states.widgets.extend(list(self._states.values()) + extra)
        await self._ws.send(msg.SerializeToString())

    async def _poll(self, fragment_id: str, interval: float) -> None:
        """The browser's setInterval for ``st.fragment(run_every=...)``."""
        try:
            while True:
                await asyncio.sleep(interval)
                await self._send(fragment_id=fragment_id, extra=[], auto=True)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001  (the socket closed)
            self.closed_reason = self.closed_reason or f"poller: {exc}"

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._handle(msg)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # noqa: BLE001  (reported; the waiting run times out)
            self.closed_reason = f"{type(exc).__name__}: {exc}"

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind in ("script_finished", "session_status_changed", "new_session"):
            detail = (ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                      if kind == "script_finished" else "")
            self.log.append(f"{time.monotonic():.2f} {kind} {detail}")
            del self.log[400:]
        if kind == "navigation":
            # With st.navigation the page being shown is named here (new_session names
            # the router script); later reruns must name it or they land on home.
            self._page_hash = msg.navigation.page_script_hash or self._page_hash
        elif kind == "page_not_found":
            self.page_not_found = True
        elif kind == "delta":
            self._delta(msg)
        elif kind == "auto_rerun" and self.fragment_polling:
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            old = self._pollers.pop(fid, None)
            if old is not None:
                old.cancel()
            self._pollers[fid] = asyncio.ensure_future(self._poll(fid, interval))
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                task = self._pollers.pop(fid, None)
                if task is not None:
                    task.cancel()
        elif kind == "script_finished":
            # Fragment runs finish too, and a run cut short by a newer rerun request
            # finishes early: only a whole run we asked for ends ``rerun()``.
            status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
            ends = {"FINISHED_SUCCESSFULLY", "FINISHED_WITH_COMPILE_ERROR"}
            if self._awaited_fragment and self._run is not None and self._run.chart_s is not None:
                # A fragment run's end names no fragment, and the live panel's polling
                # fragment ends runs too: ours is the one that sent a chart.
                ends.add("FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
            if (self._main_run_pending and self._run_done is not None and self._run is not None
                    and status in ends):
                self._run.finished_s = time.monotonic() - self._run_sent
                self._run_done.set()

    def _delta(self, msg: ForwardMsg) -> None:
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        if kind in WIDGETS:
            proto = getattr(element, kind)
            label = getattr(proto, "label", "")
            integer = kind == "number_input" and proto.data_type == proto.INT
            value = step = None
            if kind == "slider":
                values = proto.value if proto.set_value else proto.default
                value, step = (float(values[0]) if values else None), float(proto.step)
            elif kind == "number_input":
                value = float(proto.value if proto.set_value else proto.default)
            old = self.widgets.get(label)
            if old is not None and old.id == proto.id and proto.id in self._states:
                value = old.value  # what we sent is the value now
            self.widgets[label] = Widget(proto.id, kind, label, integer, value, step,
                                         msg.delta.fragment_id)
        elif kind == "markdown":
            self.markdown.append(element.markdown.body)
            del self.markdown[:-50]
        elif kind == "exception":
            text = f"{element.exception.type}: {element.exception.message}"
            self.exceptions.append(text)
            if self._run is not None:
                self._run.exceptions.append(text)
        elif kind == "alert" and element.alert.format == 1:  # ERROR
            if self._run is not None:
                self._run.errors.append(element.alert.body)
        elif kind == "bidi_component" and element.bidi_component.component_name == "mamlviz_chart":
            self.log.append(f"{time.monotonic():.2f} chart fragment={msg.delta.fragment_id[:6]}")
            if self._main_run_pending and self._run is not None and self._run.chart_s is None:
                self._run.chart_s = time.monotonic() - self._run_sent


FINISHED = ("done", "diverged", "stopped", "failed")


def run_states(rows: list[list[str]]) -> list[str]:
    """The status column (the second) of the live page's status table."""
    return [r[1] for r in rows if len(r) > 1 and re.fullmatch(r"[a-z]+", r[1])]


# ----------------------------------------------------------------------------- a classroom

LANDSCAPE_PAGE = "maml_vs_pretraining"
LANDSCAPE_SLIDER = "inner learning rate α"
AMPLITUDE_SLIDER = "amplitude a (training: 0.1 to 5)"
ITERATIONS_INPUT = "meta-iterations"


def load_page_cookies(url: str, timeout_s: float = 120.0) -> dict[str, str]:
    """GET the app's page as a browser first does; the cookies its answer set (a sticky
    proxy's affinity cookie), to send back with every websocket. Never through an HTTP
    proxy of the environment: all of this traffic is local."""
    import urllib.request
    from http.cookies import SimpleCookie

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url.rstrip("/") + "/", timeout=timeout_s) as resp:
        resp.read()
        jar: SimpleCookie = SimpleCookie()
        for header in resp.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


async def drive_student(url: str, index: int, iterations: int = 200, moves: int = 3,
                        think_s: float = 1.0, step_timeout_s: float = 120.0,
                        run_timeout_s: float = 600.0, cookies: bool = False
                        ) -> tuple[Any, dict[str, float]]:
    """One student's visit, as ``streamlit_load.drive_session`` but over the protocol:
    home; the 1-D landscape page with ``moves`` slider changes; the sinusoid page with
    ``iterations`` meta-iterations, Train, ``moves`` amplitude changes while the run is
    in line or training, then waiting for "done". ``think_s`` (about a second, seeded
    jitter) passes between two actions, as between a student's clicks. With
    ``cookies``, the student first loads the page over HTTP, as a browser does, and
    sends the cookies it set with every websocket (behind a sticky proxy, the cookie
    keeps the student on one replica).

    Returns the ``streamlit_load.SessionResult`` and the page-open times (s).
    """
    import random

    from streamlit_load import SessionResult

    rng = random.Random(index)
    result = SessionResult(index)
    opens: dict[str, float] = {}
    t0 = time.monotonic()
    step = "home"
    session: WsSession | None = None

    async def think() -> None:
        await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))

    def check(run: RunResult, where: str) -> RunResult:
        result.problems += [f"{where}: exception {e}" for e in run.exceptions]
        result.problems += [f"{where}: error {e}" for e in run.errors]
        return run

    def latency(kind: str, run: RunResult) -> None:
        value = run.chart_s if run.chart_s is not None else run.finished_s
        result.latencies_ms.setdefault(kind, []).append(1000 * float(value or 0.0))

    try:
        headers: dict[str, str] = {}
        if cookies:
            jar = await asyncio.to_thread(load_page_cookies, url, step_timeout_s)
            result.cookies = jar
            if jar:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())
        for page in ("", LANDSCAPE_PAGE, "sinusoid"):
            step = page or "home"
            session = WsSession(url, headers=headers)
            run = check(await session.open(page, timeout_s=step_timeout_s), step)
            opens[step] = float(run.finished_s or 0.0)
            if session.page_not_found:
                result.problems.append(f"{step}: page not found")
            if page == LANDSCAPE_PAGE:
                for _ in range(moves):  # one step right each time, as the arrow key does
                    await think()
                    latency("landscape", check(
                        await session.nudge(LANDSCAPE_SLIDER, timeout_s=step_timeout_s), step))
            elif page == "sinusoid":
                await think()
                check(await session.set_value(ITERATIONS_INPUT, iterations,
                                              timeout_s=step_timeout_s), step)
                await think()
                step = "sinusoid: train"
                train_at = time.monotonic()
                latency("train", check(await session.click("Train", timeout_s=step_timeout_s),
                                       step))
                step = "sinusoid: slider while training"
                for _ in range(moves):
                    await think()
                    latency("sinusoid_training", check(
                        await session.nudge(AMPLITUDE_SLIDER, timeout_s=step_timeout_s), step))
                step = "sinusoid: wait for the run"
                deadline = time.monotonic() + run_timeout_s
                states: list[str] = []
                while time.monotonic() < deadline:
                    states = run_states(session.status_rows())
                    if states and all(s in FINISHED for s in states):
                        break
                    if session.closed_reason:
                        raise ConnectionError(session.closed_reason)
                    await asyncio.sleep(0.25)
                result.run_wait_s = time.monotonic() - train_at
                result.run_state = ",".join(states) or None
                result.completed = bool(states) and all(s == "done" for s in states)
                if not result.completed:
                    result.failure = f"{step}: the run ended as {states or 'nothing'}"
            result.problems += [f"{step}: exception {e}" for e in session.exceptions
                                if f"{step}: exception {e}" not in result.problems]
            await session.close()
            session = None
    except Exception as exc:  # a timeout or a missing widget: this session failed here
        result.failure = f"{step}: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"
        if session is not None:
            result.problems.append("protocol: " + " | ".join(session.log))
    finally:
        if session is not None:
            await session.close()
        result.elapsed_s = time.monotonic() - t0
    return result, opens


def run_ws_classroom(server: Any, n: int, iterations: int = 200, moves: int = 3,
                     think_s: float = 1.0, stagger_s: float = 0.1,
                     overall_timeout_s: float = 900.0, sample_s: float = 0.5,
                     step_timeout_s: float = 120.0) -> dict[str, Any]:
    """``n`` students at once over the protocol; the same summary as
    ``streamlit_load.run_classroom`` plus ``page_open`` times."""
    import streamlit_load as sl

    return ws_classroom(server.url, [sl.server_pid(server)], n, iterations=iterations,
                        moves=moves, think_s=think_s, stagger_s=stagger_s,
                        overall_timeout_s=overall_timeout_s, sample_s=sample_s,
                        step_timeout_s=step_timeout_s)


def ws_classroom(url: str, pids: list[int], n: int, iterations: int = 200, moves: int = 3,
                 think_s: float = 1.0, stagger_s: float = 0.1,
                 overall_timeout_s: float = 900.0, sample_s: float = 0.5,
                 step_timeout_s: float = 120.0, cookies: bool = False) -> dict[str, Any]:
    """``n`` students at once at ``url`` (one server, or a proxy in front of several),
    the memory of the server processes ``pids`` sampled; ``server_rss_mib`` is the
    first's, ``servers_rss_mib`` lists each one's."""
    from contextlib import ExitStack

    import streamlit_load as sl

    samplers = [sl.MemorySampler(pid, sample_s) for pid in pids]
    idle = [s.read() for s in samplers]

    async def everyone() -> list[tuple[Any, dict[str, float]]]:
        return await sl.all_at_once(
            n, stagger_s, overall_timeout_s,
            lambda i: drive_student(url, i, iterations=iterations, moves=moves,
                                    think_s=think_s, step_timeout_s=step_timeout_s,
                                    run_timeout_s=overall_timeout_s, cookies=cookies),
            lambda i, why: (sl.SessionResult(i, failure=why), {}))

    with ExitStack() as stack:
        for sampler in samplers:
            stack.enter_context(sampler)
        pairs, wall_s = sl.run_in_thread(everyone, overall_timeout_s + 120,
                                         f"the classroom of {n}")
    time.sleep(2)
    results = [r for r, _ in pairs]
    first = samplers[0]
    summary = sl.summarize(n, results, wall_s, idle[0], first, first.read(),
                           hwm=first.read("VmHWM"))
    mib = 2**20
    summary["servers_rss_mib"] = [
        {"pid": s.pid, "idle": round(i / mib, 1), "peak_hwm": round(s.read("VmHWM") / mib, 1)}
        for s, i in zip(samplers, idle)]
    opens = [1000 * v for _, o in pairs for v in o.values()]
    summary["page_open"] = {"count": len(opens), "p50_ms": round(sl.percentile(opens, 50), 1),
                            "p95_ms": round(sl.percentile(opens, 95), 1)}
    summary["driver"] = "websocket protocol"
    summary["think_s"] = think_s
    return summary

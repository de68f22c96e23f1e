"""The fix for Streamlit's lost-rerun race (``pages/_streamlit_compat.py``), on a real
AppSession.

The race, as traced on the server under load: runner X finishes a whole-page run and
stops itself, with its events still waiting in the event loop. A fragment rerun then
finds X stopped and starts runner Y, and X's queued events are dropped as "from a
non-current ScriptRunner". Here the two runners are stand-ins. The session, its
request handling and its event handling are Streamlit's own, so the steps replay
exactly. The first two tests show the bug on the unpatched session (after a whole-page
run, and after an outer fragment's run, the public-API alternative); the others show the fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
from streamlit.runtime.script_data import ScriptData
from streamlit.runtime.scriptrunner import ScriptRunnerEvent
from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

from pages import _streamlit_compat as compat

FRAGMENT = "live-panel-fragment"


class StandInRunner:
    """A ScriptRunner that has stopped on its own (refuses reruns) or is running."""

    def __init__(self, stopped: bool) -> None:
        self.stopped = stopped
        self.requests: list[RerunData] = []
        self.stop_requested = False

    def request_rerun(self, rerun_data: RerunData) -> bool:
        if self.stopped:
            return False
        self.requests.append(rerun_data)
        return True

    def request_stop(self) -> None:
        self.stop_requested = True


class NoUploads:
    """The session's uploaded-file manager; this session has none to remove."""

    def remove_session_files(self, session_id: str) -> None:
        pass


def _rerun_msg(fragment_id: str = "") -> Any:
    msg = BackMsg()
    msg.rerun_script.fragment_id = fragment_id
    return msg.rerun_script


def _element(text: str) -> ForwardMsg:
    msg = ForwardMsg()
    msg.delta.new_element.markdown.body = text
    return msg


def _replay(session_class: type[AppSession], fragment_rerun: bool,
            x_ran: ScriptRunnerEvent = ScriptRunnerEvent.SCRIPT_STOPPED_WITH_SUCCESS
            ) -> dict[str, Any]:
    """X finished a whole-page run (or, with ``x_ran``, a fragment's run); a rerun
    request finds it stopped; then X's queued events (an element, the end of the run,
    its shutdown) reach the event loop."""

    async def scenario() -> dict[str, Any]:
        session = session_class(
            ScriptData(main_script_path=str(Path(__file__)), is_hello=False),
            uploaded_file_manager=NoUploads(),  # type: ignore[arg-type]
            script_cache=None,  # type: ignore[arg-type]
            message_enqueued_callback=None,
            user_info={},
        )
        x, y = StandInRunner(stopped=True), StandInRunner(stopped=False)
        session._scriptrunner = x  # type: ignore[assignment]
        session._browser_queue = ForwardMsgQueue()
        session._local_sources_watcher = None
        session.has_fragment = lambda fragment_id: True  # type: ignore[method-assign]
        made: list[RerunData] = []

        def create(rerun_data: RerunData) -> None:  # the replacement runner, Y
            made.append(rerun_data)
            session._scriptrunner = y  # type: ignore[assignment]

        session._create_scriptrunner = create  # type: ignore[method-assign]
        session.request_rerun(_rerun_msg(FRAGMENT if fragment_rerun else ""))
        handle: Callable[..., None] = session._handle_scriptrunner_event_on_event_loop
        handle(x, ScriptRunnerEvent.ENQUEUE_FORWARD_MSG, forward_msg=_element("X's chart"))
        handle(x, x_ran)
        handle(x, ScriptRunnerEvent.SHUTDOWN)
        delivered = session._browser_queue.flush()
        result = {"made": made, "current_is_y": session._scriptrunner is y,
                "x_stop_requested": x.stop_requested,
                "bodies": [m.delta.new_element.markdown.body for m in delivered
                           if m.WhichOneof("type") == "delta"],
                "finished": [ForwardMsg.ScriptFinishedStatus.Name(m.script_finished)
                             for m in delivered if m.WhichOneof("type") == "script_finished"]}
        session._scriptrunner = None
        session.shutdown()
        return result

    # A thread of its own: an earlier test (Playwright's sync API) may have left an
    # event loop running on this one, and asyncio.run refuses to nest.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, scenario()).result()


@pytest.fixture(scope="module")
def patched_session() -> type[AppSession]:
    """A subclass carrying the fix, so the unpatched AppSession stays available."""
    installed = type("PatchedAppSession", (AppSession,), {})
    assert compat.patch_app_session(installed)
    return installed


def _unwrapped(name: str) -> Any:
    method = getattr(AppSession, name)
    return getattr(method, "__wrapped__", method)  # the router may have patched it


def test_unpatched_streamlit_drops_a_finished_runs_output() -> None:
    """The bug itself (if a Streamlit release fixes it, this test says so)."""
    unpatched = type("UnpatchedAppSession", (AppSession,),
                     {name: _unwrapped(name) for name in compat.APP_SESSION_METHODS})
    result = _replay(unpatched, fragment_rerun=True)
    assert len(result["made"]) == 1 and result["current_is_y"]
    assert result["bodies"] == [] and result["finished"] == []


def test_an_outer_fragment_instead_of_a_page_rerun_loses_its_output_too() -> None:
    """Why the fix is not a public-API redesign: if the slider lived in an outer
    ``st.fragment`` (no page-wide rerun), X would be that fragment's run, which also stops
    on its own; the polling fragment's request still replaces X and drops its chart."""
    unpatched = type("UnpatchedAppSession", (AppSession,),
                     {name: _unwrapped(name) for name in compat.APP_SESSION_METHODS})
    result = _replay(unpatched, fragment_rerun=True,
                     x_ran=ScriptRunnerEvent.FRAGMENT_STOPPED_WITH_SUCCESS)
    assert len(result["made"]) == 1 and result["current_is_y"]
    assert result["bodies"] == [] and result["finished"] == []


def test_a_fragment_rerun_keeps_an_outer_fragments_output(
        patched_session: type[AppSession]) -> None:
    result = _replay(patched_session, fragment_rerun=True,
                     x_ran=ScriptRunnerEvent.FRAGMENT_STOPPED_WITH_SUCCESS)
    assert result["bodies"] == ["X's chart"]
    assert result["finished"] == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
    assert result["current_is_y"]


def test_a_fragment_rerun_keeps_the_finished_runs_output(patched_session: type[AppSession]) -> None:
    result = _replay(patched_session, fragment_rerun=True)
    assert len(result["made"]) == 1
    assert result["bodies"] == ["X's chart"]
    assert result["finished"] == ["FINISHED_SUCCESSFULLY"]
    assert result["current_is_y"]  # X's shutdown did not clear the new runner
    assert not result["x_stop_requested"]


def test_a_newer_whole_page_rerun_still_replaces_the_old_run(
        patched_session: type[AppSession]) -> None:
    """With fastReruns a whole-page rerun stops X on purpose and redraws everything:
    X's late output stays dropped, as Streamlit intends."""
    result = _replay(patched_session, fragment_rerun=False)
    assert result["x_stop_requested"] and result["current_is_y"]
    assert result["bodies"] == [] and result["finished"] == []


def test_the_fix_is_installed_on_this_streamlit() -> None:
    """An upgrade that renames the patched methods fails here rather than silently
    bringing the lost reruns back."""
    assert compat.keep_finished_runs_output()
    assert getattr(AppSession.request_rerun, "__wrapped__", None) is not None
    assert compat.keep_finished_runs_output()  # idempotent: still one layer
    assert not hasattr(AppSession.request_rerun.__wrapped__, "__wrapped__")

"""Contracts for every Streamlit internal the app uses (``pages/_streamlit_compat.py``).

One test per use: the internal exists, has the signature the app calls or wraps, and
behaves as the app relies on. ``pyproject.toml`` pins the Streamlit minor these passed
on; a Streamlit upgrade is safe once this file (and ``tests/test_rerun_race.py``, which
replays the race on a real session) passes on it.
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import streamlit as st
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import ScriptRunnerEvent
from streamlit.testing.v1 import AppTest

from pages import _streamlit_compat as compat


def test_the_pinned_streamlit_is_the_one_these_contracts_were_written_for() -> None:
    """pyproject pins this minor; a different one must pass this file before the pin moves."""
    major, minor = (int(part) for part in st.__version__.split(".")[:2])
    assert (major, minor) == (1, 67), st.__version__


# 1. leave_pages_directory_mode: PagesManager.uses_pages_directory ----------------------

def _legacy_app(folder: Path) -> Path:
    """A main script with a pages/ folder beside it: Streamlit's legacy mode. Its page
    leaves the mode (through the compat module) when the session asks it to."""
    (folder / "pages").mkdir()
    main = folder / "app.py"
    main.write_text('import streamlit as st\nst.write("main script")\n', encoding="utf-8")
    (folder / "pages" / "side.py").write_text(textwrap.dedent("""\
        import streamlit as st
        from pages import _streamlit_compat  # the app's, already imported by the test

        st.write("side page alone")
        if st.session_state.get("leave") and _streamlit_compat.leave_pages_directory_mode():
            st.rerun()
        """), encoding="utf-8")
    return main


def test_the_pages_directory_flag_is_what_runs_a_page_alone_and_clearing_it_ends_that(
        tmp_path: Path) -> None:
    assert "uses_pages_directory" in vars(PagesManager)  # a class attribute, per process
    at = AppTest.from_file(str(_legacy_app(tmp_path)), default_timeout=30).run()
    assert [m.value for m in at.markdown] == ["main script"]
    # The legacy mode: a page's URL runs pages/<page>.py on its own, without the main script.
    at.switch_page("pages/side.py").run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["side page alone"]
    assert PagesManager.uses_pages_directory is True
    # Cleared, the same request reruns through the main script (the router, in the app).
    at.session_state["leave"] = True
    at.run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["main script"]
    assert PagesManager.uses_pages_directory is False
    assert compat.leave_pages_directory_mode() is False  # already off: nothing to do


def test_st_navigation_clears_the_same_flag() -> None:
    """The public way out of the legacy mode sets the flag the compat function sets, so
    the two agree on what "the mode is off" means."""
    from streamlit.commands import navigation

    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation.navigation)


# 2. keep_finished_runs_output: AppSession.request_rerun and its event handler ----------

def test_app_session_has_the_two_methods_the_race_fix_wraps_with_their_signatures() -> None:
    # Unwrapped: the router may have patched them already in this process.
    request_rerun = inspect.unwrap(AppSession.request_rerun)
    assert list(inspect.signature(request_rerun).parameters) == ["self", "client_state"]
    handle = inspect.unwrap(AppSession._handle_scriptrunner_event_on_event_loop)
    params = list(inspect.signature(handle).parameters)
    assert params[:4] == ["self", "sender", "event", "forward_msg"], params
    # The state both wrappers read and swap: the session's current runner.
    assert "self._scriptrunner" in inspect.getsource(AppSession.__init__)
    # It still drops a non-current runner's events: what the fix works around.
    assert "sender is not self._scriptrunner" in inspect.getsource(handle)
    for event in ("SHUTDOWN", "SCRIPT_STOPPED_WITH_SUCCESS", "FRAGMENT_STOPPED_WITH_SUCCESS",
                  "ENQUEUE_FORWARD_MSG"):
        assert hasattr(ScriptRunnerEvent, event), event
    assert isinstance(st.get_option("runner.fastReruns"), bool)


# Public behaviour the compat-free code relies on, checked here for the same upgrade. ----

def test_the_sidebar_page_list_option_can_be_set_by_the_router() -> None:
    """The router turns ``client.showSidebarNavigation`` back on for its chapters."""
    before = st.get_option("client.showSidebarNavigation")
    try:
        st.set_option("client.showSidebarNavigation", not before)
        assert st.get_option("client.showSidebarNavigation") is (not before)
    finally:
        st.set_option("client.showSidebarNavigation", before)

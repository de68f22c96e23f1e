"""Every use of Streamlit's private internals, in one place, each with its reason.

The rest of ``pages/`` uses Streamlit's public API only. What follows is what that API
lacks; each function says what. Private internals change without notice between
releases, so ``pyproject.toml`` pins the Streamlit minor these were tested on, and
``tests/test_streamlit_compat.py`` holds a contract test per use (the attribute exists,
its signature, the behaviour relied on). An upgrade is safe once those pass.

1. ``leave_pages_directory_mode``: ``PagesManager.uses_pages_directory``.
2. ``keep_finished_runs_output``: two ``AppSession`` methods, for a race that loses a
   finished run's output under load.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from typing import Any

from streamlit import config
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import ScriptRunnerEvent

_LOG = logging.getLogger(__name__)


def leave_pages_directory_mode() -> bool:
    """Switch Streamlit's legacy ``pages/`` mode off for this server; True if it was on.

    With a ``pages/`` folder beside the main script, Streamlit starts in its legacy
    multipage mode: until some session has called ``st.navigation``, a visit to
    ``/<chapter>`` runs ``pages/<chapter>.py`` on its own, without streamlit_app.py
    (no language, no sidebar). The public API can leave that mode only by calling
    ``st.navigation`` (documented: from then on every session ignores ``pages/``),
    which a chapter cannot do with the router's pages, and it cannot tell whether the
    mode is on: a chapter run by an ``AppTest`` on its own must not be rerouted.
    ``PagesManager.uses_pages_directory`` is the flag Streamlit keeps for it, and the
    one ``st.navigation`` itself clears.
    """
    if not PagesManager.uses_pages_directory:
        return False
    PagesManager.uses_pages_directory = False
    return True


# The lost-rerun race ------------------------------------------------------------------
#
# 1. A student moves a slider; the whole page reruns in ScriptRunner X and finishes.
#    X's events (the new elements and ``script_finished``) are queued for the server's
#    event loop, which is seconds behind when thirty students share two cores.
# 2. X finds no further request and stops itself.
# 3. Before the event loop reaches X's queued events, the live panel's polling fragment
#    asks for a rerun. ``AppSession.request_rerun`` finds X stopped, so it starts a new
#    runner Y, and from then on ignores every event whose sender is not Y.
# 4. X's queued events arrive and are dropped as "from a non-current ScriptRunner". The
#    slider's new chart and the end of its run never reach the browser, which keeps
#    showing the old page until some later whole-page rerun.
#
# Streamlit drops a replaced runner's events on purpose when a newer whole-page rerun
# replaces it (``runner.fastReruns``): that rerun redraws everything. In step 3 nothing
# replaced X's work. So the fix keeps delivering the events of a runner that stopped on
# its own. All of X's run events were queued before X stopped, and so before Y was made.
# They therefore reach the event loop before any of Y's, and the browser sees them in
# the order they were made. X's last event, SHUTDOWN, must not clear the current runner
# Y, so it is skipped.

_FINISHED = "_mamlviz_finished_runners"  # per session: runners replaced after stopping
_PATCHED = "_mamlviz_keeps_finished_runs"
_INSTALL_LOCK = threading.Lock()  # sessions start on their own threads
APP_SESSION_METHODS = ("request_rerun", "_handle_scriptrunner_event_on_event_loop")


def keep_finished_runs_output() -> bool:
    """Stop Streamlit dropping a finished run's output under load (once per process);
    True when the fix is in place.

    Why no public API does it: the race (steps above) is inside ``AppSession``, between
    a run that stopped on its own and any *fragment* rerun request that arrives before
    the event loop has delivered that run's events. Streamlit 1.67 guards only the case
    where the fragment was removed by the run (``request_rerun``'s check for issue
    9921); the live panel's polling fragment still exists, so its request starts a new
    runner and the finished run's output is dropped. An outer ``st.fragment`` instead
    of page-wide ``st.rerun()`` does not avoid it: an outer fragment's run stops on its
    own too, and the polling fragment's next request drops its output the same way
    (``tests/test_rerun_race.py`` replays both on the unpatched session). Only never
    polling with ``run_every`` while a run's output is in flight would, and the live
    charts poll by design.
    """
    with _INSTALL_LOCK:
        return patch_app_session(AppSession)


def _replaced_on_purpose(client_state: Any) -> bool:
    """Whether ``request_rerun`` stops the current runner itself: a whole-page rerun
    with ``runner.fastReruns`` (as Streamlit decides it)."""
    fragment_rerun = bool(client_state is not None and client_state.fragment_id)
    return bool(config.get_option("runner.fastReruns")) and not fragment_rerun


def _request_rerun(original: Any) -> Any:
    @functools.wraps(original)
    def request_rerun(self: AppSession, client_state: Any) -> None:
        before = self._scriptrunner
        original(self, client_state)
        if (before is not None and self._scriptrunner is not before
                and not _replaced_on_purpose(client_state)):
            # ``before`` refused the request because it had stopped on its own:
            # what it already queued must still reach the browser.
            self.__dict__.setdefault(_FINISHED, weakref.WeakSet()).add(before)
    return request_rerun


def _handle_event(original: Any) -> Any:
    @functools.wraps(original)
    def handle(self: AppSession, sender: Any, event: Any, *args: Any, **kwargs: Any) -> None:
        finished = self.__dict__.get(_FINISHED)
        if not finished or sender is None or sender not in finished:
            original(self, sender, event, *args, **kwargs)
            return
        if event == ScriptRunnerEvent.SHUTDOWN:
            finished.discard(sender)  # its last event; the current runner stays current
            return
        current = self._scriptrunner
        self._scriptrunner = sender  # handled as the runner that was current when it ran
        try:
            original(self, sender, event, *args, **kwargs)
        finally:
            self._scriptrunner = current
    return handle


def patch_app_session(session_class: type[AppSession]) -> bool:
    """Wrap ``session_class``'s two methods (once); False when it lacks them."""
    if session_class.__dict__.get(_PATCHED, False):
        return True
    if not all(callable(getattr(session_class, name, None)) for name in APP_SESSION_METHODS):
        _LOG.warning("mamlviz: this Streamlit has no AppSession.%s; the fix for lost "
                     "reruns under load is not installed", " / ".join(APP_SESSION_METHODS))
        return False
    request_rerun, handle = (getattr(session_class, name) for name in APP_SESSION_METHODS)
    session_class.request_rerun = _request_rerun(request_rerun)  # type: ignore[method-assign]
    session_class._handle_scriptrunner_event_on_event_loop = (  # type: ignore[method-assign]
        _handle_event(handle))
    setattr(session_class, _PATCHED, True)
    return True

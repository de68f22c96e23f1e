"""What the live pages say about sharing one server with a classroom.

Training is admitted by the engine's process-wide queue (``mamlviz.live``): at
most ``TRAINING_QUEUE.capacity`` runs train at once so the pages stay
responsive; the rest wait in line. A run whose page stops polling (the tab was
closed) for ``IDLE_TIMEOUT_S`` (``$MAMLVIZ_IDLE_TIMEOUT``, default 30 s) stops
itself and frees its place. Sinusoid runs train in a child process
(``training_backend()``, ``$MAMLVIZ_TRAINING_BACKEND``: "process", the default,
or "thread"), so a server busy with many pages cannot starve them of the
interpreter lock; the fork server behind those processes starts in the
background when the app starts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping

import streamlit as st

from mamlviz.live import TRAINING_QUEUE, LiveRun, Snapshot
from pages import _i18n


def _idle_timeout(default: float = 30.0) -> float:
    """``$MAMLVIZ_IDLE_TIMEOUT`` seconds (a positive number), else 30 s."""
    try:
        value = float(os.environ.get("MAMLVIZ_IDLE_TIMEOUT", default))
    except ValueError:
        return default
    return value if 0 < value < float("inf") else default


IDLE_TIMEOUT_S = _idle_timeout()

def live_texts(section: str) -> dict[str, str]:
    """A live page's strings in the reader's language: the live chapters' shared words
    (the Train/Stop controls, the run-status table) plus the page's own section."""
    return {**_i18n.texts("classroom.live"), **_i18n.texts(section)}


def training_backend() -> str:
    """Where sinusoid runs train: "process" (default) or "thread" ($MAMLVIZ_TRAINING_BACKEND)."""
    chosen = os.environ.get("MAMLVIZ_TRAINING_BACKEND", "").strip().lower()
    return "thread" if chosen == "thread" else "process"


@st.cache_resource(show_spinner=False)
def warm_up_training() -> list[threading.Thread]:
    """Once per server, in the background and side by side: the fork server that
    training processes start from (it imports torch in its own process), and
    torch.func's first-use import in this one."""
    from mamlviz import inner, live_process

    jobs = [inner.warm_up] + ([live_process.warm_up] if training_backend() == "process" else [])
    threads = [threading.Thread(target=job, name=f"mamlviz-warm-up-{i}", daemon=True)
               for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    return threads


QUEUED_POLL_S = 2.0


def stoppable(run: LiveRun | None) -> bool:
    """Whether a page's Stop button acts: a run is training and no Stop was asked for yet
    (after one, the run ends with its meta-step in progress; its table says "stopping")."""
    return run is not None and run.alive and not run.stopping


def poll_interval(run: LiveRun | None) -> float | None:
    """How often a live panel reruns: 5x a second while training (a rerun itself takes
    tens of ms, so the chart updates about 4x a second), every ``QUEUED_POLL_S`` while
    waiting in line, never when idle.

    In line only the place changes, and a class keeps about thirty panels in line at
    once. Each poll costs the server about 10 ms, so at one poll a second they would take
    a quarter of its interpreter while the class is clicking. The run starts training
    the moment its turn comes, whatever the page polls; only its first curve point
    shows up to two seconds later.
    """
    if run is None or not run.alive:
        return None
    return QUEUED_POLL_S if run.snapshot().queue_position > 0 else 0.2


def queue_status(snap: Snapshot, key: str) -> None:
    """Place in line while queued, and whatever the trainer changed on its own.

    When the run leaves the line the whole page reruns once, so its live panel
    switches from polling every QUEUED_POLL_S to five times a second.
    """
    t = _i18n.texts("classroom")
    was_queued = st.session_state.get(f"_queued_{key}", False)
    st.session_state[f"_queued_{key}"] = snap.queue_position > 0
    if was_queued and snap.queue_position == 0:
        st.rerun(scope="app")
    if snap.queue_position > 0:
        st.info(t["queued"].format(n=snap.queue_position, cap=TRAINING_QUEUE.capacity))
    for note in snap.notes:
        st.info(note)


def run_messages(t: Mapping[str, str], snap: Snapshot, names: Mapping[str, str]) -> None:
    """Under a live panel's status table: when the first point came, which runs
    diverged (their curves are kept) and which stopped with an error."""
    if snap.first_record_s is not None:
        st.caption(t["first_point"].format(s=snap.first_record_s))
    for key, recs in snap.records.items():
        if snap.status[key] == "diverged" and recs:
            st.warning(t["diverged"].format(name=names.get(key, key), step=recs[-1].step))
    for key, error in snap.errors.items():
        st.error(t["failed"].format(name=names.get(key, key), error=error))


def capacity_note() -> None:
    t = _i18n.texts("classroom")
    st.caption(t["cap"].format(cap=TRAINING_QUEUE.capacity, waiting=TRAINING_QUEUE.waiting,
                               idle=IDLE_TIMEOUT_S))

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
from pages import _ui


def _idle_timeout(default: float = 30.0) -> float:
    """``$MAMLVIZ_IDLE_TIMEOUT`` seconds (a positive number), else 30 s."""
    try:
        value = float(os.environ.get("MAMLVIZ_IDLE_TIMEOUT", default))
    except ValueError:
        return default
    return value if 0 < value < float("inf") else default


IDLE_TIMEOUT_S = _idle_timeout()

TEXT = {
    "en": {
        "queued": "Waiting for a free training slot: number {n} in line. This server trains "
                  "{cap} run(s) at a time so that every page stays responsive.",
        "cap": "One server, many students: at most {cap} training run(s) at once; others wait "
               "in line (now {waiting} waiting). A run whose tab is closed stops after "
               "{idle:.0f} s.",
    },
    "zh": {
        "queued": "正在等待空闲的训练名额：排在第 {n} 位。本服务器同时最多训练 {cap} 个任务，"
                  "以保证每个页面都能流畅响应。",
        "cap": "一台服务器，全班共用：同时最多 {cap} 个训练任务，其余排队"
               "（当前 {waiting} 个在等）。关闭标签页后，其训练会在 {idle:.0f} 秒后自动停止。",
    },
}


# The live chapters' shared words: algorithm names, the Train/Stop controls and the
# run-status table, in both languages (each page's own TEXT adds to these).
LIVE_TEXT = {
    "en": {
        "bad_setting": "This setting is not valid: {error}", "clear": "Forget this run",
        "device": "device", "failed": "{name} stopped with an error: {error}",
        "first_point": "first curve point after {s:.1f} s",
        "inner_lr": "inner learning rate α", "iterations": "meta-iterations", "its": "it/s",
        "memory": "memory (process RSS)",
        "no_algorithm": "Choose at least one algorithm.",
        "state_diverged": "diverged", "state_done": "done",
        "state_failed": "failed", "state_running": "running", "state_starting": "starting",
        "state_stopped": "stopped", "state_stopping": "stopping…", "state_waiting": "waiting",
        "status": "status", "stop": "Stop", "train": "Train",
    },
    "zh": {
        "bad_setting": "该设置无效：{error}", "clear": "清除本次训练", "device": "设备",
        "failed": "{name} 出错停止：{error}", "first_point": "{s:.1f} 秒后出现第一个曲线点",
        "inner_lr": "内层学习率 α", "iterations": "元迭代次数",
        "its": "迭代/秒", "memory": "内存（进程 RSS）",
        "no_algorithm": "请至少选择一个算法。",
        "state_diverged": "发散", "state_done": "完成", "state_failed": "出错",
        "state_running": "训练中", "state_starting": "启动中", "state_stopped": "已停止",
        "state_stopping": "正在停止…", "state_waiting": "等待", "status": "状态", "stop": "停止",
        "train": "训练",
    },
}


def live_texts(table: dict[str, dict[str, str]]) -> dict[str, str]:
    """A live page's strings in the current language: ``LIVE_TEXT`` plus its own."""
    return {**_ui.texts(LIVE_TEXT), **_ui.texts(table)}


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
    t = _ui.texts(TEXT)
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
    t = _ui.texts(TEXT)
    st.caption(t["cap"].format(cap=TRAINING_QUEUE.capacity, waiting=TRAINING_QUEUE.waiting,
                               idle=IDLE_TIMEOUT_S))

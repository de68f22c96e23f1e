"""Meta-training in a child process, so a busy web server cannot starve it.

In one Python process, threads share one interpreter lock: a server that
handles many pages (and redraws their charts) leaves a training thread a
fraction of a core (a ninth of its meta-steps, benchmarks/README.md, "The live
training chart"). ``train_in_child`` runs the same ``Trainer``
generators in a process of their own and streams their records back over a
pipe, in small batches. Processes come from a fork server that imported torch
and the engine once, so a run starts in well under a second.

Messages from the child, each a tuple:
``("running", name, device)``, ``("records", name, [Record, ...])``,
``("status", name, state)``, ``("error", name, text)``, ``("note", text)``,
``("phi", name, {weight: array})`` (every second and at the end),
``("held_out", name, {...})`` (``mamlviz.live.score_held_out``, when asked for: just
before the model's final status), ``("end",)``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

import torch

from .config import TrainConfig
from .inner import Params
from .live import HeldOut, score_held_out_or_none
from .train import Trainer

PHI_EVERY_S = 1.0
BATCH_EVERY_S = 0.05

_context: Any = None


def context() -> Any:
    """The fork-server context, started on first use with torch already imported."""
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["mamlviz.live_process", "mamlviz.live_prewarm"])
        _context = ctx
    return _context


_main_lock = threading.Lock()


@contextmanager
def plain_main() -> Iterator[None]:
    """Hide the page script from multiprocessing while a process starts.

    multiprocessing re-runs ``__main__`` in new processes (and in the fork server),
    and under Streamlit ``__main__`` is whichever page script is running. Starting a
    process would run the app again inside it. For the few milliseconds of a start,
    ``__main__`` is a blank module. Streamlit sets ``__main__`` from other sessions'
    threads too, so this is not airtight: ``streamlit_app.py`` also builds nothing
    when it is run under multiprocessing's name for it, ``__mp_main__``.
    """
    with _main_lock:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def start(process: Any) -> None:
    with plain_main():
        process.start()


def warm_up() -> None:
    """Start the fork server now (imports torch once), so the first run starts fast."""
    proc = context().Process(target=_noop, daemon=True)
    start(proc)
    proc.join(60)


def _noop() -> None:
    return None


def _niceness() -> int | None:
    try:
        return os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError):  # no priorities on this platform
        return None


# The web server's niceness: this module is imported by the server, and first of all by
# the fork server it starts, before that one lowers its own priority.
SERVER_NICENESS = _niceness()
NICER_BY = 10


def lower_priority() -> None:
    """Training takes whatever CPU the pages leave, not the other way round.

    On a small machine the server, the browsers and training share the cores; a
    nice process yields to a page redraw at once and still gets every idle cycle.
    The fork server lowers its own priority before its warm-up (seconds of tracing,
    while the first students open their pages), and the training processes it forks
    inherit it: NICER_BY steps nicer than the server, whichever process asks.
    """
    current = _niceness()
    if current is None or SERVER_NICENESS is None:
        return
    target = min(SERVER_NICENESS + NICER_BY, 19)
    try:
        if target > current:
            os.nice(target - current)
    except OSError:  # not allowed
        pass


def _plain(phi: Params) -> dict[str, Any]:
    """Weights as numpy arrays: pickled by value. (Tensors sent through a pipe travel as
    shared-memory handles, which vanish when this process exits.)"""
    return {k: v.detach().cpu().numpy().copy() for k, v in phi.items()}


def train_in_child(conn: Connection, stop: Any, configs: Mapping[str, dict[str, Any]],
                   phis: Mapping[str, dict[str, Any]], device: str | None,
                   iterations: int | None, held_out: dict[str, Any] | None = None) -> None:
    """The child's whole life: build the trainers, step them in turn, stream, stop.

    ``held_out`` (``mamlviz.live.HeldOut``'s fields): score each model when its
    training ends, here, before its final status goes out.
    """
    torch.set_num_threads(1)
    lower_priority()
    trainers: dict[str, Trainer] = {}
    streams: dict[str, Any] = {}
    pending: dict[str, list[Any]] = {}
    for name, values in configs.items():
        try:
            start = phis.get(name)
            phi = None if start is None else {k: torch.from_numpy(v) for k, v in start.items()}
            trainer = Trainer(TrainConfig.from_dict(values), device=device, phi=phi)
        except Exception as exc:
            conn.send(("error", name, f"{type(exc).__name__}: {exc}"))
            continue
        trainers[name], streams[name], pending[name] = trainer, trainer.run(iterations), []
        conn.send(("running", name, trainer.device_name))
    phi_at = time.monotonic()
    sent_at = -BATCH_EVERY_S  # the first records go out at once: the curve's first point
    notes_sent = 0

    def flush(final: bool = False) -> None:
        """Send what is pending; phi too once a second (for a Stop) and at the end."""
        nonlocal notes_sent, phi_at
        for name, records in pending.items():
            if records:
                conn.send(("records", name, records[:]))
                records.clear()
        notes = [note for t in trainers.values() for note in t.notes]
        for note in notes[notes_sent:]:
            conn.send(("note", note))
        notes_sent = len(notes)
        if final or time.monotonic() - phi_at >= PHI_EVERY_S:
            for name, trainer in trainers.items():
                conn.send(("phi", name, _plain(trainer.phi)))
            phi_at = time.monotonic()

    def finish(name: str, status: str) -> None:
        """The model's score on held-out tasks (if asked for), then its final status."""
        if held_out is not None:
            trainer = trainers[name]
            score = score_held_out_or_none(trainer.config, trainer.phi, HeldOut(**held_out))
            if score is not None:
                conn.send(("held_out", name, score))
        conn.send(("status", name, status))

    active = list(streams)
    while active and not stop.is_set():
        for name in list(active):
            try:
                record = next(streams[name])
            except StopIteration:
                active.remove(name)
                flush()
                finish(name, "done")
                continue
            except Exception as exc:
                active.remove(name)
                flush()
                conn.send(("error", name, f"{type(exc).__name__}: {exc}"))
                continue
            pending[name].append(record)
            if record.status in ("done", "diverged"):
                active.remove(name)
                flush()
                finish(name, record.status)
        if time.monotonic() - sent_at >= BATCH_EVERY_S:
            flush()
            sent_at = time.monotonic()
    flush(final=True)
    for name in active:
        finish(name, "stopped")
    conn.send(("end",))
    conn.close()

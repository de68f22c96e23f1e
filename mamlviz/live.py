"""Live meta-training in a worker thread: what a page shows while the class watches.

``LiveRun`` drives :meth:`mamlviz.train.Trainer.run` for one or several
algorithms in a single background thread, one meta-step of each in turn, so
the algorithms progress side by side on a small CPU. The page (or any other
caller) never blocks: it reads :meth:`LiveRun.snapshot`, a thread-safe copy of
the records so far, as often as it likes, and calls :meth:`LiveRun.stop` to end
the run. Stopping keeps everything trained before the stop: :meth:`LiveRun.phis`
returns each algorithm's weights (copies: a caller may fine-tune them freely).

A worker that fails (bad data, a bug, out of memory) does not take the others
down: its status becomes ``failed`` and its error message is in the snapshot.
A diverging run ends with status ``diverged`` and keeps its curve so far.

A classroom shares one server, so training is admitted through one
process-wide ``TrainingQueue``: at most ``MAMLVIZ_MAX_TRAINING`` runs train at
once (default: one fewer than the CPU cores, at least one), the others wait in
line and their snapshots say their place in it, so the pages stay responsive.
A run whose page stops asking for snapshots (the tab was closed) for
``idle_timeout`` seconds stops itself and frees its place.

``backend="process"`` trains in a child process (``mamlviz.live_process``)
instead of the worker thread, so a busy server cannot starve training of the
interpreter lock; the worker thread then only relays the child's records.

This module never imports streamlit.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from .config import TrainConfig
from .inner import Params
from .runs import evaluate_phi
from .train import Record, Trainer

# Per-algorithm states: waiting -> (queued) -> starting -> running -> done | diverged | stopped
# | failed. A snapshot says "stopping" between Stop and the worker's end.
FINISHED = ("done", "diverged", "stopped", "failed")
# Keep memory bounded on long runs: beyond this many records, every other one is dropped.
MAX_RECORDS = 20_000

Evaluator = Callable[[str, Params], float]


@dataclass(frozen=True)
class EvalPoint:
    """A periodic score of phi during meta-training (e.g. Omniglot test accuracy)."""

    step: int
    value: float
    elapsed_s: float


@dataclass(frozen=True)
class HeldOut:
    """Score each model on held-out tasks once its training ends, where it trained.

    A finished run's models are shown with their error by adaptation step on
    ``tasks`` held-out tasks (``mamlviz.runs.evaluate_phi``). Computed in the
    training process (or worker thread), the score is ready when the run ends,
    instead of costing the web server's interpreter tens of milliseconds per model
    while a class waits for its pages. ``k_shot`` None: the shots each model trained with.
    """

    tasks: int = 100
    steps: int = 10
    k_shot: int | None = None


def score_held_out(config: TrainConfig, phi: Params, held_out: HeldOut) -> dict[str, Any]:
    """``evaluate_phi`` of ``phi`` as ``held_out`` asks, on the CPU, plus its ``k_shot``."""
    k_shot = held_out.k_shot or config.k_shot
    result = evaluate_phi(config, phi, tasks=held_out.tasks, k_shot=k_shot,
                          steps=held_out.steps, device="cpu")
    return {**result, "k_shot": k_shot}


def score_held_out_or_none(config: TrainConfig, phi: Params, held_out: HeldOut
                           ) -> dict[str, Any] | None:
    """``score_held_out``, or None where it fails: the page then scores the model itself
    and shows why it failed, and the run is not lost over a score."""
    try:
        return score_held_out(config, phi, held_out)
    except Exception:
        return None


@dataclass(frozen=True)
class Snapshot:
    """Everything a page needs to draw one frame, copied under the lock."""

    records: dict[str, list[Record]]
    evals: dict[str, list[EvalPoint]]
    status: dict[str, str]
    errors: dict[str, str]
    it_per_s: dict[str, float]
    steps: dict[str, int]
    device: str
    started_at: float
    first_record_s: float | None  # seconds from start() to the first record of any algorithm
    version: int  # grows with every new record: a page can skip redrawing an unchanged frame
    queue_position: int = 0  # > 0 while waiting for a free training slot
    notes: tuple[str, ...] = ()  # e.g. "GPU out of memory: meta-batch halved to 8"

    @property
    def running(self) -> bool:
        return any(s not in FINISHED for s in self.status.values())

    @property
    def overall(self) -> str:
        """One word for the whole run: running, stopping, failed, diverged, stopped or done."""
        states = set(self.status.values())
        if states - set(FINISHED):
            return "stopping" if "stopping" in states else "running"
        for word in ("failed", "diverged", "stopped"):
            if word in states:
                return word
        return "done"


@dataclass
class _Slot:
    config: TrainConfig
    phi: Params | None = None
    trainer: Trainer | None = None
    records: list[Record] = field(default_factory=list)
    evals: list[EvalPoint] = field(default_factory=list)
    status: str = "waiting"
    error: str = ""
    stream: Generator[Record, None, None] | None = None
    result_phi: Params | None = None  # the latest weights a child process sent
    notes: list[str] = field(default_factory=list)
    held_out: dict[str, Any] | None = None  # score_held_out's, once training ended


class TrainingQueue:
    """First come, first served admission of training runs: ``capacity`` at a time."""

    def __init__(self, capacity: int):
        self.capacity = max(1, int(capacity))
        self._cond = threading.Condition()
        self._running: set[int] = set()
        self._waiting: list[int] = []

    def enter(self, ticket: int, cancelled: Callable[[], bool], poll_s: float = 1.0) -> bool:
        """Block until admitted (True) or until ``cancelled()`` while waiting (False).

        A place freeing up or ``wake()`` (a run stopped) wakes the waiters at once;
        ``cancelled()`` is checked then and every ``poll_s`` seconds (an idle timeout
        has no event to wake on). Thirty runs in line waking ten times a second each
        cost the server's interpreter more than the pages they wait behind.
        """
        with self._cond:
            self._waiting.append(ticket)
            try:
                while not (len(self._running) < self.capacity and self._waiting[0] == ticket):
                    if cancelled():
                        return False
                    self._cond.wait(timeout=poll_s)
                self._running.add(ticket)
                return True
            finally:
                self._waiting.remove(ticket)
                self._cond.notify_all()

    def wake(self) -> None:
        """Let every waiter check ``cancelled()`` now (a run in line was stopped)."""
        with self._cond:
            self._cond.notify_all()

    def leave(self, ticket: int) -> None:
        with self._cond:
            self._running.discard(ticket)
            self._cond.notify_all()

    def position(self, ticket: int) -> int:
        """1 for the next in line, 2 after that...; 0 when not waiting."""
        with self._cond:
            return self._waiting.index(ticket) + 1 if ticket in self._waiting else 0

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._running)

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)


def _default_capacity() -> int:
    value = os.environ.get("MAMLVIZ_MAX_TRAINING")
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, (os.cpu_count() or 2) - 1)


TRAINING_QUEUE = TrainingQueue(_default_capacity())
_tickets = iter(range(1, 2**62))
_tickets_lock = threading.Lock()


def _next_ticket() -> int:
    with _tickets_lock:
        return next(_tickets)


def process_rss_bytes() -> int:
    """Resident memory of this process (Linux /proc; peak RSS elsewhere), in bytes."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak) * (1 if sys.platform == "darwin" else 1024)


class LiveRun:
    """Meta-train several algorithms in one background thread; read snapshots any time.

    ``configs`` maps a name (usually the algorithm) to its settings. ``phis``
    optionally gives starting weights per name (they are copied). ``evaluator``
    (name, phi) -> float is called every ``evaluate_every`` steps of an algorithm
    and at its end, in the worker thread. ``trainer_factory`` builds a trainer
    (tests inject failures through it).
    """

    def __init__(self, configs: Mapping[str, TrainConfig], device: str | torch.device | None = None,
                 omniglot: Any = None, phis: Mapping[str, Params] | None = None,
                 iterations: int | None = None, evaluator: Evaluator | None = None,
                 evaluate_every: int = 0,
                 trainer_factory: Callable[..., Trainer] = Trainer,
                 queue: TrainingQueue | None = None, idle_timeout: float | None = None,
                 backend: str = "thread", held_out: HeldOut | None = None):
        if backend not in ("thread", "process"):
            raise ValueError(f"backend must be 'thread' or 'process', got {backend!r}")
        if backend == "process" and (evaluator is not None or omniglot is not None
                                     or trainer_factory is not Trainer):
            raise ValueError("the process backend trains sinusoid runs without callbacks")
        self._backend = backend
        if not configs:
            raise ValueError("LiveRun needs at least one configuration")
        self._slots = {name: _Slot(config) for name, config in configs.items()}
        for name, phi in (phis or {}).items():
            if name in self._slots:
                self._slots[name].phi = {k: v.detach().clone() for k, v in phi.items()}
        self._device = device
        self._omniglot = omniglot
        self._iterations = iterations
        self._evaluator = evaluator
        self._evaluate_every = evaluate_every
        self._held_out = held_out
        self._factory = trainer_factory
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._device_name = ""
        self._started_at = 0.0
        self._first_record_s: float | None = None
        self._version = 0
        self._queue = queue or TRAINING_QUEUE
        self._ticket = _next_ticket()
        self._idle_timeout = idle_timeout
        self._last_seen = time.monotonic()
        self.stop_reason = ""
        self.child_pid: int | None = None  # the training process, with backend="process"

    # -- control --------------------------------------------------------------------------------

    def start(self) -> LiveRun:
        if self._thread is not None:
            raise RuntimeError("this run was already started")
        self._started_at = time.perf_counter()
        self._thread = threading.Thread(target=self._work, name="mamlviz-live", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the worker to stop after the meta-step in progress; trained weights are kept."""
        self._stop.set()
        self._queue.wake()  # a run still in line leaves it now

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker; True when it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        """Stop was asked for (or nobody watched) and the worker is still finishing."""
        return self._stop.is_set() and self.alive

    @property
    def names(self) -> list[str]:
        return list(self._slots)

    @property
    def configs(self) -> dict[str, TrainConfig]:
        return {name: slot.config for name, slot in self._slots.items()}

    # -- reading --------------------------------------------------------------------------------

    def touch(self) -> None:
        """The page is still watching (snapshot() touches too)."""
        self._last_seen = time.monotonic()

    def _abandoned(self) -> bool:
        if self._idle_timeout is None:
            return False
        if time.monotonic() - self._last_seen > self._idle_timeout:
            self.stop_reason = f"nobody watched for {self._idle_timeout:.0f} s (tab closed?)"
            self._stop.set()
            return True
        return False

    def snapshot(self) -> Snapshot:
        self.touch()
        position = self._queue.position(self._ticket)
        with self._lock:
            records = {n: list(s.records) for n, s in self._slots.items()}
            status = {n: s.status for n, s in self._slots.items()}
            if self._thread is None:
                status = {n: "waiting" for n in status}
            elif self.stopping:
                # Stop was asked for and the worker has not finished yet: it ends after the
                # meta-step in progress, which on a busy machine (a niced training process,
                # or a compile) can take seconds. Say so at once, not "running".
                status = {n: (v if v in FINISHED else "stopping") for n, v in status.items()}
            return Snapshot(
                records=records,
                evals={n: list(s.evals) for n, s in self._slots.items()},
                status=status,
                errors={n: s.error for n, s in self._slots.items() if s.error},
                it_per_s={n: (r[-1].it_per_s if r else 0.0) for n, r in records.items()},
                steps={n: (r[-1].step if r and r[-1].status != "diverged" else
                           (r[-1].step - 1 if r else 0)) for n, r in records.items()},
                device=self._device_name,
                started_at=self._started_at,
                first_record_s=self._first_record_s,
                version=self._version,
                queue_position=position,
                notes=tuple(note for s in self._slots.values()
                            for note in (s.trainer.notes if s.trainer is not None else s.notes)),
            )

    def status(self) -> dict[str, str]:
        return self.snapshot().status

    def errors(self) -> dict[str, str]:
        return self.snapshot().errors

    def held_out(self) -> dict[str, dict[str, Any]]:
        """Each model's ``score_held_out`` (with ``held_out=``), once its training ended."""
        with self._lock:
            return {n: s.held_out for n, s in self._slots.items() if s.held_out is not None}

    def phis(self) -> dict[str, Params]:
        """Each algorithm's weights as trained so far (copies), for those that have any."""
        out: dict[str, Params] = {}
        with self._lock:
            for name, slot in self._slots.items():
                source = slot.trainer.phi if slot.trainer is not None else slot.result_phi
                if source is not None and (slot.records or slot.status in FINISHED):
                    out[name] = {k: v.detach().cpu().clone() for k, v in source.items()}
        return out

    # -- the worker -----------------------------------------------------------------------------

    def _set(self, slot: _Slot, **changes: Any) -> None:
        with self._lock:
            for key, value in changes.items():
                setattr(slot, key, value)
            self._version += 1

    def _fail(self, slot: _Slot, exc: BaseException) -> None:
        message = str(exc) or type(exc).__name__
        self._set(slot, status="failed", error=f"{type(exc).__name__}: {message}", stream=None)

    def _evaluate(self, name: str, slot: _Slot) -> None:
        if self._evaluator is None or slot.trainer is None:
            return
        try:
            value = float(self._evaluator(name, slot.trainer.phi))
        except Exception as exc:  # a failing evaluation should not end training
            self._set(slot, error=f"evaluation: {type(exc).__name__}: {exc}")
            return
        point = EvalPoint(slot.trainer.step, value, slot.trainer.elapsed_s)
        with self._lock:
            slot.evals.append(point)
            self._version += 1

    def _work(self) -> None:
        with self._lock:
            for slot in self._slots.values():
                slot.status = "queued"
        admitted = self._queue.enter(self._ticket,
                                     lambda: self._stop.is_set() or self._abandoned())
        try:
            if admitted:
                self._train() if self._backend == "thread" else self._relay_child()
            else:
                for slot in self._slots.values():
                    self._set(slot, status="stopped")
        finally:
            if admitted:
                self._queue.leave(self._ticket)

    def _relay_child(self) -> None:
        """Start a child process that trains; copy its messages into the slots."""
        from . import live_process

        ctx = live_process.context()
        receive, send = ctx.Pipe(duplex=False)
        stop = ctx.Event()
        configs = {name: slot.config.to_dict() for name, slot in self._slots.items()}
        phis = {name: {k: v.detach().cpu().numpy() for k, v in slot.phi.items()}
                for name, slot in self._slots.items() if slot.phi is not None}
        for slot in self._slots.values():
            self._set(slot, status="starting")
        held_out = None if self._held_out is None else asdict(self._held_out)
        child = ctx.Process(target=live_process.train_in_child, daemon=True,
                            args=(send, stop, configs, phis,
                                  None if self._device is None else str(self._device),
                                  self._iterations, held_out))
        live_process.start(child)
        self.child_pid = child.pid
        send.close()  # the child holds the writing end now
        try:
            while True:
                if self._stop.is_set() or self._abandoned():
                    stop.set()
                try:
                    if not receive.poll(0.05):
                        if not child.is_alive() and not receive.poll(0):
                            raise EOFError
                        continue
                    message = receive.recv()
                except (EOFError, OSError):
                    for slot in self._slots.values():
                        if slot.status not in FINISHED:
                            self._set(slot, status="failed",
                                      error="the training process ended unexpectedly")
                    break
                if message[0] == "end":
                    break
                self._apply(message)
        finally:
            stop.set()
            child.join(10)
            if child.is_alive():
                child.kill()
            receive.close()

    def _apply(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "note":
            next(iter(self._slots.values())).notes.append(message[1])
            return
        slot = self._slots[message[1]]
        if kind == "running":
            self._device_name = message[2]
            self._set(slot, status="running")
        elif kind == "records":
            with self._lock:
                slot.records.extend(message[2])
                if len(slot.records) > MAX_RECORDS:
                    slot.records[:] = slot.records[::2]
                if self._first_record_s is None:
                    self._first_record_s = time.perf_counter() - self._started_at
                self._version += 1
        elif kind == "status":
            self._set(slot, status=message[2])
        elif kind == "error":
            self._set(slot, status="failed", error=message[2])
        elif kind == "phi":
            self._set(slot, result_phi={k: torch.from_numpy(v) for k, v in message[2].items()})
        elif kind == "held_out":
            self._set(slot, held_out=message[2])

    def _train(self) -> None:
        for slot in self._slots.values():  # build every trainer first: cheap, and errors show early
            if self._stop.is_set():
                break
            self._set(slot, status="starting")
            try:
                slot.trainer = self._factory(slot.config, device=self._device, phi=slot.phi,
                                             omniglot=self._omniglot)
                self._device_name = slot.trainer.device_name
                slot.stream = slot.trainer.run(self._iterations)
                self._set(slot, status="running")
            except Exception as exc:
                self._fail(slot, exc)
        for name, slot in self._slots.items():
            if slot.trainer is not None and self._evaluate_every:
                self._evaluate(name, slot)
        active = [(n, s) for n, s in self._slots.items() if s.stream is not None]
        while active and not self._stop.is_set() and not self._abandoned():
            for name, slot in list(active):
                if self._stop.is_set():
                    break
                self._advance(name, slot)
                time.sleep(0)  # let the page's thread take the GIL between meta-steps
                if slot.stream is None:
                    active.remove((name, slot))
        for name, slot in self._slots.items():
            if slot.stream is not None:
                slot.stream.close()
                self._set(slot, status="stopped", stream=None)
                if self._evaluate_every:
                    self._evaluate(name, slot)
            elif slot.status in ("waiting", "starting"):
                self._set(slot, status="stopped")
        if self._held_out is not None:
            for slot in self._slots.values():
                if slot.trainer is not None and slot.status in ("done", "diverged", "stopped"):
                    score = score_held_out_or_none(slot.config, slot.trainer.phi,
                                                   self._held_out)
                    if score is not None:
                        self._set(slot, held_out=score)


    def _advance(self, name: str, slot: _Slot) -> None:
        assert slot.stream is not None
        try:
            record = next(slot.stream)
        except StopIteration:
            self._set(slot, status="done", stream=None)
            return
        except Exception as exc:
            self._fail(slot, exc)
            return
        with self._lock:
            slot.records.append(record)
            if len(slot.records) > MAX_RECORDS:
                slot.records[:] = slot.records[::2]
            if self._first_record_s is None:
                self._first_record_s = time.perf_counter() - self._started_at
            self._version += 1
        step = record.step
        if record.status in ("done", "diverged"):
            self._set(slot, status=record.status, stream=None)
            if self._evaluate_every and record.status == "done":
                self._evaluate(name, slot)
        elif self._evaluate_every and step % self._evaluate_every == 0:
            self._evaluate(name, slot)

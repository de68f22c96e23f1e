"""A classroom on one server: training is queued, abandoned runs free their place,
and a GPU running out of memory falls back instead of crashing."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from mamlviz.config import TrainConfig
from mamlviz.live import HeldOut, LiveRun, TrainingQueue
from mamlviz.runs import evaluate_phi
from mamlviz.train import Trainer


def _config(**overrides) -> TrainConfig:
    values = {"iterations": 40, "meta_batch_size": 4, "implementation": "vmap", **overrides}
    return TrainConfig.for_algorithm("maml", **values)


def _wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_queue_admits_capacity_runs_and_keeps_order():
    queue = TrainingQueue(capacity=1)
    never = lambda: False  # noqa: E731
    assert queue.enter(1, never)
    admitted = []
    threads = [threading.Thread(target=lambda t=t: admitted.append(t) if queue.enter(t, never)
                                else None) for t in (2, 3)]
    threads[0].start()
    assert _wait_for(lambda: queue.position(2) == 1)
    threads[1].start()
    assert _wait_for(lambda: queue.position(3) == 2)
    assert queue.running == 1 and queue.waiting == 2
    queue.leave(1)
    assert _wait_for(lambda: admitted == [2])
    assert queue.position(3) == 1
    queue.leave(2)
    assert _wait_for(lambda: admitted == [2, 3])
    queue.leave(3)
    for t in threads:
        t.join(5)
    assert queue.running == 0 and queue.waiting == 0


def test_second_run_waits_with_a_visible_place_in_line_then_completes():
    queue = TrainingQueue(capacity=1)
    first = LiveRun({"maml": _config(iterations=10**6)}, queue=queue).start()
    assert _wait_for(lambda: first.snapshot().status["maml"] == "running")
    second = LiveRun({"maml": _config(iterations=5)}, queue=queue).start()
    assert _wait_for(lambda: second.snapshot().queue_position == 1)
    snap = second.snapshot()
    assert snap.status["maml"] == "queued" and not snap.records["maml"]
    first.stop()
    assert first.join(30)
    assert second.join(60)
    done = second.snapshot()
    assert done.status["maml"] == "done" and done.queue_position == 0
    assert [r.step for r in done.records["maml"]] == [1, 2, 3, 4, 5]


def test_stopping_a_queued_run_leaves_the_queue():
    queue = TrainingQueue(capacity=1)
    first = LiveRun({"maml": _config(iterations=10**6)}, queue=queue).start()
    assert _wait_for(lambda: first.snapshot().status["maml"] == "running")
    second = LiveRun({"maml": _config()}, queue=queue).start()
    assert _wait_for(lambda: second.snapshot().queue_position == 1)
    second.stop()
    assert second.join(10)
    assert second.snapshot().status["maml"] == "stopped"
    assert queue.waiting == 0
    first.stop()
    assert first.join(30)


def test_wake_lets_a_cancelled_waiter_leave_without_waiting_for_its_poll():
    queue = TrainingQueue(capacity=1)
    assert queue.enter(1, lambda: False)
    cancelled = threading.Event()
    result = []
    waiter = threading.Thread(target=lambda: result.append(
        queue.enter(2, cancelled.is_set, poll_s=600.0)))
    waiter.start()
    assert _wait_for(lambda: queue.position(2) == 1)
    cancelled.set()
    queue.wake()
    waiter.join(10)  # without the wake it would sleep out its 600 s poll
    assert not waiter.is_alive() and result == [False]
    assert queue.waiting == 0 and queue.running == 1


def test_a_run_nobody_watches_stops_and_frees_its_place():
    queue = TrainingQueue(capacity=1)
    run = LiveRun({"maml": _config(iterations=10**6)}, queue=queue, idle_timeout=0.5).start()
    assert _wait_for(lambda: run.snapshot().status["maml"] == "running")
    # The page (the tab) goes away: no more snapshots.
    assert run.join(30)
    assert "nobody watched" in run.stop_reason
    assert queue.running == 0
    # What it trained before stopping is kept.
    assert run.phis()["maml"]


class _OutOfMemoryOnce:
    """Wraps a meta-step so its first call with a large meta-batch runs out of memory."""

    def __init__(self, trainer: Trainer, limit: int):
        self.trainer, self.limit, self.inner = trainer, limit, trainer._meta_step

    def __call__(self, phi, state, *batch):
        if batch[0].shape[0] > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self.inner(phi, state, *batch)


def test_out_of_memory_halves_the_meta_batch_and_says_so():
    trainer = Trainer(_config(meta_batch_size=16, iterations=3))
    trainer._meta_step = _OutOfMemoryOnce(trainer, limit=5)
    records = list(trainer.run())
    assert [r.step for r in records] == [1, 2, 3] and records[-1].status == "done"
    assert trainer.config.meta_batch_size == 4
    assert trainer.notes == ["out of memory on cpu: meta-batch halved to 8",
                             "out of memory on cpu: meta-batch halved to 4"]


def test_process_backend_streams_records_and_returns_weights():
    run = LiveRun({"maml": _config(iterations=8), "pretrain": _config(iterations=8)},
                  backend="process").start()
    assert run.join(120)
    snap = run.snapshot()
    assert snap.status == {"maml": "done", "pretrain": "done"}
    assert [r.step for r in snap.records["maml"]] == list(range(1, 9))
    assert snap.device == "cpu"
    phis = run.phis()
    assert set(phis) == {"maml", "pretrain"}
    assert all(bool(torch.isfinite(v).all()) for v in phis["maml"].values())


def test_process_backend_stop_keeps_what_was_trained():
    run = LiveRun({"maml": _config(iterations=10**6)}, backend="process").start()
    assert _wait_for(lambda: len(run.snapshot().records["maml"]) >= 5, timeout=120)
    run.stop()
    assert run.join(60)
    snap = run.snapshot()
    assert snap.status["maml"] == "stopped" and not snap.errors
    assert run.phis()["maml"]


def test_the_training_process_yields_the_cpu_to_the_pages():
    """The child trains at a lower priority (nice + 10) than the server that made it."""
    import os

    run = LiveRun({"maml": _config(iterations=10**6)}, backend="process").start()
    try:
        assert _wait_for(lambda: len(run.snapshot().records["maml"]) >= 1, timeout=120)
        assert run.child_pid is not None
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, run.child_pid) == min(own + 10, 19)
    finally:
        run.stop()
        assert run.join(60)


@pytest.mark.parametrize("backend", ["thread", "process"])
def test_a_finished_run_comes_with_its_held_out_scores(backend):
    """Scored where it trained, before the run ends: the page finds the curves ready.
    They are exactly what the page would compute from the run's final weights."""
    held_out = HeldOut(tasks=5, steps=3)
    run = LiveRun({"maml": _config(iterations=8), "pretrain": _config(iterations=8)},
                  backend=backend, held_out=held_out).start()
    assert run.join(120)
    scores, phis = run.held_out(), run.phis()
    assert set(scores) == {"maml", "pretrain"}
    for name, score in scores.items():
        config = run.configs[name]
        again = evaluate_phi(config, phis[name], tasks=5, k_shot=config.k_shot, steps=3,
                             device="cpu")
        assert score["k_shot"] == config.k_shot == 10
        assert len(score["mse_by_step"]) == 4
        assert score["mse_by_step"] == again["mse_by_step"]
        assert score["ci95_by_step"] == again["ci95_by_step"]


def test_a_stopped_run_is_scored_too_and_none_is_asked_by_default():
    run = LiveRun({"maml": _config(iterations=10**6)}, backend="process",
                  held_out=HeldOut(tasks=4, steps=2, k_shot=5)).start()
    assert _wait_for(lambda: len(run.snapshot().records["maml"]) >= 3, timeout=120)
    run.stop()
    assert run.join(60)
    score = run.held_out()["maml"]
    assert score["k_shot"] == 5 and len(score["mse_by_step"]) == 3
    plain = LiveRun({"maml": _config(iterations=4)}, backend="process").start()
    assert plain.join(120) and plain.snapshot().status == {"maml": "done"}
    assert plain.held_out() == {}


def test_lowering_priority_twice_stays_ten_steps_nicer_than_the_server():
    """The fork server lowers its priority before its warm-up, and each training process
    it forks asks again: both end 10 steps nicer than the server, not 20."""
    import os
    import subprocess
    import sys

    code = ("import os; from mamlviz import live_process as lp; lp.lower_priority(); "
            "a = os.getpriority(os.PRIO_PROCESS, 0); lp.lower_priority(); "
            "print(a, os.getpriority(os.PRIO_PROCESS, 0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    expected = min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)
    assert [int(v) for v in out] == [expected, expected]


def test_process_backend_reports_a_diverging_run():
    run = LiveRun({"maml": _config(inner_lr=1e8, iterations=200)}, backend="process").start()
    assert run.join(120)
    snap = run.snapshot()
    assert snap.status["maml"] == "diverged"
    assert snap.records["maml"][-1].status == "diverged"


def test_server_config_keeps_reruns_cheap():
    """One server, many sessions: no full garbage collection after every (fragment)
    rerun (120+ ms each with torch loaded), and no file watcher walking torch."""
    from pathlib import Path

    settings, section = {}, ""
    for line in (Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").open():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            settings[f"{section}.{key}"] = value  # tomllib is Python 3.11+; we support 3.10
    assert settings["runner.postScriptGC"] == "false"
    assert settings["server.fileWatcherType"] == '"none"'

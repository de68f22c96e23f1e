"""The live runner: a worker thread that meta-trains, streams records, stops and keeps phi."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from mamlviz.config import TrainConfig
from mamlviz.errors import DataError
from mamlviz.live import LiveRun, Snapshot, process_rss_bytes
from mamlviz.train import Trainer

torch.set_num_threads(1)


def _config(algorithm: str = "maml", **overrides) -> TrainConfig:
    values = {"iterations": 6, "meta_batch_size": 4, "implementation": "vmap", **overrides}
    return TrainConfig.for_algorithm(algorithm, **values)


def test_two_algorithms_side_by_side_to_the_end() -> None:
    run = LiveRun({"maml": _config("maml"), "pretrain": _config("pretrain")}).start()
    assert run.join(timeout=120)
    snap = run.snapshot()
    assert isinstance(snap, Snapshot)
    assert snap.status == {"maml": "done", "pretrain": "done"}
    assert snap.overall == "done" and not snap.running
    assert [r.step for r in snap.records["maml"]] == list(range(1, 7))
    assert snap.steps == {"maml": 6, "pretrain": 6}
    assert snap.device == "cpu"
    assert snap.first_record_s is not None and snap.first_record_s > 0
    assert not snap.errors
    phis = run.phis()
    assert set(phis) == {"maml", "pretrain"}
    # A copy: changing it does not touch the run's own weights.
    key = next(iter(phis["maml"]))
    phis["maml"][key].add_(100.0)
    assert not torch.equal(run.phis()["maml"][key], phis["maml"][key])


def test_snapshot_before_start_and_rejects_double_start() -> None:
    run = LiveRun({"maml": _config()})
    snap = run.snapshot()
    assert snap.status == {"maml": "waiting"} and snap.records == {"maml": []}
    assert run.phis() == {}
    run.start()
    with pytest.raises(RuntimeError):
        run.start()
    run.stop()
    assert run.join(timeout=60)


def test_stop_keeps_what_was_trained() -> None:
    run = LiveRun({"maml": _config(iterations=100_000)}).start()
    deadline = time.monotonic() + 60
    while not run.snapshot().records["maml"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert run.alive
    run.stop()
    assert run.join(timeout=30)
    snap = run.snapshot()
    assert snap.status["maml"] == "stopped"
    assert snap.overall == "stopped"
    trained = snap.steps["maml"]
    assert 1 <= trained < 100_000
    start = Trainer(_config(), device="cpu").phi
    phi = run.phis()["maml"]
    assert any(not torch.equal(phi[k], start[k]) for k in phi)


def test_a_stop_says_stopping_until_the_step_in_progress_ends() -> None:
    # A meta-step that takes long to finish (a compile, or a niced training process on a
    # busy server): between Stop and the worker's end the run says "stopping", not
    # "running", and it still counts as running (the page keeps polling).
    in_step, release = threading.Event(), threading.Event()

    class Slow(Trainer):
        def run(self, iterations=None):
            for record in super().run(iterations):
                yield record
                if record.step == 2:
                    in_step.set()
                    release.wait(60)

    run = LiveRun({"maml": _config(iterations=100), "pretrain": _config("pretrain", iterations=2)},
                  trainer_factory=Slow).start()
    assert in_step.wait(60)
    assert run.snapshot().status["maml"] == "running" and not run.stopping
    run.stop()
    snap = run.snapshot()
    assert run.stopping and snap.running and snap.overall == "stopping"
    # A finished algorithm keeps its own word.
    assert snap.status == {"maml": "stopping", "pretrain": "done"}
    release.set()
    assert run.join(timeout=60)
    snap = run.snapshot()
    assert not run.stopping and not snap.running
    assert snap.status == {"maml": "stopped", "pretrain": "done"}
    assert snap.steps["maml"] == 3  # the step in progress finished, and is kept


def test_snapshots_from_another_thread_while_training() -> None:
    run = LiveRun({"fomaml": _config("fomaml", iterations=40)}).start()
    seen: list[int] = []

    def reader() -> None:
        while run.alive:
            seen.append(len(run.snapshot().records["fomaml"]))
            time.sleep(0.001)

    thread = threading.Thread(target=reader)
    thread.start()
    assert run.join(timeout=120)
    thread.join()
    assert seen == sorted(seen)  # records only ever grow
    assert len(run.snapshot().records["fomaml"]) == 40


def test_a_failing_worker_reports_its_error_and_the_others_go_on() -> None:
    def factory(config, **kwargs):
        if config.algorithm == "reptile":
            raise DataError("Omniglot is not here")
        return Trainer(config, **kwargs)

    run = LiveRun({"reptile": _config("reptile"), "maml": _config("maml")},
                  trainer_factory=factory).start()
    assert run.join(timeout=120)
    snap = run.snapshot()
    assert snap.status == {"reptile": "failed", "maml": "done"}
    assert "Omniglot is not here" in snap.errors["reptile"]
    assert snap.overall == "failed"
    assert set(run.phis()) == {"maml"}


def test_an_error_in_the_middle_of_training_is_reported() -> None:
    class Flaky(Trainer):
        def run(self, iterations=None):
            for record in super().run(iterations):
                yield record
                if record.step == 2:
                    raise RuntimeError("out of memory")

    run = LiveRun({"maml": _config()}, trainer_factory=Flaky).start()
    assert run.join(timeout=120)
    snap = run.snapshot()
    assert snap.status["maml"] == "failed"
    assert "out of memory" in snap.errors["maml"]
    assert len(snap.records["maml"]) == 2  # the curve so far is kept


def test_divergence_keeps_the_curve_so_far() -> None:
    config = _config(iterations=50, outer_optimizer="sgd", meta_lr=1e30)
    run = LiveRun({"maml": config}).start()
    assert run.join(timeout=120)
    snap = run.snapshot()
    assert snap.status["maml"] == "diverged"
    assert snap.records["maml"][-1].status == "diverged"
    assert all(torch.isfinite(v).all() for v in run.phis()["maml"].values())


def test_evaluator_streams_a_second_curve() -> None:
    calls: list[str] = []

    def evaluator(name, phi):
        calls.append(name)
        return 0.5

    run = LiveRun({"maml": _config(iterations=4)}, evaluator=evaluator,
                  evaluate_every=2).start()
    assert run.join(timeout=120)
    points = run.snapshot().evals["maml"]
    assert [p.step for p in points] == [0, 2, 4]  # the end is scored once
    assert all(p.value == 0.5 for p in points)


def test_start_from_given_weights() -> None:
    phi = {k: torch.zeros_like(v) for k, v in Trainer(_config(), device="cpu").phi.items()}
    run = LiveRun({"maml": _config(iterations=1)}, phis={"maml": phi}).start()
    assert run.join(timeout=60)
    assert all(v.abs().sum() == 0 for v in phi.values())  # the caller's copy is untouched


def test_needs_a_config_and_measures_memory() -> None:
    with pytest.raises(ValueError):
        LiveRun({})
    assert process_rss_bytes() > 10 * 2**20

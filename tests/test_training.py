"""Behaviour of the training generator, evaluation, checkpoints, settings and CLI."""

import json
import math
import pickle
import subprocess
import sys
import zipfile

import pytest
import torch

from mamlviz import checkpoint as ckpt
from mamlviz.algorithms import all_algorithms
from mamlviz.config import TrainConfig
from mamlviz.errors import CheckpointError, ConfigError
from mamlviz.evaluate import mean_ci95
from mamlviz.runs import evaluate_checkpoint, evaluate_phi, train_to_checkpoint
from mamlviz.train import Record, Trainer, choose_implementation, compiler_available


def small(algorithm="maml", **overrides):
    settings = {"iterations": 20, "meta_batch_size": 4, "implementation": "vmap"}
    return TrainConfig.for_algorithm(algorithm, **{**settings, **overrides})


def test_records_are_small_and_numeric():
    records = list(Trainer(small(log_every=5)).run())
    assert [r.step for r in records] == [5, 10, 15, 20]
    assert records[-1].status == "done"
    for r in records:
        assert r.algorithm == "maml" and r.device == "cpu"
        for key in ("query_loss_before", "query_loss_after", "elapsed_s", "it_per_s"):
            assert isinstance(getattr(r, key), float) and math.isfinite(getattr(r, key))


def test_stopping_keeps_what_was_trained_and_resumes():
    trainer = Trainer(small(iterations=100))
    start = {k: v.clone() for k, v in trainer.phi.items()}
    for record in trainer.run():
        if record.step == 7:
            break
    assert trainer.step == 7
    assert any(not torch.equal(start[k], trainer.phi[k]) for k in start)
    more = list(trainer.run(3))
    assert [r.step for r in more] == [8, 9, 10]


@pytest.mark.parametrize("algorithm", ["maml", "fomaml", "reptile", "pretrain"])
def test_implementations_agree(algorithm):
    runs = {}
    for implementation in ("loop", "vmap", "traced", "graphed"):
        trainer = Trainer(small(algorithm, iterations=3, implementation=implementation))
        runs[implementation] = [r.query_loss_after for r in trainer.run()], trainer.phi
    for implementation in ("vmap", "traced", "graphed"):
        losses, phi = runs[implementation]
        assert losses == pytest.approx(runs["loop"][0], rel=1e-5)
        for k in phi:
            assert torch.allclose(phi[k], runs["loop"][1][k], atol=1e-5)


def test_traced_step_runs_eagerly_first_and_traces_on_the_second_call():
    """A live run's first record must not wait for make_fx: call 1 is eager, call 2
    traces, and the graph computes what the eager step computes."""
    from mamlviz.train import TracedStep

    calls = []

    def step(x: torch.Tensor) -> torch.Tensor:
        calls.append(type(x).__name__)  # under make_fx the argument is a proxy tensor
        return torch.sin(x) * 2

    traced = TracedStep(step)
    x = torch.linspace(0, 1, 5)
    assert torch.equal(traced(x), torch.sin(x) * 2)
    assert list(traced.graphs.values()) == [None] and calls == ["Tensor"]
    assert torch.allclose(traced(x), torch.sin(x) * 2)
    assert traced.graphs[next(iter(traced.graphs))] is not None
    n_calls = len(calls)
    assert torch.allclose(traced(x + 1), torch.sin(x + 1) * 2)  # same shape: the graph
    assert len(calls) == n_calls


@pytest.mark.parametrize("log_every", [1, 7])
@pytest.mark.parametrize("implementation", ["vmap", "graphed"])
def test_diverging_run_ends_with_a_diverged_record_and_keeps_finite_weights(
        implementation, log_every):
    trainer = Trainer(small(inner_lr=1e8, iterations=50, implementation=implementation,
                            log_every=log_every))
    records = list(trainer.run())
    assert records[-1].status == "diverged"
    assert trainer.status == "diverged"
    assert trainer.step < 50
    assert all(bool(torch.isfinite(v).all()) for v in trainer.phi.values())


def test_graphed_step_divergence_matches_the_plain_loop():
    """The in-place step stops where the plain loop stops, with the same weights."""
    # Plain gradient descent with too large a step: finite for 5 steps, then it blows up.
    settings = {"iterations": 200, "outer_optimizer": "sgd", "meta_lr": 0.4}
    plain = Trainer(small("pretrain", **settings))
    plain_records = list(plain.run())
    in_place = Trainer(small("pretrain", implementation="graphed", log_every=4, **settings))
    records = list(in_place.run())
    assert plain_records[-1].status == records[-1].status == "diverged"
    assert records[-1].step == plain_records[-1].step and in_place.step == plain.step == 5
    for k in plain.phi:
        assert torch.allclose(in_place.phi[k], plain.phi[k], atol=1e-6)


# Reptile with Reptile's own inner rule: Adam on mini-batches, its moments kept.
KEPT_ADAM = {"inner_optimizer": "adam", "inner_batch": 4, "inner_moments": "kept",
             "inner_steps": 3}


@pytest.mark.skipif(not compiler_available(), reason="torch.compile needs a C++ compiler")
@pytest.mark.parametrize(("algorithm", "rule"), [("maml", {}), ("reptile", KEPT_ADAM)])
def test_fused_step_trains_like_the_plain_loop_and_stops_where_it_diverges(algorithm, rule):
    """The compiled in-place step (the GPU's fastest) is the same maths as the plain loop."""
    plain = Trainer(small(algorithm, iterations=3, implementation="loop", **rule))
    fused = Trainer(small(algorithm, iterations=3, implementation="fused", **rule))
    plain_losses = [r.query_loss_after for r in plain.run()]
    assert [r.query_loss_after for r in fused.run()] == pytest.approx(plain_losses, rel=1e-5)
    assert fused.implementation == "fused" and not fused.notes
    assert fused._in_place is not None and fused._in_place.fused
    for k in plain.opt_state:  # the kept moments too
        assert torch.allclose(fused.opt_state[k], plain.opt_state[k], rtol=1e-4, atol=1e-9), k
    for k in plain.phi:
        assert torch.allclose(fused.phi[k], plain.phi[k], atol=1e-5), k
    settings = {"iterations": 200, "outer_optimizer": "sgd", "meta_lr": 0.4, "log_every": 4}
    diverging = Trainer(small("pretrain", implementation="fused", **settings))
    assert list(diverging.run())[-1].status == "diverged" and diverging.step == 5


HEAD_ONLY = next(a.name for a in all_algorithms("omniglot") if a.inner_mask is not None)


@pytest.mark.parametrize(("algorithm", "problem", "device", "iterations", "expected"), [
    ("maml", "omniglot", "cpu", 60_000, "loop"),  # on a CPU the per-task loop is the fastest
    # ... except where the batched step adapts a head on features computed once
    (HEAD_ONLY, "omniglot", "cpu", 60_000, "traced"),
    ("maml", "omniglot", "cuda", 100, "graphed"),  # a short (live) run does not wait
    ("maml", "omniglot", "cuda", 60_000, "fused"),  # a paper-length run does
    ("maml", "sinusoid", "cpu", 100, "traced"),
])
def test_auto_picks_the_fastest_path_for_the_device_and_run_length(algorithm, problem, device,
                                                                    iterations, expected):
    if expected in ("fused", "compiled") and not compiler_available():
        expected = "graphed" if problem == "omniglot" else "traced"
    config = TrainConfig.for_algorithm(algorithm, problem=problem, iterations=iterations)
    assert choose_implementation(config, torch.device(device)) == expected


def test_graphed_records_average_their_window_and_resume():
    plain = Trainer(small(iterations=12, log_every=1))
    losses = [r.query_loss_after for r in plain.run()]
    in_place = Trainer(small(iterations=12, log_every=4, implementation="graphed"))
    records = list(in_place.run(8))
    records += list(in_place.run())  # a second run() goes on from step 8
    assert [r.step for r in records] == [4, 8, 12]
    assert [r.status for r in records] == ["running", "done", "done"]
    for i, r in enumerate(records):
        assert r.query_loss_after == pytest.approx(sum(losses[4 * i:4 * i + 4]) / 4, rel=1e-5)
    for k in plain.phi:
        assert torch.allclose(in_place.phi[k], plain.phi[k], atol=1e-6)


def test_training_improves_the_post_adaptation_query_loss():
    trainer = Trainer(small(iterations=300, meta_lr=0.01, implementation="traced", log_every=50))
    records = list(trainer.run())
    assert records[-1].query_loss_after < 0.7 * records[0].query_loss_after


@pytest.mark.parametrize(("field", "value"), [
    ("inner_lr", -0.1), ("meta_lr", 0.0), ("k_shot", 0), ("meta_batch_size", -3),
    ("iterations", 0), ("inner_steps", -1), ("meta_lr", float("nan")), ("iterations", 10**12),
    ("k_shot", 2.5), ("implementation", "magic"),
])
def test_invalid_settings_name_their_field(field, value):
    with pytest.raises(ConfigError) as info:
        TrainConfig.for_algorithm("maml", **{field: value})
    assert info.value.field == field
    assert field in str(info.value)


def test_unknown_algorithm_is_named():
    with pytest.raises(ConfigError) as info:
        TrainConfig.for_algorithm("sgd-magic")
    assert info.value.field == "algorithm"


def test_records_and_runs_name_their_device():
    trainer = Trainer(small(iterations=1), device="cpu")
    assert next(iter(trainer.run())).device == "cpu"
    with pytest.raises(ConfigError, match="device"):
        Trainer(small(), device="quantum")


def test_confidence_interval_is_1_96_standard_errors():
    values = torch.tensor([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    mean, ci = mean_ci95(values)
    assert mean == pytest.approx([3.0, 2.0])
    assert ci == pytest.approx([1.96 * 2.0 / math.sqrt(3), 0.0])


def test_evaluation_reports_every_step_with_intervals():
    trainer = Trainer(small(iterations=5))
    list(trainer.run())
    result = evaluate_phi(trainer.config, trainer.phi, tasks=30, steps=4)
    assert len(result["mse_by_step"]) == len(result["ci95_by_step"]) == 5
    assert result["tasks"] == 30 and result["device"] == "cpu"
    assert all(c > 0 for c in result["ci95_by_step"])
    # Same seed, same held-out tasks: evaluation is reproducible.
    again = evaluate_phi(trainer.config, trainer.phi, tasks=30, steps=4)
    assert again["mse_by_step"] == result["mse_by_step"]


def test_checkpoint_round_trip(tmp_path):
    path = tmp_path / "m.pt"
    records = list(train_to_checkpoint(small(iterations=4), path))
    loaded = ckpt.load(path, problem="sinusoid")
    assert loaded.algorithm == "maml"
    assert loaded.metrics["steps"] == 4 and loaded.metrics["status"] == records[-1].status
    result = evaluate_checkpoint(path, tasks=10, steps=2)
    assert len(result["mse_by_step"]) == 3


def test_stopped_run_still_writes_its_checkpoint(tmp_path):
    path = tmp_path / "stopped.pt"
    run = train_to_checkpoint(small(iterations=1000), path)
    for record in run:
        if record.step == 3:
            break
    run.close()
    assert ckpt.load(path).metrics["steps"] == 3


def test_missing_corrupt_truncated_and_foreign_checkpoints_are_refused(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        ckpt.load(tmp_path / "nope.pt")
    good = tmp_path / "good.pt"
    list(train_to_checkpoint(small(iterations=1), good))
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        ckpt.load(truncated)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError):
        ckpt.load(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a mamlviz checkpoint"):
        ckpt.load(foreign)
    with pytest.raises(CheckpointError, match="not a omniglot|not a omniglot one|omniglot"):
        ckpt.load(good, problem="omniglot")


class Exploit:
    """A pickle payload that would run code when unpickled."""

    def __reduce__(self):
        return (print, ("PWNED",))


def test_tampered_checkpoint_with_pickle_payload_is_refused_not_executed(tmp_path, capsys):
    path = tmp_path / "tampered.pt"
    torch.save({"format": "mamlviz-checkpoint", "version": 1, "payload": Exploit()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        ckpt.load(path)
    assert "PWNED" not in capsys.readouterr().out
    # A raw pickle (not even a torch zip) is refused too.
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(CheckpointError):
        ckpt.load(raw)
    assert "PWNED" not in capsys.readouterr().out
    assert not zipfile.is_zipfile(raw)


def test_checkpoint_with_wrong_shapes_is_refused(tmp_path):
    path = tmp_path / "wrong.pt"
    ckpt.save(path, ckpt.Checkpoint(phi={"net.0.weight": torch.zeros(7, 1)},
                                    config=small().to_dict()))
    with pytest.raises(CheckpointError, match="does not fit"):
        evaluate_checkpoint(path)


def run_cli(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "mamlviz", *args], capture_output=True,
                          text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_cli_train_and_eval_json_contract(tmp_path):
    out = tmp_path / "cli.pt"
    train = run_cli("train", "sinusoid", "--algorithm", "fomaml", "--iterations", "10",
                    "--meta-batch-size", "5", "--shots", "5", "--out", str(out), "--json")
    summary = json.loads(train.stdout.strip().splitlines()[-1])
    assert summary["status"] == "done" and summary["step"] == 10
    assert summary["device"] == "cpu"
    result = json.loads(run_cli("eval", "sinusoid", "--checkpoint", str(out), "--tasks", "20",
                                "--steps", "3", "--json").stdout.strip().splitlines()[-1])
    assert result["algorithm"] == "fomaml" and result["device"] == "cpu"
    assert len(result["mse_by_step"]) == len(result["ci95_by_step"]) == 4


def test_cli_reports_bad_input_without_a_traceback(tmp_path):
    proc = run_cli("train", "sinusoid", "--algorithm", "maml", "--shots", "0",
                   "--out", str(tmp_path / "x.pt"), "--json", check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["field"] == "k_shot"
    proc = run_cli("eval", "sinusoid", "--checkpoint", str(tmp_path / "missing.pt"), check=False)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_record_json_is_safe_for_nan():
    record = Record(1, "maml", "cpu", float("nan"), float("inf"), 0.1, 0.0, "diverged")
    assert json.dumps(record.as_dict(json_safe=True))


def test_importing_mamlviz_does_not_import_streamlit():
    code = ("import sys, mamlviz, mamlviz.cli, mamlviz.train, mamlviz.runs, mamlviz.bench; "
            "import pkgutil, importlib; "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(mamlviz.__path__, "
            "'mamlviz.') if m.name != 'mamlviz.__main__']; "
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_time_budget_ends_the_run_with_a_done_record():
    trainer = Trainer(small(iterations=10**6))
    records = list(trainer.run(max_seconds=0.3))
    assert records[-1].status == "done"
    assert 0 < trainer.step < 10**6
    assert records[-1].elapsed_s >= 0.3


def test_resume_goes_on_from_the_saved_weights_optimiser_state_and_step(tmp_path):
    first = tmp_path / "first.pt"
    list(train_to_checkpoint(small(iterations=6), first))
    saved = ckpt.load(first)
    assert float(saved.opt_state["t"]) == 6  # Adam's step count travels with the weights
    records = list(train_to_checkpoint(small(iterations=10), tmp_path / "more.pt",
                                       resume=saved))
    assert [r.step for r in records] == [7, 8, 9, 10]
    more = ckpt.load(tmp_path / "more.pt")
    assert more.metrics["steps"] == 10 and float(more.opt_state["t"]) == 10
    foreign = ckpt.Checkpoint(phi=saved.phi, config=saved.config, metrics=saved.metrics,
                              opt_state={"unexpected": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="resume"):
        list(train_to_checkpoint(small(iterations=10), tmp_path / "x.pt", resume=foreign))


@pytest.mark.parametrize(("asked", "expected"), [([], "auto"), (["--implementation", "vmap"],
                                                                  "vmap")])
def test_cli_resume_lets_this_machine_choose_how_to_compute(tmp_path, asked, expected):
    """A run fused on a GPU must not make a CPU that goes on with it compile for minutes."""
    path = tmp_path / "a.pt"
    list(train_to_checkpoint(small(iterations=2, implementation="traced"), path))
    out = tmp_path / "b.pt"
    proc = subprocess.run([sys.executable, "-m", "mamlviz", "train", "sinusoid", "--algorithm",
                           "maml", "--iterations", "3", "--resume", str(path), "--out", str(out),
                           *asked], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert ckpt.load(out).config["implementation"] == expected


def test_cli_resume_refuses_another_algorithm_or_too_few_iterations(tmp_path):
    path = tmp_path / "a.pt"
    list(train_to_checkpoint(small(iterations=3), path))
    for extra, message in ((["--algorithm", "fomaml", "--iterations", "9"], "maml, not fomaml"),
                           (["--algorithm", "maml", "--iterations", "3"], "already has 3")):
        proc = subprocess.run([sys.executable, "-m", "mamlviz", "train", "sinusoid", *extra,
                               "--resume", str(path), "--out", str(tmp_path / "b.pt")],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr


def test_progress_of_a_resumed_run_estimates_time_left_from_this_runs_pace(monkeypatch):
    """18,500 steps were saved; this run took 200 more in 100 s: 13,300 left take 6,650 s,
    not the 71 s that counting all 18,700 steps as this run's would promise."""
    import io

    from mamlviz import progress as progress_module

    clock = iter([0.0, 100.0])
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: next(clock))
    out = io.StringIO()
    bar = progress_module.Progress(32000, "reptile", stream=out, start=18500)
    bar.update(18700, force=True)
    assert "18700/32000" in out.getvalue() and "eta 6650.0s" in out.getvalue()

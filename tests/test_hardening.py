"""Bad input through the CLI and the library, as a hostile or careless user gives it.

Every case ends in a clear one-line message and exit 2 (a diverged run: exit 3), before
any work is done, and loses nothing: no half-written or untrained checkpoint is left
behind, and a checkpoint that was altered after it was saved is refused, each problem
with its own message. Fast: nothing here trains more than a few sinusoid steps.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from mamlviz import checkpoint as ckpt
from mamlviz import runs
from mamlviz.algorithms import InnerLoop, make_step
from mamlviz.cli import main
from mamlviz.config import TrainConfig
from mamlviz.errors import CheckpointError, ConfigError
from mamlviz.inner import adapt, mse
from mamlviz.models.mlp import SinusoidMLP, init_params
from mamlviz.runs import evaluate_phi, load_checkpoint

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "assets" / "checkpoints"
SINUSOID_CKPT = SHIPPED / "sinusoid_maml.pt"
TRAIN = ["train", "sinusoid", "--algorithm", "maml", "--iterations", "2", "--log-every", "1"]


@pytest.fixture(autouse=True)
def _no_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(tmp_path / "no-omniglot-here"))
    monkeypatch.delenv("MAMLVIZ_DEVICE", raising=False)
    yield


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: exit code, stdout, stderr."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The CLI refuses ``argv`` with exit 2 and one line of message, no traceback."""
    code, _, err = cli(capsys, *argv)
    assert code == 2, (code, err)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to build a trainer fails the test: validation must come first."""
    def trainer(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("training started before the settings were checked")

    monkeypatch.setattr(runs, "Trainer", trainer)


# -- 1. inner_lr and inner_steps -----------------------------------------------------------------

@pytest.mark.parametrize("lr", ["nan", "inf", "-inf", "-0.5"])
def test_eval_refuses_a_non_finite_or_negative_inner_lr(capsys: pytest.CaptureFixture[str],
                                                       lr: str) -> None:
    line = refused(capsys, "eval", "sinusoid", "--checkpoint", str(SINUSOID_CKPT),
                   f"--inner-lr={lr}", "--tasks", "2", "--steps", "1")
    assert "inner_lr" in line


@pytest.mark.parametrize("lr", ["nan", "inf", "-1"])
def test_train_refuses_a_non_finite_or_negative_inner_lr(capsys: pytest.CaptureFixture[str],
                                                        tmp_path: Path, no_training: None,
                                                        lr: str) -> None:
    out = tmp_path / "run.pt"
    line = refused(capsys, *TRAIN, f"--inner-lr={lr}", "--out", str(out))
    assert "inner_lr" in line
    assert not out.exists()


@pytest.mark.parametrize("lr", [float("nan"), float("inf"), -0.01])
def test_evaluate_phi_refuses_a_bad_inner_lr(lr: float) -> None:
    config = TrainConfig(iterations=1)
    phi = init_params(SinusoidMLP(), 0)
    with pytest.raises(ConfigError, match="inner_lr"):
        evaluate_phi(config, phi, tasks=2, steps=1, inner_lr=lr)


@pytest.mark.parametrize(("lr", "steps", "field"), [
    (float("nan"), 1, "inner_lr"), (float("inf"), 1, "inner_lr"), (-0.1, 1, "inner_lr"),
    (0.01, -3, "inner_steps")])
def test_inner_loop_and_adapt_refuse_bad_settings(lr: float, steps: int, field: str) -> None:
    model = SinusoidMLP()
    phi = init_params(model, 0)
    x, y = torch.zeros(5, 1), torch.zeros(5, 1)
    with pytest.raises(ConfigError, match=field):
        InnerLoop(model, mse, lr, steps)
    with pytest.raises(ConfigError, match=field):
        adapt(model, mse, phi, x, y, lr, steps)


def test_make_step_refuses_a_loop_whose_settings_were_changed() -> None:
    loop = InnerLoop(SinusoidMLP(), mse, 0.01, 1)
    object.__setattr__(loop, "inner_lr", float("nan"))  # a frozen loop edited behind its back
    with pytest.raises(ConfigError, match="inner_lr"):
        make_step("maml", loop)


# -- 2. the output path, checked before any training ---------------------------------------------

def _unwritable(tmp_path: Path) -> list[tuple[str, str]]:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    a_dir = tmp_path / "a-dir"
    a_dir.mkdir()
    return [(str(a_file / "run.pt"), "not a folder"), (str(a_dir), "is a folder"),
            ("", "empty")]


@pytest.mark.parametrize("case", range(3))
def test_an_unwritable_out_is_refused_before_training(capsys: pytest.CaptureFixture[str],
                                                      tmp_path: Path, no_training: None,
                                                      case: int) -> None:
    out, words = _unwritable(tmp_path)[case]
    line = refused(capsys, *TRAIN, "--out", out)
    assert line.startswith("error: out:"), line
    assert words in line, line


def test_a_read_only_out_is_refused_before_training(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path, no_training: None) -> None:
    if os.geteuid() == 0:
        # root writes through permission bits; a read-only file system stops it too
        target = Path("/sys/run.pt")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        target = locked / "run.pt"
    line = refused(capsys, *TRAIN, "--out", str(target))
    assert line.startswith("error: out:") and "cannot write" in line, line
    assert not target.exists()


def test_library_train_to_checkpoint_checks_out_before_training(tmp_path: Path,
                                                                no_training: None) -> None:
    a_dir = tmp_path / "a-dir"
    a_dir.mkdir()
    with pytest.raises(ConfigError, match="out"):
        next(runs.train_to_checkpoint(TrainConfig(iterations=1), a_dir))


# -- 3. a run that fails writes no checkpoint ----------------------------------------------------

def test_omniglot_with_more_shots_than_drawings_is_refused_and_writes_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, no_training: None) -> None:
    out = tmp_path / "o.pt"
    line = refused(capsys, "train", "omniglot", "--algorithm", "maml", "--shots", "25",
                   "--iterations", "1", "--out", str(out))
    assert "20 drawings" in line
    assert not out.exists()


class Boom(RuntimeError):
    pass


def _failing_run(monkeypatch: pytest.MonkeyPatch, records: int) -> None:
    """Trainer.run fails after yielding ``records`` records (0: before its first step)."""
    real_run = runs.Trainer.run

    def run(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        if records == 0:
            raise Boom("the machine caught fire")
        for n, record in enumerate(real_run(self, *args, **kwargs), start=1):
            yield record
            if n == records:
                raise Boom("the machine caught fire")

    monkeypatch.setattr(runs.Trainer, "run", run)


def test_a_run_that_fails_before_any_step_writes_nothing(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    _failing_run(monkeypatch, records=0)
    out = tmp_path / "run.pt"
    with pytest.raises(Boom):
        list(runs.train_to_checkpoint(TrainConfig(iterations=5, implementation="loop"), out))
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file either


def test_a_run_that_fails_midway_saves_a_partial_marked_failed(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    _failing_run(monkeypatch, records=2)
    out = tmp_path / "run.pt"
    with pytest.raises(Boom):
        list(runs.train_to_checkpoint(TrainConfig(iterations=5, implementation="loop",
                                                  log_every=1), out))
    saved = ckpt.load(out)
    assert saved.metrics["status"] == "failed"
    assert "caught fire" in saved.metrics["error"]
    assert saved.metrics["steps"] == 2


# -- 4. bounds on every count, with the reason ---------------------------------------------------

@pytest.mark.parametrize(("flag", "value", "words"), [
    ("--tasks", str(10**12), "tasks"), ("--tasks", "0", "tasks"),
    ("--steps", str(10**9), "steps"), ("--steps", "-1", "steps"),
    ("--shots", str(10**9), "k_shot"), ("--seed", "-1", "seed")])
def test_eval_counts_are_bounded_with_the_reason(capsys: pytest.CaptureFixture[str],
                                                 flag: str, value: str, words: str) -> None:
    line = refused(capsys, "eval", "sinusoid", "--checkpoint", str(SINUSOID_CKPT), flag, value)
    assert words in line and ("at most" in line or "at least" in line
                              or "between" in line), line


@pytest.mark.parametrize("argv", [
    ["omniglot", "--meta-batch-size", "100000"],
    ["omniglot", "--ways", "20", "--meta-batch-size", "5000"],
    ["sinusoid", "--meta-batch-size", "100000", "--shots", "100000"],
])
def test_train_meta_batches_that_cannot_fit_in_memory_are_refused(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, no_training: None,
        argv: list[str]) -> None:
    out = tmp_path / "run.pt"
    line = refused(capsys, "train", argv[0], "--algorithm", "maml", *argv[1:],
                   "--iterations", "1", "--out", str(out))
    assert "meta_batch_size" in line and "memory" in line, line
    assert not out.exists()


def test_evaluate_phi_bounds_tasks_and_steps() -> None:
    config = TrainConfig(iterations=1)
    phi = init_params(SinusoidMLP(), 0)
    with pytest.raises(ConfigError, match="tasks"):
        evaluate_phi(config, phi, tasks=10**12, steps=1)
    with pytest.raises(ConfigError, match="steps"):
        evaluate_phi(config, phi, tasks=2, steps=10**9)


# -- 5. devices ----------------------------------------------------------------------------------

@pytest.mark.parametrize("device", ["meta", "xla", "cuda:99", "cpu:7", "nonsense", "cuda"])
def test_a_bad_device_is_a_clear_message(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         no_training: None, device: str) -> None:
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU, so --device cuda is valid here")
    for argv in ([*TRAIN, "--out", str(tmp_path / "r.pt")],
                 ["eval", "sinusoid", "--checkpoint", str(SINUSOID_CKPT), "--tasks", "2"],
                 ["bench", "--quick"]):
        line = refused(capsys, *argv, "--device", device)
        assert line.startswith("error: device:"), line
    assert not (tmp_path / "r.pt").exists()


# -- 6. crafted checkpoints ----------------------------------------------------------------------

def _payload() -> dict[str, Any]:
    return torch.load(SINUSOID_CKPT, weights_only=True)


def _crafted(tmp_path: Path, name: str, payload: dict[str, Any]) -> Path:
    path = tmp_path / name
    torch.save(payload, path)
    return path


def _with_config(**changes: Any) -> dict[str, Any]:
    payload = _payload()
    payload["config"] = json.dumps({**json.loads(payload["config"]), **changes})
    return payload


def _with_weight(change: Any) -> dict[str, Any]:
    payload = _payload()
    payload["phi"] = {k: change(v) for k, v in payload["phi"].items()}
    return payload


CRAFTED = {
    "amplitude-text": (lambda: _with_config(amplitude="ab"), "invalid settings"),
    "amplitude-one": (lambda: _with_config(amplitude=[1.0]), "invalid settings"),
    "amplitude-null": (lambda: _with_config(amplitude=None), "invalid settings"),
    "iterations-text": (lambda: _with_config(iterations="many"), "invalid settings"),
    "float64": (lambda: _with_weight(lambda v: v.double()), "float64"),
    "float16": (lambda: _with_weight(lambda v: v.half()), "float16"),
    "int64": (lambda: _with_weight(lambda v: v.long()), "int64"),
    "shape": (lambda: _with_weight(lambda v: torch.zeros(3, *v.shape)), "shape"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_a_crafted_checkpoint_gives_its_own_checkpoint_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str) -> None:
    make, words = CRAFTED[case]
    path = _crafted(tmp_path, f"{case}.pt", make())
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(path)
    line = refused(capsys, "eval", "sinusoid", "--checkpoint", str(path), "--tasks", "2")
    assert words in line, line


def _flip_a_weight_bit(path: Path) -> None:
    """Flip one bit inside the stored bytes of a weight, leaving the zip intact."""
    data = bytearray(path.read_bytes())
    phi = torch.load(path, weights_only=True)["phi"]
    needle = phi["net.2.weight"].numpy().tobytes()[:64]
    at = data.find(needle)
    assert at > 0, "the weight's bytes were not found in the file"
    data[at + 17] ^= 0x04
    path.write_bytes(bytes(data))


def test_a_bit_flipped_weight_is_refused_by_its_content_hash(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    config, saved = load_checkpoint(SINUSOID_CKPT)
    path = tmp_path / "flipped.pt"
    ckpt.save(path, saved)
    load_checkpoint(path)  # intact, it loads (and its hash checks out)
    _flip_a_weight_bit(path)
    with pytest.raises(CheckpointError, match="content hash"):
        load_checkpoint(path)
    line = refused(capsys, "eval", "sinusoid", "--checkpoint", str(path), "--tasks", "2")
    assert "content hash" in line


def test_checkpoints_from_before_content_hashes_still_load() -> None:
    assert "sha256" not in _payload()
    config, saved = load_checkpoint(SINUSOID_CKPT)
    assert config.algorithm == "maml" and saved.phi


def test_a_json_file_renamed_pt_is_called_what_it_is(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "results.pt"
    path.write_text(json.dumps({"accuracy": 0.98}))
    with pytest.raises(CheckpointError) as info:
        ckpt.load(path)
    assert "not a PyTorch" in str(info.value) and "tampered" not in str(info.value)
    line = refused(capsys, "eval", "sinusoid", "--checkpoint", str(path))
    assert "not a PyTorch" in line


def test_a_directory_as_checkpoint_is_called_a_directory(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    line = refused(capsys, "eval", "sinusoid", "--checkpoint", str(tmp_path))
    assert "is a folder" in line and "does not exist" not in line


# -- 7. exit codes, permissions, atomic writes ---------------------------------------------------

def test_a_diverged_run_exits_3_and_says_so(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    out = tmp_path / "run.pt"
    code, stdout, err = cli(capsys, *TRAIN, "--inner-lr", "1e30", "--meta-lr", "1e30",
                            "--iterations", "3", "--implementation", "loop", "--json",
                            "--out", str(out))
    assert code == 3, (code, err)
    assert json.loads(stdout.splitlines()[-1])["status"] == "diverged"
    assert "diverged" in err


def test_a_finished_run_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, *TRAIN, "--implementation", "loop", "--json",
                       "--out", str(tmp_path / "run.pt"))
    assert code == 0, err


def test_checkpoints_are_written_with_the_umask_s_permissions(tmp_path: Path) -> None:
    _, saved = load_checkpoint(SINUSOID_CKPT)
    old = os.umask(0o022)
    try:
        path = ckpt.save(tmp_path / "a.pt", saved)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_save_that_fails_leaves_the_old_checkpoint_and_no_temporary_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _, saved = load_checkpoint(SINUSOID_CKPT)
    path = ckpt.save(tmp_path / "a.pt", saved)
    before = path.read_bytes()

    def half_a_save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        f.write(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", half_a_save)
    with pytest.raises(OSError):
        ckpt.save(path, saved)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.pt"]

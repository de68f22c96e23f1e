"""Property-based fuzz of the command line, in-process (hypothesis).

Argument lists are generated for every command: its flags in any order and either
spelling (``--flag value`` / ``--flag=value``), numbers inside, at and beyond their
bounds, NaN and infinities, huge values, wrong types, unknown flags, and paths that
exist, do not, are folders, sit under a file or on a read-only file system. Whatever
comes in: no traceback, exit 0 (done), 2 (refused: exactly one line, ``error: ...``) or 3
(diverged), and a refused ``train`` writes no checkpoint.

Each case stays cheap: a valid run trains at most 2 sinusoid iterations or scores at
most 4 tasks, counts that would be valid but slow appear only beyond their bounds, and
Omniglot is absent (its commands end in the data's own message). The number of cases is
``MAMLVIZ_FUZZ_EXAMPLES`` (default 150 for the CLI); the count run is printed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mamlviz.cli import main

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
SINUSOID_CKPT = ROOT / "assets" / "checkpoints" / "sinusoid_maml.pt"
EXAMPLES = int(os.environ.get("MAMLVIZ_FUZZ_EXAMPLES", "150"))

BAD_INTS = ["-1", "0", "-0", str(10**13), str(10**30), "1.5", "abc", "", "nan", "0x10",
            "1e3", "None", "--", "٣", " 7 ", "2**8"]
BAD_FLOATS = ["nan", "NaN", "inf", "-inf", "1e308", "1e999", "-1e-300", "0", "-0.0", "-1",
              "abc", "", "1,5", "0x1p-3", "infinity"]


Pair = tuple[st.SearchStrategy[str], st.SearchStrategy[str]]  # (valid values, bad values)


def ints(low: int, high: int) -> Pair:
    """A valid small count; or one at or beyond its bounds, or not a number at all."""
    return st.integers(low, high).map(str), st.one_of(
        st.sampled_from(BAD_INTS), st.integers(-10**40, 10**40).map(str))


def floats(low: float, high: float) -> Pair:
    return st.floats(low, high).map(repr), st.one_of(
        st.sampled_from(BAD_FLOATS), st.floats(allow_nan=True, allow_infinity=True).map(repr))


def choice(*valid: str) -> Pair:
    return st.sampled_from(valid), st.sampled_from(["", "bogus", "MAML", "0", "--"])


DEVICES = (st.sampled_from(["cpu", "auto", "cpu:0", " CPU "]),
           st.sampled_from(["meta", "xla", "cuda:3", "cpu:7", "bogus", "", "cuda:-1"]))

TRAIN_FLAGS = {
    "--algorithm": choice("maml", "fomaml", "reptile", "pretrain"),
    "--iterations": (st.sampled_from(["1", "2"]), st.sampled_from(BAD_INTS)),
    "--meta-batch-size": ints(1, 4), "--shots": ints(1, 5), "--queries": ints(1, 5),
    "--inner-lr": floats(0.0, 0.5), "--inner-steps": ints(0, 3), "--meta-lr": floats(1e-5, 0.1),
    "--seed": ints(0, 10**6), "--log-every": ints(1, 3), "--device": DEVICES,
    "--max-seconds": floats(0.5, 5.0), "--implementation": choice("loop", "vmap"),
}
SINUSOID_ONLY = {"--phase-max": floats(0.0, 6.3)}
OMNIGLOT_ONLY = {"--ways": ints(2, 20), "--test-inner-steps": ints(0, 3),
                 "--train-shots": ints(1, 5), "--inner-optimizer": choice("sgd", "adam"),
                 "--inner-batch": ints(1, 5), "--test-inner-batch": ints(1, 5),
                 "--inner-moments": choice("fresh", "kept"), "--meta-lr-final": floats(0, 1),
                 "--protocol": choice("maml", "lake")}
EVAL_FLAGS = {"--tasks": ints(1, 4), "--shots": ints(1, 5), "--steps": ints(0, 3),
              "--inner-lr": floats(0.0, 0.5), "--seed": ints(0, 10**6), "--device": DEVICES}
EVAL_OMNIGLOT_ONLY = {"--ways": ints(2, 20), "--queries": ints(1, 5),
                      "--split": choice("test", "train")}


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Paths of every kind a user might type."""
    base = tmp_path_factory.mktemp("places")
    (base / "a-file").write_text("not a folder")
    (base / "a-dir").mkdir()
    (base / "results.pt").write_text('{"accuracy": 0.98}')
    (base / "empty.pt").write_bytes(b"")
    good = base / "good.pt"
    shutil.copy(SINUSOID_CKPT, good)
    return {"file": str(base / "a-file"), "dir": str(base / "a-dir"), "good": str(good),
            "json": str(base / "results.pt"), "empty": str(base / "empty.pt"),
            "missing": str(base / "missing" / "x.pt"), "under-file": str(base / "a-file" / "x.pt"),
            "read-only": "/sys/x.pt", "blank": "", "base": str(base)}


PATH_KINDS = st.sampled_from(["file", "dir", "good", "json", "empty", "missing", "under-file",
                              "read-only", "blank"])


@st.composite
def argument_lists(draw: st.DrawFn, places: dict[str, str], case: int) -> tuple[list[str],
                                                                                 str | None]:
    """An argument list, and the fresh output path it names (if it is a train command)."""
    command = draw(st.sampled_from(["train sinusoid", "train omniglot", "eval sinusoid",
                                    "eval omniglot", "data omniglot", "bench", "junk"]))
    if command == "junk":
        return draw(st.lists(st.sampled_from(["train", "eval", "--help-me", "sinusoid", "x",
                                              "--json", "-", "--out", "data", "bench"]),
                             max_size=4)), None
    flags: dict[str, Pair]
    # How many of the chosen flags get a bad value: none (a run that must work), or some.
    n_bad = draw(st.sampled_from([0, 0, 1, 1, 2, 6]))
    fresh_out = None
    argv = command.split()
    if command.startswith("train"):
        flags = {**TRAIN_FLAGS, **(SINUSOID_ONLY if "sinusoid" in command else OMNIGLOT_ONLY)}
        # A fresh path most of the time, so a refusal can be seen to write nothing.
        if draw(st.integers(0, 3)):
            fresh_out = str(Path(places["base"]) / "runs" / f"case{case}.pt")
            out = fresh_out
        else:
            out = places[draw(PATH_KINDS)]
        argv += ["--out", out, "--iterations", "2", "--implementation", "loop",
                 "--meta-batch-size", "2"]
        if draw(st.integers(0, 5)):
            argv += ["--algorithm", "maml"]
    elif command.startswith("eval"):
        flags = {**EVAL_FLAGS, **(EVAL_OMNIGLOT_ONLY if "omniglot" in command else {})}
        kind = "good" if draw(st.integers(0, 2)) else draw(PATH_KINDS)
        argv += ["--checkpoint", places[kind]]
        argv += ["--tasks", "4"]
    elif command == "data omniglot":
        flags = {"--source": (PATH_KINDS.map(lambda kind: places[kind]), st.just(""))}
    else:  # bench: only refusals, a valid bench would time for minutes
        flags = {"--device": (DEVICES[1], DEVICES[1]), "--problem": choice("sinusoid")}
        argv += ["--device", "meta"]
    for n, flag in enumerate(draw(st.lists(st.sampled_from(sorted(flags)), max_size=6,
                                           unique=True))):
        value = draw(flags[flag][1] if n < n_bad else flags[flag][0])
        argv += [f"{flag}={value}"] if draw(st.booleans()) else [flag, value]
    if draw(st.integers(0, 9)) == 0:  # an unknown flag or a stray word
        argv.insert(draw(st.integers(0, len(argv))), draw(st.sampled_from(["--bogus", "x",
                                                                           "--out"])))
    if command != "bench" and draw(st.booleans()):
        argv.append("--json")
    return argv, fresh_out


def _message_lines(err: str) -> list[str]:
    """Lines as a terminal shows them: a progress bar's \\r-rewritten text keeps its last."""
    return [line.split("\r")[-1] for line in err.split("\n") if line.split("\r")[-1].strip()]


@pytest.fixture
def quiet_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(tmp_path / "no-omniglot-here"))
    monkeypatch.delenv("MAMLVIZ_DEVICE", raising=False)
    yield


CASES: list[tuple[list[str], int]] = []


@settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_cli_never_tracebacks_and_refuses_in_one_line(
        data: st.DataObject, places: dict[str, str], quiet_env: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    argv, fresh_out = data.draw(argument_lists(places, len(CASES)), label="argv")
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: --help (0) or a refusal (2)
        code = exc.code if isinstance(exc.code, int) else -1
    out, err = capsys.readouterr()
    CASES.append((argv, code))
    assert "Traceback" not in err + out, (argv, err)
    assert code in (0, 2, 3), (argv, code, err)
    if code == 2:
        lines = _message_lines(err)
        assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
        if fresh_out is not None:
            assert not Path(fresh_out).exists(), (argv, "a refused run wrote a checkpoint")
    if code in (0, 3) and fresh_out is not None and argv[:1] == ["train"]:
        assert Path(fresh_out).is_file(), (argv, "a finished run wrote no checkpoint")


def test_zz_report_the_number_of_cli_cases() -> None:
    """Runs after the fuzz (file order): how many cases ran, and how they ended."""
    if not CASES:
        pytest.skip("the fuzz did not run in this session (run the whole file)")
    ends = {code: sum(1 for _, c in CASES if c == code) for code in sorted({c for _, c in CASES})}
    print(f"\nCLI fuzz: {len(CASES)} generated cases, 0 tracebacks, exit codes {ends}")
    assert len(CASES) >= min(EXAMPLES, 50)
    assert ends.get(2, 0) and ends.get(0, 0), "the fuzz should both refuse and accept"

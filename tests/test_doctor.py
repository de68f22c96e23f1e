"""``mamlviz doctor``: one screen of what the machine has, exit 0 only with every essential."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mamlviz import doctor
from mamlviz.data import omniglot_source as src

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def newcomer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No MAMLVIZ_OMNIGLOT, an empty cache, the shipped checkpoints."""
    monkeypatch.delenv(src.SOURCE_ENV, raising=False)
    monkeypatch.delenv("MAMLVIZ_CHECKPOINTS", raising=False)
    monkeypatch.delenv("MAMLVIZ_DEVICE", raising=False)
    monkeypatch.setenv(src.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path


def _lines(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    out = capsys.readouterr().out
    return {line.split()[1]: line for line in out.splitlines()
            if line.startswith("  ") and len(line.split()) > 2}


def test_without_omniglot_it_says_how_to_get_it_and_still_passes(
        newcomer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor.main() == 0
    lines = _lines(capsys)
    assert lines["torch"].lstrip().startswith("ok") and "build; trains on" in lines["torch"]
    assert lines["Omniglot"].lstrip().startswith("--")
    assert "python -m mamlviz data omniglot" in lines["Omniglot"]
    assert f"about {src.download_mb()} MB" in lines["Omniglot"]
    assert lines["checkpoints"].lstrip().startswith("ok") and "sinusoid" in lines["checkpoints"]
    assert "Chromium" in lines


def test_a_wrong_omniglot_path_or_no_checkpoints_is_an_error(
        newcomer: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(src.SOURCE_ENV, str(newcomer / "nowhere"))
    assert doctor.main() == 1
    assert _lines(capsys)["Omniglot"].lstrip().startswith("!!")
    monkeypatch.delenv(src.SOURCE_ENV)
    (newcomer / "empty").mkdir()
    monkeypatch.setenv("MAMLVIZ_CHECKPOINTS", str(newcomer / "empty"))
    assert doctor.main() == 1
    line = _lines(capsys)["checkpoints"]
    assert line.lstrip().startswith("!!") and str(newcomer / "empty") in line


def test_omniglot_found_says_where(newcomer: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str],
                                   omniglot_source: Path) -> None:
    monkeypatch.setenv(src.SOURCE_ENV, str(omniglot_source))
    assert doctor.main() == 0
    line = _lines(capsys)["Omniglot"]
    assert line.lstrip().startswith("ok") and str(omniglot_source) in line


def test_the_cli_runs_it_with_json(newcomer: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mamlviz", "doctor", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    names = [c["name"] for c in report["checks"]]
    assert names == ["torch", "app packages", "Omniglot", "checkpoints", "Chromium"]

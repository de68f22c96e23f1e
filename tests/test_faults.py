"""Faults and bad input, headless (AppTest): a clear message, and nothing else lost.

Edited query parameters, number inputs beyond their limits, zero learning rates,
diverging training, missing/truncated/corrupt Omniglot, missing/truncated/tampered
checkpoints (``MAMLVIZ_CHECKPOINTS``), and a training worker that fails. Each test
checks the message the student sees AND that the rest of the page still works.
The real-browser half (an unknown page URL, a closed tab) is
``tests/browser/test_faults_browser.py``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from mamlviz import algorithms
from pages import _chart

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
PAGES = ROOT / "pages"
SINUSOID = str(PAGES / "sinusoid.py")
SHIPPED = ROOT / "assets" / "checkpoints"
REAL_OMNIGLOT = ROOT.parent / "shared" / "omniglot"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No Omniglot (fast), a private cache, the shipped checkpoints, fresh Streamlit caches."""
    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(tmp_path / "no-omniglot-here"))
    monkeypatch.delenv("MAMLVIZ_CHECKPOINTS", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def _run(script: str, timeout: int = 90, **query: str) -> AppTest:
    at = AppTest.from_file(script, default_timeout=timeout)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    _no_exception(at)
    return at


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _texts(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in at.get(kind)]


def _all_text(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                 "header", "subheader"):
        parts += _texts(at, kind)
    return "\n".join(parts)


def _chart_metas(at: AppTest, index: int | None = None) -> set[str]:
    figures = _chart.shown_figures(at)
    chosen = figures if index is None else [figures[index]]
    return {trace.get("meta", "") for figure in chosen for trace in figure["data"]}


def _train_and_wait(at: AppTest, timeout: float = 180) -> Any:
    at.button(key="sin_train").click().run()
    _no_exception(at)
    run = at.session_state["sin_live_run"]
    assert run.join(timeout=timeout), "the run did not end"
    at.run()  # the page after the run: final status, messages, models
    _no_exception(at)
    return run


def _new_task_still_works(at: AppTest) -> None:
    """The second half of the sinusoid page answers a slider: the fits are redrawn."""
    before = _chart.shown_specs(at)
    assert before, "the new-task figures are missing"
    at.slider(key="sin_a").set_value(4.0).run()
    _no_exception(at)
    after = _chart.shown_specs(at)
    assert after and after[0] != before[0], "the new-task figure did not follow its slider"


# -- edited query parameters (the router reads ?lang=) -------------------------------------------

@pytest.mark.parametrize("value", ["xx", "", "99999999999999999999", "-1", "1e308", "zh" * 500,
                                   "<script>alert(1)</script>"])
def test_router_with_a_bad_lang_parameter_falls_back_to_english(value: str) -> None:
    at = _run(APP, lang=value)
    assert at.session_state["lang"] == "en"
    assert at.title[0].value == "Learning to learn"
    # The language switch still works after the bad parameter.
    at.radio(key="lang").set_value("zh").run()
    _no_exception(at)
    assert at.title[0].value == "学习如何学习"


def test_router_lang_zh_still_chooses_chinese() -> None:
    at = _run(APP, lang="zh")
    assert at.session_state["lang"] == "zh"


# -- number inputs and sliders at their limits and beyond ----------------------------------------

@pytest.mark.parametrize(("key", "value"), [
    ("sin_iterations", 10**12), ("sin_iterations", 0), ("sin_iterations", -5),
    ("sin_inner_lr", -1.0), ("sin_inner_lr", 1e300), ("sin_meta_lr", -0.5),
    ("sin_meta_lr", float("nan")), ("sin_seed", -1), ("sin_seed", 10**15),
])
def test_number_beyond_its_limits_is_refused_and_training_still_works(key: str,
                                                                      value: float) -> None:
    at = _run(SINUSOID)
    at.multiselect(key="sin_algorithms").set_value(["maml"])
    field = at.number_input(key=key)
    low, high = field.min, field.max
    field.set_value(value).run()
    _no_exception(at)
    kept = at.number_input(key=key).value
    assert low <= kept <= high, f"{key} took {kept}, outside [{low}, {high}]"
    # Nothing else was lost: a short run trains with the value that was kept.
    at.number_input(key="sin_iterations").set_value(5).run()
    run = _train_and_wait(at)
    assert run.snapshot().overall == "done"
    assert not at.error, _texts(at, "error")
    _new_task_still_works(at)


@pytest.mark.parametrize(("key", "value", "words"), [
    ("sin_meta_lr", 0.0, "meta_lr"),
    ("sin_rep_eps", 0.0, "meta_lr"),
])
def test_zero_learning_rate_gives_a_clear_message_not_a_traceback(key: str, value: float,
                                                                  words: str) -> None:
    at = _run(SINUSOID)
    at.multiselect(key="sin_algorithms").set_value(["maml", "reptile"]).run()
    at.number_input(key=key).set_value(value).run()
    at.button(key="sin_train").click().run()
    _no_exception(at)
    errors = _texts(at, "error")
    assert any("not valid" in e and words in e for e in errors), errors
    assert "sin_live_run" not in at.session_state  # nothing half-started
    # Fix the setting and train: the page recovers.
    at.number_input(key=key).set_value(0.1 if key == "sin_rep_eps" else 0.001)
    at.number_input(key="sin_iterations").set_value(5).run()
    run = _train_and_wait(at)
    assert run.snapshot().overall == "done"
    _new_task_still_works(at)


def test_zero_inner_learning_rate_trains_or_explains() -> None:
    """α = 0 is within the widget's range: either a message or a run, never a traceback."""
    at = _run(SINUSOID)
    at.multiselect(key="sin_algorithms").set_value(["maml"])
    at.number_input(key="sin_inner_lr").set_value(0.0)
    at.number_input(key="sin_iterations").set_value(5).run()
    at.button(key="sin_train").click().run()
    _no_exception(at)
    if "sin_live_run" in at.session_state:
        assert at.session_state["sin_live_run"].join(timeout=120)
        at.run()
        _no_exception(at)
    else:
        assert any("not valid" in e for e in _texts(at, "error"))
    _new_task_still_works(at)


def test_sliders_at_their_limits_render() -> None:
    at = _run(SINUSOID)
    for key in ("sin_k", "sin_inner_steps", "sin_meta_batch", "sin_a", "sin_b", "sin_k_new"):
        slider = at.slider(key=key)
        for value in (slider.min, slider.max):
            at.slider(key=key).set_value(value).run()
            _no_exception(at)
    assert _chart.shown_figures(at), "the new-task figures disappeared"


# -- diverging training ---------------------------------------------------------------------------

def test_diverging_training_says_diverged_and_keeps_its_curve() -> None:
    at = _run(SINUSOID)
    at.multiselect(key="sin_algorithms").set_value(["maml", "pretrain"])
    at.number_input(key="sin_inner_lr").set_value(100.0)
    at.slider(key="sin_inner_steps").set_value(10)
    at.number_input(key="sin_iterations").set_value(20).run()
    run = _train_and_wait(at)
    snap = run.snapshot()
    assert snap.status["maml"] == "diverged"
    assert snap.records["maml"], "the curve so far was lost"
    assert snap.overall == "diverged"
    warnings = _texts(at, "warning")
    assert any("diverged" in w and "curve so far is kept" in w for w in warnings), warnings
    assert not at.error, _texts(at, "error")
    # Both curves so far are on the page's live chart; the new task still works.
    assert snap.records["pretrain"]
    _new_task_still_works(at)


# -- a training worker that fails ----------------------------------------------------------------

def test_a_failing_worker_reports_its_error_on_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    from mamlviz.train import Trainer

    # The failure is injected into this process, so train in a thread here.
    monkeypatch.setenv("MAMLVIZ_TRAINING_BACKEND", "thread")
    real_run = Trainer.run

    def failing_run(self: Trainer, *args: Any, **kwargs: Any) -> Any:
        if self.config.algorithm == "maml":
            raise RuntimeError("injected failure: the data went away")
        yield from real_run(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "run", failing_run)
    at = _run(SINUSOID)
    at.multiselect(key="sin_algorithms").set_value(["maml", "pretrain"])
    at.number_input(key="sin_iterations").set_value(10).run()
    run = _train_and_wait(at)
    snap = run.snapshot()
    assert snap.status == {"maml": "failed", "pretrain": "done"}, snap.status
    errors = _texts(at, "error")
    assert any("MAML stopped with an error" in e and "injected failure" in e
               for e in errors), errors
    # The other algorithm's model is there to adapt; the page still answers.
    assert "pretrain" in run.phis()
    _new_task_still_works(at)


# -- Omniglot missing, truncated or corrupt -------------------------------------------------------

def _omniglot_folder(tmp_path: Path, kind: str) -> Path:
    folder = tmp_path / f"omniglot-{kind}"
    folder.mkdir()
    names = ("images_background.zip", "images_evaluation.zip")
    if kind == "truncated":
        real = REAL_OMNIGLOT / names[0]
        head = real.read_bytes()[:200_000] if real.is_file() else b"PK\x03\x04" + b"\0" * 4000
        for name in names:
            (folder / name).write_bytes(head)
    elif kind == "corrupt":
        for name in names:
            (folder / name).write_bytes(b"this is not a zip file\n" * 100)
    return folder


@pytest.mark.parametrize("kind", ["missing", "truncated", "corrupt"])
def test_omniglot_page_with_bad_data_explains_and_still_renders(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str) -> None:
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(_omniglot_folder(tmp_path, kind)))
    at = _run(str(PAGES / "omniglot.py"))
    text = _all_text(at)
    assert "not available" in text, text[:2000]
    assert at.title[0].value  # the page itself is there
    # The rest renders: the papers' table of results is shown without data.
    assert "98.7" in text, "the papers' table is missing"
    assert not at.error, _texts(at, "error")


@pytest.mark.parametrize("kind", ["missing", "truncated", "corrupt"])
def test_three_steps_page_with_bad_omniglot_explains_and_keeps_the_sinusoids(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str) -> None:
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(_omniglot_folder(tmp_path, kind)))
    at = _run(str(PAGES / "three_steps.py"))
    text = _all_text(at)
    assert "MAMLVIZ_OMNIGLOT" in text, text[:2000]
    assert not at.error, _texts(at, "error")
    # The sinusoid half of the page still draws and follows its sliders.
    before = _chart.shown_specs(at)
    assert before
    at.slider(key="ts_n_tasks").set_value(3).run()
    _no_exception(at)
    assert _chart.shown_specs(at) != before


# -- checkpoints missing, truncated or tampered (MAMLVIZ_CHECKPOINTS) ----------------------------

class _Payload:
    """Unpickling this would create a file: a tampered checkpoint's stand-in for code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def _checkpoint_folder(tmp_path: Path) -> tuple[Path, Path]:
    """maml intact, fomaml tampered (a pickle payload), reptile truncated, pretrain missing."""
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    marker = tmp_path / "payload-ran"
    shutil.copy(SHIPPED / "sinusoid_maml.pt", folder / "sinusoid_maml.pt")
    torch.save({"format": "mamlviz-checkpoint", "version": 1, "problem": "sinusoid",
                "config": "{}", "metrics": "{}", "phi": {"w": torch.zeros(1)},
                "hook": _Payload(marker)}, folder / "sinusoid_fomaml.pt")
    data = (SHIPPED / "sinusoid_reptile.pt").read_bytes()
    (folder / "sinusoid_reptile.pt").write_bytes(data[: len(data) // 2])
    return folder, marker


def test_bad_checkpoints_give_a_note_each_and_the_good_one_still_works(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder, marker = _checkpoint_folder(tmp_path)
    monkeypatch.setenv("MAMLVIZ_CHECKPOINTS", str(folder))
    at = _run(SINUSOID)
    assert not marker.exists(), "a tampered checkpoint ran code"
    captions = _texts(at, "caption")
    missing = {name: [c for c in captions if c.startswith(f"No shipped checkpoint for {name}")]
               for name in ("first-order MAML", "Reptile", "pre-training")}
    assert all(missing.values()), captions
    assert "refused" in missing["first-order MAML"][0]
    assert "corrupt or truncated" in missing["Reptile"][0]
    assert "does not exist" in missing["pre-training"][0]
    assert not any(c.startswith("No shipped checkpoint for MAML") for c in captions)
    # MAML's shipped model is still shown and adapts to the new task.
    assert "maml" in _chart_metas(at, 0) or _chart.shown_figures(at)
    _new_task_still_works(at)
    assert not marker.exists()


@pytest.mark.parametrize("page", ["first_order.py", "three_steps.py"])
def test_other_pages_survive_bad_checkpoints(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             page: str) -> None:
    folder, marker = _checkpoint_folder(tmp_path)
    (folder / "sinusoid_maml.pt").write_bytes(b"PK\x03\x04 truncated")
    monkeypatch.setenv("MAMLVIZ_CHECKPOINTS", str(folder))
    at = _run(str(PAGES / page))
    assert at.title and _chart.shown_figures(at)
    assert not marker.exists()


def test_no_checkpoints_at_all_says_so_and_training_still_works(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    monkeypatch.setenv("MAMLVIZ_CHECKPOINTS", str(empty))
    at = _run(SINUSOID)
    captions = _texts(at, "caption")
    assert sum(c.startswith("No shipped checkpoint") for c in captions) \
        == len(algorithms.names("sinusoid")), captions
    assert any("No model is available yet" in i for i in _texts(at, "info"))
    # Train one: its model replaces the missing ones in the new-task section.
    at.multiselect(key="sin_algorithms").set_value(["pretrain"])
    at.number_input(key="sin_iterations").set_value(5).run()
    run = _train_and_wait(at)
    assert run.snapshot().overall == "done"
    at.radio(key="sin_model_source").set_value("session").run()
    _no_exception(at)
    assert not any("No model is available yet" in i for i in _texts(at, "info"))
    _new_task_still_works(at)


def test_checkpoint_cache_follows_the_folder(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """MAMLVIZ_CHECKPOINTS is part of the cache key: another folder is never served stale."""
    from pages import _ui

    shipped = _ui.sinusoid_checkpoints()
    assert not isinstance(shipped["maml"], BaseException)
    monkeypatch.setenv("MAMLVIZ_CHECKPOINTS", str(tmp_path))
    assert isinstance(_ui.sinusoid_checkpoints()["maml"], BaseException)
    monkeypatch.delenv("MAMLVIZ_CHECKPOINTS")
    assert not isinstance(_ui.sinusoid_checkpoints()["maml"], BaseException)


def test_idle_timeout_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pages import _classroom

    monkeypatch.setenv("MAMLVIZ_IDLE_TIMEOUT", "3")
    assert _classroom._idle_timeout() == 3.0
    for bad in ("", "soon", "-1", "0", "inf", "nan"):
        monkeypatch.setenv("MAMLVIZ_IDLE_TIMEOUT", bad)
        assert _classroom._idle_timeout() == 30.0, bad

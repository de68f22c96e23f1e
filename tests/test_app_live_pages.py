"""The live chapters "Toy example: sinusoids" and "Omniglot", run headless with AppTest.

Both pages run in English and Chinese; a few iterations are trained, stopped and
adapted; a diverging learning rate gives a message and keeps its curve; the
Omniglot page explains how to get the data when it is absent, and (with the
data) lets a student play against the models.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from pages import _chart
from pages import _sinusoid_models as models_on

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
SINUSOID = str(ROOT / "pages" / "sinusoid.py")
OMNIGLOT_PAGE = str(ROOT / "pages" / "omniglot.py")


pytestmark = pytest.mark.usefixtures("app_without_omniglot")


def _run(page: str, lang: str = "en", timeout: int = 60) -> AppTest:
    at = AppTest.from_file(page, default_timeout=timeout)
    at.session_state["lang"] = lang
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _wait(at: AppTest, key: str, timeout: float = 120) -> None:
    run = at.session_state[key]
    assert run.join(timeout=timeout)


def _metas(at: AppTest) -> set[str]:
    out = set()
    for figure in _chart.shown_figures(at):
        for trace in figure["data"]:
            if trace.get("meta"):
                out.add(trace["meta"])
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sinusoid_page_runs_in_both_languages(lang: str) -> None:
    at = _run(SINUSOID, lang)
    title = at.title[0].value
    assert ("正弦" in title) if lang == "zh" else ("sinusoids" in title)
    # The shipped checkpoints make the new-task figure instant, without training.
    assert "maml:fit10" in _metas(at)
    assert "maml:mean" in _metas(at)


def test_sinusoid_train_stop_adapt() -> None:
    at = _run(SINUSOID)
    at.multiselect(key="sin_algorithms").set_value(["maml", "reptile"])
    at.number_input(key="sin_iterations").set_value(100_000)
    at.button(key="sin_train").click().run()
    _ok(at)
    run = at.session_state["sin_live_run"]
    deadline = time.monotonic() + 60
    while not all(run.snapshot().records.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    at.button(key="sin_stop").click().run()
    _ok(at)
    # The page waits up to 5 s for the run to end. On a busy machine the niced training
    # process may take longer to finish its meta-step: then the page says "stopping"
    # (and Stop is disabled) until it has.
    snap = run.snapshot()
    assert set(snap.status.values()) <= {"stopping", "stopped"}
    if run.stopping:
        assert at.button(key="sin_stop").disabled
        assert any("stopping" in m.value for m in at.markdown if m.value.startswith("|"))
    assert run.join(timeout=120)
    at.run()
    _ok(at)
    snap = run.snapshot()
    assert snap.status == {"maml": "stopped", "reptile": "stopped"}
    assert all(n >= 1 for n in snap.steps.values())
    # The session's own models can now be adapted to a new task, and own points typed in.
    source = at.radio(key="sin_model_source")
    assert "session" in source.options or len(source.options) == 2
    source.set_value("session")
    at.radio(key="sin_task_src").set_value("points").run()
    _ok(at)
    metas = _metas(at)
    assert {"maml:fit0", "maml:fit1", "reptile:fit10"} <= metas
    assert not at.error
    # The held-out curves were scored by the training process when the run ended (for the
    # 10 shots it trained with): the page draws them without evaluating 100 tasks itself.
    scored = run.held_out()
    assert set(scored) == {"maml", "reptile"}
    assert all(s["k_shot"] == 10 for s in scored.values())
    calls = []
    real_curve = models_on.curve
    models_on.curve = lambda *a, **k: calls.append(a) or real_curve(*a, **k)
    try:
        at.radio(key="sin_task_src").set_value("ab").run()
        _ok(at)
        assert calls == [] and {"maml:fit0", "reptile:fit10"} <= _metas(at)
        # Other shots: computed here, once per finished run (kept in the session), not on
        # every slider move.
        at.slider(key="sin_k_new").set_value(5).run()
        _ok(at)
        assert sorted(a[2] for a in calls) == [5, 5]
        memo = at.session_state[models_on.SESSION_MEMO]
        assert memo["run"] is run and {("curve", "maml", 5), ("curve", "reptile", 5)} <= set(
            memo["results"])
        at.slider(key="sin_a").set_value(2.0).run()
        _ok(at)
        assert len(calls) == 2
    finally:
        models_on.curve = real_curve


def test_sinusoid_diverging_rate_gives_a_message() -> None:
    at = _run(SINUSOID, "zh")
    at.multiselect(key="sin_algorithms").set_value(["maml"])
    at.number_input(key="sin_inner_lr").set_value(100.0)
    at.slider(key="sin_inner_steps").set_value(10)
    at.number_input(key="sin_iterations").set_value(20)
    at.button(key="sin_train").click().run()
    _wait(at, "sin_live_run")
    at.run()
    _ok(at)
    assert at.session_state["sin_live_run"].snapshot().status["maml"] == "diverged"
    assert any("发散" in w.value for w in at.warning)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_omniglot_page_without_data_explains(lang: str) -> None:
    at = _run(OMNIGLOT_PAGE, lang)
    text = " ".join(i.value for i in at.info)
    assert "MAMLVIZ_OMNIGLOT" in text
    assert ("数据" in text) if lang == "zh" else ("not available" in text)
    # the paper's numbers are still there
    assert any("98.7" in m.value and m.value.startswith("|") for m in at.markdown)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_omniglot_human_versus_model(monkeypatch: pytest.MonkeyPatch, omniglot_source: Path,
                                     lang: str) -> None:
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(omniglot_source))
    at = _run(OMNIGLOT_PAGE, lang, timeout=120)
    assert not at.error
    metas = _metas(at)
    assert {"alphabet", "support", "query", "random:accuracy"} <= metas
    for i in range(5):
        at.selectbox(key=f"omni_answer_{i}").set_value(i)
    submit = next(b for b in at.button if "omni_human" in (b.id or "") or "omni_human"
                  in str(b.proto.form_id))
    submit.click().run()
    _ok(at)
    played = at.session_state["omni_played"]
    assert played["answers"] == [0, 1, 2, 3, 4]
    score = "你的得分" if lang == "zh" else "Your score"
    assert any(score in m.value for m in at.markdown)
    # Honest by default: Lake's runs, their origin said, each model's exposure to them
    # said, and the published human error beside the student's.
    assert at.selectbox(key="omni_source").value == "within-alphabet"
    where = "评估字母表" if lang == "zh" else "evaluation alphabets"
    assert any(where in c.value and ("drawer" in c.value or "书写者" in c.value)
               for c in at.caption)
    seen = "见过" if lang == "zh" else "meta-trained on"
    assert any(seen in m.value and m.value.count("\n- ") >= 5 for m in at.markdown)
    assert any("4.5%" in m.value and "8.0%" in m.value for m in at.markdown)
    # A model of the MAML protocol saw most of an evaluation alphabet; the page says so.
    # Seed 0, five Avesta characters: the MAML split trained on four of them.
    assert any(("4 of these 5" in m.value or "中的 4 个" in m.value) for m in at.markdown)
    # and the Lake-protocol models play too, having seen none of them
    never = "MAML，Lake 协议：一个都没见过" if lang == "zh" else "MAML, Lake protocol: never saw"
    assert any(never in m.value for m in at.markdown)


@pytest.mark.parametrize("algorithm", ["fomaml", "reptile"])
def test_omniglot_live_training_few_iterations(monkeypatch: pytest.MonkeyPatch,
                                               omniglot_source: Path,
                                               algorithm: str) -> None:
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(omniglot_source))
    at = _run(OMNIGLOT_PAGE, timeout=120)
    at.multiselect(key="omni_algorithms").set_value([algorithm])
    at.number_input(key="omni_live_iters").set_value(2)
    at.slider(key="omni_live_batch").set_value(2)
    at.button(key="omni_train").click().run()
    _ok(at)
    _wait(at, "omni_live_run")
    at.run()
    _ok(at)
    run = at.session_state["omni_live_run"]
    snap = run.snapshot()
    assert snap.status == {algorithm: "done"}
    assert snap.evals[algorithm]  # accuracy on testing tasks streamed too
    # Reptile trains with its paper's inner loop (Adam on 10 shots), its own defaults.
    config = run.configs[algorithm]
    assert config.inner_optimizer == ("adam" if algorithm == "reptile" else "sgd")
    assert not at.error

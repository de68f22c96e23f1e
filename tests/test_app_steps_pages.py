"""The pages "The three steps" and "Warning of math: first order", run headless with AppTest.

Each page must run in English and Chinese without an exception, redraw when a
slider moves, show the L(F) that the engine computes for the same seed, and
answer a diverging inner loop with a warning, never a traceback.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from mamlviz.algorithms import names
from mamlviz.errors import MamlvizError
from mamlviz.runs import load_sinusoid
from mamlviz.three_steps import compare, random_init, sinusoid_task_set
from pages import _chart
from tests.conftest import run_page

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
THREE_STEPS = str(ROOT / "pages" / "three_steps.py")
FIRST_ORDER = str(ROOT / "pages" / "first_order.py")


pytestmark = pytest.mark.usefixtures("app_without_omniglot")


def _run(page: str, lang: str = "en") -> AppTest:
    return run_page(page, lang)


def _figures(at: AppTest) -> list[dict]:
    return _chart.shown_figures(at)


def _with_meta(at: AppTest, meta: str) -> list[dict]:
    return [f for f in _figures(at) if any(tr.get("meta") == meta for tr in f["data"])]


def _trace(fig: dict, meta: str) -> dict:
    return next(tr for tr in fig["data"] if tr.get("meta") == meta)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", [THREE_STEPS, FIRST_ORDER])
def test_page_runs_in_both_languages(page: str, lang: str) -> None:
    at = _run(page, lang)
    assert at.title[0].value
    assert len(_chart.shown_figures(at)) >= 3
    text = " ".join(m.value for m in at.markdown) + at.title[0].value
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert has_cjk == (lang == "zh")
    titles = [f["layout"]["title"]["text"] for f in _figures(at)]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in title) == (lang == "zh")
               for title in titles), titles


def test_three_steps_sliders_redraw() -> None:
    at = _run(THREE_STEPS)
    tasks_before = _with_meta(at, "support-1-0")[0]
    at.slider(key="ts_n_tasks").set_value(3).run()
    tasks_after = _with_meta(at, "support-1-0")[0]
    assert tasks_after["data"] != tasks_before["data"]
    assert not any(tr.get("meta") == "support-1-3" for tr in tasks_after["data"])
    assert any(tr.get("meta") == "support-1-2" for tr in tasks_after["data"])
    bars_before = _with_meta(at, "total")[0]
    at.slider(key="ts_steps").set_value(5).run()
    bars_after = _with_meta(at, "total")[0]
    assert _trace(bars_after, "total")["y"] != _trace(bars_before, "total")["y"]
    assert len([tr for tr in bars_after["data"] if tr["type"] == "bar"]) == 3


def _engine_candidates(seed: int) -> dict:
    found = {"random": random_init(seed)}
    for key in names("sinusoid"):  # the chapter shows them in the registry's order
        try:
            found[key] = load_sinusoid(ROOT / "assets" / "checkpoints" / f"sinusoid_{key}.pt")[1]
        except MamlvizError:
            pass
    return found


def test_three_steps_total_loss_equals_engine() -> None:
    at = _run(THREE_STEPS)
    at.number_input(key="ts_seed").set_value(7).run()
    at.slider(key="ts_n_tasks").set_value(4).run()
    at.slider(key="ts_k_shot").set_value(5).run()
    at.slider(key="ts_steps").set_value(2).run()
    assert not at.exception
    train_fig, test_fig = _with_meta(at, "total")
    candidates = _engine_candidates(7)
    for fig, testing in ((train_fig, False), (test_fig, True)):
        tasks = sinusoid_task_set(4, 5, 10, 7, testing=testing)
        scores = compare(candidates, tasks, 0.01, 2)
        shown = _trace(fig, "total")["y"]
        assert len(shown) == len(scores)
        for value, g in zip(shown, scores.values()):
            assert value == pytest.approx(g.total, rel=1e-5)
        # The stacked pieces are the per-task losses l^n and add up to the total.
        pieces = [_trace(fig, f"task-{n}")["y"] for n in range(4)]
        for i, g in enumerate(scores.values()):
            assert [p[i] for p in pieces] == pytest.approx(g.per_task, rel=1e-5)
            assert sum(p[i] for p in pieces) == pytest.approx(shown[i], rel=1e-5)
    best = min(scores.values(), key=lambda g: g.total)
    assert any(f"{best.total:.3f}" in m.value for m in at.markdown)


def test_three_steps_divergence_is_a_warning() -> None:
    at = _run(THREE_STEPS)
    at.select_slider(key="ts_inner_lr").set_value(0.5).run()
    at.slider(key="ts_steps").set_value(10).run()
    assert not at.exception
    assert at.warning, "a diverging inner loop must be reported"
    assert any("0.5" in w.value for w in at.warning)


def test_three_steps_notes_missing_omniglot() -> None:
    at = _run(THREE_STEPS)
    assert any("MAMLVIZ_OMNIGLOT" in i.value for i in at.info)
    assert not _with_meta(at, "support-0-0")


def test_three_steps_omniglot_episode(monkeypatch: pytest.MonkeyPatch,
                                      omniglot_source: Path) -> None:
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(omniglot_source))
    at = _run(THREE_STEPS, "zh")
    episode = _with_meta(at, "support-0-0")
    assert episode, "an Omniglot episode is drawn when the data is there"
    def drawings(figure: dict) -> int:
        """Drawings shown: one PNG picture, and one trace naming it, per image."""
        images = [im for im in figure["layout"]["images"]
                  if im["source"].startswith("data:image/png;base64,")]
        traces = [tr for tr in figure["data"] if tr["meta"].startswith(("support-", "query-"))]
        assert len(images) == len(traces)
        return len(images)

    assert drawings(episode[0]) == 5 * (1 + 1)  # 5-way 1-shot, one query per class
    assert _chart.bundle_for(episode[0]) == "basic"  # pictures, not heatmaps
    at.slider(key="ts_n_way").set_value(3).run()
    at.slider(key="ts_k_omni").set_value(2).run()
    assert drawings(_with_meta(at, "support-0-0")[0]) == 3 * (2 + 1)


def test_first_order_sliders_redraw_and_diverge() -> None:
    at = _run(FIRST_ORDER)
    cosine_fig = _with_meta(at, "steps-1")[0]
    star = _trace(cosine_fig, "current")
    assert star["x"] == [0.01]
    metric = float(at.metric[0].value)
    assert star["y"][0] == pytest.approx(metric, abs=1e-4)
    assert len([tr for tr in cosine_fig["data"] if tr["meta"].startswith("steps-")]) == 3

    at.select_slider(key="fo_inner_lr").set_value(0.0).run()
    assert float(at.metric[0].value) == pytest.approx(1.0, abs=1e-4)
    assert _trace(_with_meta(at, "steps-1")[0], "current")["x"] == [0.0]

    components_before = _trace(_with_meta(at, "components")[0], "components")["y"]
    at.select_slider(key="fo_inner_lr").set_value(0.05).run()
    at.slider(key="fo_steps").set_value(2).run()
    components_after = _trace(_with_meta(at, "components")[0], "components")["y"]
    assert components_after != components_before

    at.select_slider(key="fo_inner_lr").set_value(0.5).run()
    at.slider(key="fo_steps").set_value(3).run()
    assert not at.exception
    assert at.warning
    assert not _with_meta(at, "components")  # nothing to scatter when it diverged
    cost = _with_meta(at, "memory")[0]
    assert all(v > 0 and math.isfinite(v) for v in _trace(cost, "memory")["y"])

"""Every registered algorithm is whole: its maths matches the naive per-task loop, and
every chapter that shows algorithms shows it.

The test walks ``mamlviz.algorithms.REGISTRY`` at collection time, so an algorithm added
as one module plus one ``register`` line is checked here without editing this file, and
a chapter that keeps its own list (and so misses the new one) fails.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch
from streamlit.testing.v1 import AppTest

from mamlviz import landscape as ls
from mamlviz.algorithms import REGISTRY, InnerLoop, get, make_step, names
from mamlviz.inner import mse
from mamlviz.models.mlp import SinusoidMLP, init_params
from mamlviz.reference import naive_step
from mamlviz.tasks import SinusoidTasks
from pages import _chart, _i18n

torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
# The chapters that show the algorithms side by side, and where the reader meets each
# one there: a choice to train ("option"), a figure's trace ("trace"), or a line of text
# ("text": the three-steps chapter names a candidate whose checkpoint is not shipped).
CHAPTERS = {"sinusoid.py": ("option",), "omniglot.py": ("option",),
            "three_steps.py": ("trace", "text"), "maml_vs_pretraining.py": ("trace",),
            "update_directions.py": ("trace",), "reptile.py": ("trace",)}
# What each chapter's algorithms run on: a problem of the registry's ``problems`` field,
# or the analytic landscapes, which show every algorithm that steps on a task's loss.
CHAPTER_PROBLEM = {"sinusoid.py": "sinusoid", "omniglot.py": "omniglot",
                   "three_steps.py": "sinusoid", "maml_vs_pretraining.py": "landscape",
                   "update_directions.py": "landscape", "reptile.py": "landscape"}


def _applies(page: str, name: str) -> bool:
    problem = CHAPTER_PROBLEM[page]
    if problem == "landscape":
        return name in ls.METHODS
    return problem in get(name).problems


def _shown(at: AppTest) -> dict[str, set[str]]:
    texts: set[str] = set()
    for kind in ("markdown", "caption", "info", "warning", "error", "success"):
        texts |= {str(e.value) for e in at.get(kind)}
    options = {str(o) for kind in ("multiselect", "radio", "selectbox")
               for widget in at.get(kind) for o in widget.options}
    traces: set[str] = set()
    for figure in _chart.shown_figures(at):
        for trace in figure["data"]:
            traces |= {str(trace.get("meta", "")), str(trace.get("name", ""))}
            # bars drawn per candidate: their categories name them
            traces |= {x for x in trace.get("x") or [] if isinstance(x, str)}
    return {"text": texts, "option": options, "trace": traces}


@pytest.fixture(scope="module")
def chapters(tmp_path_factory: pytest.TempPathFactory, omniglot_source: Path
             ) -> dict[str, dict[str, set[str]]]:
    """What each chapter shows, each run once in English (with the Omniglot data, so the
    Omniglot chapter gets to its live training section)."""
    import streamlit as st

    omniglot = omniglot_source
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MAMLVIZ_CACHE", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("MAMLVIZ_OMNIGLOT", str(omniglot))
        st.cache_resource.clear()
        st.cache_data.clear()
        out = {}
        for page in CHAPTERS:
            at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=240)
            at.session_state["lang"] = "en"
            at.run()
            assert not at.exception, (page, [e.value for e in at.exception])
            out[page] = _shown(at)
        st.cache_resource.clear()
        st.cache_data.clear()
    return out


@pytest.mark.parametrize("page", CHAPTERS)
@pytest.mark.parametrize("name", names())
def test_every_chapter_shows_every_algorithm(chapters: dict[str, dict[str, set[str]]],
                                             page: str, name: str) -> None:
    if not _applies(page, name):
        # not a skip: the chapter must then *not* offer it
        assert name not in chapters[page]["option"], f"{page} offers {name}, which cannot run there"
        return
    label = get(name).label
    seen = chapters[page]
    # the label whole: alone, first, or in parentheses ("meta-learned init (MAML)"), so
    # "MAML" is not found inside "first-order MAML"
    whole = re.compile(rf"(^|\()({re.escape(label)})($|\)| )")
    found = {kind for kind in CHAPTERS[page]
             if name in seen[kind] or any(whole.search(item) for item in seen[kind])}
    assert found, f"{page} shows {name} ({label}) in none of {CHAPTERS[page]}"


def _sinusoid_batch() -> tuple[torch.Tensor, ...]:
    batch = SinusoidTasks().sample(3, 5, 5, generator=torch.Generator().manual_seed(0))
    return batch.to("cpu", torch.float64).tensors()


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


@pytest.mark.parametrize("inner_steps", [1, 3])
@pytest.mark.parametrize("name", names("sinusoid"))
def test_every_algorithm_matches_the_naive_loop_on_the_mlp(name: str, inner_steps: int) -> None:
    model = SinusoidMLP()
    # with whatever else the algorithm meta-learns (Meta-SGD's step sizes), as it trains
    phi = get(name).init_phi(init_params(model, seed=3, dtype=torch.float64), 0.02)
    loop = InnerLoop(model, mse, 0.02, inner_steps)
    batch = _sinusoid_batch()
    ours, before, after = make_step(name, loop)(phi, *batch)
    ref, ref_before, ref_after = naive_step(name, loop, phi, *batch)
    assert _max_diff(ours, ref) < 1e-12
    assert torch.allclose(before, ref_before, atol=1e-12)
    assert torch.allclose(after, ref_after, atol=1e-12)
    assert _max_diff(ours, {k: torch.zeros_like(v) for k, v in ours.items()}) > 0


@pytest.mark.parametrize("name", ls.METHODS)
def test_every_algorithm_moves_phi_on_the_landscapes_as_the_naive_loop(name: str) -> None:
    """On the analytic landscapes the direction is minus the sum over tasks of the
    algorithm's step on each task's model; the naive loop gives the same."""
    tasks = ls.PRESETS_2D["lecture"]
    phi = torch.tensor([1.0, -0.5], dtype=torch.float64)
    shown = ls.update_directions(tasks, phi, 0.7, 2).as_dict()[name]
    expected: Any = 0
    for task in tasks:
        loop = InnerLoop(ls.TaskModel(task, 2), ls.value_of, 0.7, 2)
        x, y = torch.zeros(1, 1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
        step, _, _ = naive_step(name, loop, {"phi": phi}, x, y, x, y)
        expected = expected - step["phi"]
    assert torch.allclose(torch.as_tensor(shown), expected, rtol=1e-12, atol=1e-14)


def test_the_registry_is_ordered_and_complete() -> None:
    assert tuple(REGISTRY) == names() and len(set(names())) == len(names())
    for algorithm in REGISTRY.values():
        assert algorithm.problems and algorithm.colour.startswith("#")
        assert algorithm.label.strip()
        # Every algorithm named in every language, English as the registry names it.
        for code in _i18n.languages():
            assert _i18n.catalogue(code)["algorithms"][algorithm.name].strip(), (code, algorithm)
        assert _i18n.catalogue("en")["algorithms"][algorithm.name] == algorithm.label
    for code in _i18n.languages():  # and no name left of an algorithm no longer registered
        assert set(_i18n.catalogue(code)["algorithms"]) <= set(names()), code


def test_every_algorithm_runs_somewhere_the_chapters_show() -> None:
    """An algorithm that no chapter's problem admits would be registered for nothing."""
    for name in names():
        assert any(_applies(page, name) for page in CHAPTERS), name
    assert set(names()) - set(ls.METHODS) == {a.name for a in REGISTRY.values()
                                               if a.family == "metric-based"}

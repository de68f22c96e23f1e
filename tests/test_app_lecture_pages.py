"""The lecture pages (home, MAML versus pre-training, real implementation, Reptile, more)
run in both languages, react to their sliders, and draw exactly what the engine computes."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mamlviz import landscape as ls
from pages import _chart

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import ``pages._ui`` from the repository root
    sys.path.insert(0, str(ROOT))

PAGES = ["home.py", "maml_vs_pretraining.py", "update_directions.py", "reptile.py", "more.py"]


# The closing chapter measures a meta-step of every method and loads Omniglot on its
# first run: minutes on a busy 2-core machine.
TIMEOUTS = {"more.py": 300}


def page(file: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / file), default_timeout=TIMEOUTS.get(file, 60))
    at.session_state["lang"] = lang
    return at.run()


def array(value) -> np.ndarray:
    """A Plotly JSON array: a list, or a typed array ``{"dtype", "bdata"}``."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]),
                             dtype=np.dtype(value["dtype"])).copy()
    return np.asarray(value, dtype=float)


def figure(at: AppTest, index: int = 0) -> dict:
    return _chart.shown_figures(at)[index]


def markdown_tables(at: AppTest) -> list[list[list[str]]]:
    """The body rows (cells as text) of every Markdown table the page shows."""
    tables = []
    for block in at.markdown:
        lines = [line for line in block.value.splitlines() if line.startswith("|")]
        if len(lines) > 2 and set(lines[1]) <= set("|-: "):
            tables.append([[cell.strip() for cell in line.strip("|").split("|")]
                           for line in lines[2:]])
    return tables


def trace(fig: dict, meta: str) -> dict:
    found = [d for d in fig["data"] if d.get("meta") == meta]
    assert found, f"no trace {meta!r} in {[d.get('meta') for d in fig['data']]}"
    return found[0]


def traces(fig: dict, meta: str) -> list[dict]:
    return [d for d in fig["data"] if d.get("meta") == meta]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("file", PAGES)
def test_page_runs_in_both_languages(file: str, lang: str) -> None:
    at = page(file, lang)
    assert not at.exception, at.exception
    assert not at.error
    text = " ".join(m.value for m in at.markdown) + " ".join(x.value for x in at.title)
    has_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert has_chinese == (lang == "zh")


def test_home_through_the_router_links_every_written_chapter() -> None:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    links = [el for el in at.main if el.type == "page_link"] if hasattr(at, "main") else []
    labels = {el.proto.label for el in at.get("page_link")} if not links else {
        el.proto.label for el in links}
    for title in ("MAML versus pre-training", "Real implementation", "Reptile",
                  "More to think about"):
        assert title in labels
    assert len(_chart.shown_figures(at)) == 1  # the data -> F -> f* diagram
    assert any("Training device" in c.value for c in at.caption)


def test_1d_slider_changes_the_figure() -> None:
    at = page("maml_vs_pretraining.py")
    before = array(trace(figure(at), "maml")["y"])
    at.slider(key="mvp_lr_lecture").set_value(0.7).run()
    after = array(trace(figure(at), "maml")["y"])
    assert not at.exception
    assert before.shape == after.shape and not np.allclose(before, after)


@pytest.mark.parametrize("anchor", ["maml", "pretrain"])
def test_1d_optima_and_adapted_points_are_the_engines(anchor: str) -> None:
    lr, steps = 0.9, 2
    at = page("maml_vs_pretraining.py")
    at.slider(key="mvp_lr_lecture").set_value(lr)
    at.slider(key="mvp_steps").set_value(steps)
    at.radio(key="mvp_anchor").set_value(anchor).run()
    assert not at.exception
    fig = figure(at)
    tasks = ls.PRESETS_1D["lecture"]
    grid = array(trace(fig, "task 1")["x"])
    pre = float(ls.pretrain_optimum(tasks, grid)[0])
    maml = float(ls.maml_optimum(tasks, grid, lr, steps)[0])
    assert array(trace(fig, "pretrain optimum")["x"])[0] == pytest.approx(pre, abs=1e-9)
    assert array(trace(fig, "MAML optimum")["x"])[0] == pytest.approx(maml, abs=1e-9)
    phi = maml if anchor == "maml" else pre
    theta = [float(ls.adapted(t, ls.as_phi(phi, 1), lr, steps)[0]) for t in tasks]
    np.testing.assert_allclose(array(trace(fig, "theta_hat")["x"]), theta, atol=1e-9)
    arrows = [a for a in fig["layout"]["annotations"] if a.get("showarrow") and "ax" in a]
    assert len(arrows) == len(tasks)
    np.testing.assert_allclose([a["ax"] for a in arrows], [phi] * len(tasks), atol=1e-9)
    np.testing.assert_allclose([a["x"] for a in arrows], theta, atol=1e-9)


def test_1d_bad_settings_warn_instead_of_crashing() -> None:
    at = page("maml_vs_pretraining.py")
    at.selectbox(key="mvp_preset").set_value("quadratic").run()
    at.slider(key="mvp_lr_quadratic").set_value(3.0)
    at.slider(key="mvp_steps").set_value(10).run()
    assert not at.exception
    assert at.warning and "too large" in at.warning[0].value
    at.selectbox(key="mvp_preset").set_value("shape").run()
    at.slider(key="mvp_local").set_value(3.0).run()
    assert not at.exception
    assert any("local minimum" in w.value for w in at.warning)


def test_1d_step_button_moves_phi_along_the_engines_trajectory() -> None:
    at = page("maml_vs_pretraining.py")
    for _ in range(3):
        at.button(key="mvp_frame_step").click().run()
    assert not at.exception
    assert at.session_state["mvp_frame"] == 3
    fig = figure(at, 1)
    tasks = ls.PRESETS_1D["lecture"]
    lr = ls.DEFAULT_INNER_LR["lecture"]
    for method in ls.METHODS:
        meta_lr = 0.5 / len(tasks) if method == "reptile" else 0.05
        run = ls.trajectory(method, tasks, 1.0, meta_lr, 3, lr, 1, 5)
        assert array(trace(fig, method)["x"])[0] == pytest.approx(run.phis[3, 0], abs=1e-9)
    at.button(key="mvp_frame_reset").click().run()
    assert at.session_state["mvp_frame"] == 0


def test_2d_sliders_move_phi_and_arrows_follow_the_engine() -> None:
    at = page("update_directions.py")
    phi_before = array(trace(figure(at), "phi")["x"])
    at.slider(key="ud_x_lecture").set_value(2.0)
    at.slider(key="ud_y_lecture").set_value(0.5)
    at.slider(key="ud_lr").set_value(0.8).run()
    assert not at.exception
    fig = figure(at)
    phi = np.array([array(trace(fig, "phi")["x"])[0], array(trace(fig, "phi")["y"])[0]])
    assert not np.allclose(phi_before, phi[:1])
    np.testing.assert_allclose(phi, [2.0, 0.5])
    d = ls.update_directions(ls.PRESETS_2D["lecture"], phi, 0.8, 1, 3)
    for method in ls.METHODS:
        tr = trace(fig, method)
        x, y = array(tr["x"]), array(tr["y"])
        drawn = np.array([x[1] - x[0], y[1] - y[0]])
        want = getattr(d, method)
        np.testing.assert_allclose(drawn / np.linalg.norm(drawn), want / np.linalg.norm(want),
                                   atol=1e-9)
    table, cosine = markdown_tables(at)[:2]
    np.testing.assert_allclose([float(row[1]) for row in table],
                               [round(float(getattr(d, m)[0]), 4) for m in ls.METHODS])
    np.testing.assert_allclose(np.diag([[float(v) for v in row[1:]] for row in cosine]), 1.0,
                               atol=1e-3)


def test_reptile_curve_is_the_engines_and_follows_k() -> None:
    at = page("reptile.py")
    before = array(trace(figure(at), "reptile")["y"])
    at.slider(key="rp_k").set_value(1).run()
    assert not at.exception
    fig = figure(at)
    tasks = ls.PRESETS_1D["lecture"]
    lr = ls.DEFAULT_INNER_LR["lecture"]
    grid = array(trace(fig, "reptile")["x"])
    field = ls.direction_field(tasks, grid, lr, 1, 1)
    reptile = array(trace(fig, "reptile")["y"])
    assert not np.allclose(before, reptile)
    np.testing.assert_allclose(reptile, field["reptile"][:, 0], atol=1e-9)
    # One inner step: Reptile's direction is epsilon times pre-training's.
    np.testing.assert_allclose(reptile, lr * array(trace(fig, "pretrain")["y"]), atol=1e-9)
    assert len(_chart.shown_figures(at)) == 3  # curve, 1-D paths, 2-D paths


def test_direction_field_matches_update_directions() -> None:
    tasks = ls.PRESETS_2D["two wells"]
    points = np.array([[1.0, 0.5], [-0.5, 2.0]])
    field = ls.direction_field(tasks, points, 0.7, 2, 4)
    for i, p in enumerate(points):
        d = ls.update_directions(tasks, p, 0.7, 2, 4)
        for method in ls.METHODS:
            np.testing.assert_allclose(field[method][i], getattr(d, method), atol=1e-10)


def test_engine_source_is_sent_only_when_its_expander_is_opened() -> None:
    """The source footnote is lazy: a closed expander sends no code (nor makes the
    browser load its syntax highlighter); opening it shows the engine function."""
    import inspect

    at = page("maml_vs_pretraining.py")
    assert not at.code
    assert "mamlviz.landscape.landscape_1d" in at.expander[-1].label
    at.session_state["source-mamlviz.landscape.landscape_1d"] = True
    at.run()
    assert not at.exception
    assert at.code[0].value.strip() == inspect.getsource(ls.landscape_1d).strip()

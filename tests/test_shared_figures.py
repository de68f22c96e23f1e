"""Figures shared by a whole class (``pages/_ui.py``): built once per inputs, and never
changed by showing them."""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io
import pytest

from pages import _chart, _ui


def _figure() -> go.Figure:
    # numpy arrays: plotly's to_dict turns them into base64 typed arrays
    x = np.linspace(-5.0, 5.0, 200)
    fig = go.Figure(go.Scatter(x=x, y=np.sin(x), name="sin"))
    fig.update_layout(title="a shared figure", xaxis_title="x")
    return fig


def test_a_shared_figure_is_converted_once_and_showing_it_changes_nothing() -> None:
    shared = _ui.SharedFigure(_figure())
    spec = shared.spec
    for _ in range(2):
        _chart.chart(shared.spec, config={}, bundle=shared.bundle, height=shared.height)
    assert shared.spec is spec  # a rerun sends the same string, converted once
    # ... and it is what plotly itself would send for the figure
    assert json.loads(spec) == json.loads(plotly.io.to_json(_figure()))
    assert shared.to_dict() == json.loads(spec)
    assert shared.bundle == "basic"  # a line chart needs only plotly.js's basic bundle
    assert shared.height is None  # the chart's default height


def test_a_shared_figure_keeps_only_its_json() -> None:
    # The server keeps up to 512 of them: the figure's arrays, its dict and its JSON
    # side by side took 3.4 times the memory of the JSON alone (a 2-D landscape).
    shared = _ui.SharedFigure(_figure())
    assert not isinstance(shared, go.Figure)
    assert set(vars(shared)) == {"spec", "bundle", "height"}
    tall = _figure()
    tall.update_layout(height=700)
    assert _ui.SharedFigure(tall).height == 700


def test_a_chart_of_json_needs_its_bundle() -> None:
    with pytest.raises(TypeError, match="bundle"):
        _chart.chart(_ui.SharedFigure(_figure()).spec, config={})


@pytest.fixture
def fresh_cache():
    _ui._shared_figure.clear()
    yield
    _ui._shared_figure.clear()


def test_shared_figures_are_built_once_per_inputs_language_and_mode(fresh_cache) -> None:
    built: list[int] = []

    def build() -> go.Figure:
        built.append(1)
        return _figure()

    first = _ui._shared_figure("chart", ("inputs", 1.0), "en", False, build)
    again = _ui._shared_figure("chart", ("inputs", 1.0), "en", False, build)
    assert again is first and len(built) == 1
    _ui._shared_figure("chart", ("inputs", 1.05), "en", False, build)  # other inputs
    _ui._shared_figure("chart", ("inputs", 1.0), "zh", False, build)  # other language
    big = _ui._shared_figure("chart", ("inputs", 1.0), "en", True, build)  # projector
    assert len(built) == 4
    assert big.to_dict()["layout"]["font"]["size"] > first.to_dict()["layout"]["font"]["size"]
    assert isinstance(first, _ui.SharedFigure)


def test_digest_keys_points_by_value_shape_and_type() -> None:
    import torch

    a = torch.linspace(0.0, 1.0, 10)
    assert _ui.digest(a, a * 2) == _ui.digest(a.clone(), a * 2)
    assert _ui.digest(a) != _ui.digest(a + 1e-6)
    assert _ui.digest(a) != _ui.digest(a.reshape(2, 5))
    assert _ui.digest(a) != _ui.digest(a.double())
    assert _ui.digest(a, a) != _ui.digest(torch.cat([a, a]))


def test_presentation_mode_enlarges_fonts_and_lines_but_keeps_thin_lines_thin() -> None:
    from mamlviz import landscape as ls
    from mamlviz.figures.landscape import landscape_2d_figure

    preset = next(iter(ls.PRESETS_2D))
    data = ls.landscape_2d(ls.PRESETS_2D[preset], ls.DEFAULT_PHI_2D[preset], 1.2, 1, 3,
                           n_points=31)
    normal = _ui.style_figure(landscape_2d_figure(data), big=False)
    big = _ui.style_figure(landscape_2d_figure(data), big=True)
    assert (normal.layout.font.size, big.layout.font.size) == (15, 22)
    assert (normal.layout.legend.font.size, big.layout.legend.font.size) == (13, 18)
    widths = {tr.meta: (n.line.width, tr.line.width) for n, tr in zip(normal.data, big.data)
              if tr.type == "scatter"}
    # contour lines 1.5 px grow by half; the method arrows (3 px) become 4 px
    assert widths["task 1"] == (1.5, 2.25) and widths["task 2"] == (1.5, 2.25)
    assert all(widths[m] == (3, 4) for m in ls.METHODS)


def test_presentation_mode_enlarges_the_text_a_figure_sized_itself() -> None:
    from plotly.subplots import make_subplots

    def figure() -> go.Figure:
        fig = make_subplots(rows=1, cols=2, subplot_titles=["left", "right"])
        fig.add_annotation(x=0, y=0, text="a label", font={"size": 10}, showarrow=False)
        fig.add_annotation(x=0, y=0, ax=1, ay=1, text="")  # an arrow: no text to size
        return fig

    normal, big = (_ui.style_figure(figure(), big=False), _ui.style_figure(figure(), big=True))
    sizes = [(n.font.size, b.font.size) for n, b in zip(normal.layout.annotations,
                                                        big.layout.annotations)]
    assert sizes == [(16, 22), (16, 22), (10, 14), (None, None)]

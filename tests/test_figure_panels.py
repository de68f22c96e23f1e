"""``mamlviz.figures.panels``: make_subplots's row of panels, its layout worked out once."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from mamlviz.figures import panel_axes, panels


@pytest.mark.parametrize("cols", [1, 2, 3, 6, 8])
@pytest.mark.parametrize("shared_yaxes", [True, False])
@pytest.mark.parametrize("titled", ["all", "none", "first"])
def test_the_same_figure_as_make_subplots(cols: int, shared_yaxes: bool, titled: str) -> None:
    titles = [f"panel {i}" if titled == "all" or (titled == "first" and i == 0) else ""
              for i in range(cols)]
    expected = make_subplots(rows=1, cols=cols, shared_yaxes=shared_yaxes,
                             subplot_titles=titles)
    got = panels(titles, shared_yaxes=shared_yaxes)
    assert json.loads(got.to_json()) == json.loads(expected.to_json())


def test_traces_land_in_their_panel_as_with_row_and_col() -> None:
    expected = make_subplots(rows=1, cols=3, subplot_titles=["a", "b", "c"])
    got = panels(["a", "b", "c"])
    for c in (1, 2, 3):
        expected.add_trace(go.Scatter(x=[c], y=[c]), row=1, col=c)
        got.add_trace(go.Scatter(x=[c], y=[c], **panel_axes(c)))
    assert json.loads(got.to_json()) == json.loads(expected.to_json())


def test_figures_do_not_share_the_worked_out_layout() -> None:
    first = panels(["a", "b"])
    first.update_layout(title="changed")
    first.layout.annotations[0].text = "changed"
    second = panels(["a", "b"])
    assert second.layout.title.text is None
    assert [a.text for a in second.layout.annotations] == ["a", "b"]

"""``mamlviz.figures.white``: Plotly's white template without Plotly's copy-and-validate pass.

The helper sets a private flag of Plotly's (``layout._validate``) the way Plotly sets its
own default template; these tests are its contract with the installed Plotly.
"""

from __future__ import annotations

import json
import math

import plotly.graph_objects as go
import plotly.io as pio

from mamlviz.figures import white
from mamlviz.figures.sinusoid import fits_figure, mse_steps_figure


def _json(fig: go.Figure) -> str:
    return json.dumps(fig.to_dict(), sort_keys=True)


def test_white_is_the_named_template() -> None:
    def build() -> go.Figure:
        return go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="a"))

    named = build().update_layout(template="plotly_white", title="t", height=300)
    ours = white(build()).update_layout(title="t", height=300)
    assert _json(ours) == _json(named)
    assert ours.to_dict()["layout"]["template"]["layout"]["plot_bgcolor"] == "white"


def test_white_figures_do_not_share_their_template() -> None:
    first, second = white(go.Figure()), white(go.Figure())
    first.layout.template.layout.xaxis.gridcolor = "red"
    assert second.layout.template.layout.xaxis.gridcolor != "red"
    assert pio.templates["plotly_white"].layout.xaxis.gridcolor != "red"


def test_white_keeps_validating_what_follows() -> None:
    fig = white(go.Figure())
    try:
        fig.update_layout(not_a_property=1)
    except ValueError as exc:
        assert "not_a_property" in str(exc)
    else:
        raise AssertionError("an invalid property was accepted after white()")


def test_sinusoid_builders_match_the_named_template() -> None:
    xs = [i / 10 for i in range(-50, 51)]
    ys = [math.sin(x) for x in xs]
    fits = {"maml": {"x": xs, "fits": {0: ys, 1: ys, 10: None}}}
    built = fits_figure((xs, ys), (xs[:5], ys[:5]), fits, {"maml": "MAML"})
    assert _json(built) == _json(go.Figure(built).update_layout(template="plotly_white"))
    curves = {"maml": ([1.0, 0.5, 0.2], [0.1, 0.1, 0.1])}
    built = mse_steps_figure(curves, {"maml": "MAML"})
    assert _json(built) == _json(go.Figure(built).update_layout(template="plotly_white"))

"""Concept diagrams of the lecture: no engine, just boxes and arrows.

Pure functions returning ``plotly.graph_objects.Figure``. Every visible string
comes from a ``labels`` dict (English by default); each box carries a fixed
English key in its trace's ``meta`` so tests find it whatever the language.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from mamlviz.figures import white

LABELS_LEARNING_TO_LEARN: dict[str, str] = {
    "title": "Learning to learn: f* = F(D_train)",
    "data": "training data<br>D_train",
    "F": "learning<br>algorithm F",  # two lines: one overflows its box on a narrow page
    "f": "f*",
    "test": "testing data",
    "answer": "answers",
    "tasks": "training tasks<br>(support + query sets)",
    "ml": "machine learning finds f",
    "meta": "meta-learning finds F",
    "meta arrow": "learns",
}

# (key, x, y, colour): box centres on a 10 x 4 canvas.
_BOXES = (
    ("data", 1.0, 2.6, "#dbeafe"),
    ("F", 4.0, 2.6, "#fde68a"),
    ("f", 6.6, 2.6, "#bbf7d0"),
    ("test", 6.6, 0.9, "#f3f4f6"),
    ("answer", 9.3, 2.6, "#f3f4f6"),
    ("tasks", 1.0, 0.9, "#fce7f3"),
)
_ARROWS = (("data", "F", ""), ("F", "f", ""), ("test", "f", ""), ("f", "answer", ""),
           ("tasks", "F", "meta arrow"))


def learning_to_learn_figure(labels: Mapping[str, str] | None = None) -> go.Figure:
    """The lecture's first picture: D_train -> F -> f*, and meta-learning learning F.

    Machine learning runs a learning algorithm F on training data and gets a
    function f* (which answers testing data); meta-learning learns F itself
    from many training tasks.
    """
    lab = {**LABELS_LEARNING_TO_LEARN, **(labels or {})}
    where = {key: (x, y) for key, x, y, _ in _BOXES}
    fig = go.Figure()
    for key, x, y, color in _BOXES:
        w, h = (1.25 if key in ("data", "tasks") else 1.0), 0.5
        fig.add_shape(type="rect", x0=x - w, x1=x + w, y0=y - h, y1=y + h, fillcolor=color,
                      line={"color": "#374151", "width": 2 if key == "F" else 1}, layer="below")
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="text", text=[lab[key]], meta=key,
                                 name=key, showlegend=False, hoverinfo="skip",
                                 textfont={"size": 17 if key in ("F", "f") else 14}))
    for start, end, text in _ARROWS:
        (x0, y0), (x1, y1) = where[start], where[end]
        # Stop the arrow at the box edge rather than its centre.
        if y0 == y1:
            x0, x1 = x0 + (1.3 if start in ("data", "tasks") else 1.05), x1 - 1.05
        elif x0 == x1:
            y0, y1 = y0 + 0.55, y1 - 0.55
        else:
            x0, y0, x1, y1 = x0 + 1.3, y0 + 0.3, x1 - 0.6, y1 - 0.55
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
                           showarrow=True, arrowhead=3, arrowwidth=2, arrowcolor="#374151",
                           text="")
        if text:
            fig.add_annotation(x=(x0 + x1) / 2 + 0.5, y=(y0 + y1) / 2 - 0.15, text=lab[text],
                               showarrow=False, font={"size": 13, "color": "#9d174d"})
    fig.add_annotation(x=4.0, y=3.6, text=lab["ml"], showarrow=False,
                       font={"size": 14, "color": "#1d4ed8"})
    fig.add_annotation(x=4.0, y=0.25, text=lab["meta"], showarrow=False,
                       font={"size": 14, "color": "#9d174d"})
    fig.update_xaxes(visible=False, range=[-0.5, 10.5])
    fig.update_yaxes(visible=False, range=[0.0, 3.9])
    white(fig)
    fig.update_layout(title=lab["title"], height=380,
                      margin={"t": 60, "l": 10, "r": 10, "b": 10}, showlegend=False)
    return fig

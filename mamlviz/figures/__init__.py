"""Pure Plotly figure builders: data in, ``plotly.graph_objects.Figure`` out.

The layout every figure shares lives here, once: where a legend goes
(``place_legend``) and how a figure grows for a projector (``style``).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from typing import Any, Literal

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

# A horizontal legend at the bottom of the figure, under the x-axis title whatever the
# font size (presentation mode): placed in the figure's own frame ("container"), it
# makes plotly.js push the plot up by its height. Placed in the plot's frame below
# the axis, as before, a long legend or a large font drew it over the axis title.
LEGEND_BELOW = {"orientation": "h", "xref": "paper", "x": 0.0, "xanchor": "left",
                "yref": "container", "y": 0.0, "yanchor": "bottom"}
# A legend in a column right of the plot: nothing below the plot competes with an
# animation's slider or squeezes a plot drawn to scale.
LEGEND_RIGHT = {"orientation": "v", "xref": "paper", "x": 1.02, "xanchor": "left",
                "yref": "paper", "y": 1.0, "yanchor": "top"}
# A horizontal legend at the top of the figure, the figure's title as its own first
# line: the plot keeps the figure's whole width, for an animation whose controls take
# the room below it. One block, so plotly.js reserves room for both: a legend just
# above the plot (paper frame) was drawn over the title, plotly.js making room for
# the taller of the two only.
LEGEND_ABOVE = {"orientation": "h", "xref": "paper", "x": 0.0, "xanchor": "left",
                "yref": "container", "y": 1.0, "yanchor": "top"}
# The placements all set the same keys: a figure moved from one to the other (a builder's
# default layout, then its own) keeps nothing of the first. A right-hand legend that
# kept "yref: container" from LEGEND_BELOW was measured in the frame of the whole
# figure, and plotly.js reserved its height as top margin: the 2-D update-directions
# chart drew its plot in 292x260 px of a 1460x620 chart.
LEGENDS = {"below": LEGEND_BELOW, "right": LEGEND_RIGHT, "above": LEGEND_ABOVE}
DEFAULT_HEIGHT = 450  # plotly.js's height for a figure that sets none
MODEBAR_PX = 34


def height_with_legend_below(fig: go.Figure, base: int, per_entry: int = 20) -> int:
    """A chart's height when its legend sits below: ``base`` px for the plot, axes and
    title, and ``per_entry`` px for each legend entry, so that a longer legend (more rows
    under the plot, as more models are shipped) never squeezes the plot under half the
    chart."""
    return base + per_entry * sum(1 for t in fig.data if t.showlegend is not False)


def place_legend(fig: go.Figure, where: Literal["below", "right", "above"]) -> go.Figure:
    """Put ``fig``'s legend below, right of or above the plot, whatever it was before.

    Above the plot, the legend takes the figure's title as its first line; call this
    after setting the figure's height.
    """
    fig.update_layout(legend=LEGENDS[where])
    if where == "above":
        # Below the modebar's row (plotly.js draws it over the figure's top right
        # corner, about 30 px tall).
        fig.layout.legend.y = 1 - MODEBAR_PX / (fig.layout.height or DEFAULT_HEIGHT)
    if where == "above" and fig.layout.title.text:
        size = (fig.layout.font.size or 12) + 2
        fig.update_layout(legend_title={"text": fig.layout.title.text, "side": "top",
                                        "font": {"size": size}}, title_text=None)
    return fig


WHITE_TEMPLATE = "plotly_white"


def white(fig: go.Figure) -> go.Figure:
    """``fig`` on Plotly's white template: the same figure as ``template="plotly_white"``.

    Naming a template makes Plotly validate a deep copy of it, about 8 ms of the server's
    interpreter per figure: more than building a small figure's traces, and a figure is
    rebuilt on every move of a slider. The template is Plotly's own and already valid, so
    it is set with validation off, as Plotly sets its default template on every new
    figure (``BaseFigure._initialize_layout_template``). ``tests/test_figure_template.py``
    checks that the result equals the named template's.
    """
    layout = fig.layout
    layout._validate = False
    try:
        layout.template = pio.templates[WHITE_TEMPLATE]
    finally:
        layout._validate = fig._validate
    return fig


def style(fig: go.Figure, big: bool = False) -> go.Figure:
    """Readable on a screen, or on a projector (``big``): fonts, margins, lines.

    Used by the app for every chart and by ``mamlviz figures`` for every exported one,
    so a slide shows what the class saw.
    """
    # Margins only where the figure sets none: a short figure (a row of Omniglot
    # images) keeps its own, or the default 130 px would leave its plot no height.
    margin = {side: px for side, px in {"l": 60, "r": 20, "t": 70, "b": 60}.items()
              if getattr(fig.layout.margin, side) is None}
    size = 22 if big else 15
    fig.update_layout(font={"size": size}, legend={"font": {"size": 18 if big else 13}},
                      margin=margin)
    _controls_below_axis_title(fig, size)
    if big:
        # Larger text needs a taller figure, or a legend takes the plot's room (below
        # it) or runs off its bottom (beside a plot drawn to scale); figures with a
        # fixed width (image grids) keep their shape.
        if fig.layout.width is None:
            fig.layout.height = round((fig.layout.height or DEFAULT_HEIGHT) * 1.25)
        elif fig.layout.height is not None:
            # A figure drawn to a fixed size (Omniglot's drawings) grows whole, its shape
            # kept, up to a projector's width: small drawings are what a room cannot see.
            grow = min(1.5, 1700 / fig.layout.width)
            fig.layout.width = round(fig.layout.width * grow)
            fig.layout.height = round(fig.layout.height * grow)
        # Text the figure sized itself (subplot titles, labels in a diagram, a title
        # in the legend) grows too.
        if fig.layout.legend.title.font.size is not None:
            fig.layout.legend.title.font.size = round(fig.layout.legend.title.font.size * 1.4)
        for note in fig.layout.annotations:
            if note.text and note.font.size is not None:
                note.font.size = round(note.font.size * 1.4)
        for trace in fig.data:
            if trace.type != "scatter":
                continue
            width = trace.line.width
            # Lines drawn thin on purpose (contour lines, many tasks at once) grow by
            # half, so a landscape's contours do not bury its arrows; the others are 4 px.
            trace.line.width = width * 1.5 if width is not None and width < 2 else 4
    return fig


def _controls_below_axis_title(fig: go.Figure, size: int) -> None:
    """An animation's play button and slider under the plot start below the x-axis
    title, whose depth grows with the font: at a fixed 50 px the slider's "meta-step"
    label was drawn over the title."""
    below = [c for c in (*fig.layout.sliders, *fig.layout.updatemenus)
             if c.y == 0 and c.yanchor == "top"]
    if not below:
        return
    title_depth = round(3.6 * size) + 10  # tick labels, then the title, each a line
    for control in below:
        # The play button lines up with the slider's rail, under its value label.
        control.pad.t = title_depth + (round(1.5 * size) if control in fig.layout.updatemenus
                                       else 0)
    # The slider's value label, rail and tick labels, then a little air.
    fig.layout.margin.b = max(fig.layout.margin.b or 0, title_depth + 2 * size + 60)


@functools.lru_cache(maxsize=32)
def _panels_layout(cols: int, titled: tuple[bool, ...], shared_yaxes: bool) -> dict[str, Any]:
    marks = [f"title {i}" if has else "" for i, has in enumerate(titled)]
    fig = make_subplots(rows=1, cols=cols, shared_yaxes=shared_yaxes,
                        subplot_titles=marks)
    # Without its template: a new figure gets Plotly's default one without checking it
    # again (``white``'s reason), the same template make_subplots's figure had.
    return {k: v for k, v in fig.layout.to_plotly_json().items() if k != "template"}


def panels(titles: Sequence[str], shared_yaxes: bool = False) -> go.Figure:
    """``make_subplots(rows=1, cols=len(titles), subplot_titles=titles, ...)``'s figure.

    ``make_subplots`` works out the same axes and title positions on every call, 7.5 ms
    for two panels and 15 ms for six: most of what a figure of a few panels costs, and
    a slider move rebuilds it. The layout is worked out once per number of panels and
    copied. Unlike ``make_subplots``'s, this figure has no grid: a trace names its panel's
    axes (panel ``c`` from 1: ``xaxis="x"``/``"x2"``..., :func:`panel_axes`).
    """
    layout = copy.deepcopy(_panels_layout(len(titles), tuple(bool(t) for t in titles),
                                          shared_yaxes))
    texts = iter(t for t in titles if t)
    for annotation in layout.get("annotations", ()):
        annotation["text"] = next(texts)
    return go.Figure(layout=layout)


def panel_axes(c: int) -> dict[str, str]:
    """The axes of panel ``c`` (from 1) of :func:`panels`, as a trace names them."""
    suffix = "" if c == 1 else str(c)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}

"""The streaming chart: a tiny custom component that keeps one Plotly div alive.

``st.plotly_chart`` rebuilds its chart on every rerun, which blinks at four
updates a second. This component (``pages/_components/live_chart/index.html``)
speaks Streamlit's component protocol by hand and calls ``Plotly.react`` on the
same div with each new figure. Its figures are line charts, so it loads plotly.js's
basic bundle from the app's own server (``pages/_chart.py``): a fifth of the full
bundle's compile time, on the same main thread as the page. No CDN: works offline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st
import streamlit.components.v1 as components

from pages import _chart

COMPONENT_DIR = Path(__file__).resolve().parent / "_components" / "live_chart"
_component = components.declare_component("live_chart", path=str(COMPONENT_DIR))


def live_chart(fig: go.Figure | Callable[[], go.Figure], key: str, height: int = 450,
               version: int | None = None) -> Any:
    """Show ``fig``; later calls with the same ``key`` update the same chart in place.

    ``fig`` may be a function that builds the figure; with a ``version`` (the live
    run's record count) it is only built and serialised when the version changed,
    so polling an unchanged run four times a second costs next to nothing.
    """
    from pages import _ui  # here: _ui's import of the app's pieces must not loop back

    memo_key = f"_live_chart_spec_{key}"
    memo = st.session_state.get(memo_key)
    # Presentation mode is part of what was built: toggling it redraws the chart.
    stamp = (version, _ui.presentation())
    if version is not None and memo is not None and memo[0] == stamp:
        spec = memo[1]
    else:
        built = fig() if callable(fig) else fig
        if _ui.presentation():
            # Projected like every other chart (its fonts, lines and placeholder text
            # stayed screen-sized): mamlviz.figures.style, the same as show_figure's.
            built = _ui.style_figure(built, True)
        spec = built.to_json()
        st.session_state[memo_key] = (stamp, spec)
    config = _chart.chart_config(key)
    return _component(spec=spec, height=height, config=config, key=key, default=None,
                      plotly_url=_chart.bundle_url("basic"))

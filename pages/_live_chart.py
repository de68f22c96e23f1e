"""The streaming chart: a tiny custom component that keeps one Plotly div alive.

``st.plotly_chart`` rebuilds its chart on every rerun, which blinks at four
updates a second. This component (``pages/_components/live_chart/index.html``)
speaks Streamlit's component protocol by hand and calls ``Plotly.react`` on the
same div with each new figure. plotly.js comes from the local plotly package,
copied next to the HTML at start-up: no CDN, so it works offline.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import streamlit as st
import streamlit.components.v1 as components

COMPONENT_DIR = Path(__file__).resolve().parent / "_components" / "live_chart"


def ensure_plotly_js() -> Path:
    """Copy plotly.min.js from the installed plotly package next to index.html if missing."""
    target = COMPONENT_DIR / "plotly.min.js"
    source = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        tmp = target.with_suffix(".js.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(target)  # atomic: a browser never loads half a file
    return target


ensure_plotly_js()
_component = components.declare_component("live_chart", path=str(COMPONENT_DIR))


def live_chart(fig: go.Figure | Callable[[], go.Figure], key: str, height: int = 450,
               version: int | None = None) -> Any:
    """Show ``fig``; later calls with the same ``key`` update the same chart in place.

    ``fig`` may be a function that builds the figure; with a ``version`` (the live
    run's record count) it is only built and serialised when the version changed,
    so polling an unchanged run four times a second costs next to nothing.
    """
    memo_key = f"_live_chart_spec_{key}"
    memo = st.session_state.get(memo_key)
    if version is not None and memo is not None and memo[0] == version:
        spec = memo[1]
    else:
        spec = (fig() if callable(fig) else fig).to_json()
        st.session_state[memo_key] = (version, spec)
    config = {"displaylogo": False,
              "toImageButtonOptions": {"format": "png", "filename": f"mamlviz-{key}",
                                       "scale": 3}}
    return _component(spec=spec, height=height, config=config, key=key, default=None)

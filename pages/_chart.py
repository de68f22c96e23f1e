"""Every static chart of the lecture: a small ``st.components.v2`` component of our own.

Why not ``st.plotly_chart``: it draws with Streamlit's 4.7 MB Plotly chunk (the full
plotly.js), which the browser fetches and compiles again on every new page load: about
0.7 to 1.2 s of one core on the 2-core classroom machine, the main reason a chapter
opened in a new tab showed its first chart after 2.3 to 3.7 s (issue "The app": first
paint within 2 s). plotly.js's official partial bundles draw them:

- ``basic`` (scatter, bar, pie: 1.2 MB, about 0.23 s to load and compile here),
- ``cartesian`` (adds heatmap, contour, histogram, box, ...: 1.5 MB, about 0.5 s),
- ``full`` (plotly.py's own bundle) for anything else, so a new kind of figure still works.

Every lecture figure is drawn with the basic bundle: contour lines are computed in
Python (``mamlviz/figures/contours.py``) and Omniglot drawings are PNG pictures
(``mamlviz/figures/png.py``), because the cartesian bundle cost the two pages whose
first chart needed it about 0.27 s more on a new page load.

Each figure names the smallest bundle that draws it. A v2 component runs in the app's
page itself, not in an iframe per chart, so a bundle is compiled once per page however
many charts use it (the Omniglot chapter has ten). The bundles are served from the
component's folder by Streamlit's component file route: no CDN, classrooms may be
offline. ``pages/_components/chart/README.md`` says where the vendored files come from;
``loader.js`` loads a bundle once per page, ``chart.js`` draws (and redraws in place).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import plotly.io
import streamlit as st
import streamlit.components.v1 as components_v1

ASSETS = Path(__file__).resolve().parent / "_components" / "chart"
BUNDLES = {"basic": "plotly-basic.min.js", "cartesian": "plotly-cartesian.min.js",
           "full": "plotly.min.js"}
# The trace types each partial bundle registers (plotly.js's lib/index-basic.js and
# lib/index-cartesian.js).
TRACES = {
    "basic": frozenset({"scatter", "bar", "pie"}),
    "cartesian": frozenset({"scatter", "bar", "pie", "box", "heatmap", "histogram",
                            "histogram2d", "histogram2dcontour", "contour", "image",
                            "violin"}),
}
DEFAULT_HEIGHT = 450  # what st.plotly_chart gives a figure without a height


def _ensure_full_bundle() -> None:
    """plotly.py's full plotly.js, copied beside the partial bundles (not in git)."""
    source = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    target = ASSETS / BUNDLES["full"]
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        tmp = target.with_suffix(".js.tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(target)  # atomic: a browser never loads half a file


_ensure_full_bundle()
# Never drawn: declared only so that Streamlit serves this folder's files at
# <base>/component/<name>/<file> (the v1 component file route).
_files = components_v1.declare_component("chart_assets", path=str(ASSETS))
_LOADER = (ASSETS / "loader.js").read_text(encoding="utf-8")
_chart = st.components.v2.component(
    "mamlviz_chart",
    js=_LOADER + "\n" + (ASSETS / "chart.js").read_text(encoding="utf-8"),
    css=(ASSETS / "chart.css").read_text(encoding="utf-8"),
    # In the page's own DOM: plotly.js puts its stylesheet (modebar, hover labels)
    # in the document's head, which a shadow root would not see.
    isolate_styles=False,
)


def bundle_for(figure: go.Figure | dict[str, Any]) -> str:
    """The smallest plotly.js bundle that draws every trace of ``figure``."""
    data = figure["data"] if isinstance(figure, dict) else figure.data
    types = {(trace.get("type") if isinstance(trace, dict) else trace.type) or "scatter"
             for trace in data}
    for name in ("basic", "cartesian"):
        if types <= TRACES[name]:
            return name
    return "full"


def bundle_url(bundle: str) -> str:
    """Where the browser fetches a plotly.js bundle from this server."""
    # The route is registered per runtime; a module imported under another one (a
    # second AppTest) registers it again.
    from streamlit.runtime import Runtime

    if Runtime.exists():
        registry = Runtime.instance().component_registry
        if registry.get_component_path(_files.name) is None:
            registry.register_component(_files)
    base = st.get_option("server.baseUrlPath").strip("/")
    prefix = f"/{base}" if base else ""
    return f"{prefix}/component/{_files.name}/{BUNDLES[bundle]}"


def figure_json(figure: go.Figure | dict[str, Any]) -> str:
    """The figure (or its ``to_dict()``) as plotly.js reads it (arrays as base64 typed
    arrays: compact)."""
    return plotly.io.to_json(figure, validate=False)


# page (its script hash) -> the bundle its first chart used, for every session after.
_first_bundle: dict[str, str] = {}


def _page_hash() -> str | None:
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.page_script_hash if ctx is not None else None


def preload(page_hash: str) -> None:
    """Start loading the plotly.js that ``page_hash``'s first chart needs, now.

    The router calls this in the sidebar before the page runs. A chart is an
    ``st.components.v2`` element, which the browser shows only once Streamlit's code for
    such elements has loaded, and React then reveals it up to 300 ms later (its Suspense
    throttle): measured on a new page load, about 0.5 s after the page's text. This
    ``st.html`` script runs earlier and fetches and compiles plotly.js meanwhile, so the
    chart draws as soon as it is shown. Which bundle is what the page's first chart used
    the last time any session opened it (the basic one before that).
    """
    url = bundle_url(_first_bundle.get(page_hash, "basic"))
    # The element shows nothing: its container takes no room (no gap in the sidebar).
    st.html("<style>[data-testid='stElementContainer']:has(script[data-mamlviz-preload])"
            " {display: none;}</style>"
            f"<script data-mamlviz-preload>{_LOADER}\nmamlvizLoadPlotly({json.dumps(url)});"
            "</script>", unsafe_allow_javascript=True)


def chart_config(name: str, language: str | None = None) -> dict[str, Any]:
    """Every chart's plotly.js config: a PNG export at 3x scale named after the figure,
    and no "Share chart" button (plotly.js 3 shows it by default: it uploads the chart
    to Plotly's cloud, a surprise in a classroom)."""
    return {"displaylogo": False, "showSendToCloud": False, "showEditInChartStudio": False,
            "modeBarButtonsToRemove": ["sendChartToCloud"],
            "toImageButtonOptions": {"format": "png", "scale": 3,
                                     "filename": "-".join(filter(None, ("mamlviz", name,
                                                                        language)))}}


def chart(figure: go.Figure | str, *, config: dict[str, Any], key: str | None = None,
          bundle: str | None = None, height: int | None = None) -> Any:
    """Show ``figure``; with a ``key``, later figures update the same chart in place.

    ``figure`` is a Plotly figure, or its JSON with its ``bundle`` (and ``height``, if
    its layout sets one): a figure shared by the class is converted once, not on every
    rerun (``pages/_ui.py``'s ``SharedFigure``).
    """
    if isinstance(figure, str):
        if bundle is None:
            raise TypeError("chart(JSON) needs the figure's bundle")
        spec = figure
    else:
        spec, bundle, height = figure_json(figure), bundle_for(figure), figure.layout.height
    page = _page_hash()
    if page is not None:
        _first_bundle.setdefault(page, bundle)
    payload = ('{"bundle": ' + json.dumps(bundle_url(bundle))
               + ', "height": ' + json.dumps(int(height or DEFAULT_HEIGHT))
               + ', "config": ' + json.dumps(config)
               + ', "figure": ' + spec + "}")
    return _chart(data=payload, key=key, height="content")


def shown_specs(app_test: Any) -> list[str]:
    """The JSON of every figure an ``AppTest`` run shows, in page order (for tests)."""
    return [json.dumps(figure, sort_keys=True) for figure in shown_figures(app_test)]


def shown_payloads(app_test: Any) -> list[dict[str, Any]]:
    """What each chart of an ``AppTest`` run sent (bundle, height, config, figure)."""
    payloads = [json.loads(json.loads(element.proto.json))
                for element in app_test.get("bidi_component")
                if element.proto.component_name == "mamlviz_chart"]
    return [payload for payload in payloads if "figure" in payload]


def shown_figures(app_test: Any) -> list[dict[str, Any]]:
    """The figures an ``AppTest`` run shows, in page order, as plotly.js reads them."""
    return [payload["figure"] for payload in shown_payloads(app_test)]

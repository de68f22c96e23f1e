"""Every static chart of the lecture: a small ``st.components.v2`` component of our own.

Why not ``st.plotly_chart``: it draws with Streamlit's 4.7 MB Plotly chunk (the full
plotly.js), which the browser fetches and compiles again on every new page load, the
largest part of a chapter's wait for its first chart in a new tab (the lecture's goal:
first paint within 2 s; the figures are in benchmarks/README.md, "Responsiveness in a
real browser"). plotly.js's official partial bundles draw them:

- ``basic`` (scatter, bar, pie: 1.2 MB, about a fifth of the full bundle's compile time),
- ``cartesian`` (adds heatmap, contour, histogram, box, ...: 1.5 MB, about twice basic's),
- ``full`` (plotly.py's own bundle) for anything else, so a new kind of figure still works.

Every lecture figure is drawn with the basic bundle: contour lines are computed in
Python (``mamlviz/figures/contours.py``) and Omniglot drawings are PNG pictures
(``mamlviz/figures/png.py``), because a page whose first chart needs the cartesian
bundle shows it later on a new page load.

Each figure names the smallest bundle that draws it. A v2 component runs in the app's
page itself, not in an iframe per chart, so a bundle is compiled once per page however
many charts use it (the Omniglot chapter has ten). The bundles are served by Streamlit's
component file route, the vendored ones from the component's folder and the full one
from the cache folder: no CDN, classrooms may be offline.
``pages/_components/chart/README.md`` says where the vendored files come from;
``loader.js`` loads a bundle once per page, ``chart.js`` draws (and redraws in place).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import plotly
import plotly.graph_objects as go
import plotly.io
import streamlit as st
import streamlit.components.v1 as components_v1

from mamlviz.data.omniglot_source import cache_root

_LOG = logging.getLogger(__name__)
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


# The folders Streamlit's component file route serves, at <base>/component/<name>/<file>:
# the vendored files, and the cache folder holding plotly.py's full bundle.
_ASSETS_ROUTE = "chart_assets"
_FULL_ROUTE = "plotly_full"
_serve_lock = threading.Lock()
_serving: list[str] = []  # the routes declared in this process


def full_bundle() -> Path:
    """plotly.py's own full plotly.js, copied once into the cache folder
    (``$MAMLVIZ_CACHE``, default ``~/.cache/mamlviz``), never into the source tree: the
    file is 4.7 MB and belongs to the installed plotly, not to the app."""
    source = Path(plotly.__file__).resolve().parent / "package_data" / BUNDLES["full"]
    folder = cache_root() / "plotly.js" / f"plotly.py-{plotly.__version__}"
    target = folder / BUNDLES["full"]
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        folder.mkdir(parents=True, exist_ok=True)
        # A file of its own, then an atomic rename: a browser never loads half a file,
        # and two processes copying at once do not write into each other's copy.
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".js.tmp")
        os.close(fd)
        shutil.copyfile(source, tmp)
        Path(tmp).replace(target)
    return target


def _serve_bundles() -> None:
    """Have this server serve the bundles' folders (once per process; the router calls
    it inside a script run, where declaring a v1 component registers its folder with
    the runtime). The components are never drawn: declared only for the file route."""
    with _serve_lock:
        if _serving:
            return
        folders = {_ASSETS_ROUTE: ASSETS}
        try:
            folders[_FULL_ROUTE] = full_bundle().parent
        except OSError as exc:  # the partial bundles draw every lecture figure
            _LOG.warning("mamlviz: cannot copy plotly.js into the cache folder (%s); "
                         "set MAMLVIZ_CACHE to a writable folder", exc)
        for route, folder in folders.items():
            components_v1.declare_component(route, path=str(folder))
            _serving.append(route)


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
    base = st.get_option("server.baseUrlPath").strip("/")
    prefix = f"/{base}" if base else ""
    route = _FULL_ROUTE if bundle == "full" else _ASSETS_ROUTE
    return f"{prefix}/component/{__name__}.{route}/{BUNDLES[bundle]}"


def figure_json(figure: go.Figure | dict[str, Any]) -> str:
    """The figure (or its ``to_dict()``) as plotly.js reads it (arrays as base64 typed
    arrays: compact)."""
    return plotly.io.to_json(figure, validate=False)


# page (its URL path) -> the bundle its first chart used, for every session after.
_first_bundle: dict[str, str] = {}
# The page this thread's script runs show, as the router's ``preload`` names it. A
# fragment rerun on a new thread has none and records nothing: the page's whole run,
# where its first chart is drawn, already did.
_current = threading.local()


def preload(page: str) -> None:
    """Start loading the plotly.js that ``page``'s (its URL path) first chart needs, now.

    The router calls this in the sidebar before the page runs. A chart is an
    ``st.components.v2`` element, which the browser shows only once Streamlit's code for
    such elements has loaded, and React then reveals it up to 300 ms later (its Suspense
    throttle): on a new page load, well after the page's text. This
    ``st.html`` script runs earlier and fetches and compiles plotly.js meanwhile, so the
    chart draws as soon as it is shown. Which bundle is what the page's first chart used
    the last time any session opened it (the basic one before that).
    """
    _serve_bundles()
    _current.page = page
    url = bundle_url(_first_bundle.get(page, "basic"))
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
    page = getattr(_current, "page", None)
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

"""What every page shares: language, presentation mode, figures, cached engine resources.

Pages stay thin: they read widgets, call ``mamlviz`` (which never imports
streamlit) and show what it returns. Expensive engine resources are cached
once per server with ``st.cache_resource``, never rebuilt per rerun.
"""

from __future__ import annotations

import hashlib
import html
import inspect
import json
import os
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

# pandas first, whole, in the module every page and the router import: plotly's
# validators look pandas up in sys.modules without importing it, so a page building
# a figure while another session's thread was still importing pandas saw a
# half-initialised module ("partially initialized module 'pandas' has no attribute
# 'Series'"; found by the classroom load tests).
import numpy as np
import pandas  # noqa: F401
import plotly.graph_objects as go
import streamlit as st

from pages import _chart


def through_the_router() -> None:
    """Every chapter calls this first, right after its imports.

    With a ``pages/`` folder beside the main script, Streamlit starts in its
    legacy multipage mode: until some session has called ``st.navigation``, a
    visit runs ``pages/<chapter>.py`` on its own, without streamlit_app.py (no
    language, no sidebar; helper modules listed as pages). This switches that
    mode off and reruns the same URL through the router (same page: Streamlit
    hashes pages by their URL path). It is a call after the imports, never code
    run by an import: ``st.rerun()`` inside an import aborts it half-done, and a
    class opening the app at once then got "cannot import name '_classroom'
    from 'pages'" in the sessions importing beside it (found by the load tests).
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


ROOT = Path(__file__).resolve().parents[1]
# The shipped checkpoints; MAMLVIZ_CHECKPOINTS points elsewhere (another set, or a test's folder).
CHECKPOINTS = Path(os.environ.get("MAMLVIZ_CHECKPOINTS") or ROOT / "assets" / "checkpoints")
LANGS = {"en": "English", "zh": "中文"}


def lang() -> str:
    value = st.session_state.get("lang", "en")
    return value if value in LANGS else "en"


def texts(table: Mapping[str, Mapping[str, str]]) -> Mapping[str, str]:
    """The current language's strings of a page's ``{"en": {...}, "zh": {...}}`` table.

    A key missing in Chinese falls back to English rather than crashing.
    """
    en = table["en"]
    chosen = table.get(lang(), en)
    return {**en, **chosen}


def presentation() -> bool:
    return bool(st.session_state.get("presentation", False))


def chart_columns(n: int) -> list[Any]:
    """``n`` charts side by side; one under the other in presentation mode, where
    projector-sized fonts left half-width charts cramped (titles cut, labels piled up)."""
    if presentation():
        return [st.container() for _ in range(n)]
    return list(st.columns(n))


def style_figure(fig: go.Figure, big: bool | None = None) -> go.Figure:
    """Readable on a projector: bigger fonts and lines in presentation mode."""
    big = presentation() if big is None else big
    # Margins only where the figure sets none: a short figure (a row of Omniglot
    # images) keeps its own, or the default 130 px would leave its plot no height.
    margin = {side: px for side, px in {"l": 60, "r": 20, "t": 70, "b": 60}.items()
              if getattr(fig.layout.margin, side) is None}
    fig.update_layout(font={"size": 22 if big else 15},
                      legend={"font": {"size": 18 if big else 13}}, margin=margin)
    if big:
        # Larger text needs a taller figure, or a legend beside a plot drawn to scale
        # runs off its bottom; figures with a fixed width (image grids) keep their shape.
        if fig.layout.height is not None and fig.layout.width is None:
            fig.layout.height = round(fig.layout.height * 1.25)
        # Text the figure sized itself (subplot titles, labels in a diagram) grows too.
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


class SharedFigure:
    """A finished figure that every session shows: converted to JSON once, and kept as
    nothing but that JSON.

    Converting a figure (``to_dict``: a deep copy of every trace and a base64 pass over
    its arrays, then JSON) was a quarter of a cached sinusoid rerun. A shared figure is
    never changed after it is built, so its JSON and its plotly.js bundle are computed
    here, once, and every rerun of every session sends the same string. Only the string
    is kept: with the figure and its dict beside it, a 2-D landscape took 846 KB of the
    server's memory instead of 250 KB, and the server keeps up to 512 shared figures.
    """

    def __init__(self, fig: go.Figure):
        converted = fig.to_dict()  # once: the JSON and the bundle are read from it
        self.spec = _chart.figure_json(converted)
        self.bundle = _chart.bundle_for(converted)
        self.height = converted["layout"].get("height")

    def to_dict(self) -> dict[str, Any]:
        """The figure as plotly.js receives it (a new dict on every call)."""
        return json.loads(self.spec)


@st.cache_resource(show_spinner=False, max_entries=512)
def _shared_figure(name: str, cache_key: Hashable, lang: str, big: bool,
                   _build: Callable[[], go.Figure]) -> SharedFigure:
    """One styled figure per (chart, inputs, language, presentation mode) for the whole
    server (``_build`` is not part of the key: ``cache_key`` names what it depends on)."""
    return SharedFigure(style_figure(_build(), big))


def show_figure(fig: go.Figure | Callable[[], go.Figure], name: str, key: str | None = None,
                cache_key: Hashable | None = None) -> Any:
    """A chart with a PNG export at 3x scale named after the figure: ready for a slide.

    With ``cache_key`` (everything the figure depends on besides the language and
    presentation mode), ``fig`` is a function that builds the figure, called once per
    server for those inputs: a class moving the same sliders shares the figures, and
    building a Plotly figure is most of a rerun's cost on a busy server. The shared
    figure is never changed afterwards. The chart is ``pages/_chart.py``'s component,
    which loads only the part of plotly.js the figure needs.
    """
    config = {"displaylogo": False,
              "toImageButtonOptions": {"format": "png", "filename": f"mamlviz-{name}-{lang()}",
                                       "scale": 3}}
    if cache_key is None:
        return _chart.chart(style_figure(fig() if callable(fig) else fig), config=config,
                            key=key)
    if not callable(fig):
        raise TypeError("show_figure(cache_key=...) takes a function that builds the figure")
    shared = _shared_figure(name, cache_key, lang(), presentation(), fig)
    return _chart.chart(shared.spec, config=config, key=key, bundle=shared.bundle,
                        height=shared.height)


def digest(*arrays: Any) -> str:
    """A short cache key for tensors or arrays (dtype, shape and bytes): Streamlit's own
    hasher walks a list of floats one element at a time, on every rerun."""
    h = hashlib.blake2b(digest_size=16)
    for array in arrays:
        values = np.ascontiguousarray(array.detach().cpu().numpy()
                                      if hasattr(array, "detach") else np.asarray(array))
        h.update(f"{values.dtype}{values.shape}".encode())
        h.update(values.tobytes())
    return h.hexdigest()


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """Rows of equal keys as a Markdown table: cheap to send four times a second, and
    drawn with the page's text. ``st.table`` and ``st.dataframe`` load their own code
    in the browser (Arrow: 0.75 MB, a data grid: more) on every new page load, and a
    page shows such elements only after it (measured: they delayed the first chart)."""
    if not rows:
        return ""
    head = list(rows[0])
    cells = [["" if r[h] is None else str(r[h]) for h in head] for r in rows]

    def number(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return False
        return True

    # Columns of numbers are right-aligned, so their digits line up.
    rule = ["---:" if all(number(row[i]) for row in cells) else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def show_source(func: Callable[..., Any], label: str) -> None:
    """The engine function that computed a figure, as the page's footnote."""
    # Lazy: the code (and the browser's 1.5 MB syntax-highlighter chunk) is only
    # sent when a student opens the expander, so it never delays a page's first paint.
    box = st.expander(label, key=f"source-{func.__module__}.{func.__qualname__}",
                      on_change="rerun")
    if box.open:
        with box:
            st.code(inspect.getsource(func), language="python")


def pseudo_code(text: str) -> None:
    """Pseudo-code in a monospaced box, drawn with the page's text.

    ``st.code`` would load the browser's syntax highlighter (a 1.5 MB chunk, about
    260 ms of the page's main thread on a new page load, measured on the Reptile page)
    to draw plain text; a styled box in Markdown costs nothing extra."""
    # Streamlit's Markdown turns <pre> into a plain <div>: the box is styled here.
    st.markdown('<div class="mamlviz-pseudo-code" style="white-space: pre; overflow-x: auto; '
                'font-family: \'Source Code Pro\', monospace; font-size: 0.9em; '
                'padding: 0.75em 1em; margin-bottom: 1rem; border-radius: 0.5rem; '
                f'background: rgba(128, 128, 128, 0.1)">{html.escape(text)}</div>',
                unsafe_allow_html=True)


@st.cache_resource(show_spinner=False)
def device_name() -> str:
    from mamlviz.device import describe, pick_device

    return describe(pick_device())


def checkpoints_dir() -> Path:
    """The checkpoint folder now: ``$MAMLVIZ_CHECKPOINTS`` if set, else the shipped one."""
    value = os.environ.get("MAMLVIZ_CHECKPOINTS")
    return Path(value) if value else CHECKPOINTS


def sinusoid_checkpoints() -> dict[str, Any]:
    """The shipped sinusoid models: algorithm -> (config, phi), or the error saying why not."""
    return _sinusoid_checkpoints(str(checkpoints_dir()))


@st.cache_resource(show_spinner=False)
def _sinusoid_checkpoints(folder: str) -> dict[str, Any]:
    """Loaded once per server and folder (the folder is the cache key, so a changed
    ``MAMLVIZ_CHECKPOINTS`` is never answered from another folder's cache)."""
    from mamlviz.algorithms import names
    from mamlviz.errors import MamlvizError
    from mamlviz.runs import load_sinusoid

    loaded: dict[str, Any] = {}
    for algorithm in names("sinusoid"):
        path = Path(folder) / f"sinusoid_{algorithm}.pt"
        try:
            loaded[algorithm] = load_sinusoid(path)
        except MamlvizError as exc:
            loaded[algorithm] = exc
    return loaded


def error_box(exc: BaseException) -> None:
    """Bad input or data: a plain message, never a traceback."""
    st.error(str(exc))

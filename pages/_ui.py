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
import re
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

# pandas first, whole, in the module every page and the router import: plotly's
# validators look pandas up in sys.modules without importing it, so a page building
# a figure while another session's thread is still importing pandas sees a
# half-initialised module ("partially initialized module 'pandas' has no attribute
# 'Series'").
import numpy as np
import pandas  # noqa: F401
import plotly.graph_objects as go
import streamlit as st

from mamlviz import figures
from pages import _chart, _i18n, _streamlit_compat


def through_the_router() -> None:
    """Every chapter calls this first, right after its imports.

    A fresh server's first visit to a chapter's URL runs the chapter on its own, in
    Streamlit's legacy ``pages/`` mode (``_streamlit_compat.leave_pages_directory_mode``).
    This leaves that mode and reruns the same URL through the router (same page:
    Streamlit hashes pages by their URL path). It is a call after the imports, never
    code run by an import: ``st.rerun()`` inside an import aborts it half-done, and
    sessions importing the same module beside it then fail with "cannot import name".
    """
    if _streamlit_compat.leave_pages_directory_mode():
        st.rerun()


ROOT = Path(__file__).resolve().parents[1]
# The shipped checkpoints; MAMLVIZ_CHECKPOINTS points elsewhere (another set, or a test's folder).
CHECKPOINTS = Path(os.environ.get("MAMLVIZ_CHECKPOINTS") or ROOT / "assets" / "checkpoints")


def presentation() -> bool:
    return bool(st.session_state.get("presentation", False))


def chart_columns(n: int, stacked: bool = False) -> list[Any]:
    """``n`` charts side by side; one under the other in presentation mode, where
    projector-sized fonts left half-width charts cramped (titles cut, labels piled up),
    or when ``stacked`` (charts whose content needs the page's whole width)."""
    if stacked or presentation():
        return [st.container() for _ in range(n)]
    return list(st.columns(n))


def style_figure(fig: go.Figure, big: bool | None = None) -> go.Figure:
    """Readable on a projector: ``mamlviz.figures.style`` in presentation mode's size."""
    return figures.style(fig, presentation() if big is None else big)


class SharedFigure:
    """A finished figure that every session shows: converted to JSON once, and kept as
    nothing but that JSON.

    Converting a figure (``to_dict``: a deep copy of every trace and a base64 pass over
    its arrays, then JSON) costs a quarter of a cached sinusoid rerun. A shared figure is
    never changed after it is built, so its JSON and its plotly.js bundle are computed
    here, once, and every rerun of every session sends the same string. Only the string
    is kept: with the figure and its dict beside it, a 2-D landscape would take 846 KB of
    the server's memory instead of 250 KB, and the server keeps up to 512 shared figures.
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
    config = _chart.chart_config(name, _i18n.lang())
    if cache_key is None:
        styled = style_figure(fig() if callable(fig) else fig)
        spec, bundle, height = _chart.figure_json(styled), _chart.bundle_for(styled), \
            styled.layout.height
    else:
        if not callable(fig):
            raise TypeError("show_figure(cache_key=...) takes a function that builds the figure")
        shared = _shared_figure(name, cache_key, _i18n.lang(), presentation(), fig)
        spec, bundle, height = shared.spec, shared.bundle, shared.height
    _record_figure(name, spec)
    return _chart.chart(spec, config=config, key=key, bundle=bundle, height=height)


# The figures this session's page showed, by name (their JSON): what the chapter's
# "download the figures" button renders (pages/_export_ui.py).
SHOWN_FIGURES = "_mamlviz_shown_figures"
SHOWN_THIS_RUN = "_mamlviz_shown_this_run"


def _record_figure(name: str, spec: str) -> None:
    st.session_state.setdefault(SHOWN_FIGURES, {})[name] = spec
    shown = st.session_state.setdefault(SHOWN_THIS_RUN, [])
    if name not in shown:  # a fragment's reruns record again, until the page's next run
        shown.append(name)


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
    page shows such elements only after it (they delay the first chart)."""
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

    ``st.code`` would load the browser's syntax highlighter (a 1.5 MB chunk the page's
    main thread compiles on every new page load, before the first chart) to draw plain
    text; a styled box in Markdown costs nothing extra."""
    # Streamlit's Markdown turns <pre> into a plain <div>: the box is styled here.
    st.markdown('<div class="mamlviz-pseudo-code" style="white-space: pre; overflow-x: auto; '
                'font-family: \'Source Code Pro\', monospace; font-size: 0.9em; '
                'padding: 0.75em 1em; margin-bottom: 1rem; border-radius: 0.5rem; '
                f'background: rgba(128, 128, 128, 0.1)">{one_cell_marks(html.escape(text))}'
                '</div>', unsafe_allow_html=True)


def one_cell_marks(text: str) -> str:
    """Letters with combining marks (θ̃: θ and U+0303) as one monospace cell each.

    The code font has no combining tilde over Greek; the browser drew it from a
    fallback font beside the letter, so "θ̃ = φ" lost its space and the comments after
    it their column. A one-character-wide box holds the letter and its mark, drawn in
    the page's text font, which composes them."""
    return _COMBINED.sub(r'<span class="mamlviz-combined" style="display: inline-block; '
                         r'width: 1ch; text-align: center; font-family: sans-serif">\1</span>',
                         text)


_COMBINED = re.compile("(.[\u0300-\u036f]+)")


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


def chapter_figures(chapter: str) -> None:
    """The chapter's last call: a button that downloads the figures it showed, as a zip
    (``pages/_export_ui.py``)."""
    from pages import _export_ui  # it imports this module

    _export_ui.chapter_figures(chapter)

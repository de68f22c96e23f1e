"""Omniglot for the pages: found once per server, or fetched on a student's click.

The data (Lake et al. 2015) comes from ``$MAMLVIZ_OMNIGLOT`` when it is set, else
from the cache, where :func:`mamlviz.data.load_omniglot` downloads the official
zips (md5-checked) and preprocesses them once. Pages call :func:`omniglot` for
the data, and :func:`missing` where it is not there: it says why, and offers a
"Download Omniglot" button that shows the download and the preprocessing with a
progress bar, then lets the page go on with the data, or says exactly what to do
when there is no network.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import streamlit as st

from mamlviz.data import load_omniglot
from mamlviz.data.omniglot_source import (
    OFFICIAL_BASE_URL,
    SOURCE_ENV,
    cache_root,
    download_mb,
)
from mamlviz.errors import MamlvizError
from pages import _i18n

# One download at a time per server: a second click (another student) waits, then
# finds the data in the cache instead of fetching it again.
_FETCH_LOCK = threading.Lock()

@st.cache_resource(show_spinner=False)
def _found(env_source: str | None, cache: str) -> Any:
    """The data or the loader's error, once per server per setting (no download here)."""
    try:
        return load_omniglot(download=False, progress=False)
    except MamlvizError as exc:
        # Kept: a bad zip would otherwise be scanned again on every rerun of every page.
        return exc


def omniglot() -> Any:
    """Omniglot (:class:`mamlviz.data.OmniglotData`), or the error saying why it is missing."""
    return _found(os.environ.get(SOURCE_ENV) or None, str(cache_root()))


def missing(error: BaseException | None, *, key: str) -> Any:
    """Why the data is missing and what to do; with no ``$MAMLVIZ_OMNIGLOT``, a download.

    Returns the data once a download has ended well (the page goes on with it, under the
    finished progress bar), else None. ``key`` keeps the button of each page apart.
    """
    t = _i18n.texts("data")
    env = os.environ.get(SOURCE_ENV)
    fill = {"env": SOURCE_ENV, "url": OFFICIAL_BASE_URL, "mb": download_mb(),
            "cache": cache_root(), "path": env}
    if env:  # the user chose the data's place: a download would not be used
        st.info(t["env_bad"].format(**fill))
        if error is not None:
            st.caption(t["loader_said"].format(error=error))
        return None
    offer = st.empty()
    with offer.container():
        st.info(t["not_yet"].format(**fill))
        clicked = st.button(t["button"].format(**fill), key=f"{key}_download_omniglot",
                            type="primary")
    if not clicked:
        return None
    bar = st.progress(0.0)

    def on_progress(what: str, done: int, total: int | None) -> None:
        if what == "preprocess":
            bar.progress(done / max(total or 1, 1),
                         text=t["preparing"].format(done=done, total=total))
        else:
            shown = f"{total / 1e6:.1f}" if total else "?"
            bar.progress(min(done / total, 1.0) if total else 0.0,
                         text=t["downloading"].format(name=what, done=done / 1e6, total=shown))

    try:
        with _FETCH_LOCK:
            data = load_omniglot(download=True, progress=False, on_progress=on_progress)
    except MamlvizError as exc:
        bar.empty()
        st.error(t["failed"].format(error=exc))
        st.markdown(t["offline"].format(**fill))
        return None
    offer.empty()  # the offer is done with; the bar stays, full, with what it did last
    _found.clear()  # every page and session now finds the data
    return data

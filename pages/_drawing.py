"""A drawing canvas (``st.components.v2``: ``pages/_components/drawing/canvas.js``): the
student's own characters for the Omniglot chapter. Returns the drawing as a PNG data URL,
or None while the canvas is empty."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

ASSETS = Path(__file__).resolve().parent / "_components" / "drawing"

_canvas = st.components.v2.component(
    "mamlviz_drawing",
    js=(ASSETS / "canvas.js").read_text(encoding="utf-8"),
    css=(ASSETS / "canvas.css").read_text(encoding="utf-8"),
    # In the page's own DOM (its styles are scoped by class), so that what looks for
    # charts among the page's components can tell a canvas from a chart.
    isolate_styles=False,
)


def canvas(key: str, clear: str) -> str | None:
    result = _canvas(data=json.dumps({"clear": clear}), key=key,
                     on_image_change=lambda: None)
    value = getattr(result, "image", None)
    return value if isinstance(value, str) else None

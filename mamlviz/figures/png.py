"""Greyscale images as PNG data URIs, for Plotly's layout images.

Omniglot drawings are shown as pictures, not as heatmaps: plotly.js's heatmap trace
lives only in its larger "cartesian" bundle (on our 2-core machine it loads and
compiles in about 500 ms against about 230 ms for the "basic" bundle), and a heatmap
sends every pixel as a float. A layout image needs only the basic bundle and sends a
few kilobytes of PNG. The encoder is the PNG format's minimum (RFC 2083: signature,
IHDR, one zlib-compressed IDAT, IEND), so no imaging library is needed.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import numpy as np
import plotly.graph_objects as go


def _chunk(kind: bytes, data: bytes) -> bytes:
    # Each chunk: length, type, data, and a CRC-32 of type and data.
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def grey_png(values: Any, scale: int = 1) -> bytes:
    """PNG bytes of a 2-D array of brightness in [0, 1] (0 black, 1 white).

    ``scale`` repeats each pixel ``scale`` times in both directions: browsers smooth
    an image they enlarge, so small drawings are enlarged here, crisply, and only
    ever shrunk on the page.
    """
    grey = np.asarray(values, dtype=np.float64)
    if grey.ndim != 2:
        raise ValueError(f"grey_png takes a 2-D array, not shape {grey.shape}")
    pixels = np.round(np.clip(np.nan_to_num(grey, nan=1.0), 0.0, 1.0) * 255).astype(np.uint8)
    if scale > 1:
        pixels = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)
    height, width = pixels.shape
    # Every row starts with its filter type: 0, none.
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + _chunk(b"IEND", b""))


def grey_png_uri(values: Any, scale: int = 1) -> str:
    """``grey_png`` as a ``data:`` URI, the ``source`` of a Plotly layout image."""
    return "data:image/png;base64," + base64.b64encode(grey_png(values, scale)).decode("ascii")


def add_picture(fig: go.Figure, brightness: Any, *, left: float, right: float, top: float,
                bottom: float, meta: str, scale: int, row: int | None = None,
                col: int | None = None) -> None:
    """``brightness`` (2-D, 0 black .. 1 white) as a picture over [left, right] x
    [top, bottom] of the axes (of subplot ``row``, ``col`` if given).

    An invisible trace spans the same rectangle: it gives the (sub)plot its axes and
    carries ``meta``, the key tests find the picture by.
    """
    fig.add_trace(go.Scatter(x=[left, right], y=sorted((top, bottom)), mode="markers",
                             marker={"opacity": 0}, hoverinfo="skip", showlegend=False,
                             meta=meta), row=row, col=col)
    # On a subplot plotly names its axes; alone, the figure's own (not the paper's).
    axes = {"row": row, "col": col} if row is not None else {"xref": "x", "yref": "y"}
    fig.add_layout_image(source=grey_png_uri(brightness, scale=scale), x=left, y=top,
                         sizex=right - left, sizey=abs(top - bottom), xanchor="left",
                         yanchor="top", sizing="stretch", layer="below", **axes)

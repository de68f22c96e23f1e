"""Figures for slides: every chart as a PNG, SVG or PDF file, rendered server-side.

Rendered with kaleido (plotly's own exporter; v1 drives a Chromium over the DevTools
protocol through ``choreographer``, which finds Debian's ``/usr/bin/chromium`` itself,
or the browser named by ``BROWSER_PATH``). One kaleido session renders all of a
batch's figures: starting the browser is most of the cost of one figure.

Names are ``chapter-figure-lang.ext``; PNGs are drawn at 3x scale, like the charts'
own PNG export, sharp on a projected slide.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from ..errors import ConfigError, MamlvizError

FORMATS = ("png", "svg", "pdf")
PNG_SCALE = 3
PAGE_WIDTH_PX = 1300
CHROMIUM = "/usr/bin/chromium"  # Debian's; choreographer looks here too


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError("--format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    return fmt


def check_out(out: str | os.PathLike[str], create: bool = True) -> Path:
    """The output folder: created if missing, refused if it is a file or not writable.
    With ``create=False`` only refused if it is a file: a check that writes nothing."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ConfigError("--out", f"{folder} is a file, not a folder")
    if not create:
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("--out", f"cannot create {folder}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise ConfigError("--out", f"{folder} is not writable")
    return folder


def file_name(chapter: str, figure: str, lang: str, fmt: str) -> str:
    """``chapter-figure-lang.ext``, in characters every file system and slide tool takes."""
    def slug(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return f"{slug(chapter)}-{slug(figure)}-{lang}.{fmt}"


def missing_renderer() -> str | None:
    """Why figures cannot be rendered here, or None when they can."""
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return "kaleido is not installed: pip install 'mamlviz[export]'"
    if not (os.environ.get("BROWSER_PATH") or Path(CHROMIUM).exists()):
        return (f"no Chromium for kaleido: install Debian's chromium ({CHROMIUM}) "
                "or set BROWSER_PATH")
    return None


def render(figures: Sequence[go.Figure | Mapping[str, Any]], fmt: str) -> list[bytes]:
    """Each figure as ``fmt`` bytes, in one kaleido session (one browser start)."""
    check_format(fmt)
    reason = missing_renderer()
    if reason is not None:
        raise MamlvizError(reason)
    if not figures:
        return []
    if Path(CHROMIUM).exists():
        os.environ.setdefault("BROWSER_PATH", CHROMIUM)
    dicts = [fig.to_dict() if isinstance(fig, go.Figure) else dict(fig) for fig in figures]
    # As wide as a chart on the lecture's page (kaleido's default, 700 px, wrapped a
    # legend above the plot past the figure's edge); a figure with its own width keeps it.
    jobs = [(fig, {"format": fmt, "scale": PNG_SCALE if fmt == "png" else 1,
                   "width": fig.get("layout", {}).get("width") or PAGE_WIDTH_PX,
                   "height": fig.get("layout", {}).get("height") or 450})
            for fig in dicts]
    # In a thread of its own with its own event loop: the caller may be inside one (a
    # Streamlit download callback, a notebook).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _render(jobs)).result()


async def _render(jobs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[bytes]:
    import kaleido
    import plotly

    # plotly.js from plotly.py's own package (no CDN: classrooms may be offline), no
    # MathJax (no figure uses LaTeX).
    plotlyjs = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
    async with kaleido.Kaleido(n=1, plotlyjs=plotlyjs, mathjax=False) as renderer:
        return [await renderer.calc_fig(fig, opts=opts) for fig, opts in jobs]


def write(figures: Iterable[tuple[str, str, str, go.Figure | Mapping[str, Any]]],
          out: Path, fmt: str) -> list[Path]:
    """Render ``(chapter, figure name, lang, figure)`` rows into ``out``; the files."""
    rows = list(figures)
    paths = [out / file_name(chapter, name, lang, fmt) for chapter, name, lang, _ in rows]
    for path, data in zip(paths, render([fig for *_, fig in rows], fmt)):
        path.write_bytes(data)
    return paths


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A zip archive of ``name -> contents`` (PNGs are compressed already: stored)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()

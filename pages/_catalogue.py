"""Every chapter's figures at its default settings, exactly as the chapter draws them.

The catalogue behind ``mamlviz figures``: each chapter (``pages/_chapters.py``, in the
lecture's order) is run headless, as a student's first visit runs it (Streamlit's
``AppTest``: default widget values, the language and presentation mode asked for),
and the figures it sends to the browser are collected, with the names of their PNG
export. The pages, their builders in ``mamlviz.figures``, their labels in both
languages and the edits a page makes to a figure (the second steps on the 2-D
landscape, a clipped axis) are used as they are, so an exported figure cannot drift
from the one the class sees. Live training charts are not included: before a run they
are empty.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "pages"
TIMEOUT_S = 300  # a chapter's first run on a busy 2-core machine (Omniglot loads its data)


def chapter_names() -> list[str]:
    from pages._chapters import CHAPTERS

    return [file.removesuffix(".py") for file, *_ in CHAPTERS if (PAGES / file).exists()]


def chapter_figures(chapter: str, lang: str = "en", presentation: bool = False
                    ) -> list[tuple[str, dict[str, Any]]]:
    """``(figure name, figure as plotly.js reads it)`` for each chart the chapter shows at
    its defaults, in page order."""
    from streamlit.logger import set_log_level
    from streamlit.testing.v1 import AppTest

    from mamlviz.errors import MamlvizError
    from pages import _chart

    if str(ROOT) not in sys.path:  # the pages import ``pages._ui``
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("MAMLVIZ_OMNIGLOT", str(ROOT.parent / "shared" / "omniglot"))
    set_log_level("error")  # not a "missing ScriptRunContext" line per cached call
    at = AppTest.from_file(str(PAGES / f"{chapter}.py"), default_timeout=TIMEOUT_S)
    at.session_state["lang"] = lang
    at.session_state["presentation"] = presentation
    at.run()
    if at.exception:
        raise MamlvizError(f"chapter {chapter} failed: {at.exception[0].message}")
    figures = []
    for payload in _chart.shown_payloads(at):
        filename = payload["config"]["toImageButtonOptions"]["filename"]
        name = filename.removeprefix("mamlviz-").removesuffix(f"-{lang}")
        figures.append((name, payload["figure"]))
    return figures


def catalogue(lang: str = "en", presentation: bool = False
              ) -> list[tuple[str, str, dict[str, Any]]]:
    """``(chapter, figure name, figure)`` for every chapter, in the lecture's order."""
    return [(chapter, name, figure) for chapter in chapter_names()
            for name, figure in chapter_figures(chapter, lang, presentation)]

"""``mamlviz figures`` and the chapters' zip button: bad input refused up front, names
``chapter-figure-lang.ext``, and a chapter offering the figures it showed."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mamlviz import cli
from mamlviz.figures import export

ROOT = Path(__file__).resolve().parents[1]


def test_a_bad_format_or_folder_is_refused_before_any_work(tmp_path, capsys) -> None:
    assert cli.main(["figures", "--out", str(tmp_path), "--format", "jpg"]) == 2
    assert "--format: 'jpg' is not one of png, svg, pdf" in capsys.readouterr().err
    a_file = tmp_path / "f"
    a_file.write_text("x")
    assert cli.main(["figures", "--out", str(a_file)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == [a_file]  # nothing written


def test_file_names_are_chapter_figure_lang() -> None:
    assert export.file_name("update_directions", "update-directions", "zh", "svg") == \
        "update-directions-update-directions-zh.svg"


def test_a_chapter_offers_a_zip_of_exactly_the_figures_it_showed() -> None:
    at = AppTest.from_file(str(ROOT / "pages" / "update_directions.py"), default_timeout=60)
    at.run()
    assert not at.exception
    shown = at.session_state["_mamlviz_shown_figures"]
    assert list(shown) == ["update-directions"]
    if export.missing_renderer() is not None:
        pytest.skip(export.missing_renderer())
    data = export.render([json.loads(shown["update-directions"])], "png")[0]
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    archive = zipfile.ZipFile(io.BytesIO(export.zip_bytes({"a.png": data})))
    assert archive.namelist() == ["a.png"]

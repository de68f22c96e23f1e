"""The lecture's chart component (``pages/_chart.py``): the smallest plotly.js that draws
each figure, vendored bundles that match plotly.py, and what a page sends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

from pages import _chart


def _version(path: Path) -> tuple[int, ...]:
    head = path.read_text(encoding="utf-8", errors="replace")[:400]
    found = re.search(r"plotly\.js(?: \([^)]*\))? v(\d+)\.(\d+)\.(\d+)", head)
    assert found, f"no plotly.js version in the header of {path.name}"
    return tuple(int(part) for part in found.groups())


@pytest.mark.parametrize("traces, bundle", [
    ([go.Scatter(x=[0, 1], y=[1, 2]), go.Bar(x=["a"], y=[1])], "basic"),
    ([go.Scatter(y=[1]), go.Contour(z=[[0, 1], [1, 0]])], "cartesian"),
    ([go.Heatmap(z=[[0, 1]])], "cartesian"),
    ([go.Scatter3d(x=[0], y=[0], z=[0])], "full"),  # anything else still draws
    ([], "basic"),
])
def test_each_figure_gets_the_smallest_bundle_that_draws_it(traces, bundle) -> None:
    fig = go.Figure(traces)
    assert _chart.bundle_for(fig) == bundle
    assert _chart.bundle_for(fig.to_dict()) == bundle  # the same from its dict


def test_the_vendored_bundles_are_the_plotly_js_that_plotly_py_writes_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # plotly.py writes figures for the plotly.js it ships; the partial bundles must be
    # that major version (pages/_components/chart/README.md says how to update them).
    shipped = _version(Path(plotly.__file__).parent / "package_data" / "plotly.min.js")
    for name in ("basic", "cartesian"):
        vendored = _version(_chart.ASSETS / _chart.BUNDLES[name])
        assert vendored[0] == shipped[0], f"{name} is plotly.js {vendored}, plotly.py {shipped}"
    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path))
    assert _chart.full_bundle().stat().st_size > 1_000_000


def test_the_full_bundle_is_copied_into_the_cache_folder_at_first_use_not_at_import(
        tmp_path: Path) -> None:
    """plotly.py's 4.7 MB plotly.js goes to ``$MAMLVIZ_CACHE``, never into the source
    tree, and only when asked for: importing the chart module writes nothing."""
    root = Path(__file__).resolve().parents[1]
    source_tree = {p.name: p.stat().st_mtime_ns for p in _chart.ASSETS.iterdir()}
    cache = tmp_path / "cache"
    script = ("import sys; from pages import _chart; from pathlib import Path; "
              "cache = Path(sys.argv[1]); assert not cache.exists(), 'written at import'; "
              "print(_chart.full_bundle())")
    done = subprocess.run([sys.executable, "-c", script, str(cache)], cwd=root,
                          env={**os.environ, "MAMLVIZ_CACHE": str(cache)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    copied = Path(done.stdout.strip().splitlines()[-1])
    assert copied.parent.parent.parent == cache and copied.name == "plotly.min.js"
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert copied.read_bytes() == shipped.read_bytes()
    assert _version(copied) == _version(shipped)
    assert {p.name: p.stat().st_mtime_ns for p in _chart.ASSETS.iterdir()} == source_tree
    assert [p.name for p in copied.parent.iterdir()] == ["plotly.min.js"]  # no leftover .tmp


def test_a_page_sends_each_chart_with_its_bundle_height_and_png_export() -> None:
    root = Path(__file__).resolve().parents[1]
    at = AppTest.from_file(str(root / "pages" / "update_directions.py"), default_timeout=60).run()
    assert not at.exception
    payloads = _chart.shown_payloads(at)
    assert len(payloads) == 1
    payload = payloads[0]
    # its contours are scatter lines (mamlviz/figures/contours.py): plotly.js's basic
    # bundle, served by Streamlit's component file route
    assert payload["bundle"].endswith("/component/pages._chart.chart_assets/"
                                      "plotly-basic.min.js")
    assert payload["height"] == payload["figure"]["layout"]["height"]
    options = payload["config"]["toImageButtonOptions"]
    assert options["scale"] == 3 and options["filename"] == "mamlviz-update-directions-en"
    # No "Share chart": plotly.js 3 shows it unless told, and it uploads to Plotly's cloud.
    assert payload["config"]["showSendToCloud"] is False
    assert "sendChartToCloud" in payload["config"]["modeBarButtonsToRemove"]
    assert {"task 1", "task 2"} <= {trace.get("meta") for trace in payload["figure"]["data"]}
    assert _chart.shown_figures(at) == [payload["figure"]]

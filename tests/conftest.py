"""Shared test setup: one CPU thread, so timings and results are stable; the Omniglot data;
app tests that start without it."""

import os
from pathlib import Path

import pytest
import torch

from mamlviz.data import load_omniglot

torch.set_num_threads(1)

# The real Omniglot zips: ../shared/omniglot beside the checkout, or $MAMLVIZ_OMNIGLOT.
SHARED_OMNIGLOT = Path(os.environ.get(
    "MAMLVIZ_OMNIGLOT", Path(__file__).resolve().parents[1].parent / "shared" / "omniglot"))


@pytest.fixture(scope="session")
def omniglot(tmp_path_factory):
    """The whole data set, loaded once (a missing folder fails: CI must have it)."""
    if not SHARED_OMNIGLOT.exists():
        pytest.fail(f"the Omniglot data the tests need is missing at {SHARED_OMNIGLOT}")
    os.environ.setdefault("MAMLVIZ_CACHE", str(tmp_path_factory.mktemp("cache")))
    return load_omniglot(SHARED_OMNIGLOT, progress=False)


@pytest.fixture
def omniglot_source() -> Path:
    """The real data's folder, for app tests that point the app at it (missing fails)."""
    zips = [SHARED_OMNIGLOT / f"images_{part}.zip" for part in ("background", "evaluation")]
    missing = [str(z) for z in zips if not z.is_file()]
    if missing:
        pytest.fail(f"the Omniglot data the tests need is missing: {', '.join(missing)}")
    return SHARED_OMNIGLOT


@pytest.fixture
def app_without_omniglot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """An app test starts with no Omniglot data (fast: nothing to load) and empty Streamlit
    caches; a test that needs the data sets ``MAMLVIZ_OMNIGLOT`` to ``omniglot_source``."""
    import streamlit as st  # only the app tests need it

    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(tmp_path / "no-omniglot-here"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()

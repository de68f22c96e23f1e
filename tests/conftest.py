"""Shared test setup: one CPU thread, so timings and results are stable; the Omniglot data;
app tests that start without it.

The Omniglot zips are found as the app finds them, plus the developers' shared folder:
``$MAMLVIZ_OMNIGLOT``, else ``../shared/omniglot`` beside the checkout, else the user's
cache (``$MAMLVIZ_CACHE`` or ``~/.cache/mamlviz``), else the official download into that
cache. When none can be had (offline), the tests that need the data skip with the reason;
in CI (``CI`` or ``MAMLVIZ_REQUIRE_DATA`` set, as ``.ci/run`` does) they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from mamlviz.data import load_omniglot
from mamlviz.data import omniglot_source as src
from mamlviz.errors import DataError

torch.set_num_threads(1)

ZIPS = ("images_background.zip", "images_evaluation.zip")
SHARED_OMNIGLOT = Path(__file__).resolve().parents[1].parent / "shared" / "omniglot"
# Read before any test changes them (app tests point both at temporary folders).
ENV_OMNIGLOT = os.environ.get(src.SOURCE_ENV, "").strip()
USER_CACHE = src.cache_root()


def data_required() -> bool:
    return any(os.environ.get(name, "").lower() not in ("", "0", "false", "no")
               for name in ("CI", "MAMLVIZ_REQUIRE_DATA"))


def _has_zips(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ZIPS)


def find_omniglot() -> tuple[Path | None, str]:
    """A folder holding both Omniglot zips and where it came from, or None and why not."""
    env = ENV_OMNIGLOT
    if env:
        if _has_zips(Path(env)):
            return Path(env), src.SOURCE_ENV
        return None, f"{src.SOURCE_ENV}={env} holds no {' and '.join(ZIPS)}"
    if _has_zips(SHARED_OMNIGLOT):
        return SHARED_OMNIGLOT, "../shared/omniglot"
    raw = USER_CACHE / "omniglot" / "raw"
    try:
        for set_name, name in zip(src.SETS, ZIPS):
            src.ensure_downloaded(set_name, raw / name, progress=True)  # kept if it checks out
    except DataError as exc:
        return None, (f"no Omniglot data: {src.SOURCE_ENV} unset, no {SHARED_OMNIGLOT}, none in "
                      f"the cache {raw}, and the download failed ({exc.__cause__ or exc}). "
                      f"Point {src.SOURCE_ENV} at a folder holding {' and '.join(ZIPS)}")
    return raw, f"the cache {raw}"


@pytest.fixture(scope="session")
def omniglot_found() -> tuple[Path | None, str]:
    """Looked for once per session (a failed download is not retried per test)."""
    return find_omniglot()


@pytest.fixture(scope="session")
def omniglot_source(omniglot_found: tuple[Path | None, str]) -> Path:
    """The folder holding the real zips: skipped without it, failed in CI."""
    folder, why = omniglot_found
    if folder is None:
        if data_required():
            pytest.fail(f"the Omniglot data the tests need is missing in CI: {why}",
                        pytrace=False)
        pytest.skip(why)
    return folder


@pytest.fixture(scope="session")
def omniglot(omniglot_source: Path, tmp_path_factory: pytest.TempPathFactory):
    """The whole data set, loaded once."""
    os.environ.setdefault("MAMLVIZ_CACHE", str(tmp_path_factory.mktemp("cache")))
    return load_omniglot(omniglot_source, progress=False)


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


def run_page(page: str, lang: str = "en", timeout: float = 60):  # type: ignore[no-untyped-def]
    """A chapter run once in AppTest, in ``lang``, checked to have raised nothing."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(page, default_timeout=timeout)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at

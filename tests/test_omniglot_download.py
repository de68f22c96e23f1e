"""Omniglot on demand: the download, its progress, and what a bad download leaves behind.

No network: a loopback ``http.server`` plays brendenlake/omniglot, found through
``MAMLVIZ_OMNIGLOT_URL``, serving zips built here with the official layout
(``images_<set>/<Alphabet>/characterNN/XXXX_YY.png``, every alphabet, character and
drawer, one small drawing per character). Nothing of ours is patched: the app and
``load_omniglot`` talk HTTP to that server as they would to GitHub.
"""

from __future__ import annotations

import http.server
import io
import json
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from mamlviz.data import load_omniglot
from mamlviz.data import omniglot_source as src
from mamlviz.errors import DataError
from pages import _chart
from tests.conftest import run_page

ROOT = Path(__file__).resolve().parents[1]
OMNIGLOT_PAGE = str(ROOT / "pages" / "omniglot.py")
THREE_STEPS = str(ROOT / "pages" / "three_steps.py")


def _drawing(global_id: int) -> bytes:
    """A 105x105 1-bit PNG, a different stroke per character (ink is black, as in Omniglot)."""
    im = Image.new("1", (src.RAW_SIZE, src.RAW_SIZE), 1)
    x = 10 + (global_id * 7) % 80
    ImageDraw.Draw(im).line([(x, 10), (95 - x // 2, 95)], fill=0, width=6)
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _build_zip(set_name: str, path: Path) -> None:
    root = src.folder_name(set_name)
    gid = src.FIRST_ID[set_name]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for alphabet, n_characters in src.EXPECTED_ALPHABETS[set_name].items():
            for c in range(1, n_characters + 1):
                png = _drawing(gid)
                for drawer in range(1, src.N_DRAWERS + 1):
                    zf.writestr(f"{root}/{alphabet}/character{c:02d}/{gid:04d}_{drawer:02d}.png",
                                png)
                gid += 1


@pytest.fixture(scope="module")
def good_zips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("mirror-good")
    for set_name in src.SETS:
        _build_zip(set_name, folder / f"{src.folder_name(set_name)}.zip")
    return folder


@pytest.fixture(scope="module")
def corrupt_zips(tmp_path_factory: pytest.TempPathFactory, good_zips: Path) -> Path:
    """The same files with bytes flipped in the middle: a download damaged on the way."""
    folder = tmp_path_factory.mktemp("mirror-corrupt")
    for set_name in src.SETS:
        name = f"{src.folder_name(set_name)}.zip"
        data = bytearray((good_zips / name).read_bytes())
        middle = len(data) // 2
        data[middle:middle + 4096] = b"\xff" * 4096
        (folder / name).write_bytes(bytes(data))
    return folder


@dataclass
class Mirror:
    url: str = ""
    requests: list[str] = field(default_factory=list)


@contextmanager
def _serve(folder: Path) -> Iterator[Mirror]:
    """``folder`` over HTTP on a free loopback port, recording the paths asked for."""
    mirror = Mirror()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            mirror.requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    mirror.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield mirror
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A newcomer's machine: no MAMLVIZ_OMNIGLOT, an empty cache, no proxy for loopback."""
    cache = tmp_path / "cache"
    monkeypatch.delenv(src.SOURCE_ENV, raising=False)
    monkeypatch.setenv(src.CACHE_ENV, str(cache))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return cache


@pytest.fixture
def fresh_app(no_data: Path) -> Iterator[Path]:
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield no_data
    st.cache_resource.clear()
    st.cache_data.clear()


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _texts(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def _run(page: str, lang: str = "en") -> AppTest:
    return run_page(page, lang, timeout=240)


@contextmanager
def _clicked_download(zips: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> Iterator[tuple[AppTest, Any]]:
    """The Omniglot chapter with its download button clicked, served by a loopback mirror."""
    with _serve(zips) as mirror:
        monkeypatch.setenv(src.URL_ENV, mirror.url)
        at = _run(OMNIGLOT_PAGE)
        _download_button(at).click().run()
        assert not at.exception, [e.value for e in at.exception]
        yield at, mirror


def _download_button(at: AppTest) -> Any:
    return next(b for b in at.button if b.key and b.key.endswith("_download_omniglot"))


# --------------------------------------------------------------------------- the engine


def test_download_from_a_mirror_shows_progress_and_fills_the_cache(
        no_data: Path, good_zips: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, list[tuple[int, int | None]]] = {}
    with _serve(good_zips) as mirror:
        monkeypatch.setenv(src.URL_ENV, mirror.url)
        data = load_omniglot(progress=False,
                             on_progress=lambda what, done, total:
                             seen.setdefault(what, []).append((done, total)))
        assert data.n_characters == 1623
        assert sorted(mirror.requests) == ["/images_background.zip", "/images_evaluation.zip"]
        for name in ("images_background.zip", "images_evaluation.zip"):
            size = (good_zips / name).stat().st_size
            done = [d for d, _ in seen[name]]
            assert done == sorted(done) and done[0] == 0 and done[-1] == size
            assert {t for _, t in seen[name]} == {size}
        assert seen["preprocess"][-1] == (32460, 32460)
        # Verified zips and one preprocessed file; nothing temporary left.
        raw = ["omniglot/raw/images_background.zip", "omniglot/raw/images_evaluation.zip"]
        files = _files(no_data)
        assert [f for f in files if f not in raw] == [f"omniglot/{data.cache_path.name}"]
        # The second time it is all in the cache: no request.
        again = load_omniglot(download=False, progress=False)
        assert again.cache_path == data.cache_path and len(mirror.requests) == 2
    assert int(data.images[0].amax()) == 255  # ink where the fixture drew its stroke


def test_a_corrupt_download_is_refused_and_leaves_no_cache(
        no_data: Path, corrupt_zips: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve(corrupt_zips) as mirror:
        monkeypatch.setenv(src.URL_ENV, mirror.url)
        with pytest.raises(DataError, match=r"images_background\.zip from http://127.0.0.1.* "
                                            r"so it was not kept"):
            load_omniglot(progress=False)
    assert _files(no_data) == []


def test_offline_fails_with_what_to_do(no_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve(no_data.parent) as mirror:
        url = mirror.url  # a port that nothing listens on once the server is gone
    monkeypatch.setenv(src.URL_ENV, url)
    with pytest.raises(DataError, match=r"could not download .*Without a network.*"
                                        r"point MAMLVIZ_OMNIGLOT or --omniglot at their folder"):
        load_omniglot(progress=False)
    assert _files(no_data) == []


# --------------------------------------------------------------------------- the pages


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_chapter_without_data_offers_the_download(fresh_app: Path, lang: str) -> None:
    at = _run(OMNIGLOT_PAGE, lang)
    button = _download_button(at)
    mb = src.download_mb()
    assert button.label == (f"Download Omniglot (about {mb} MB)" if lang == "en"
                            else f"下载 Omniglot 数据（约 {mb} MB）")
    info = " ".join(_texts(at, "info"))
    assert "brendenlake/omniglot" in info
    assert "unset" not in info  # nothing to unset: MAMLVIZ_OMNIGLOT is not set
    assert not at.get("progress") and not at.error
    assert any("98.7" in m.value for m in at.markdown)  # the papers' table is still there


def test_download_button_fetches_shows_progress_then_the_chapter(
        fresh_app: Path, good_zips: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _clicked_download(good_zips, monkeypatch) as (at, mirror):
        assert sorted(mirror.requests) == ["/images_background.zip", "/images_evaluation.zip"]
    # The bar was driven by the work itself: it ends on the last drawing prepared.
    (bar,) = at.get("progress")
    assert bar.proto.value == 100 and "32,460 of 32,460" in bar.proto.text
    # The offer is gone and the chapter is there, from the data just fetched.
    assert not _texts(at, "info") or "brendenlake" not in " ".join(_texts(at, "info"))
    assert any("Omniglot found at" in s and str(fresh_app) in s for s in _texts(at, "success"))
    metas = {tr.get("meta") for fig in _chart.shown_figures(at) for tr in fig["data"]}
    assert {"alphabet", "support", "query"} <= metas
    assert not at.error
    # Every later run (and every other session) finds it in the cache: no button, no request.
    at.run()
    assert not [b for b in at.button if b.key and b.key.endswith("_download_omniglot")]
    assert len(mirror.requests) == 2


def test_a_corrupt_download_on_the_page_says_so_and_keeps_nothing(
        fresh_app: Path, corrupt_zips: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _clicked_download(corrupt_zips, monkeypatch) as (at, _):
        (error,) = _texts(at, "error")
        assert "The download did not work" in error and "so it was not kept" in error
        assert any("MAMLVIZ_OMNIGLOT=/that/folder" in m.value for m in at.markdown)
        assert not at.get("progress")
        assert _files(fresh_app) == []  # no half-written zip, no preprocessed file
        assert _download_button(at)  # it can be tried again
        assert any("98.7" in m.value for m in at.markdown)


def test_three_steps_episode_after_the_download(
        fresh_app: Path, good_zips: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve(good_zips) as mirror:
        monkeypatch.setenv(src.URL_ENV, mirror.url)
        at = _run(THREE_STEPS, "zh")
        assert "下载 Omniglot" in _download_button(at).label
        _download_button(at).click().run()
    assert not at.exception, [e.value for e in at.exception]
    metas = {tr.get("meta") for fig in _chart.shown_figures(at) for tr in fig["data"]}
    assert "support-0-0" in metas, "the Omniglot episode is drawn once the data is there"
    assert not at.error


def test_a_set_but_wrong_omniglot_path_is_named_and_not_downloaded_over(
        fresh_app: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(src.SOURCE_ENV, str(tmp_path / "nowhere"))
    at = _run(OMNIGLOT_PAGE)
    info = " ".join(_texts(at, "info"))
    assert f"{src.SOURCE_ENV}" in info and str(tmp_path / "nowhere") in info
    assert not [b for b in at.button if b.key and b.key.endswith("_download_omniglot")]


def test_the_cli_reports_a_bad_download_and_keeps_nothing(
        no_data: Path, corrupt_zips: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _serve(corrupt_zips) as mirror:
        monkeypatch.setenv(src.URL_ENV, mirror.url)
        proc = subprocess.run([sys.executable, "-m", "mamlviz", "data", "omniglot", "--json"],
                              capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 2, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "so it was not kept" in report["error"] and mirror.url in report["error"]
    assert _files(no_data) == []


def test_a_rebuilt_zip_in_the_cache_is_kept_by_its_content(
        no_data: Path, good_zips: Path, corrupt_zips: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Zips with other bytes than the official ones (a mirror's, or copied there by hand)
    # are used, not deleted, when their content checks out; there is no network here.
    monkeypatch.delenv(src.URL_ENV, raising=False)
    raw = no_data / "omniglot" / "raw"
    raw.mkdir(parents=True)
    for set_name in src.SETS:
        name = f"{src.folder_name(set_name)}.zip"
        (raw / name).write_bytes((good_zips / name).read_bytes())
        assert src.ensure_downloaded(set_name, raw / name, progress=False) == raw / name
    assert src.resolve_source(progress=False).origin == "download"
    damaged = raw / "images_background.zip"
    damaged.write_bytes((corrupt_zips / damaged.name).read_bytes())
    with pytest.raises(DataError, match=r"images_background\.zip in the cache .*not used"):
        src.verify_cached("background", damaged)

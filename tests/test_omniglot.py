"""Omniglot: finding and checking the data, the 28x28 cache, both protocols, episodes.

Runs on the real zips that tests/conftest.py finds ($MAMLVIZ_OMNIGLOT, ../shared/omniglot,
the user's cache or a download; without them these tests skip, or fail in CI). The full set
is preprocessed once per session into a temporary cache; the broken copies for the error
tests are built in tmp_path from the real zips.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import time
import urllib.error
import zipfile
from pathlib import Path

import pytest
import torch

from mamlviz.data import OmniglotData, load_omniglot, prepare
from mamlviz.data import omniglot as om
from mamlviz.data import omniglot_source as src
from mamlviz.errors import ConfigError, DataError
from mamlviz.tasks.omniglot import OmniglotTasks

torch.set_num_threads(1)



@pytest.fixture(scope="session")
def bg_zip(omniglot_source: Path) -> Path:
    return omniglot_source / "images_background.zip"


@pytest.fixture(scope="session")
def ev_zip(omniglot_source: Path) -> Path:
    return omniglot_source / "images_evaluation.zip"


def _small_zip(tmp_path: Path) -> Path:
    """A zip named like the 5-alphabet "small" background split, which is not the set."""
    path = tmp_path / "small" / "images_background_small1.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("images_background_small1/Balinese/character01/0108_01.png", b"")
    return path


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mamlviz-cache")


@pytest.fixture(scope="session")
def data(cache_dir: Path, omniglot_source: Path) -> OmniglotData:
    return load_omniglot(omniglot_source, cache_dir=cache_dir, progress=False)


@pytest.fixture(autouse=True)
def _no_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Nothing in this file may touch ~/.cache/mamlviz.
    monkeypatch.setenv(src.CACHE_ENV, str(tmp_path / "default-cache"))


# --------------------------------------------------------------------------- data and cache


def test_counts_and_identity(data: OmniglotData) -> None:
    assert data.images.shape == (1623, 20, 28, 28)
    assert data.images.dtype == torch.uint8
    assert data.counts() == {
        "background": {"alphabets": 30, "characters": 964, "images": 19280},
        "evaluation": {"alphabets": 20, "characters": 659, "images": 13180},
    }
    assert data.global_id.tolist() == list(range(1, 1624))
    assert data.info(963).set_name == "background" and data.info(964).set_name == "evaluation"
    assert data.info(964).global_id == 965
    assert set(data.alphabets("evaluation")) == set(src.EXPECTED_ALPHABETS["evaluation"])
    # 0 = paper, 255 = ink; strokes cover a small part of each drawing.
    ink = data.images.float().mean() / 255
    assert 0.03 < float(ink) < 0.2
    assert int(data.images.amax()) > 200


def test_known_duplicate_drawing_survives(data: OmniglotData) -> None:
    # Braille character 0192: drawers 03 and 19 are the same file in the original data.
    c = data.global_id.tolist().index(192)
    assert data.info(c).alphabet == "Braille"
    assert torch.equal(data.images[c, 2], data.images[c, 18])


def test_prepare_reports_and_cache_loads_fast(data: OmniglotData, cache_dir: Path,
                                             omniglot_source: Path) -> None:
    start = time.perf_counter()
    report = prepare(omniglot_source, cache_dir=cache_dir, progress=False)
    assert time.perf_counter() - start < 1.0
    assert report["cache_hit"] is True
    assert report["origin"] == "argument"
    assert Path(report["cache"]) == data.cache_path and data.cache_path is not None
    assert data.cache_path.parent == cache_dir / "omniglot"
    assert (report["alphabets"], report["characters"], report["images"]) == (50, 1623, 32460)
    assert report["sets"]["background"]["characters"] == 964
    assert report["protocols"]["maml"]["train_classes"] == 4800
    assert report["protocols"]["lake"]["test_characters"] == 659
    # atomic writes leave no temporary files behind
    assert [p.name for p in (cache_dir / "omniglot").iterdir()] == [data.cache_path.name]


def test_env_var_selects_the_source(
    data: OmniglotData, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, omniglot_source: Path
) -> None:
    monkeypatch.setenv(src.SOURCE_ENV, str(omniglot_source))
    monkeypatch.setenv(src.CACHE_ENV, str(cache_dir))
    report = prepare(progress=False)
    assert report["origin"] == src.SOURCE_ENV and report["cache_hit"] is True
    monkeypatch.setenv(src.SOURCE_ENV, str(omniglot_source / "nowhere"))
    with pytest.raises(DataError, match=f"nowhere.*{src.SOURCE_ENV}.*does not exist"):
        prepare(progress=False)


def test_cache_key_follows_the_source(tmp_path: Path) -> None:
    for name in ("images_background.zip", "images_evaluation.zip"):
        (tmp_path / name).write_bytes(b"x" * 10)
    source = src.local_source(tmp_path)
    key = om.source_key(source)
    assert om.source_key(src.local_source(tmp_path)) == key
    os.utime(tmp_path / "images_evaluation.zip", ns=(1, 1))
    assert om.source_key(source) != key  # new data: a new cache file, the stale one is unused
    assert om.cache_file(source, tmp_path).name.startswith(f"omniglot28-v{om.PREPROCESS_VERSION}-")


def test_unreadable_cache_is_ignored(tmp_path: Path) -> None:
    bad = tmp_path / "omniglot28.npz"
    bad.write_bytes(b"PK\x03\x04 not really")
    assert om._read_cache(bad) is None
    assert om._read_cache(tmp_path / "absent.npz") is None


# --------------------------------------------------------------------------- protocols


def test_maml_protocol(data: OmniglotData) -> None:
    train, test = data.split("maml")
    assert (train.n_characters, test.n_characters) == (1200, 423)
    assert train.rotations and test.rotations
    assert (train.n_classes, test.n_classes) == (4 * 1200, 4 * 423)
    both = torch.cat([train.characters, test.characters])
    assert sorted(both.tolist()) == list(range(1623))  # disjoint and complete
    again, _ = data.split("maml")
    assert torch.equal(again.characters, train.characters)  # fixed seed
    other, _ = data.split("maml", seed=2)
    assert not torch.equal(other.characters, train.characters)
    in_order, rest = data.split("maml", seed=None)
    assert in_order.characters.tolist() == list(range(1200))
    assert rest.characters.tolist() == list(range(1200, 1623))
    assert not data.split("maml", rotations=False)[0].rotations


def test_lake_protocol(data: OmniglotData) -> None:
    train, test = data.split("lake")
    assert (train.n_characters, test.n_characters) == (964, 659)
    assert not train.rotations and train.n_classes == 964
    assert all(data.info(c).set_name == "background" for c in train.characters.tolist())
    assert all(data.info(c).set_name == "evaluation" for c in test.characters.tolist())
    assert len({data.alphabet[c] for c in train.characters.tolist()}) == 30
    assert len({data.alphabet[c] for c in test.characters.tolist()}) == 20
    assert data.split("lake", rotations=True)[1].n_classes == 4 * 659


def test_unknown_protocol(data: OmniglotData) -> None:
    with pytest.raises(ConfigError, match="protocol"):
        data.split("vinyals")
    with pytest.raises(ConfigError, match="n_train"):
        data.split("maml", n_train=1623)


# --------------------------------------------------------------------------- episodes


def test_shown_episodes_come_from_unseen_characters_or_one_alphabet(data: OmniglotData) -> None:
    unseen = data.shown_episodes()
    assert torch.equal(unseen.characters, data.split()[1].characters)
    assert not unseen.rotations  # upright, as a person draws them
    alphabet = data.alphabets("evaluation")[0]
    one = data.shown_episodes(alphabet)
    assert one.n_characters == sum(a == alphabet for a in data.alphabet) > 0
    assert {data.alphabet[int(c)] for c in one.characters} == {alphabet}
    assert not one.rotations
    with pytest.raises(ConfigError, match="unknown alphabet"):
        data.shown_episodes("Klingon")


def test_episode_shapes(data: OmniglotData) -> None:
    train, _ = data.split("maml")
    batch = OmniglotTasks(train, n_way=5).sample(
        3, k_shot=1, n_query=15, generator=torch.Generator().manual_seed(0)
    )
    assert batch.support_x.shape == (3, 5, 1, 28, 28)
    assert batch.query_x.shape == (3, 75, 1, 28, 28)
    assert batch.support_x.dtype == torch.float32 and batch.support_y.dtype == torch.int64
    assert float(batch.support_x.min()) >= 0.0 and float(batch.support_x.max()) <= 1.0
    assert batch.support_y.tolist() == [[0, 1, 2, 3, 4]] * 3
    assert batch.query_y[0].tolist() == [n for n in range(5) for _ in range(15)]


def test_support_and_query_never_share_a_drawing(data: OmniglotData) -> None:
    train, _ = data.split("maml")
    ep = OmniglotTasks(train, n_way=20).episodes(
        8, k_shot=5, n_query=15, generator=torch.Generator().manual_seed(1)
    )
    info = ep.info
    for t in range(8):
        classes = list(zip(info.classes[t].tolist(), info.class_rotation[t].tolist(), strict=True))
        assert len(set(classes)) == 20  # N distinct classes
        support = set(zip(info.support_character[t].tolist(), info.support_drawer[t].tolist(),
                          info.support_rotation[t].tolist(), strict=True))
        query = set(zip(info.query_character[t].tolist(), info.query_drawer[t].tolist(),
                        info.query_rotation[t].tolist(), strict=True))
        assert len(support) == 100 and len(query) == 300  # no drawing twice
        assert not support & query
        # Different drawers, even across rotations of one character: nothing repeats.
        s_drawings = set(zip(info.support_character[t].tolist(),
                             info.support_drawer[t].tolist(), strict=True))
        q_drawings = set(zip(info.query_character[t].tolist(),
                             info.query_drawer[t].tolist(), strict=True))
        same_char = {c for c, _ in classes if [k for k, _ in classes].count(c) > 1}
        assert not {d for d in s_drawings & q_drawings if d[0] not in same_char}
    assert set(info.support_drawer.unique().tolist()) <= set(range(1, 21))


def test_images_match_their_identity(data: OmniglotData) -> None:
    train, _ = data.split("maml")
    ep = OmniglotTasks(train, n_way=5).episodes(
        16, k_shot=2, n_query=3, generator=torch.Generator().manual_seed(2)
    )
    i = ep.info
    for x, c, d, r in (
        (ep.batch.support_x, i.support_character, i.support_drawer, i.support_rotation),
        (ep.batch.query_x, i.query_character, i.query_drawer, i.query_rotation),
    ):
        raw = data.images[c.flatten(), d.flatten() - 1].float() / 255
        expect = torch.stack([torch.rot90(img, int(k), dims=(0, 1))
                              for img, k in zip(raw, r.flatten(), strict=True)])
        assert torch.equal(x.reshape(-1, 28, 28), expect)
    # a label names one class: one character, one rotation
    assert torch.equal(i.support_character[:, ::2], i.classes)
    assert torch.equal(i.support_rotation[:, ::2], i.class_rotation)


def test_rotation_classes(data: OmniglotData) -> None:
    train, _ = data.split("maml")
    ep = OmniglotTasks(train, n_way=5).episodes(
        64, 1, 1, generator=torch.Generator().manual_seed(3)
    )
    assert set(ep.info.class_rotation.unique().tolist()) == {0, 1, 2, 3}
    assert set(ep.info.classes.unique().tolist()) <= set(train.characters.tolist())
    lake_train, _ = data.split("lake")
    plain = OmniglotTasks(lake_train, n_way=5).episodes(
        64, 1, 1, generator=torch.Generator().manual_seed(3)
    )
    assert int(plain.info.class_rotation.abs().sum()) == 0


def test_test_split_draws_only_test_characters(data: OmniglotData) -> None:
    _, test = data.split("lake")
    ep = OmniglotTasks(test, n_way=5).episodes(32, 1, 5, generator=torch.Generator().manual_seed(4))
    assert all(data.info(c).set_name == "evaluation" for c in ep.info.classes.unique().tolist())


def test_same_seed_same_episodes(data: OmniglotData) -> None:
    train, _ = data.split("maml")
    tasks = OmniglotTasks(train, n_way=5)
    a = tasks.sample(4, 1, 5, generator=torch.Generator().manual_seed(7))
    b = tasks.sample(4, 1, 5, generator=torch.Generator().manual_seed(7))
    c = tasks.sample(4, 1, 5, generator=torch.Generator().manual_seed(8))
    assert all(torch.equal(x, y) for x, y in zip(a.tensors(), b.tensors(), strict=True))
    assert not torch.equal(a.support_x, c.support_x)


def test_describe_names_every_image(data: OmniglotData) -> None:
    train, _ = data.split("lake")
    ep = OmniglotTasks(train, n_way=3).episodes(2, 2, 1, generator=torch.Generator().manual_seed(5))
    rows = ep.describe(1, "support")
    assert len(rows) == 6 and [r["label"] for r in rows] == [0, 0, 1, 1, 2, 2]
    assert rows[0]["alphabet"] in src.EXPECTED_ALPHABETS["background"]
    assert rows[0]["set"] == "background" and rows[0]["rotation"] == 0
    assert 1 <= rows[0]["drawer"] <= 20 and rows[0]["character"].startswith("character")
    assert len(ep.describe(0, "query")) == 3
    with pytest.raises(ConfigError):
        ep.describe(0, "train")


def test_bad_episode_settings(data: OmniglotData) -> None:
    train, _ = data.split("lake")
    with pytest.raises(ConfigError, match="n_query"):
        OmniglotTasks(train, n_way=5).sample(1, k_shot=10, n_query=11)
    with pytest.raises(ConfigError, match="n_way"):
        OmniglotTasks(train, n_way=965)
    with pytest.raises(ConfigError, match="k_shot"):
        OmniglotTasks(train).sample(1, k_shot=0, n_query=1)


def test_split_moves_with_its_data(data: OmniglotData) -> None:
    # The GPU path is the same code on another device; on the CPU, .to is a no-op copy.
    train, _ = data.split("maml")
    moved = train.to("cpu")
    a = OmniglotTasks(moved).sample(2, 1, 1, generator=torch.Generator().manual_seed(9))
    b = OmniglotTasks(train).sample(2, 1, 1, generator=torch.Generator().manual_seed(9))
    assert torch.equal(a.query_x, b.query_x)


# --------------------------------------------------------------------------- broken sources


def _folder_with(tmp_path: Path, **files: Path) -> Path:
    """A source folder whose entries link to (or are) the given files."""
    folder = tmp_path / "omniglot"
    folder.mkdir(exist_ok=True)
    for name, target in files.items():
        dest = folder / name
        try:
            dest.symlink_to(target)
        except OSError:
            shutil.copy(target, dest)
    return folder


def _assert_cache_clean(cache: Path) -> None:
    assert not (cache / "omniglot").exists() or not any((cache / "omniglot").iterdir())


def test_truncated_zip(tmp_path: Path, bg_zip: Path, ev_zip: Path) -> None:
    folder = tmp_path / "omniglot"
    folder.mkdir()
    (folder / "images_evaluation.zip").write_bytes(ev_zip.read_bytes()[:3_000_000])
    _folder_with(tmp_path, **{"images_background.zip": bg_zip})
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=r"images_evaluation\.zip is truncated.*found 3\.0 MB"):
        load_omniglot(folder, cache_dir=cache, progress=False)
    _assert_cache_clean(cache)


def test_corrupt_png(tmp_path: Path, bg_zip: Path, ev_zip: Path) -> None:
    folder = tmp_path / "omniglot"
    folder.mkdir()
    # Rewrite the background zip with one drawing of the first character broken.
    broken = folder / "images_background.zip"
    with zipfile.ZipFile(bg_zip) as zin, zipfile.ZipFile(broken, "w") as zout:
        victim = "images_background/Arcadian/character01/0001_07.png"
        for entry in zin.infolist():
            raw = zin.read(entry) if not entry.is_dir() else b""
            if entry.filename == victim:
                raw = raw[:40] + b"\x00garbage" * 20
            zout.writestr(entry, raw)
    _folder_with(tmp_path, **{"images_evaluation.zip": ev_zip})
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match=r"0001_07\.png in images_background\.zip.*corrupt PNG"):
        load_omniglot(folder, cache_dir=cache, progress=False)
    _assert_cache_clean(cache)


@pytest.fixture(scope="module")
def extracted_evaluation(tmp_path_factory: pytest.TempPathFactory, ev_zip: Path) -> Path:
    root = tmp_path_factory.mktemp("extracted")
    with zipfile.ZipFile(ev_zip) as zf:
        zf.extractall(root)
    return root / "images_evaluation"


def _copy_tree_of_links(src_dir: Path, dest: Path) -> None:
    """A writable copy of a folder tree whose files are links (cheap to damage)."""
    for dirpath, _dirs, files in os.walk(src_dir):
        out = dest / os.path.relpath(dirpath, src_dir)
        out.mkdir(parents=True, exist_ok=True)
        for f in files:
            os.link(os.path.join(dirpath, f), out / f)


def test_missing_alphabet_folder(tmp_path: Path, extracted_evaluation: Path, bg_zip: Path) -> None:
    folder = _folder_with(tmp_path, **{"images_background.zip": bg_zip})
    _copy_tree_of_links(extracted_evaluation, folder / "images_evaluation")
    shutil.rmtree(folder / "images_evaluation" / "Tibetan")
    with pytest.raises(DataError, match=r"images_evaluation/.*found 19 of 20 alphabets, "
                       r"617 of 659 characters.*missing alphabet\(s\) Tibetan"):
        load_omniglot(folder, cache_dir=tmp_path / "cache", progress=False)
    _assert_cache_clean(tmp_path / "cache")


def test_missing_drawing(tmp_path: Path, extracted_evaluation: Path, bg_zip: Path) -> None:
    folder = _folder_with(tmp_path, **{"images_background.zip": bg_zip})
    _copy_tree_of_links(extracted_evaluation, folder / "images_evaluation")
    (folder / "images_evaluation" / "Angelic" / "character03" / "0967_12.png").unlink()
    with pytest.raises(DataError, match=r"Angelic/character03 has 19 drawings"):
        load_omniglot(folder, cache_dir=tmp_path / "cache", progress=False)


def test_missing_set(tmp_path: Path, bg_zip: Path) -> None:
    folder = _folder_with(tmp_path, **{"images_background.zip": bg_zip})
    with pytest.raises(DataError,
                       match=r"no images_evaluation\.zip .*found: images_background\.zip"):
        load_omniglot(folder, cache_dir=tmp_path / "cache", progress=False)
    with pytest.raises(DataError, match="does not exist"):
        load_omniglot(tmp_path / "absent", cache_dir=tmp_path / "cache", progress=False)


def test_wrong_zip_under_the_right_name(tmp_path: Path, ev_zip: Path) -> None:
    small = _small_zip(tmp_path)
    # The 5-alphabet "small" background split is not the background set.
    folder = tmp_path / "omniglot"
    folder.mkdir()
    shutil.copy(small, folder / "images_background.zip")
    _folder_with(tmp_path, **{"images_evaluation.zip": ev_zip})
    with pytest.raises(DataError,
                       match=r"no images_background/ folder inside.*images_background_small1"):
        load_omniglot(folder, cache_dir=tmp_path / "cache", progress=False)


def test_source_as_list_of_zips(tmp_path: Path, bg_zip: Path, ev_zip: Path) -> None:
    small = _small_zip(tmp_path)
    source = src.local_source([bg_zip, ev_zip])
    assert source.background.kind == "zip" and source.evaluation.path == ev_zip
    joined = src.local_source(os.pathsep.join([str(ev_zip), str(bg_zip)]))
    assert joined.background.path == bg_zip
    with pytest.raises(DataError, match="cannot tell which Omniglot set"):
        src.local_source(small)


# --------------------------------------------------------------------------- download checks


class _FakeResponse(io.BytesIO):
    def __init__(self, payload: bytes, length: int | None = None):
        super().__init__(payload)
        self.headers = {"Content-Length": str(length if length is not None else len(payload))}


def test_verify_md5(tmp_path: Path) -> None:
    f = tmp_path / "images_background.zip"
    f.write_bytes(b"not omniglot")
    src.verify_md5(f, hashlib.md5(b"not omniglot").hexdigest())
    with pytest.raises(DataError, match=f"md5 .*expected {src.OFFICIAL_MD5['background']}"):
        src.verify_md5(f, src.OFFICIAL_MD5["background"])


def test_download_rejects_a_wrong_md5(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(src, "_urlopen", lambda url: _FakeResponse(b"<html>rate limited</html>"))
    dest = tmp_path / "raw" / "images_evaluation.zip"
    with pytest.raises(DataError, match="md5 .* expected 6b91aef0f799c5bb55b94e3f2daec811"):
        src.download(src.official_url("evaluation"), dest, src.OFFICIAL_MD5["evaluation"],
                     progress=False)
    assert list(dest.parent.iterdir()) == []  # nothing half-written stays


def test_download_keeps_a_verified_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    payload = os.urandom(300_000)
    monkeypatch.setattr(src, "_urlopen", lambda url: _FakeResponse(payload))
    dest = tmp_path / "raw" / "images_background.zip"
    src.download("https://example.invalid/x.zip", dest, hashlib.md5(payload).hexdigest())
    assert dest.read_bytes() == payload
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]
    assert "Downloading images_background.zip" in capsys.readouterr().err  # progress on stderr


def test_download_cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(src, "_urlopen", lambda url: _FakeResponse(b"abc", length=5_800_000))
    dest = tmp_path / "images_evaluation.zip"
    with pytest.raises(DataError, match="stopped early: got 0.0 MB of 5.8 MB"):
        src.download("https://example.invalid/x.zip", dest, "0" * 32, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_default_source_downloads_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(src.SOURCE_ENV, raising=False)
    monkeypatch.setenv(src.CACHE_ENV, str(tmp_path))
    urls: list[str] = []

    def offline(url: str) -> io.BytesIO:
        urls.append(url)
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(src, "_urlopen", offline)
    with pytest.raises(DataError, match="could not download .*images_background.zip.*no network"):
        src.resolve_source(progress=False)
    assert urls == [f"{src.OFFICIAL_BASE_URL}/images_background.zip"]
    assert list((tmp_path / "omniglot" / "raw").iterdir()) == []
    with pytest.raises(DataError, match="downloading is off"):
        src.resolve_source(download=False)

    # Files already in the cache with the right md5 are used without a download.
    raw = tmp_path / "omniglot" / "raw"
    for s in src.SETS:
        (raw / f"images_{s}.zip").write_bytes(s.encode())
        monkeypatch.setitem(src.OFFICIAL_MD5, s, hashlib.md5(s.encode()).hexdigest())
    found = src.resolve_source(progress=False)
    assert found.origin == "download" and found.evaluation.path == raw / "images_evaluation.zip"
    assert len(urls) == 1

"""Omniglot at 28x28, preprocessed once, and its two meta-learning splits.

Omniglot (Lake et al. 2015) is the few-shot benchmark of the MAML paper (Finn,
Abbeel & Levine 2017, section 5.2): 1,623 characters from 50 alphabets, each
drawn by 20 people. A *class* is a character; an N-way K-shot task shows K
drawings of each of N characters (the support set) and asks for the labels of
other drawings of the same characters (the query set).

Preprocessing follows the MAML paper's code: every 105x105 drawing is resized
to 28x28 with a Lanczos filter. The result is stored once as an uncompressed
``.npz`` (uint8, 25 MB, loads in a few tens of milliseconds) in
``<cache>/omniglot/``; its name carries a digest of the source's sizes and
modification times and of :data:`PREPROCESS_VERSION`, so new data or a new
preprocessing rebuilds it instead of silently reusing a stale one.

Pixel convention: ``images`` holds *ink* as uint8 0..255 (0 = paper, 255 =
ink); the episode sampler hands out floats in [0, 1] with 1 = ink, the
convention of the MAML code (``1 - image / 255``).

Two protocols (:meth:`OmniglotData.split`):

``"maml"``
    The MAML paper, after Santoro et al. (2016) and Vinyals et al. (2016): all
    1,623 characters shuffled with a fixed seed (or kept in id order), the first
    1,200 for meta-training and the remaining 423 for meta-testing; every
    rotation by a multiple of 90 degrees is a class of its own, so there are
    4 x 1,200 = 4,800 training and 1,692 test classes.
``"lake"``
    Lake et al.'s own split: the 30 background alphabets (964 characters) for
    training, the 20 evaluation alphabets (659 characters) for testing, no
    rotations. Test alphabets are then never seen in training at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..errors import ConfigError, DataError
from .omniglot_source import (
    EXPECTED_CHARACTERS,
    N_DRAWERS,
    SETS,
    OmniglotSource,
    OnProgress,
    cache_root,
    iter_images,
    resolve_source,
    scan_set,
)

IMAGE_SIZE = 28
# Bump whenever the stored arrays would change (filter, size, layout): old caches are rebuilt.
PREPROCESS_VERSION = 1
PROTOCOLS = ("maml", "lake")
MAML_TRAIN_CHARACTERS = 1200
MAML_SPLIT_SEED = 1  # the MAML code seeds its shuffle with 1 too (but with Python's random)
N_ROTATIONS = 4

SourceArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


@dataclass(frozen=True)
class CharacterInfo:
    """Who a character is: its alphabet, its folder, its global id (1..1623) and its set."""

    alphabet: str
    character: str
    global_id: int
    set_name: str  # "background" or "evaluation"


@dataclass(frozen=True, eq=False)
class OmniglotData:
    """All 1,623 characters x 20 drawers at 28x28, with each character's identity.

    ``images[c, d]`` is drawer ``d + 1``'s drawing of character ``c`` (characters in
    global-id order, so ``c = global_id - 1``), uint8 with 255 = ink. Move it to a GPU
    with :meth:`to` once and sample episodes there.
    """

    images: torch.Tensor  # [1623, 20, 28, 28] uint8
    alphabet: tuple[str, ...]  # per character
    character: tuple[str, ...]  # per character, e.g. "character07"
    global_id: torch.Tensor  # [1623] int64
    is_background: torch.Tensor  # [1623] bool: background (True) or evaluation set
    source: str = ""
    cache_path: Path | None = None

    @property
    def n_characters(self) -> int:
        return int(self.images.shape[0])

    @property
    def device(self) -> torch.device:
        return self.images.device

    def set_name(self, c: int) -> str:
        return "background" if bool(self.is_background[c]) else "evaluation"

    def info(self, c: int) -> CharacterInfo:
        return CharacterInfo(self.alphabet[c], self.character[c], int(self.global_id[c]),
                             self.set_name(c))

    def alphabets(self, set_name: str | None = None) -> list[str]:
        """Alphabet names in id order, of one set or of both."""
        out: list[str] = []
        for c, a in enumerate(self.alphabet):
            if (set_name is None or self.set_name(c) == set_name) and (not out or out[-1] != a):
                out.append(a)
        return out

    def counts(self) -> dict[str, dict[str, int]]:
        """Alphabets, characters and drawings per set."""
        out = {}
        for s in SETS:
            in_set = self.is_background if s == "background" else ~self.is_background
            n = int(in_set.sum())
            out[s] = {"alphabets": len(self.alphabets(s)), "characters": n, "images": n * N_DRAWERS}
        return out

    def to(self, device: torch.device | str) -> OmniglotData:
        """The same data on ``device`` (25 MB as uint8: the whole set fits on any GPU)."""
        return replace(self, images=self.images.to(device), global_id=self.global_id.to(device),
                       is_background=self.is_background.to(device))

    def split(self, protocol: str = "maml", *, n_train: int = MAML_TRAIN_CHARACTERS,
              seed: int | None = MAML_SPLIT_SEED,
              rotations: bool | None = None) -> tuple[OmniglotSplit, OmniglotSplit]:
        """Meta-training and meta-testing characters under ``protocol`` ("maml" or "lake").

        ``n_train`` and ``seed`` only apply to "maml": the first ``n_train`` characters
        of a ``torch.randperm`` seeded with ``seed`` train (``seed=None``: id order).
        ``rotations`` overrides the protocol's choice of 90-degree rotation classes
        (on for "maml", off for "lake").
        """
        cpu_bg = self.is_background.cpu()
        if protocol == "maml":
            if not 1 <= n_train < self.n_characters:
                raise ConfigError("n_train",
                                  f"must be in 1..{self.n_characters - 1}, got {n_train}")
            if seed is None:
                order = torch.arange(self.n_characters)
            else:
                order = torch.randperm(self.n_characters,
                                       generator=torch.Generator().manual_seed(seed))
            train, test = order[:n_train], order[n_train:]
            rot = True if rotations is None else rotations
        elif protocol == "lake":
            ids = torch.arange(self.n_characters)
            train, test = ids[cpu_bg], ids[~cpu_bg]
            rot = False if rotations is None else rotations
        else:
            raise ConfigError("protocol", f"unknown protocol {protocol!r} (use 'maml' or 'lake')")
        return (
            OmniglotSplit(self, "train", protocol, train.to(self.device), rot),
            OmniglotSplit(self, "test", protocol, test.to(self.device), rot),
        )

    def shown_episodes(self, alphabet: str = "random") -> OmniglotSplit:
        """Where a shown episode's classes come from: "random", the MAML split's testing
        characters (never meta-trained on), or one alphabet's characters; upright only,
        as a person draws them."""
        if alphabet == "random":
            return self.split()[1].with_rotations(False)
        chars = [c for c in range(self.n_characters) if self.alphabet[c] == alphabet]
        if not chars:
            raise ConfigError("alphabet", f"unknown alphabet {alphabet!r}")
        return OmniglotSplit(self, "test", "maml", torch.tensor(chars, device=self.device),
                             False)


@dataclass(frozen=True, eq=False)
class OmniglotSplit:
    """One side of a protocol: the characters that tasks are drawn from.

    With ``rotations`` every character gives 4 classes (0, 90, 180, 270 degrees);
    class ``k`` is character ``characters[k % n_characters]`` turned ``k //
    n_characters`` quarter turns counter-clockwise.
    """

    data: OmniglotData
    name: str  # "train" or "test"
    protocol: str
    characters: torch.Tensor  # [n] int64 indices into data.images
    rotations: bool

    @property
    def n_characters(self) -> int:
        return int(self.characters.shape[0])

    @property
    def n_classes(self) -> int:
        return self.n_characters * (N_ROTATIONS if self.rotations else 1)

    def with_rotations(self, rotations: bool) -> OmniglotSplit:
        return replace(self, rotations=rotations)

    def to(self, device: torch.device | str) -> OmniglotSplit:
        return replace(self, data=self.data.to(device), characters=self.characters.to(device))

    def __repr__(self) -> str:
        return (f"OmniglotSplit({self.protocol}/{self.name}: {self.n_characters} characters, "
                f"{self.n_classes} classes, rotations={self.rotations})")


# --------------------------------------------------------------------------- preprocessing


def to_28(im: Image.Image) -> np.ndarray:
    """A drawing (any size, dark ink on light paper) as Omniglot's 28x28 uint8 ink."""
    return _to_28(im)


def _to_28(im: Image.Image) -> np.ndarray:
    # "1" images are not filtered by PIL's resize, so go through 8-bit grey first;
    # the paper's code resizes with Lanczos. Invert so that ink is 255.
    small = im.convert("L").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.LANCZOS)
    return 255 - np.asarray(small, dtype=np.uint8)


def source_key(source: OmniglotSource) -> str:
    """A digest of the source's files (sizes, mtimes) and of the preprocessing."""
    blob = json.dumps([PREPROCESS_VERSION, IMAGE_SIZE, "lanczos",
                       [s.fingerprint() for s in source.sets()]])
    return hashlib.sha256(blob.encode()).hexdigest()


def cache_file(source: OmniglotSource, cache_dir: Path | None = None) -> Path:
    root = cache_dir if cache_dir is not None else cache_root()
    name = f"omniglot{IMAGE_SIZE}-v{PREPROCESS_VERSION}-{source_key(source)[:16]}.npz"
    return root / "omniglot" / name


def preprocess(source: OmniglotSource, *, progress: bool = True,
               on_progress: OnProgress | None = None) -> dict[str, np.ndarray]:
    """Check both sets and turn all 32,460 drawings into 28x28 uint8 arrays.

    Structure (alphabets, characters, drawers) is checked by file names first, so a
    missing folder is reported before minutes are spent decoding. ``on_progress``
    is called as ``("preprocess", drawings done, drawings in all)``.
    """
    scanned = [(src, scan_set(src)) for src in source.sets()]
    n_chars = sum(len(entries) for _, entries in scanned)
    images = np.empty((n_chars, N_DRAWERS, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    flat = images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    alphabet, character, global_id, is_bg = [], [], [], []
    i = 0
    for src, entries in scanned:
        if progress:
            print(f"Preprocessing Omniglot {src.set_name}: {len(entries) * N_DRAWERS:,} drawings "
                  f"to {IMAGE_SIZE}x{IMAGE_SIZE} (once) ...", file=sys.stderr, flush=True)
        for img in iter_images(src, entries, _to_28):
            flat[i] = img
            i += 1
            if on_progress is not None and (i % 500 == 0 or i == len(flat)):
                on_progress("preprocess", i, len(flat))
        for e in entries:
            alphabet.append(e.alphabet)
            character.append(e.character)
            global_id.append(e.global_id)
            is_bg.append(src.set_name == "background")
    return {
        "images": images,
        "alphabet": np.array(alphabet),
        "character": np.array(character),
        "global_id": np.array(global_id, dtype=np.int64),
        "is_background": np.array(is_bg, dtype=np.bool_),
    }


def _write_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an npz next to ``path`` and rename it into place: never a half-written cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            # uncompressed: loading is a plain read
            np.savez(f, images=arrays["images"], alphabet=arrays["alphabet"],
                     character=arrays["character"], global_id=arrays["global_id"],
                     is_background=arrays["is_background"])
        os.replace(tmp_name, path)
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None if the file is absent or unreadable (then it is rebuilt)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("images", "alphabet", "character", "global_id",
                                        "is_background")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    n = sum(EXPECTED_CHARACTERS.values())
    if arrays["images"].shape != (n, N_DRAWERS, IMAGE_SIZE, IMAGE_SIZE):
        return None
    return arrays


def _from_arrays(arrays: dict[str, np.ndarray], source: str, path: Path | None) -> OmniglotData:
    return OmniglotData(
        images=torch.from_numpy(arrays["images"]),
        alphabet=tuple(str(a) for a in arrays["alphabet"]),
        character=tuple(str(c) for c in arrays["character"]),
        global_id=torch.from_numpy(arrays["global_id"].astype(np.int64)),
        is_background=torch.from_numpy(arrays["is_background"].astype(np.bool_)),
        source=source,
        cache_path=path,
    )


def _load(source: SourceArg, cache_dir: Path | None, download: bool, progress: bool,
          on_progress: OnProgress | None = None) -> tuple[OmniglotData, OmniglotSource, bool]:
    src = resolve_source(source, download=download, progress=progress, on_progress=on_progress)
    path = cache_file(src, cache_dir)
    arrays = _read_cache(path)
    hit = arrays is not None
    if arrays is None:
        start = time.perf_counter()
        arrays = preprocess(src, progress=progress, on_progress=on_progress)
        try:
            _write_atomic(path, arrays)
        except OSError as exc:
            raise DataError(
                f"cannot write the Omniglot cache {path}: {exc}. Set MAMLVIZ_CACHE to a "
                f"writable folder."
            ) from exc
        if progress:
            print(f"Omniglot cached at {path} in {time.perf_counter() - start:.1f} s",
                  file=sys.stderr, flush=True)
    return _from_arrays(arrays, src.location, path), src, hit


def load_omniglot(source: SourceArg = None, *, cache_dir: str | os.PathLike[str] | None = None,
                  download: bool = True, progress: bool = True,
                  on_progress: OnProgress | None = None) -> OmniglotData:
    """Omniglot at 28x28 on the CPU: from the cache if fresh, else preprocessed once.

    ``source`` is a local folder or zip(s) (see :mod:`mamlviz.data.omniglot_source`);
    without it ``$MAMLVIZ_OMNIGLOT`` is used, else the official zips are downloaded
    into the cache (unless ``download=False``). Raises :class:`DataError` when the
    data is missing, partial or corrupt. ``on_progress(what, done, total)`` follows
    the download (``what``: a zip's name, in bytes) and the preprocessing
    (``"preprocess"``, in drawings), e.g. for a progress bar on a page.
    """
    data, _, _ = _load(source, Path(cache_dir) if cache_dir is not None else None,
                       download, progress, on_progress)
    return data


def prepare(source: SourceArg = None, *, cache_dir: str | os.PathLike[str] | None = None,
            download: bool = True, progress: bool = True) -> dict[str, Any]:
    """Find, check and preprocess Omniglot; report what is there (``mamlviz data omniglot``)."""
    start = time.perf_counter()
    data, src, hit = _load(source, Path(cache_dir) if cache_dir is not None else None,
                           download, progress)
    seconds = time.perf_counter() - start
    counts = data.counts()
    protocols = {}
    for protocol in PROTOCOLS:
        train, test = data.split(protocol)
        protocols[protocol] = {
            "train_characters": train.n_characters, "test_characters": test.n_characters,
            "train_classes": train.n_classes, "test_classes": test.n_classes,
            "rotations": train.rotations,
        }
    return {
        "source": src.location,
        "origin": src.origin,  # "argument", "MAMLVIZ_OMNIGLOT" or "download"
        "files": {s.set_name: str(s.path) for s in src.sets()},
        "cache": str(data.cache_path),
        "cache_hit": hit,
        "seconds": round(seconds, 3),
        "image_size": IMAGE_SIZE,
        "alphabets": sum(c["alphabets"] for c in counts.values()),
        "characters": data.n_characters,
        "images": data.n_characters * N_DRAWERS,
        "sets": counts,
        "protocols": protocols,
    }

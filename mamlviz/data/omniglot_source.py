"""Where the Omniglot drawings come from, and whether they are all there.

Omniglot (Lake, Salakhutdinov & Tenenbaum 2015, *Science* 350:1332) has 1,623
handwritten characters from 50 alphabets, each drawn once by 20 different
people as a 105x105 1-bit PNG. The official repository ``brendenlake/omniglot``
ships it as two zips: the *background* set (30 alphabets, 964 characters) and
the *evaluation* set (20 alphabets, 659 characters).

The data can come from three places, first match wins:

1. an explicit ``source`` argument (the CLI's ``--omniglot PATH``);
2. the environment variable ``MAMLVIZ_OMNIGLOT``;
3. a download of the official zips into the cache folder
   (``$MAMLVIZ_CACHE``, default ``~/.cache/mamlviz``), checked against their md5.
   ``$MAMLVIZ_OMNIGLOT_URL`` replaces the official base URL (a mirror, or a test's
   loopback server); a mirror's zips are checked by their content instead, since
   only the official files' md5 is known.

A local PATH may be a folder holding ``images_background.zip`` and
``images_evaluation.zip``, a folder holding the extracted ``images_background/``
and ``images_evaluation/`` folders, one of those zips or folders itself, or
several of these joined with ``os.pathsep``. Local copies are checked by their
content (alphabets, characters, 20 drawings of 105x105 each), not by md5: a zip
that was rebuilt from the same PNGs is just as good, but has other bytes.

Anything missing, truncated or corrupt raises :class:`~mamlviz.errors.DataError`
that says what was found and how to fix it. Downloads are written to a temporary
file next to their target and renamed into place only once verified, so the
cache never holds half a file.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image

from ..errors import DataError

# on_progress(what, done, total): what is being fetched or built, how far, out of how much.
OnProgress = Callable[[str, int, int | None], None]

CACHE_ENV = "MAMLVIZ_CACHE"
SOURCE_ENV = "MAMLVIZ_OMNIGLOT"
URL_ENV = "MAMLVIZ_OMNIGLOT_URL"

OFFICIAL_BASE_URL = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python"
# Seconds a connection or a read may stall: an offline machine fails in seconds, not minutes.
DOWNLOAD_TIMEOUT_S = 20.0
OFFICIAL_MD5 = {
    "background": "68d2efa1b9178cc56df9314c21c6e718",
    "evaluation": "6b91aef0f799c5bb55b94e3f2daec811",
}
SETS = ("background", "evaluation")
# Rough size of a complete zip, only to tell a student how much of a file is missing
# (the official zips and faithful rebuilds differ by a few hundred kB).
APPROX_ZIP_MB = {"background": 9.0, "evaluation": 6.0}

N_DRAWERS = 20
RAW_SIZE = 105

# The 50 alphabets and how many characters each has: lets an error name what is missing.
EXPECTED_ALPHABETS: dict[str, dict[str, int]] = {
    "background": {
        "Alphabet_of_the_Magi": 20, "Anglo-Saxon_Futhorc": 29, "Arcadian": 26,
        "Armenian": 41, "Asomtavruli_(Georgian)": 40, "Balinese": 24, "Bengali": 46,
        "Blackfoot_(Canadian_Aboriginal_Syllabics)": 14, "Braille": 26,
        "Burmese_(Myanmar)": 34, "Cyrillic": 33, "Early_Aramaic": 22, "Futurama": 26,
        "Grantha": 43, "Greek": 24, "Gujarati": 48, "Hebrew": 22,
        "Inuktitut_(Canadian_Aboriginal_Syllabics)": 16, "Japanese_(hiragana)": 52,
        "Japanese_(katakana)": 47, "Korean": 40, "Latin": 26,
        "Malay_(Jawi_-_Arabic)": 40, "Mkhedruli_(Georgian)": 41, "N_Ko": 33,
        "Ojibwe_(Canadian_Aboriginal_Syllabics)": 14, "Sanskrit": 42,
        "Syriac_(Estrangelo)": 23, "Tagalog": 17, "Tifinagh": 55,
    },
    "evaluation": {
        "Angelic": 20, "Atemayar_Qelisayer": 26, "Atlantean": 26, "Aurek-Besh": 26,
        "Avesta": 26, "Ge_ez": 26, "Glagolitic": 45, "Gurmukhi": 45, "Kannada": 41,
        "Keble": 26, "Malayalam": 47, "Manipuri": 40, "Mongolian": 30,
        "Old_Church_Slavonic_(Cyrillic)": 45, "Oriya": 46, "Sylheti": 28,
        "Syriac_(Serto)": 23, "Tengwar": 25, "Tibetan": 42, "ULOG": 26,
    },
}
# Global character ids: 0001-0964 are the background set, 0965-1623 the evaluation set.
FIRST_ID = {"background": 1, "evaluation": 965}
EXPECTED_CHARACTERS = {s: sum(EXPECTED_ALPHABETS[s].values()) for s in SETS}  # 964, 659

# <Alphabet>/characterNN/XXXX_YY.png, relative to images_<set>/
_ENTRY = re.compile(r"^([^/]+)/(character\d+)/(\d{4})_(\d{2})\.png$")


def folder_name(set_name: str) -> str:
    """``images_background`` or ``images_evaluation``: the folder (and zip stem) of a set."""
    return f"images_{set_name}"


def base_url() -> str:
    """Where the zips are fetched from: ``$MAMLVIZ_OMNIGLOT_URL``, else the official folder."""
    return os.environ.get(URL_ENV, "").strip().rstrip("/") or OFFICIAL_BASE_URL


def official_url(set_name: str) -> str:
    return f"{base_url()}/{folder_name(set_name)}.zip"


def expected_md5(set_name: str) -> str | None:
    """The official zip's md5, or None for a mirror (its bytes may differ: checked by content)."""
    return OFFICIAL_MD5[set_name] if base_url() == OFFICIAL_BASE_URL else None


def download_mb() -> int:
    """About how many MB the two zips are, for a student deciding to fetch them."""
    return round(sum(APPROX_ZIP_MB.values()))


def cache_root() -> Path:
    """The cache folder: ``$MAMLVIZ_CACHE`` if set, else ``~/.cache/mamlviz``."""
    env = os.environ.get(CACHE_ENV, "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mamlviz"


def _fix_hint() -> str:
    # Both ways, whichever applies: the hint must not tell a user to unset what is unset.
    return (
        f"Fix: download images_background.zip and images_evaluation.zip from "
        f"{OFFICIAL_BASE_URL}/ and point {SOURCE_ENV} or --omniglot at the folder that holds "
        f"them; or, with a network and neither set, run `python -m mamlviz data omniglot` "
        f"(or press the app's Download button) to fetch them into the cache."
    )


def _mb(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB"


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class SetSource:
    """One of the two sets, as a zip file or an extracted folder."""

    set_name: str  # "background" or "evaluation"
    path: Path
    kind: str  # "zip" or "folder"

    @property
    def label(self) -> str:
        return f"{folder_name(self.set_name)}{'.zip' if self.kind == 'zip' else '/'} ({self.path})"

    def fingerprint(self) -> list[Any]:
        """Sizes and modification times: cheap, and changes whenever the data is replaced."""
        if self.kind == "zip":
            st = self.path.stat()
            return [self.set_name, "zip", st.st_size, st.st_mtime_ns]
        count = total = newest = 0
        for root, _dirs, files in os.walk(self.path):
            for f in files:
                st = os.stat(os.path.join(root, f))
                count, total, newest = count + 1, total + st.st_size, max(newest, st.st_mtime_ns)
        return [self.set_name, "folder", count, total, newest]


@dataclass(frozen=True)
class OmniglotSource:
    """Both sets, plus where they were found (``origin``: argument, env or download)."""

    background: SetSource
    evaluation: SetSource
    origin: str

    def sets(self) -> tuple[SetSource, SetSource]:
        return (self.background, self.evaluation)

    @property
    def location(self) -> str:
        parents = {s.path.parent for s in self.sets()}
        if len(parents) == 1:
            return str(parents.pop())
        return "; ".join(str(s.path) for s in self.sets())


def _set_of_name(name: str) -> str | None:
    for s in SETS:
        if name in (folder_name(s), folder_name(s) + ".zip"):
            return s
    return None


def _look_in(path: Path) -> tuple[dict[str, SetSource], list[str]]:
    """The sets that ``path`` provides, and what else was seen (for error messages)."""
    found: dict[str, SetSource] = {}
    seen: list[str] = []
    if path.is_file():
        s = _set_of_name(path.name)
        if s is None:
            raise DataError(
                f"cannot tell which Omniglot set {path} is: name it images_background.zip or "
                f"images_evaluation.zip. {_fix_hint()}"
            )
        found[s] = SetSource(s, path, "zip")
        return found, seen
    s = _set_of_name(path.name)
    if s is not None:  # the extracted folder of one set itself
        found[s] = SetSource(s, path, "folder")
        return found, seen
    # A folder holding the sets; also look in python/ (a clone of brendenlake/omniglot).
    for base in (path, path / "python"):
        if not base.is_dir():
            continue
        for s in SETS:
            if s in found:
                continue
            zip_path, dir_path = base / f"{folder_name(s)}.zip", base / folder_name(s)
            # A zip is preferred over a folder beside it: one file, CRC-checked entry by entry.
            if zip_path.is_file():
                found[s] = SetSource(s, zip_path, "zip")
            elif dir_path.is_dir():
                found[s] = SetSource(s, dir_path, "folder")
    try:
        seen = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
    except OSError:
        seen = []
    return found, seen


def local_source(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
                 origin: str = "argument") -> OmniglotSource:
    """Both sets from local PATH(s); raises :class:`DataError` if one is missing.

    ``paths`` is one path, a list of paths, or paths joined by ``os.pathsep``.
    """
    if isinstance(paths, (str, os.PathLike)):
        parts = [p for p in os.fspath(paths).split(os.pathsep) if p.strip()]
    else:
        parts = [os.fspath(p) for p in paths]
    if not parts:
        raise DataError(f"no Omniglot path given ({origin} is empty). {_fix_hint()}")
    found: dict[str, SetSource] = {}
    seen: list[str] = []
    for part in parts:
        path = Path(part).expanduser()
        if not path.exists():
            raise DataError(f"Omniglot path {path} ({origin}) does not exist. {_fix_hint()}")
        here, contents = _look_in(path)
        for s, src in here.items():
            found.setdefault(s, src)
        seen += contents
    missing = [s for s in SETS if s not in found]
    if missing:
        wanted = " and ".join(f"{folder_name(s)}.zip (or {folder_name(s)}/)" for s in missing)
        shown = ", ".join(seen[:12]) + (", ..." if len(seen) > 12 else "") if seen else "nothing"
        raise DataError(
            f"no {wanted} in {', '.join(parts)} ({origin}); found: {shown}. {_fix_hint()}"
        )
    return OmniglotSource(found["background"], found["evaluation"], origin)


def resolve_source(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
    on_progress: OnProgress | None = None,
) -> OmniglotSource:
    """Find the data: ``source``, else ``$MAMLVIZ_OMNIGLOT``, else the (downloaded) cache.

    ``on_progress(what, done, total)`` follows a download: ``what`` is the zip's name,
    ``done`` and ``total`` are bytes (``total`` None when the server does not say).
    """
    if source is not None:
        return local_source(source, "argument")
    env = os.environ.get(SOURCE_ENV, "").strip()
    if env:
        return local_source(env, SOURCE_ENV)
    raw = cache_root() / "omniglot" / "raw"
    paths = {s: raw / f"{folder_name(s)}.zip" for s in SETS}
    if not download and not all(p.is_file() for p in paths.values()):
        raise DataError(
            f"Omniglot is not in the cache ({raw}) and downloading is off here. {_fix_hint()}"
        )
    for s, p in paths.items():
        ensure_downloaded(s, p, progress=progress, on_progress=on_progress)
    return OmniglotSource(
        SetSource("background", paths["background"], "zip"),
        SetSource("evaluation", paths["evaluation"], "zip"),
        "download",
    )


# --------------------------------------------------------------------------- download


def file_md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_md5(path: Path, expected: str) -> None:
    """Raise :class:`DataError` unless ``path`` has md5 ``expected``."""
    got = file_md5(path)
    if got != expected:
        raise DataError(
            f"{path.name} has md5 {got}, expected {expected} (size {_mb(path.stat().st_size)}): "
            f"the download is corrupt or not the official file. Delete {path} and try again, "
            f"or download it by hand and point {SOURCE_ENV} at its folder."
        )


def _urlopen(url: str) -> IO[bytes]:
    """Open ``url`` for reading; a seam that the tests replace (there is no network there)."""
    return urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S)  # type: ignore[no-any-return]


class _Progress:
    """A one-line progress bar on stderr (redrawn in place only on a terminal)."""

    def __init__(self, label: str, total: int | None, enabled: bool):
        self.label, self.total, self.enabled = label, total, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.last_step = -1

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        if self.total:
            frac = min(done / self.total, 1.0)
            step = int(frac * 20)
            if not self.tty and step == self.last_step:
                return  # in a log file: one line per 5 %
            self.last_step = step
            bar = "#" * int(frac * 30)
            line = f"{self.label} [{bar:<30}] {frac:4.0%} {_mb(done)} of {_mb(self.total)}"
        else:
            line = f"{self.label} {_mb(done)}"
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def download(url: str, dest: Path, expected_md5: str | None, *, progress: bool = True,
             on_progress: OnProgress | None = None, set_name: str | None = None) -> Path:
    """Fetch ``url`` into ``dest`` and check it; nothing is left behind on failure.

    The bytes go to a temporary file in ``dest``'s folder (so the final rename is
    atomic) and replace ``dest`` only once the length and the md5 are right. Without
    an md5 (a mirror), the zip of ``set_name`` is checked by its content instead: every
    entry's CRC, and every alphabet, character and drawing of the set by name.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h, done = hashlib.md5(), 0
        try:
            with _urlopen(url) as response, os.fdopen(fd, "wb") as out:
                length = getattr(response, "headers", {}).get("Content-Length")
                total = int(length) if length else None
                bar = _Progress(f"Downloading {dest.name}", total, progress)
                if on_progress is not None:
                    on_progress(dest.name, 0, total)
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    out.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    bar.update(done)
                    if on_progress is not None:
                        on_progress(dest.name, done, total)
                bar.close()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise DataError(
                f"could not download {url}: {exc}. Without a network, download "
                f"images_background.zip and images_evaluation.zip from {OFFICIAL_BASE_URL}/ on "
                f"another machine and point {SOURCE_ENV} or --omniglot at their folder."
            ) from exc
        if total is not None and done != total:
            raise DataError(
                f"the download of {dest.name} stopped early: got {_mb(done)} of {_mb(total)}. "
                f"Try again, or download it by hand and point {SOURCE_ENV} at its folder."
            )
        if expected_md5 is not None and h.hexdigest() != expected_md5:
            raise DataError(
                f"downloaded {dest.name} has md5 {h.hexdigest()}, expected {expected_md5} "
                f"({_mb(done)} from {url}): the file is corrupt or not the official one. Try "
                f"again, or download it by hand and point {SOURCE_ENV} at its folder."
            )
        if expected_md5 is None:
            if set_name is None or set_name not in SETS:
                raise ValueError(f"no md5 and no set to check {dest.name} by (got {set_name!r})")
            _check_content(SetSource(set_name, tmp, "zip"),
                           f"downloaded {dest.name} from {url}", "so it was not kept")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _check_content(src: SetSource, what: str, after: str) -> None:
    """A zip not known by md5 must be whole (CRCs) and complete (names) to be used.

    ``what`` names the file in messages ("downloaded X from URL"); ``after`` says what
    was done about it ("so it was not kept").
    """
    try:
        with zipfile.ZipFile(src.path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise DataError(
            f"{what} is not a valid zip ({exc}), {after}. Try again, or download it by hand "
            f"and point {SOURCE_ENV} at its folder."
        ) from exc
    if bad is not None:
        raise DataError(f"{what} is damaged ({bad} fails its CRC), {after}. Try again.")
    try:
        scan_set(src)
    except DataError as exc:
        raise DataError(
            f"{what} is not the whole Omniglot {src.set_name} set, {after}: {exc}"
        ) from exc


def verify_cached(set_name: str, path: Path) -> None:
    """Raise :class:`DataError` unless the cached zip is the official one (md5) or, with
    other bytes (a mirror's, or a rebuilt copy put there by hand), whole and complete."""
    expected = expected_md5(set_name)
    if expected is None or file_md5(path) == expected:
        return
    _check_content(SetSource(set_name, path, "zip"),
                   f"{path.name} in the cache ({path}, md5 not the official one)",
                   "so it is not used")


def ensure_downloaded(set_name: str, dest: Path, *, progress: bool = True,
                      on_progress: OnProgress | None = None) -> Path:
    """The zip of ``set_name`` at ``dest``: kept if it checks out, else fetched.

    The official zip is checked by md5 on every use; a mirror's was checked by content
    when it was downloaded (it is never renamed into place otherwise). A zip with
    other bytes (a mirror's, or a rebuilt copy put there by hand) is kept when its
    content checks out, as a local copy would be.
    """
    if dest.is_file():
        try:
            verify_cached(set_name, dest)
            return dest
        except DataError:
            dest.unlink()  # a corrupt file in our own cache: fetch it again
    expected = expected_md5(set_name)
    return download(official_url(set_name), dest, expected, progress=progress,
                    on_progress=on_progress, set_name=set_name)


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class CharacterEntry:
    alphabet: str
    character: str  # folder name, e.g. "character07"
    global_id: int  # 1..1623
    files: tuple[str, ...]  # the 20 drawings, drawer 01..20, as zip names or file paths


def _truncated_zip(src: SetSource, exc: Exception) -> DataError:
    size = src.path.stat().st_size if src.path.exists() else 0
    return DataError(
        f"{src.path.name} is truncated or damaged (not a valid zip: {exc}): found {_mb(size)}, "
        f"a complete copy is about {APPROX_ZIP_MB[src.set_name]:.0f} MB ({src.path}). "
        f"Re-download it or point {SOURCE_ENV} at a folder with complete zips. {_fix_hint()}"
    )


def _list_entries(src: SetSource) -> list[str]:
    """Paths of all files of the set, relative to its ``images_<set>/`` root."""
    root = folder_name(src.set_name)
    if src.kind == "zip":
        try:
            with zipfile.ZipFile(src.path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _truncated_zip(src, exc) from exc
        rel = [n[len(root) + 1 :] for n in names if n.startswith(root + "/")]
        if not any(rel):
            tops = sorted({n.split("/", 1)[0] for n in names if not n.startswith("__MACOSX")})
            raise DataError(
                f"{src.label} has no {root}/ folder inside (it holds "
                f"{', '.join(tops[:5]) or 'nothing'}): it is not the full Omniglot "
                f"{src.set_name} set. {_fix_hint()}"
            )
        return [r for r in rel if r and not r.endswith("/")]
    out = []
    for dirpath, _dirs, files in os.walk(src.path):
        rel_dir = os.path.relpath(dirpath, src.path)
        for f in files:
            out.append(f if rel_dir == "." else f"{rel_dir}/{f}".replace(os.sep, "/"))
    return out


def scan_set(src: SetSource) -> list[CharacterEntry]:
    """Check a set's structure by file names and list its characters in global-id order.

    Every alphabet and character of the set must be there, each character with exactly
    one drawing per drawer 01..20, all named with the character's global id.
    """
    tree: dict[str, dict[str, dict[int, tuple[int, str]]]] = {}
    for rel in _list_entries(src):
        m = _ENTRY.match(rel)
        if m is None:
            continue  # .DS_Store, Thumbs.db, __MACOSX and such
        alphabet, character, gid, drawer = m[1], m[2], int(m[3]), int(m[4])
        tree.setdefault(alphabet, {}).setdefault(character, {})[drawer] = (gid, rel)

    expected = EXPECTED_ALPHABETS[src.set_name]
    n_chars = sum(len(c) for c in tree.values())
    n_images = sum(len(d) for c in tree.values() for d in c.values())
    problems: list[str] = []
    missing = sorted(set(expected) - set(tree))
    if missing:
        more = " ..." if len(missing) > 5 else ""
        problems.append(f"missing alphabet(s) {', '.join(missing[:5])}{more}")
    extra = sorted(set(tree) - set(expected))
    if extra:
        problems.append(f"unexpected alphabet(s) {', '.join(extra[:5])}")
    for alphabet in sorted(set(tree) & set(expected)):
        chars = tree[alphabet]
        if len(chars) != expected[alphabet]:
            problems.append(f"{alphabet} has {len(chars)} of {expected[alphabet]} characters")
        for character, drawings in sorted(chars.items()):
            if sorted(drawings) != list(range(1, N_DRAWERS + 1)):
                problems.append(
                    f"{alphabet}/{character} has {len(drawings)} drawings"
                    f" (drawers {','.join(f'{d:02d}' for d in sorted(drawings))}), expected 01..20"
                )
            elif len({g for g, _ in drawings.values()}) != 1:
                problems.append(f"{alphabet}/{character} mixes several character ids")
    if problems:
        shown = "; ".join(problems[:4])
        if len(problems) > 4:
            shown += f"; and {len(problems) - 4} more"
        raise DataError(
            f"{src.label} is incomplete: found {len(tree)} of {len(expected)} alphabets, "
            f"{n_chars} of {EXPECTED_CHARACTERS[src.set_name]} characters, {n_images} of "
            f"{EXPECTED_CHARACTERS[src.set_name] * N_DRAWERS} drawings ({shown}). {_fix_hint()}"
        )

    entries = [
        CharacterEntry(alphabet, character, drawings[1][0],
                       tuple(drawings[d][1] for d in range(1, N_DRAWERS + 1)))
        for alphabet, chars in tree.items() for character, drawings in chars.items()
    ]
    entries.sort(key=lambda e: e.global_id)
    ids = [e.global_id for e in entries]
    first = FIRST_ID[src.set_name]
    if ids != list(range(first, first + len(ids))):
        raise DataError(
            f"{src.label} has character ids {ids[0]:04d}..{ids[-1]:04d} with gaps or repeats, "
            f"expected {first:04d}..{first + len(ids) - 1:04d} in file names. {_fix_hint()}"
        )
    return entries


def _decode(data: bytes | IO[bytes], where: str, src: SetSource,
            convert: Callable[[Image.Image], np.ndarray]) -> np.ndarray:
    try:
        with Image.open(data) as im:
            if im.size != (RAW_SIZE, RAW_SIZE):
                raise DataError(
                    f"{where} in {src.label} is {im.size[0]}x{im.size[1]}, expected "
                    f"{RAW_SIZE}x{RAW_SIZE}: not an original Omniglot drawing. {_fix_hint()}"
                )
            im.load()
            return convert(im)
    except DataError:
        raise
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError, zlib.error ...
        raise DataError(
            f"{where} in {src.label} cannot be decoded (corrupt PNG: {exc}). "
            f"Re-download or re-extract the set. {_fix_hint()}"
        ) from exc


def iter_images(src: SetSource, entries: Sequence[CharacterEntry],
                convert: Callable[[Image.Image], np.ndarray]) -> Iterator[np.ndarray]:
    """``convert(image)`` of every drawing, character by character, drawer 01..20."""
    root = folder_name(src.set_name)
    if src.kind == "zip":
        try:
            zf = zipfile.ZipFile(src.path)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _truncated_zip(src, exc) from exc
        with zf:
            for e in entries:
                for rel in e.files:
                    name = f"{root}/{rel}"
                    try:
                        raw = zf.read(name)
                    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                        # a bad CRC or a cut-off entry: the zip's bytes are damaged
                        raise DataError(
                            f"{name} in {src.label} is damaged ({exc}). Re-download the zip. "
                            f"{_fix_hint()}"
                        ) from exc
                    yield _decode(io.BytesIO(raw), name, src, convert)
    else:
        for e in entries:
            for rel in e.files:
                path = src.path / rel
                try:
                    with open(path, "rb") as f:
                        raw = f.read()
                except OSError as exc:
                    raise DataError(f"cannot read {path}: {exc}. {_fix_hint()}") from exc
                yield _decode(io.BytesIO(raw), rel, src, convert)

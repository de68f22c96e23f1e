"""The catalogues (pages/locales/<code>.json): complete, every string in use, one lookup.

Every catalogue has the keys English has (and no others), every string is non-empty and
keeps English's ``{placeholders}``, every key is read by some code in ``pages/`` or
``mamlviz/`` (a string constant, or an f-string such as ``f"state_{state}"``), every section
a page asks for exists, and a key a catalogue lacks falls back to English. The lecture's
terms are spelled one way in each language (its notes say "Support set" and "Query set",
in English, inside the Chinese text).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pages import _chapters, _i18n, _lecture  # noqa: E402

LOCALES = ROOT / "pages" / "locales"
CODES = sorted(p.stem for p in LOCALES.glob("*.json"))
TEXTS = ("texts", "live_texts")  # the calls that take a section's name
# A str.format field; not a LaTeX group (\text{MAML}, \frac{1}{N}, x^{2}).
PLACEHOLDER = re.compile(r"(?<![\\A-Za-z^_}])\{([A-Za-z_]\w*)(?:[:!][^{}]*)?\}")
# Per language: the lecture's word for a thing, and the spellings it replaces.
GLOSSARY = {
    "zh": {"support set": ["支持集"], "query set": ["查询集"], "元训练": ["meta-training",
                                                                     "meta training"]},
}


def load(code: str) -> dict[str, Any]:
    return dict(json.loads((LOCALES / f"{code}.json").read_text(encoding="utf-8")))


Path_ = tuple[str | int, ...]


def leaves(tree: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """(path, value) of every string: dict keys and list indices along the way."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, (*path, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from leaves(value, (*path, index))
    else:
        yield path, tree


def sources() -> list[ast.AST]:
    files = [*(ROOT / "pages").glob("*.py"), *(ROOT / "mamlviz").rglob("*.py")]
    return [ast.parse(f.read_text(encoding="utf-8")) for f in files]


def read_keys() -> tuple[set[str], list[re.Pattern[str]]]:
    """The string constants of the code, and its f-strings as patterns."""
    constants: set[str] = set()
    patterns = []
    for tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                constants.add(node.value)
            elif isinstance(node, ast.JoinedStr):
                parts = [re.escape(v.value) if isinstance(v, ast.Constant) else ".+"
                         for v in node.values]
                if any(isinstance(v, ast.Constant) for v in node.values):
                    patterns.append(re.compile("".join(parts)))
    return constants, patterns


def test_there_are_catalogues_and_english_is_one() -> None:
    assert "en" in CODES and len(CODES) >= 2, CODES
    assert list(_i18n.languages()) == ["en", *sorted(c for c in CODES if c != "en")]
    assert _i18n.languages()["zh"] == "中文"


@pytest.mark.parametrize("code", [c for c in CODES if c != "en"])
def test_every_catalogue_has_exactly_englishs_keys(code: str) -> None:
    english = {path for path, _ in leaves(load("en"))}
    other = {path for path, _ in leaves(load(code))}
    assert not english - other, f"{code} lacks {sorted(map(str, english - other))[:10]}"
    extra = sorted(map(str, other - english))
    assert not extra, f"{code} has keys English lacks: {extra[:10]}"


@pytest.mark.parametrize("code", CODES)
def test_every_string_is_filled_and_keeps_the_placeholders(code: str) -> None:
    english = dict(leaves(load("en")))
    count = 0
    for path, value in leaves(load(code)):
        assert isinstance(value, str) and value.strip(), (code, path)
        assert set(PLACEHOLDER.findall(value)) == set(PLACEHOLDER.findall(english[path])), (
            code, path, value)
        count += 1
    assert count > 500, count  # the whole lecture, not a stub


def test_every_key_is_read_by_the_code() -> None:
    constants, patterns = read_keys()
    unused = []
    for path, _ in leaves(load("en")):
        section, *rest = path
        keys = [k for k in rest if isinstance(k, str)]
        if section in ("chapters", "lecture"):
            continue  # keyed by the chapters' files: checked below
        name = keys[-1] if keys else section
        if name not in constants and not any(p.fullmatch(name) for p in patterns):
            unused.append(".".join(map(str, path)))
    assert not unused, f"catalogue keys no code reads: {unused}"


def test_chapter_titles_and_lecture_points_follow_the_chapters() -> None:
    stems = [file.removesuffix(".py") for file, *_ in _chapters.CHAPTERS]
    for code in CODES:
        catalogue = load(code)
        assert list(catalogue["chapters"]) == stems, code
        assert set(catalogue["lecture"]) == {f.removesuffix(".py") for f in _lecture.TARGETS}
        for file, targets in _lecture.TARGETS.items():
            assert len(catalogue["lecture"][file.removesuffix(".py")]) == len(targets), (code, file)


def test_every_section_a_page_asks_for_exists() -> None:
    asked = set()
    for tree in sources():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
                    and getattr(node.func, "attr", getattr(node.func, "id", "")) in TEXTS
                    and node.args and isinstance(node.args[0], ast.Constant)):
                asked.add(node.args[0].value)
    english = load("en")
    assert len(asked) > 15, asked
    assert asked <= set(english), asked - set(english)
    assert set(english) == asked, set(english) ^ asked


@pytest.mark.parametrize("code", sorted(GLOSSARY))
def test_the_lectures_terms_are_spelled_one_way(code: str) -> None:
    for path, value in leaves(load(code)):
        for term, variants in GLOSSARY[code].items():
            for variant in variants:
                assert variant.lower() not in value.lower(), (path, f"{variant!r}: say {term!r}")
    text = (LOCALES / f"{code}.json").read_text(encoding="utf-8")
    assert all(term in text for term in GLOSSARY[code])


def test_a_missing_key_or_section_falls_back_to_english(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    english = load("en")
    partial = {"language": {"name": "Testish", "choose": "Choose"},
               "router": {"presentation": "PRESENTING"}}
    (tmp_path / "en.json").write_text(json.dumps(english), encoding="utf-8")
    (tmp_path / "xx.json").write_text(json.dumps(partial), encoding="utf-8")
    monkeypatch.setattr(_i18n, "LOCALES", tmp_path)
    for cached in (_i18n.catalogue, _i18n.languages, _i18n._texts):
        cached.cache_clear()
    try:
        assert _i18n.languages() == {"en": "English", "xx": "Testish"}
        router = _i18n.texts("router", "xx")
        assert router["presentation"] == "PRESENTING"
        assert router["dark"] == english["router"]["dark"]  # a key it lacks
        assert _i18n.texts("sinusoid", "xx") == english["sinusoid"]  # a section it lacks
        assert _i18n.chapter_title("reptile.py", "xx") == english["chapters"]["reptile"]
        assert [p.text for p in _lecture.points("home.py", "xx")] == english["lecture"]["home"]
        # A copy: a page adding to it changes nothing for the next reader.
        router["added"] = "x"
        assert "added" not in _i18n.texts("router", "xx")
    finally:
        monkeypatch.undo()
        for cached in (_i18n.catalogue, _i18n.languages, _i18n._texts):
            cached.cache_clear()

"""The lecture's words in each language: one catalogue file per language.

``pages/locales/<code>.json`` holds every string a reader sees, by section (a chapter,
its figures, a shared part of the app such as the live runs' controls), so a third
language is one new file: the language list is the files present. Chapters ask for a
section with ``texts("sinusoid")``; a key a catalogue lacks falls back to English,
section by section and label by label, rather than crashing a page.
``tests/test_i18n.py`` keeps the catalogues complete and every string in use.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st

LOCALES = Path(__file__).resolve().parent / "locales"
FALLBACK = "en"
STATE = "lang"  # the session's language, set by the sidebar or ?lang=


@cache
def catalogue(language: str) -> dict[str, Any]:
    """One language's whole catalogue, read once per server."""
    with open(LOCALES / f"{language}.json", encoding="utf-8") as file:
        return dict(json.load(file))


@cache
def languages() -> dict[str, str]:
    """code -> the language's own name, English first, then the other files by code."""
    codes = sorted((p.stem for p in LOCALES.glob("*.json")), key=lambda c: (c != FALLBACK, c))
    return {code: catalogue(code)["language"]["name"] for code in codes}


def lang() -> str:
    """The reader's language (English until chosen)."""
    value = st.session_state.get(STATE, FALLBACK)
    return value if value in languages() else FALLBACK


def _merged(fallback: Any, chosen: Any) -> Any:
    if isinstance(fallback, dict) and isinstance(chosen, dict):
        return {key: _merged(value, chosen.get(key)) for key, value in fallback.items()}
    return fallback if chosen is None else chosen


@cache
def _texts(section: str, language: str) -> dict[str, Any]:
    fallback = catalogue(FALLBACK)[section]
    return dict(_merged(fallback, catalogue(language).get(section)))


def texts(section: str, language: str | None = None) -> dict[str, Any]:
    """A section's strings in ``language`` (the reader's by default), English wherever the
    catalogue lacks one. A copy: a page may add to it."""
    return dict(_texts(section, language or lang()))


def chapter_title(file: str, language: str | None = None) -> str:
    """A chapter's title (``file`` as in ``CHAPTERS``: "sinusoid.py")."""
    return str(texts("chapters", language)[file.removesuffix(".py")])

"""Property-based fuzz of the app's URL query parameters (hypothesis + AppTest).

The router reads ``?lang=``; other parameters (``presentation``, ``page``, junk) must be
ignored. Any mix of keys and values, of any length or alphabet: the app starts without an
exception, in English unless ``lang=zh``, and its title is shown. Each case starts the
app (seconds), so the count is small: ``MAMLVIZ_URL_FUZZ_EXAMPLES`` (default 6).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import streamlit as st
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_h
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
EXAMPLES = int(os.environ.get("MAMLVIZ_URL_FUZZ_EXAMPLES", "6"))

KEYS = st_h.sampled_from(["lang", "presentation", "page", "embed", "x", "", "lang[]", "🧠"])
VALUES = st_h.one_of(st_h.sampled_from(["xx", "zh", "en", "maybe", "true", "", "-1", "1e308",
                                        "<script>alert(1)</script>", "zh" * 500]),
                     st_h.text(max_size=50))


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(query=st_h.dictionaries(KEYS, VALUES, max_size=4))
def test_any_query_parameters_start_the_app(query: dict[str, str],
                                            monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("MAMLVIZ_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MAMLVIZ_OMNIGLOT", str(tmp_path / "no-omniglot-here"))
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, (query, [e.value for e in at.exception])
    assert at.session_state["lang"] == ("zh" if query.get("lang") == "zh" else "en")
    assert at.title, query

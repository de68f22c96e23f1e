"""Presentation mode: the lecture projected to a room, its settings kept in the URL.

A teacher opens ``/<chapter>?presentation=1&lang=zh&theme=dark&step=2`` from a
bookmark and the chapter comes up ready to project: everything larger (text, widget
labels and values, tables, code, charts, Omniglot drawings), the sidebar hidden, a
minimal header with the chapter and the lecture's current point (``pages/_lecture.py``).
The settings are read from the URL once per session and written back to it on every
run, so a reload, a new tab or a bookmark keeps them.

Styling is CSS, sent with ``st.html`` (Streamlit puts a style-only element in its event
container: it takes no room on the page), plus one print stylesheet for handouts.
"""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from pages import _i18n

# Session-state keys of the settings that the URL carries.
PRESENTATION = "presentation"
LANG = "lang"
DARK = "dark"
STEP = "step"
_SETTINGS = "_mamlviz_settings"  # {LANG, PRESENTATION, DARK}: outlives page switches


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _language(value: str | None) -> str:
    """A URL's ``lang``: a language the catalogues have, else the fallback (English)."""
    return value if value in _i18n.languages() else _i18n.FALLBACK


def read_url(params: Mapping[str, str] | None = None) -> None:
    """Before any widget: the session's settings, from the URL on its first run.

    ``?presentation=1``, ``?lang=<code>`` (a catalogue's: en, zh) and ``?theme=dark``;
    unknown values are the defaults (a mistyped bookmark still opens the lecture). The
    settings live under a key of their own and are copied to their widgets' keys on
    every run: Streamlit drops every widget's value when a script switches pages
    (``st.switch_page``, which the lecture's keys use), and the lecture must not fall
    back to English, small fonts.
    """
    settings = st.session_state.get(_SETTINGS)
    if settings is None:
        params = st.query_params if params is None else params
        settings = {
            LANG: st.session_state.get(LANG) or _language(params.get("lang")),
            PRESENTATION: bool(st.session_state.get(PRESENTATION))
            or truthy(params.get("presentation")),
            DARK: bool(st.session_state.get(DARK))
            or (params.get("theme") or "").lower() == "dark",
        }
        st.session_state[_SETTINGS] = settings
    for key, value in settings.items():
        st.session_state[key] = value


def remember(key: str) -> None:
    """A settings widget's ``on_change``: its new value becomes the session's setting."""
    st.session_state[_SETTINGS][key] = st.session_state[key]


def flip(key: str) -> None:
    """A switch button's ``on_click`` (the header's, while the sidebar is hidden)."""
    st.session_state[_SETTINGS][key] = not st.session_state[_SETTINGS].get(key, False)
    st.session_state[key] = st.session_state[_SETTINGS][key]


def url_params(step: int | None = None) -> dict[str, str]:
    """The settings as URL parameters (the defaults left out, so a plain URL stays plain)."""
    params: dict[str, str] = {}
    if st.session_state.get(PRESENTATION):
        params["presentation"] = "1"
    if st.session_state.get(LANG, _i18n.FALLBACK) != _i18n.FALLBACK:
        params["lang"] = st.session_state[LANG]
    if st.session_state.get(DARK):
        params["theme"] = "dark"
    if step is not None and st.session_state.get(PRESENTATION):
        params["step"] = str(step)
    return params


def write_url(step: int | None = None) -> None:
    """The address bar says what the session shows: written only when it differs (each
    write is a message to the browser)."""
    params = url_params(step)
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


# Projected text: sizes in px on Streamlit's own test hooks (its widget labels, slider
# values and tables are sized in px, so a larger root font alone left them small).
PRESENTATION_CSS = """
html {font-size: 20px;}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stExpandSidebarButton"], [data-testid="stHeader"] {display: none !important;}
[data-testid="stMainBlockContainer"] {padding: 1rem 2.5rem 3rem; max-width: 100%;}
[data-testid="stMain"] :is(.stMarkdown p, .stMarkdown li, .stMarkdown td, .stMarkdown th,
  [data-testid="stWidgetLabel"] p, [data-testid="stWidgetLabel"] label,
  [data-testid="stRadio"] label p, [data-testid="stCheckbox"] label p,
  [data-testid="stToggle"] label p, [data-testid="stExpander"] summary p,
  [data-testid="stButton"] button p, [data-testid="stFormSubmitButton"] button p,
  [data-testid="stPageLink"] p, [data-testid="stTab"] p, [data-testid="stAlert"] p,
  [data-testid="stMetricLabel"] p, [data-testid="stTable"] td, [data-testid="stTable"] th,
  [data-testid="stDownloadButton"] button p,
  .mamlviz-pseudo-code) {font-size: 26px !important; line-height: 1.45;}
[data-testid="stMain"] :is([data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
  [data-testid="stSliderThumbValue"], [data-testid="stSliderTickBarMin"],
  [data-testid="stSliderTickBarMax"], [data-testid="stNumberInput"] input,
  [data-testid="stTextInput"] input, [data-testid="stSelectbox"] :is(input, div, span),
  [data-testid="stMultiSelect"] :is(input, div, span),
  [data-testid="stDataFrame"], code, pre) {font-size: 22px !important;}
/* A select's choices open in a layer outside the main area. */
[data-baseweb="popover"] :is([role="option"], [role="option"] *) {font-size: 22px !important;}
/* Long switch labels wrap instead of ending in "...". */
[data-testid="stMain"] [data-testid="stToggle"] label :is(p, div) {white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important;}
[data-testid="stMain"] [data-testid="stMetricValue"] div {font-size: 44px !important;}
[data-testid="stMain"] [data-testid="stSlider"] [role="slider"] {width: 1.4rem; height: 1.4rem;}
[data-testid="stMain"] .katex {font-size: 1.5em;}
[data-testid="stHeading"] {scroll-margin-top: 6rem;}
/* Sticky on its wrapper: the keyed block's own parent is only as tall as itself. */
[data-testid="stLayoutWrapper"]:has(> .st-key-mamlviz-lecture-head) {position: sticky; top: 0;
  z-index: 999; background: var(--mamlviz-bg, #fff);
  border-bottom: 2px solid rgba(128,128,128,.4); padding: .3rem 0;}
.st-key-mamlviz-lecture-head .mamlviz-point {font-size: clamp(18px, 1.5vw, 28px); font-weight: 600;}
/* The point may take two lines: its markdown's negative bottom margin cut the second. */
.st-key-mamlviz-lecture-head [data-testid="stMarkdownContainer"] {margin-bottom: 0 !important;}
.st-key-mamlviz-lecture-head {overflow: visible !important;}
.st-key-mamlviz-lecture-head [data-testid="stPageLink"] p {white-space: nowrap;
  font-size: clamp(16px, 1.2vw, 22px) !important;}
.st-key-mamlviz-lecture-head [data-testid="stButton"] button {min-height: 0; padding: .1rem .6rem;}
"""

# Projectors in dim rooms: the whole app inverted (charts and drawings included, so
# nothing stays a white rectangle), hues turned back so red stays red.
DARK_CSS = """
:root {--mamlviz-bg: #fff;}
[data-testid="stApp"] {filter: invert(1) hue-rotate(180deg) contrast(1.15);
  background: #fff;}
[data-testid="stApp"] img {filter: invert(1) hue-rotate(180deg);}
/* What the inversion turned black on black: a slider's unfilled track (25% of a light
   grey over white), an unselected radio's ring, captions' faint grey. Darkened here,
   so inverted they are light on the dark page. */
[data-testid="stSlider"] [role="group"] > div > div:first-child {
  background-color: rgba(0, 0, 0, .5) !important;}
[data-testid="stRadio"] [role="radiogroup"] label > div > div:first-child:not([data-testid]) {
  border: 2px solid rgba(0, 0, 0, .6) !important;}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {
  color: rgba(0, 0, 0, .8) !important;}
/* A toggle that is off: its light grey track came out nearly black. */
label:has(> span > input[role="switch"]:not(:checked)) > div:not([data-testid]) {
  background-color: rgba(0, 0, 0, .5) !important;}
"""

# A printed chapter is a handout: no sidebar, header, navigation or widgets' chrome;
# charts narrowed to A4's width (by the lecture's key script on "beforeprint") and
# never cut across pages.
PRINT_CSS = """
@media print {
  @page {size: A4; margin: 12mm;}
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
  .st-key-mamlviz-lecture-head, .st-key-mamlviz-lecture-foot, .modebar-container,
  [data-testid="stDecoration"], [data-testid="stStatusWidget"] {display: none !important;}
  [data-testid="stApp"] {filter: none !important;}
  [data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stApp"],
  [data-testid="stAppScrollToBottomContainer"] {overflow: visible !important;
    position: static !important; height: auto !important;}
  [data-testid="stMainBlockContainer"] {padding: 0 !important; max-width: 100% !important;}
  .mamlviz-chart, [data-testid="stImage"], [data-testid="stTable"], .mamlviz-pseudo-code,
  [data-testid="stHeading"] {break-inside: avoid; page-break-inside: avoid;}
  [data-testid="stHeading"] {break-after: avoid;}
  .mamlviz-chart, .mamlviz-chart .js-plotly-plot, .mamlviz-chart svg {max-width: 100% !important;}
}
"""


def style() -> str:
    """The stylesheet this session needs now."""
    parts = [PRINT_CSS]
    if st.session_state.get(PRESENTATION):
        parts.append(PRESENTATION_CSS)
    if st.session_state.get(DARK):
        parts.append(DARK_CSS)
    return "<style>" + "\n".join(parts) + "</style>"


def inject() -> None:
    """One style element per run, before the page's content."""
    st.html(style())

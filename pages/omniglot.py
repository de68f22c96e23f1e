"""Omniglot, live: the data, an N-way K-shot episode, the models adapting, you against them.

Thin: widgets in; ``mamlviz`` loads the data, samples episodes, adapts
(``mamlviz.newtask``) and meta-trains in a worker thread (``mamlviz.live``);
``mamlviz.figures.omniglot`` draws. Data and shipped checkpoints are loaded
once per server and shared by every session; a session's own training run and
the models it produces live in its ``st.session_state``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st
import torch

from mamlviz.config import PRESET_REFERENCES, PRESETS, omniglot_test_steps, preset_settings
from mamlviz.errors import MamlvizError
from mamlviz.figures.omniglot import (
    accuracy_steps_figure,
    image_grid_figure,
    live_training_figure,
)
from mamlviz.human_vs_model import (
    PUBLISHED_ERRORS,
    SOURCES,
    GameEpisode,
    game_episode,
    seen_characters,
    training_characters,
)
from mamlviz.live import LiveRun, process_rss_bytes
from mamlviz.live_omniglot import live_defaults, live_run_configs
from mamlviz.newtask import (
    omniglot_adapt,
    omniglot_evaluator,
    random_conv4_phi,
    random_init_inner_lr,
)
from mamlviz.own_drawings import decode_drawing, is_blank, own_episode
from pages import _algorithms, _classroom, _data, _drawing, _i18n, _ui
from pages._live_chart import live_chart

_ui.through_the_router()

ALGORITHMS = _algorithms.names("omniglot")
# A shipped model's file is omniglot_{algorithm}_{N}w{K}s{protocol}.pt: "" for the MAML
# protocol's split, "_lake" for models meta-trained on the background alphabets alone.
PROTOCOLS = ("", "_lake")
RUN_KEY = "omni_live_run"
# Adaptation steps shown for one episode. MAML's paper adapts with 3 to 5 steps at test
# time; Reptile's with 50 small Adam steps, most of whose gain comes in the first ten (its
# model card scores 50). Each step of each model costs a gradient on the support set, and a
# new episode adapts every model: 50 steps made a 20-way episode take seconds.
MAX_STEPS = 10

ANSWER_COLUMNS = 10  # as the query grid: the answers keep the drawings' order and rows
THUMBNAIL_PX = 84  # 28 px drawings at 3x, each pixel a block: no blur


def _thumbnail(drawing: Any) -> Any:
    """One query drawing (1 = ink) as a white picture with black ink, 3x, pixels kept sharp."""
    import numpy as np

    ink = np.asarray(drawing, dtype=np.float32).reshape(28, 28)
    return np.kron(255 * (1.0 - ink), np.ones((3, 3))).astype(np.uint8)


def _fig_labels(name: str) -> dict[str, str]:
    return dict(_i18n.texts("omniglot.figures")[name])


def _omniglot(env_source: str | None) -> Any:
    """Omniglot once per server ($MAMLVIZ_OMNIGLOT, else the cache: pages/_data.py), or the error.

    ``env_source`` only keys the caches built from the data.
    """
    return _data.omniglot()


def _checkpoint_path(algorithm: str, n_way: int, k_shot: int, protocol: str = "") -> Path:
    return _ui.CHECKPOINTS / f"omniglot_{algorithm}_{n_way}w{k_shot}s{protocol}.pt"


@st.cache_resource(show_spinner=False)
def _checkpoint(algorithm: str, n_way: int, k_shot: int, protocol: str = "") -> Any:
    """A shipped checkpoint, loaded once per server: (config, phi, the inner Adam moments its
    training kept or None), an error, or None if absent."""
    from mamlviz.runs import load_learner

    path = _checkpoint_path(algorithm, n_way, k_shot, protocol)
    if not path.exists():
        return None
    try:
        return load_learner(path, problem="omniglot")
    except MamlvizError as exc:
        return exc


def _shipped(n_way: int, k_shot: int) -> list[tuple[str, str, Any]]:
    """Every shipped N-way K-shot model: (its key, algorithm, protocol suffix), present or
    broken (a broken one is loaded as its error). A Lake-protocol model's key is
    "algorithm@lake": the figures draw it in its algorithm's colour, dotted."""
    return [(f"{a}@{p.strip('_')}" if p else a, a, p) for a in ALGORITHMS for p in PROTOCOLS
            if _checkpoint(a, n_way, k_shot, p) is not None]


def _model_name(t: dict[str, str], names: dict[str, str], algorithm: str, protocol: str) -> str:
    return t["lake_model"].format(name=names[algorithm]) if protocol else names[algorithm]


@st.cache_resource(show_spinner=False)
def _trained_on(env_source: str | None, algorithm: str, n_way: int, k_shot: int,
                protocol: str) -> frozenset[int] | None:
    """The characters a shipped model meta-trained on (from its file), once per server."""
    from mamlviz.runs import load_checkpoint

    _, checkpoint = load_checkpoint(_checkpoint_path(algorithm, n_way, k_shot, protocol),
                                    problem="omniglot")
    return training_characters(checkpoint.config, checkpoint.metrics, _omniglot(env_source))[0]


def _from_card(path: Path, show: Callable[[dict[str, Any]], str]) -> str:
    """One value of a shipped model's model-card JSON, or a dash if it is absent or bad."""
    try:
        return show(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return "—"


def _reported(algorithm: str, n_way: int, k_shot: int) -> tuple[str, str]:
    """A shipped model's 600-task accuracy and its meta-iterations, from its model-card JSON."""
    stem = _checkpoint_path(algorithm, n_way, k_shot)
    accuracy = _from_card(stem.with_suffix(".eval.json"),
                          lambda r: f"{100 * r['accuracy']:.1f} ± {100 * r['ci95']:.1f}")
    iterations = _from_card(stem.with_suffix(".train.json"), lambda r: f"{r['step']:,}")
    return accuracy, iterations


@st.cache_data(show_spinner=False, max_entries=64)
def _episode(env_source: str | None, n_way: int, k_shot: int, seed: int, source: str
             ) -> GameEpisode:
    """An episode with one query per class, the queries shuffled (shared across sessions)."""
    return game_episode(_omniglot(env_source), source, n_way, k_shot, seed)


@st.cache_data(show_spinner=False, max_entries=256)
def _shipped_adapt(env_source: str | None, n_way: int, k_shot: int, seed: int, source: str,
                   algorithm: str, protocol: str = "") -> dict[str, Any]:
    """A shipped model adapted on an episode: computed once per server, shared by sessions."""
    config, phi, moments = _checkpoint(algorithm, n_way, k_shot, protocol)
    ep = _episode(env_source, n_way, k_shot, seed, source).tensors
    return omniglot_adapt(phi, n_way, config.inner_lr, MAX_STEPS, ep["support_x"],
                          ep["support_y"], ep["query_x"], ep["query_y"],
                          config.inner_optimizer, config.test_inner_batch, moments,
                          algorithm=algorithm)


@st.cache_data(show_spinner=False, max_entries=64)
def _random_adapt(env_source: str | None, n_way: int, k_shot: int, seed: int,
                  source: str) -> dict[str, Any]:
    ep = _episode(env_source, n_way, k_shot, seed, source).tensors
    return omniglot_adapt(random_conv4_phi(n_way, 0), n_way, random_init_inner_lr(n_way),
                          MAX_STEPS, ep["support_x"], ep["support_y"], ep["query_x"],
                          ep["query_y"])


def own_drawings(t: dict[str, str], names: dict[str, str], steps: int) -> None:
    """The student draws five classes and a query; every shipped 5-way 1-shot model
    adapts on the drawings and answers (``mamlviz.own_drawings``)."""
    st.subheader(t["own_head"])
    st.markdown(t["own_body"])
    ways = 5
    boxes = st.columns(ways + 1)
    drawn: list[Any] = []
    for i, box in enumerate(boxes):
        with box:
            st.caption(t["own_class"].format(c=i) if i < ways else t["own_query"])
            url = _drawing.canvas(key=f"omni_own_{i}", clear=t["own_clear"])
            ink = None
            if url is not None:
                try:
                    ink = decode_drawing(url)
                except MamlvizError as exc:
                    st.warning(t["own_bad"].format(error=exc))
            drawn.append(None if ink is None or is_blank(ink) else ink)
    empty = [str(i) if i < ways else "?" for i, ink in enumerate(drawn) if ink is None]
    if empty:
        st.caption(t["own_missing"].format(boxes=", ".join(empty)))
        return
    episode = own_episode(drawn[:ways], drawn[ways])
    rows = []
    for _, algorithm, protocol in _shipped(ways, 1):
        loaded = _checkpoint(algorithm, ways, 1, protocol)
        if isinstance(loaded, BaseException):
            continue
        config, phi, moments = loaded
        result = omniglot_adapt(phi, ways, config.inner_lr, steps, episode["support_x"],
                                episode["support_y"], episode["query_x"], episode["query_y"],
                                config.inner_optimizer, config.test_inner_batch, moments,
                                algorithm=algorithm)
        by_step = result["predictions_by_step"]
        # the query is the last of the query set; ProtoNets: one point, no steps
        said = by_step[min(steps, len(by_step) - 1)][-1]
        rows.append({t["own_model"]: _model_name(t, names, algorithm, protocol),
                     t["own_says"]: t["own_class"].format(c=said),
                     t["own_sure"]: f"{result['confidence'][-1]:.2f}"})
    if not rows:
        st.info(t["own_none"])
        return
    st.caption(t["own_answers"].format(steps=steps))
    st.markdown(_ui.markdown_table(rows))


def _apply_preset() -> None:
    """A preset chosen: its values go into the live-training widgets (still editable)."""
    name = st.session_state.get("omni_live_preset", "custom")
    if name not in PRESETS:
        return
    chosen = preset_settings(name)
    if "algorithm" in chosen:
        st.session_state["omni_algorithms"] = [chosen["algorithm"]]
    st.session_state["omni_live_n"] = chosen["n_way"]
    st.session_state["omni_live_k"] = chosen["k_shot"]
    st.session_state["omni_live_batch"] = chosen["meta_batch_size"]
    st.session_state[f"omni_live_lr_{chosen['n_way']}"] = chosen["inner_lr"]
    st.session_state["omni_live_meta_lr"] = chosen["meta_lr"]


def _live_panel(t: dict[str, str], names: dict[str, str], n_way: int) -> None:
    run: LiveRun | None = st.session_state.get(RUN_KEY)
    if run is None:
        st.info(t["idle"])
        return
    snap = run.snapshot()
    _classroom.queue_status(snap, "omni")
    preset = st.session_state.get("omni_live_run_preset")
    references = {t["reference"].format(name=k): v
                  for k, v in PRESET_REFERENCES.get(preset or "", {}).items()}
    live_chart(lambda: live_training_figure(snap.records, snap.evals, names, n_way,
                                            labels=_fig_labels("live"),
                                            references=references),
               key="omni_live_chart", height=440, version=snap.version)
    st.caption(t["loss_note"])
    c1, c2, c3 = st.columns(3)
    c1.metric(t["its"], f"{sum(snap.it_per_s.values()) if snap.running else 0.0:.2f}")
    c2.metric(t["device"], snap.device or _ui.device_name())
    c3.metric(t["memory"], f"{process_rss_bytes() / 2**20:.0f} MiB")
    rows = []
    for key, state in snap.status.items():
        evals = snap.evals.get(key) or []
        rows.append({t["model"]: names.get(key, key), t["status"]: t.get(f"state_{state}", state),
                     t["step_col"]: snap.steps.get(key, 0),
                     t["acc_col"]: round(100 * evals[-1].value, 1) if evals else None})
    st.markdown(_ui.markdown_table(rows))
    _classroom.run_messages(t, snap, names)
    was_running = st.session_state.get("omni_was_running", False)
    st.session_state["omni_was_running"] = snap.running
    if was_running and not snap.running:
        st.rerun()


@dataclass(frozen=True)
class Episode:
    """The episode on screen: its settings (``key`` also keys the figures' caches) and
    ``game``: its drawings (support and query, the queries shuffled) and their origin."""

    env_source: str | None
    n_way: int
    k_shot: int
    seed: int
    source: str
    game: GameEpisode

    @property
    def tensors(self) -> dict[str, Any]:
        return self.game.tensors

    @property
    def key(self) -> tuple[int, int, int, str]:
        return (self.n_way, self.k_shot, self.seed, self.source)


def the_data(t: dict[str, str], names: dict[str, str], env_source: str | None) -> Any:
    """Omniglot, found or fetched; without it the page ends with the papers' numbers."""
    st.header(t["data_head"])
    data = _omniglot(env_source)
    if isinstance(data, BaseException) or data is None:
        data = _data.missing(data, key="omni")  # the data once a download ends, else None
    if data is None:
        st.subheader(t["table_head"])
        st.markdown(_ui.markdown_table([{t["model"]: f"{names[a.name]} {n}-way {k}-shot",
                                         t["paper_col"]: f"{a.paper_accuracy(n, k):.1f}"}
                                        for a in _algorithms.all_algorithms("omniglot")
                                        for (n, k) in a.paper]))
        st.stop()
    counts = data.counts()
    st.success(t["found"].format(source=data.source, bg=counts["background"]["characters"],
                                 bga=counts["background"]["alphabets"],
                                 ev=counts["evaluation"]["characters"],
                                 eva=counts["evaluation"]["alphabets"]))
    return data


def browse(t: dict[str, str], data: Any, env_source: str | None) -> None:
    """An alphabet's characters, and one character drawn by all 20 people."""
    st.header(t["browse_head"])
    alphabets = data.alphabets()
    b1, b2 = st.columns([3, 1])
    alphabet = b1.selectbox(t["alphabet"], alphabets, key="omni_alphabet",
                            format_func=lambda a: a.replace("_", " "))
    drawer = b2.slider(t["drawer"], 1, 20, 1, key="omni_drawer")
    chars = [c for c in range(data.n_characters) if data.alphabet[c] == alphabet]
    # Figures are built once per server for their inputs (show_figure's cache_key): image
    # grids are the page's most expensive figures to build.
    _ui.show_figure(lambda: image_grid_figure(data.images[chars, drawer - 1].float() / 255.0,
                                              [data.character[c].removeprefix("character")
                                               for c in chars], columns=12, meta="alphabet"),
                    "omniglot-alphabet", key="omni_alphabet_fig",
                    cache_key=(env_source, alphabet, drawer))
    character = st.selectbox(t["character"], chars, key="omni_character",
                             format_func=lambda c: data.character[c])
    st.caption(t["all_drawers"].format(name=f"{alphabet} / {data.character[character]}"))
    _ui.show_figure(lambda: image_grid_figure(data.images[character].float() / 255.0,
                                              [str(d) for d in range(1, 21)], columns=10,
                                              meta="drawers"),
                    "omniglot-character", key="omni_character_fig",
                    cache_key=(env_source, character))


def _where_from(t: dict[str, str], data: Any, game: GameEpisode) -> str:
    """Where the episode's characters come from, and who drew them, in words."""
    sets = {data.info(c).set_name for c in game.characters}
    alphabets = ", ".join(a.replace("_", " ") for a in game.alphabets)
    return t["where_from"].format(
        n=len(game.characters), alphabets=alphabets,
        sets=" + ".join(t[f"set_{s}"] for s in sorted(sets)),
        support=", ".join(map(str, game.support_drawers)),
        query=", ".join(map(str, game.query_drawers)))


def an_episode(t: dict[str, str], data: Any, env_source: str | None) -> Episode:
    """An N-way K-shot episode: its support set, and one query drawing per class."""
    st.header(t["episode_head"])
    e1, e2, e3, e4 = st.columns(4)
    n_way = e1.select_slider(t["n_way"], list(range(2, 21)), value=5, key="omni_n_way")
    k_shot = e2.select_slider(t["k_shot"], [1, 2, 3, 4, 5], value=1, key="omni_k_shot")
    # Lake et al.'s runs first: characters no Lake-protocol model meta-trained on.
    alphabets = data.alphabets("evaluation") + data.alphabets("background")
    source = e3.selectbox(t["from"], [*SOURCES, *alphabets], key="omni_source",
                          format_func=lambda s: (t[f"source_{s}"] if s in SOURCES
                                                 else s.replace("_", " ")))
    seed = int(e4.number_input(t["seed"], 0, 1_000_000, 0, key="omni_seed"))
    try:
        game = _episode(env_source, n_way, k_shot, seed, source)
    except MamlvizError as exc:
        n_chars = sum(1 for a in data.alphabet if a == source)
        st.warning(t["too_few"].format(n=n_chars) if source not in SOURCES else str(exc))
        st.stop()
    tensors = game.tensors
    ep = Episode(env_source, n_way, k_shot, seed, source, game)
    st.caption(_where_from(t, data, game))
    support_titles = [t["class"].format(n=int(y)) for y in tensors["support_y"]]
    st.subheader(t["support"])
    _ui.show_figure(lambda: image_grid_figure(tensors["support_x"], support_titles,
                                              columns=min(10, n_way * k_shot), meta="support"),
                    "omniglot-support", key="omni_support_fig",
                    cache_key=(env_source, ep.key))
    st.subheader(t["query"])
    query_titles = [t["qnum"].format(n=i + 1) for i in range(n_way)]
    _ui.show_figure(lambda: image_grid_figure(tensors["query_x"], query_titles, columns=10,
                                              meta="query"),
                    "omniglot-query", key="omni_query_fig", cache_key=(env_source, ep.key))
    return ep


def your_answers(t: dict[str, str], ep: Episode) -> tuple[list[Any], bool, Any]:
    """The class answers the queries, each answer under its own drawing: (the answers,
    whether they were sent, the box the scores go in once the models have answered).

    Right under the drawings: a class must see the support set, a query drawing and its
    answer at once. The scores come below the models, which answer the same queries."""
    st.subheader(t["human_head"])
    st.markdown(t["human_body"])
    options = list(range(ep.n_way))
    with st.form("omni_human"):
        cols = st.columns(min(ANSWER_COLUMNS, ep.n_way))
        answers: list[Any] = []
        for i in range(ep.n_way):
            with cols[i % len(cols)]:
                st.image(_thumbnail(ep.tensors["query_x"][i]), width=THUMBNAIL_PX)
                answers.append(st.selectbox(
                    t["your_answer"].format(n=i + 1), options, key=f"omni_answer_{i}",
                    index=None, placeholder=t["choose"],
                    format_func=lambda n: t["class"].format(n=n)))
        submitted = st.form_submit_button(t["submit"])
    return answers, submitted, st.container()


def the_models(t: dict[str, str], names: dict[str, str], data: Any, ep: Episode
               ) -> tuple[dict[str, dict[str, Any]], dict[str, str], int, dict[str, int | None]]:
    """Every shipped model, this session's own and a random init adapt to the episode:
    (their results, their names, the steps shown, how many of the episode's characters
    each meta-trained on)."""
    st.header(t["models_head"])
    n_way, k_shot = ep.n_way, ep.k_shot
    episode = ep.tensors
    results: dict[str, dict[str, Any]] = {}
    model_names: dict[str, str] = {}
    seen: dict[str, int | None] = {}
    for key, algorithm, protocol in _shipped(n_way, k_shot):
        loaded = _checkpoint(algorithm, n_way, k_shot, protocol)
        name = _model_name(t, names, algorithm, protocol)
        if isinstance(loaded, BaseException):
            st.caption(t["bad_checkpoint"].format(name=name, error=loaded))
            continue
        results[key] = _shipped_adapt(ep.env_source, *ep.key, algorithm, protocol)
        model_names[key] = name
        seen[key] = seen_characters(_trained_on(ep.env_source, algorithm, n_way, k_shot,
                                                protocol), ep.game)
    if not results:
        shipped = [f"{n}-way {k}-shot" for n in (5, 20) for k in (1, 5)
                   if any(_checkpoint(a, n, k) is not None for a in ALGORITHMS)]
        st.info(t["no_checkpoint"].format(N=n_way, K=k_shot, shipped=", ".join(shipped) or "—"))
    run: LiveRun | None = st.session_state.get(RUN_KEY)
    if run is not None:
        for key, phi in run.phis().items():
            config = run.configs[key]
            if config.n_way == n_way:
                results[f"session:{key}"] = omniglot_adapt(
                    phi, n_way, config.inner_lr, MAX_STEPS, episode["support_x"],
                    episode["support_y"], episode["query_x"], episode["query_y"],
                    config.inner_optimizer, config.test_inner_batch, algorithm=key)
                model_names[f"session:{key}"] = t["session_model"].format(name=names[key])
                seen[f"session:{key}"] = seen_characters(
                    training_characters(config.to_dict(), {}, data)[0], ep.game)
    results["random"] = _random_adapt(ep.env_source, *ep.key)
    model_names["random"] = t["random_init"]

    steps = st.slider(t["steps"], 0, MAX_STEPS, omniglot_test_steps(n_way), key="omni_steps")
    st.markdown(t["models_body"].format(steps=steps))
    st.markdown(t["seen_head"].format(n=n_way) + "\n\n" + "\n".join(
        "- " + t["seen_line"].format(name=model_names[k], seen=_seen_words(t, count, n_way))
        for k, count in seen.items()))
    tabs = st.tabs([model_names[k] for k in results])
    for tab, (key, result) in zip(tabs, results.items()):
        predictions = result["predictions_by_step"][steps]
        marks = [p == y for p, y in zip(predictions, result["labels"])]
        titles = [f"#{i + 1} {t['pred'].format(p=p)}" for i, p in enumerate(predictions)]
        with tab:
            # A session's own model is its alone: only the shipped models' figures are shared.
            shared = not key.startswith("session:")
            _ui.show_figure(partial(image_grid_figure, episode["query_x"], titles, columns=10,
                                    marks=marks, meta=f"{key}:predictions"),
                            f"omniglot-predictions-{key}", key=f"omni_pred_{key}",
                            cache_key=(ep.env_source, ep.key, steps) if shared else None)
    paper = {k: v for k in results if k in ALGORITHMS
             and (v := _algorithms.get(k).paper_accuracy(n_way, k_shot)) is not None}
    shared = not any(k.startswith("session:") for k in results)
    _ui.show_figure(lambda: accuracy_steps_figure({k: r["accuracy_by_step"]
                                                  for k, r in results.items()},
                                                 model_names, labels=_fig_labels("accuracy"),
                                                 paper=paper),
                    "omniglot-accuracy-steps", key="omni_acc_fig",
                    cache_key=(ep.env_source, ep.key, tuple(results)) if shared else None)
    return results, model_names, steps, seen


def _seen_words(t: dict[str, str], count: int | None, n_way: int) -> str:
    if count is None:
        return t["seen_unknown"]
    return t["seen_none"] if count == 0 else t["seen_some"].format(k=count, n=n_way)


def against_the_papers(t: dict[str, str], names: dict[str, str], ep: Episode,
                       results: dict[str, dict[str, Any]], steps: int) -> None:
    """The papers' accuracy, our shipped models' and theirs on this episode."""
    st.subheader(t["table_head"])
    table = []
    for algorithm in ALGORITHMS:
        value = _algorithms.get(algorithm).paper_accuracy(ep.n_way, ep.k_shot)
        ours = results.get(algorithm)
        # a learner without steps (ProtoNets) has its one point at every step
        on_episode = ours["accuracy_by_step"][min(steps, len(ours["accuracy_by_step"]) - 1)] \
            if ours else None
        accuracy, trained_for = _reported(algorithm, ep.n_way, ep.k_shot)
        table.append({t["model"]: names[algorithm],
                      t["paper_col"]: f"{value:.1f}" if value is not None else "—",
                      t["ours_col"]: accuracy, t["iterations_col"]: trained_for,
                      t["episode_col"]: (f"{100 * on_episode:.0f}" if on_episode is not None
                                         else "—")})
    st.markdown(_ui.markdown_table(table))
    st.caption(t["table_note"])


def your_score(t: dict[str, str], ep: Episode, answers: list[Any], submitted: bool,
               results: dict[str, dict[str, Any]], model_names: dict[str, str],
               steps: int, seen: dict[str, int | None]) -> None:
    """The class's score against each model's, drawing by drawing (under the answers)."""
    missing = [i + 1 for i, a in enumerate(answers) if a is None]
    if submitted and missing:
        # Nothing is preselected, so nobody scores a drawing they never looked at.
        st.warning(t["unanswered"].format(queries=", ".join(f"#{i}" for i in missing)))
        submitted = False
    if submitted:
        st.session_state["omni_played"] = {"episode": ep.key, "answers": list(answers)}
    played = st.session_state.get("omni_played")
    if not (played and played["episode"] == ep.key):
        return
    truth = [int(y) for y in ep.tensors["query_y"]]
    mine = played["answers"]
    right = sum(a == y for a, y in zip(mine, truth))
    st.markdown("### " + t["your_score"].format(right=right, total=ep.n_way))
    st.markdown(t["published"].format(error=100 * (ep.n_way - right) / ep.n_way,
                                      **PUBLISHED_ERRORS))
    lines = []
    for key, result in results.items():
        predictions = result["predictions_by_step"][steps]
        line = t["model_score"].format(
            name=model_names[key], right=sum(p == y for p, y in zip(predictions, truth)),
            total=ep.n_way)
        if seen.get(key):
            line += " · " + t["seen_some"].format(k=seen[key], n=ep.n_way)
        lines.append("- " + line)
    st.markdown("\n".join(lines))
    rows = []
    for i, y in enumerate(truth):
        you = f"{mine[i]} {'✓' if mine[i] == y else '✗'}"
        row = {"#": i + 1, t["truth"]: y, t["you"]: you}
        for key, result in results.items():
            p = result["predictions_by_step"][steps][i]
            row[model_names[key]] = f"{p} {'✓' if p == y else '✗'}"
        rows.append(row)
    st.caption(t["answers"])
    st.markdown(_ui.markdown_table(rows))
    st.caption(t["human_after"])


def _start_live_run(data: Any, configs: dict[str, Any], live_run: LiveRun | None,
                    preset: str | None) -> None:
    """Start the live run in its worker thread (stopping the session's previous one),
    scored every 10 meta-iterations on held-out episodes."""
    test_split = data.split(next(iter(configs.values())).protocol)[1]
    # At most MAX_STEPS steps, as the episode above: Reptile's 50 would make the
    # live scoring (every 10 meta-iterations) cost as much as the training itself.
    evaluators = {a: omniglot_evaluator(test_split, c.n_way, c.k_shot, c.inner_lr,
                                        min(c.steps_in_validation, MAX_STEPS),
                                        optimizer=c.inner_optimizer,
                                        batch_size=c.test_inner_batch)
                  for a, c in configs.items()}

    def evaluator(name: str, phi: Any) -> float:
        return evaluators[name](name, phi)

    if live_run is not None:
        live_run.stop()
    st.session_state[RUN_KEY] = LiveRun(configs, device=None, omniglot=data,
                                        idle_timeout=_classroom.IDLE_TIMEOUT_S,
                                        evaluator=evaluator,
                                        evaluate_every=10).start()
    st.session_state["omni_was_running"] = True
    st.session_state["omni_live_run_preset"] = preset


def live_meta_training(t: dict[str, str], names: dict[str, str], data: Any, seed: int) -> None:
    """Meta-train from scratch, live: the chosen algorithms in a worker thread, their
    curves streamed (settings from ``mamlviz.live_omniglot``, or a preset's)."""
    st.header(t["live_head"])
    st.markdown(t["live_body"].format(device=_ui.device_name()))
    live_run: LiveRun | None = st.session_state.get(RUN_KEY)
    running = live_run is not None and live_run.alive
    preset = st.selectbox(t["preset"], ["custom", *PRESETS], key="omni_live_preset",
                          format_func=lambda p: t[f"preset_{p}"], on_change=_apply_preset,
                          disabled=running)
    if preset in PRESETS:
        st.caption(t[f"{preset}_note"])
    l1, l2, l3, l4 = st.columns(4)
    chosen = l1.multiselect(t["algorithms"], ALGORITHMS,
                            default=_algorithms.live_default("omniglot"),
                            format_func=names.__getitem__, key="omni_algorithms",
                            disabled=running)
    live_n = l2.select_slider(t["n_way"], [5, 20], value=5, key="omni_live_n", disabled=running)
    live_k = l2.select_slider(t["k_shot"], [1, 5], value=1, key="omni_live_k", disabled=running)
    live = live_defaults(live_n)  # mamlviz.live_omniglot: the settings fastest to 90% on a CPU
    meta_batch = l3.slider(t["meta_batch"], 1, 32, live["meta_batch_size"], key="omni_live_batch",
                           disabled=running)
    iterations = int(l3.number_input(t["iterations"], 1, 60_000, live["iterations"], step=50,
                                     key="omni_live_iters", disabled=running))
    inner_lr = l4.number_input(t["inner_lr"], 0.0, 100.0, live["inner_lr"], step=0.05,
                               key=f"omni_live_lr_{live_n}", disabled=running,
                               help=t["inner_lr_help"])
    meta_lr = l4.number_input(t["meta_lr"], 0.0, 100.0, live["meta_lr"], step=0.001, format="%.4f",
                              key="omni_live_meta_lr", disabled=running)
    _classroom.capacity_note()

    c1, c2, c3, _ = st.columns([1, 1, 2, 4])
    if c1.button(t["train"], type="primary", key="omni_train", disabled=running):
        if not chosen:
            st.warning(t["no_algorithm"])
        else:
            try:
                configs = live_run_configs(
                    chosen, live_n, live_k, str(preset) if preset in PRESETS else None,
                    meta_batch_size=meta_batch, iterations=iterations, seed=seed,
                    inner_lr=inner_lr, meta_lr=meta_lr, gpu=torch.cuda.is_available())
            except MamlvizError as exc:
                st.error(t["bad_setting"].format(error=exc))
            else:
                _start_live_run(data, configs, live_run, preset)
                running = True
                st.rerun()
    if c2.button(t["stop"], key="omni_stop", disabled=not _classroom.stoppable(live_run)):
        if live_run is not None:
            live_run.stop()
            live_run.join(timeout=10)
        st.rerun()
    if live_run is not None and not running and c3.button(t["clear"], key="omni_clear"):
        del st.session_state[RUN_KEY]
        st.rerun()
    st.fragment(run_every=_classroom.poll_interval(live_run))(_live_panel)(
        t, names, live_run.configs[next(iter(live_run.configs))].n_way if live_run else live_n)


def render() -> None:
    t = _classroom.live_texts("omniglot")
    names = _algorithms.labels(_i18n.lang(), "omniglot")
    st.title(t["title"])
    st.markdown(t["intro"])
    env_source = os.environ.get("MAMLVIZ_OMNIGLOT")
    data = the_data(t, names, env_source)
    browse(t, data, env_source)
    ep = an_episode(t, data, env_source)
    answers, submitted, score_box = your_answers(t, ep)
    results, model_names, steps, seen = the_models(t, names, data, ep)
    against_the_papers(t, names, ep, results, steps)
    with score_box:  # under the answers, now that the models have answered
        your_score(t, ep, answers, submitted, results, model_names, steps, seen)
    own_drawings(t, names, steps)
    live_meta_training(t, names, data, ep.seed)
    _ui.chapter_figures("omniglot")  # last: a zip of the figures this page showed


render()

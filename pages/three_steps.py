"""The three steps of meta-learning, on real sinusoid tasks and a real Omniglot episode.

Thin: widgets in, ``mamlviz.three_steps`` computes, ``mamlviz.figures.three_steps`` draws.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import streamlit as st

from mamlviz.errors import MamlvizError
from mamlviz.figures.three_steps import episode_figure, fit_figure, goodness_figure, tasks_figure
from mamlviz.three_steps import (
    adapted_fit,
    best,
    compare,
    goodness,
    random_init,
    sinusoid_task_set,
)
from pages import _algorithms, _data, _i18n, _ui

_ui.through_the_router()

N_QUERY = 10
INNER_LRS = [0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]
CANDIDATES = ("random", *_algorithms.names("sinusoid"))
SIDE_BY_SIDE_BARS = 5


def _fig_labels(name: str) -> dict[str, str]:
    return dict(_i18n.texts("three_steps.figures")[name])


@st.cache_data(show_spinner=False, max_entries=64)
def _task_sets(n_tasks: int, k_shot: int, seed: int) -> tuple[Any, Any]:
    return (sinusoid_task_set(n_tasks, k_shot, N_QUERY, seed),
            sinusoid_task_set(n_tasks, k_shot, N_QUERY, seed, testing=True))


def _candidate_name(t: Mapping[str, str], key: str, short: bool = False) -> str:
    """A candidate's name: random, or the initialisation an algorithm learns (meta-learned
    for those that adapt in training); short names break before the last word."""
    if key == "random":
        return t["short_random"] if short else t["random"]
    label = _algorithms.labels(_i18n.lang())[key]
    if short:
        return "<br>".join(label.rsplit(" ", 1))
    return t["init_adapted" if _algorithms.get(key).adapts else "init_now"].format(name=label)


def _candidates(seed: int) -> tuple[dict[str, Any], dict[str, BaseException]]:
    """The candidate inits that exist (random init always), and why the others are absent."""
    found: dict[str, Any] = {"random": random_init(seed)}
    missing: dict[str, BaseException] = {}
    for key, value in _ui.sinusoid_checkpoints().items():
        if isinstance(value, BaseException):
            missing[key] = value
        else:
            found[key] = value[1]
    return {k: found[k] for k in CANDIDATES if k in found}, missing


@st.cache_data(show_spinner=False, max_entries=128)
def _scores(n_tasks: int, k_shot: int, seed: int, inner_lr: float, steps: int,
            keys: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    training, testing = _task_sets(n_tasks, k_shot, seed)
    candidates, _ = _candidates(seed)
    chosen = {k: candidates[k] for k in keys}
    return (compare(chosen, training, inner_lr, steps), compare(chosen, testing, inner_lr, steps))


@st.cache_data(show_spinner=False, max_entries=128)
def _fits(n_tasks: int, k_shot: int, seed: int, inner_lr: float, steps: int, n: int,
          keys: tuple[str, ...]) -> dict[str, tuple[list[float], list[float]]]:
    _, testing = _task_sets(n_tasks, k_shot, seed)
    candidates, _ = _candidates(seed)
    out = {}
    for k in keys:
        x, y = adapted_fit(candidates[k], testing, n, inner_lr, steps)
        out[k] = (x.tolist(), y.tolist())
    return out


def _omniglot() -> Any:
    """Omniglot's MAML split (the data found once per server by pages/_data.py), or the error."""
    data = _data.omniglot()
    return data if isinstance(data, BaseException) else data.split()


@st.cache_data(show_spinner=False, max_entries=32)
def _episode(n_way: int, k_shot: int, seed: int, testing: bool) -> Any:
    import torch

    from mamlviz.tasks.omniglot import OmniglotTasks

    splits = _omniglot()
    split = splits[1] if testing else splits[0]
    episodes = OmniglotTasks(split, n_way).episodes(
        1, k_shot, 1, generator=torch.Generator().manual_seed(seed))
    return episodes.batch.task(0)


def introduction(t: Mapping[str, str]) -> None:
    st.title(t["title"])
    st.markdown(t["intro"])


def step_1_learning_algorithms(t: Mapping[str, str]) -> None:
    """A set of learning algorithms: here they differ only in phi, where they start."""
    st.header(t["step1"])
    st.markdown(t["step1_body"])
    st.latex(r"\hat\theta^n = \phi - \alpha \nabla_\phi l^n_{\mathrm{support}}(\phi)"
             r"\quad(\text{k steps})")


def step_2_goodness(t: Mapping[str, str]) -> tuple[int, int, int]:
    """How good an F is: tasks, each a support set and a query set. The sinusoid task
    sets' settings (tasks, K, seed), which the steps below score on."""
    st.header(t["step2"])
    st.markdown(t["step2_body"])
    st.latex(r"L(F) = \sum_{n=1}^{N} l^n")

    st.subheader(t["sinusoid_head"])
    st.markdown(t["sinusoid_body"])
    c1, c2, c3 = st.columns(3)
    n_tasks = c1.slider(t["n_tasks"], 1, 10, 5, key="ts_n_tasks")
    k_shot = c2.slider(t["k_shot"], 1, 20, 10, key="ts_k_shot")
    seed = int(c3.number_input(t["seed"], 0, 10_000, 0, step=1, key="ts_seed"))
    # Each figure is built once per server for its inputs (show_figure's cache_key): a new
    # session or a student repeating another's setting costs no figure building.
    _ui.show_figure(lambda: tasks_figure(*_task_sets(n_tasks, k_shot, seed),
                                         labels=_fig_labels("tasks")),
                    "tasks", key="ts_tasks_fig", cache_key=(n_tasks, k_shot, seed))
    return n_tasks, k_shot, seed


def omniglot_episode(t: Mapping[str, str], seed: int) -> None:
    """The same two sets in a real Omniglot episode (when the data is here)."""
    st.subheader(t["omniglot_head"])
    st.markdown(t["omniglot_body"])
    splits = _omniglot()
    if isinstance(splits, BaseException):
        fetched = _data.missing(splits, key="ts")  # the data once a download ends, else None
        splits = splits if fetched is None else fetched.split("maml")
    if isinstance(splits, BaseException):
        return
    o1, o2, o3 = st.columns(3)
    n_way = o1.slider(t["n_way"], 2, 10, 5, key="ts_n_way")
    k_omni = o2.slider(t["k_shot_omni"], 1, 5, 1, key="ts_k_omni")
    which = o3.radio(t["which_tasks"], ["train", "test"], key="ts_which",
                     format_func=lambda v: t["train_chars"] if v == "train" else t["test_chars"])
    try:
        def _episode_figure() -> Any:
            ep = _episode(n_way, k_omni, seed, which == "test")
            return episode_figure(ep.support_x[0], ep.support_y[0], ep.query_x[0],
                                  ep.query_y[0], n_way, k_omni, labels=_fig_labels("episode"))

        _ui.show_figure(_episode_figure, "omniglot-episode", key="ts_episode_fig",
                        cache_key=(n_way, k_omni, seed, which))
    except MamlvizError as exc:
        _ui.error_box(exc)


@dataclass(frozen=True)
class Scored:
    """The candidates scored on both task sets. ``key`` (tasks, K, seed, inner rate, steps,
    the candidates) is what the scores and the figures drawn from them are cached by."""

    key: tuple[int, int, int, float, int, tuple[str, ...]]
    train: dict[str, Any]
    test: dict[str, Any]
    names: dict[str, str]

    @property
    def keys(self) -> tuple[str, ...]:
        return self.key[-1]


def candidates(t: Mapping[str, str], n_tasks: int, k_shot: int, seed: int) -> Scored:
    """The candidate Fs (random, and each algorithm's phi), adapted with the chosen inner
    rate and steps and scored on both task sets."""
    st.header(t["candidates_head"])
    st.markdown(t["candidates_body"])
    found, missing = _candidates(seed)
    for key, error in missing.items():
        st.caption(t["missing_checkpoint"].format(name=_candidate_name(t, key), error=error))
    s1, s2 = st.columns(2)
    steps = s1.slider(t["inner_steps"], 0, 10, 1, key="ts_steps")
    inner_lr = s2.select_slider(t["inner_lr"], INNER_LRS, value=0.01, key="ts_inner_lr")
    keys = tuple(found)
    score_key = (n_tasks, k_shot, seed, inner_lr, steps, keys)
    scores_train, scores_test = _scores(*score_key)
    names = {k: _candidate_name(t, k) for k in keys}
    diverged = [names[k] for k in keys
                if not (scores_train[k].finite and scores_test[k].finite)]
    if diverged:
        st.warning(t["diverged"].format(lr=inner_lr, steps=steps, names=", ".join(diverged)))
    worse = [names[k] for k in keys if names[k] not in diverged and steps > 0
             and scores_test[k].total > sum(scores_test[k].before)]
    if worse:
        st.warning(t["worse"].format(lr=inner_lr, names=", ".join(worse)))
    return Scored(score_key, scores_train, scores_test, names)


def step_3_best(t: Mapping[str, str], scored: Scored) -> None:
    """L(F) of every candidate on the training and the testing tasks; F* is the smallest."""
    names = scored.names
    # The bars' tick labels: short enough to stay horizontal under half-width charts.
    short_names = {k: _candidate_name(t, k, short=True) for k in scored.keys}
    st.header(t["step3"])
    st.markdown(t["step3_body"])
    sides = (("train", "goodness-training", scored.train),
             ("test", "goodness-testing", scored.test))
    # Side by side while every bar's label fits under it in half the width of a
    # 1366-pixel laptop; more candidates than that get a chart each across the page.
    stacked = len(scored.keys) > SIDE_BY_SIDE_BARS
    for column, (side, figure_name, scores) in zip(_ui.chart_columns(2, stacked), sides):
        with column:
            labels = {**_fig_labels("goodness"), "title": t[f"{side}_title"]}
            _ui.show_figure(partial(goodness_figure, scores, names, labels=labels,
                                    short_names=short_names),
                            figure_name, key=f"ts_goodness_{side}", cache_key=scored.key)
    best_train, best_test = best(scored.train), best(scored.test)
    if best_train is None:
        st.warning(t["none_finite"])
        return
    st.markdown(t["best_train"].format(name=names[best_train],
                                       value=scored.train[best_train].total))
    if best_test is not None:
        st.markdown(t["best_test"].format(name=names[best_test],
                                          value=scored.test[best_test].total))


def what_each_learned(t: Mapping[str, str], scored: Scored) -> None:
    """One testing task: the function each F learned from its support set."""
    n_tasks, k_shot, seed, inner_lr, steps, keys = scored.key
    st.subheader(t["fit_head"])
    task_n = st.slider(t["fit_task"], 1, n_tasks, 1, key="ts_fit_task") if n_tasks > 1 else 1
    finite_keys = tuple(k for k in keys if scored.test[k].finite)
    fit_key = (n_tasks, k_shot, seed, inner_lr, steps, task_n - 1, finite_keys)
    _ui.show_figure(lambda: fit_figure(_task_sets(n_tasks, k_shot, seed)[1], task_n - 1,
                                       _fits(*fit_key), scored.names,
                                       labels=_fig_labels("fit")),
                    "adapted-fit", key="ts_fit_fig", cache_key=fit_key)


def render() -> None:
    t = _i18n.texts("three_steps")
    introduction(t)
    step_1_learning_algorithms(t)
    n_tasks, k_shot, seed = step_2_goodness(t)
    omniglot_episode(t, seed)
    scored = candidates(t, n_tasks, k_shot, seed)
    step_3_best(t, scored)
    what_each_learned(t, scored)
    _ui.show_source(goodness, t["source"])
    _ui.chapter_figures("three-steps")  # last: a zip of the figures this page showed


render()

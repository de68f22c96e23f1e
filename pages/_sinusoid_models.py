"""The sinusoid chapter's model results: a model adapted to a new task, and its error
by adaptation step on held-out tasks (``mamlviz.newtask``, ``mamlviz.runs``).

The shipped models' results are cached once per server and shared by the class. They
live here, not in the page, because a page file runs again on every rerun, and
Streamlit would rebuild each cached function's wrapper every time: it reads the
function's source to key it. Cache keys are short: a new task's points are keyed by
a digest of their bytes (``_ui.digest``). Streamlit's hasher would otherwise walk a
few hundred floats one by one on every rerun, which cost a third of a cached rerun.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import streamlit as st
import torch

from mamlviz.config import TrainConfig
from mamlviz.live import HeldOut, LiveRun, score_held_out
from mamlviz.newtask import sinusoid_new_task
from pages import _ui

FIT_STEPS = (0, 1, 10)
CURVE_STEPS = 10
EVAL_TASKS = 100

# What a live run scores its models on when its training ends (``curve``'s tasks and steps,
# at the shots each model trained with), so the page finds the curves ready.
HELD_OUT = HeldOut(tasks=EVAL_TASKS, steps=CURVE_STEPS)

Points = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # support x/y, query x/y
T = TypeVar("T")
SESSION_MEMO = "_sin_session_models_memo"
SESSION_MEMO_SIZE = 64


def new_task(config: TrainConfig, phi: dict[str, torch.Tensor], points: Points
             ) -> tuple[dict[str, Any], list[float]]:
    """One model on the new task: its fits after FIT_STEPS and its query MSE by step."""
    return sinusoid_new_task(phi, config.inner_lr, *points, FIT_STEPS, CURVE_STEPS)


def curve(config: TrainConfig, phi: dict[str, torch.Tensor], k_shot: int,
          steps: int) -> tuple[list[float], list[float]]:
    """Mean query MSE and 95% CI by adaptation step on EVAL_TASKS held-out tasks: the
    score a live run's training process gives its models (``HELD_OUT``), for any shots."""
    result = score_held_out(config, phi, HeldOut(tasks=EVAL_TASKS, steps=steps, k_shot=k_shot))
    return result["mse_by_step"], result["ci95_by_step"]


@st.cache_data(show_spinner=False, max_entries=64)
def shipped_curve(folder: str, algorithm: str, k_shot: int, steps: int
                  ) -> tuple[list[float], list[float]]:
    """``curve`` for a shipped model, once per server (``folder``, the checkpoints'
    folder, is part of the key)."""
    config, phi = _ui.sinusoid_checkpoints()[algorithm]
    return curve(config, phi, k_shot, steps)


@st.cache_data(show_spinner=False, max_entries=512)
def shipped_new_task(folder: str, algorithm: str, points_key: str, _points: Points
                     ) -> tuple[dict[str, Any], list[float]]:
    """``new_task`` for a shipped model, once per server and task: ``points_key`` is
    ``_ui.digest(*_points)`` (the points themselves are not hashed)."""
    config, phi = _ui.sinusoid_checkpoints()[algorithm]
    return new_task(config, phi, _points)


def for_this_run(run: object, key: Hashable, compute: Callable[[], T]) -> T:
    """A session's own models' result, computed once per finished run and ``key``.

    Their weights change only when a new run ends, but every rerun of the page (each
    move of a new-task slider) asked again. The held-out curves alone cost about
    100 ms per run, against 17 ms for a whole cached rerun. Kept in the session,
    forgotten when another run replaces this one; at most ``SESSION_MEMO_SIZE`` results.
    """
    memo = st.session_state.get(SESSION_MEMO)
    if memo is None or memo["run"] is not run:
        memo = {"run": run, "results": {}}
        st.session_state[SESSION_MEMO] = memo
    results: dict[Hashable, Any] = memo["results"]
    if key not in results:
        if len(results) >= SESSION_MEMO_SIZE:
            results.pop(next(iter(results)))  # the oldest
        results[key] = compute()
    return results[key]


def session_curve(run: LiveRun, algorithm: str, config: TrainConfig,
                  phi: dict[str, torch.Tensor], k_shot: int) -> tuple[list[float], list[float]]:
    """``curve`` for a session's own model: the training process's own score of it
    (``HELD_OUT``) where it is for ``k_shot`` shots, otherwise computed here, once."""
    scored = run.held_out().get(algorithm)
    if scored is not None and scored["k_shot"] == k_shot:
        return scored["mse_by_step"], scored["ci95_by_step"]
    return for_this_run(run, ("curve", algorithm, k_shot),
                        lambda: curve(config, phi, k_shot, CURVE_STEPS))

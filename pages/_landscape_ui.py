"""What the landscape chapters share: figure labels in both languages and cached engine calls.

Used by the pages 'MAML versus pre-training', 'Real implementation' and
'Reptile'. Every engine call is cached with ``st.cache_data`` keyed by plain
slider values (never by task objects), so a slider change recomputes only what
depends on it and an unchanged trajectory is never recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import streamlit as st

from mamlviz import landscape as ls
from pages import _algorithms, _i18n

# The 1-D grid: fine enough for the optima's basins and a smooth line ~900 px wide,
# small enough to redraw fast on every slider change.
LO_1D, HI_1D, N_1D = -3.0, 6.0, 401
# The direction field's grid is finer: with large inner steps Reptile's curve is
# genuinely steep in places (up to a slope of ~500 at the default settings), and
# a coarse grid would draw a zigzag of its own instead of the real curve.
N_FIELD = 2001
# The 2-D region: the phi sliders' range (-3..5, -3..4) with half a unit around it,
# so a phi at a slider's end and its arrows are not cut by the plot's edge.
X_2D, Y_2D, N_2D = (-3.5, 5.5), (-3.5, 4.5), 101

def method_names() -> dict[str, str]:
    return _algorithms.labels(_i18n.lang())


def preset_names() -> dict[str, str]:
    return _i18n.texts("landscape.presets")


def figure_labels(kind: str) -> dict[str, str]:
    """The labels dict for one figure builder, in the current language."""
    return {**method_names(), **_i18n.texts("landscape.figures")[kind]}


# ----------------------------------------------------------------------------- tasks


def tasks_1d(spec: tuple) -> tuple[ls.TaskLoss, ...]:
    """``("preset", name)`` or ``("shape", deep_at, local_depth, deep_depth, width)``."""
    if spec[0] == "preset":
        return ls.PRESETS_1D[spec[1]]
    _, deep_at, local_depth, deep_depth, width = spec
    return ls.two_tasks_1d(deep_at=deep_at, local_depth=local_depth, deep_depth=deep_depth,
                           width=width)


def grid_1d() -> np.ndarray:
    return np.linspace(LO_1D, HI_1D, N_1D)


def field_grid_1d() -> np.ndarray:
    return np.linspace(LO_1D, HI_1D, N_FIELD)


# ----------------------------------------------------------------------------- cached engine


@st.cache_data(max_entries=64, show_spinner=False)
def pretrain_optimum_1d(spec: tuple) -> float:
    """Pre-training's optimum: it depends on the tasks only, not on the inner loop."""
    with np.errstate(all="ignore"):
        return float(ls.pretrain_optimum(tasks_1d(spec), grid_1d())[0])


@st.cache_data(max_entries=256, show_spinner=False)
def _landscape_1d_at_maml(spec: tuple, inner_lr: float, steps: int) -> ls.Landscape1D:
    with np.errstate(all="ignore"):
        return ls.landscape_1d(tasks_1d(spec), inner_lr, steps, lo=LO_1D, hi=HI_1D,
                               n_points=N_1D, pretrain_phi=pretrain_optimum_1d(spec))


@st.cache_data(max_entries=256, show_spinner=False)
def landscape_1d(spec: tuple, inner_lr: float, steps: int, anchor: str = ls.AFTER,
                 phi: float | None = None) -> ls.Landscape1D:
    """The 1-D picture's data; theta_hat drawn from the MAML optimum, the pre-training
    optimum (``anchor``) or a chosen ``phi``. Curves and optima are computed once per
    (tasks, inner_lr, steps); moving the anchor only redoes the adaptation."""
    data = _landscape_1d_at_maml(spec, inner_lr, steps)
    if anchor == ls.NOW:
        phi = data.pretrain_optimum
    if anchor != ls.AFTER and phi is not None:
        with np.errstate(all="ignore"):
            data = ls.adapted_from(data, tasks_1d(spec), phi)
    return data


@st.cache_data(max_entries=64, show_spinner=False)
def max_curvature_1d(spec: tuple) -> float:
    return ls.max_curvature(tasks_1d(spec), grid_1d())


def overshoots(data: ls.Landscape1D) -> bool:
    """Inner steps that blow up somewhere on the grid: the MAML curve leaves the picture."""
    top = float(np.nanmax(data.task_losses))
    maml = np.asarray(data.maml)
    return bool((~np.isfinite(maml)).any() or np.nanmax(np.abs(maml)) > 20 * max(top, 1.0)
                or not np.isfinite(data.theta_hat).all())


def drawable(data: ls.Landscape1D) -> ls.Landscape1D:
    """Non-finite values as gaps (NaN), so the figure's JSON stays valid."""
    def clean(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=float)
        return np.where(np.isfinite(a), a, np.nan)

    return replace(data, maml=clean(data.maml), pretrain=clean(data.pretrain),
                   theta_hat=clean(data.theta_hat),
                   loss_at_theta_hat=clean(data.loss_at_theta_hat))


@st.cache_data(max_entries=64, show_spinner=False)
def trajectories_1d(spec: tuple, inner_lr: float, steps: int, phi0: float, meta_lr: float,
                    reptile_eps: float, reptile_steps: int, n_steps: int
                    ) -> tuple[list[ls.Trajectory], dict[str, np.ndarray]]:
    """The four methods from the same phi0, and the MAML objective along each path.

    Reptile's step is the paper's epsilon on the *average* of (theta_tilde - phi)
    over tasks, so its engine meta_lr is ``epsilon / n_tasks``.
    """
    tasks = tasks_1d(spec)
    runs, after = [], {}
    for method in ls.METHODS:
        run = ls.trajectory(method, tasks, phi0, _meta_lr(method, meta_lr, reptile_eps, tasks),
                            n_steps, inner_lr, steps, reptile_steps)
        runs.append(run)
        with np.errstate(all="ignore"):
            after[method] = ls.objective_curve(tasks, run.phis, ls.AFTER, inner_lr, steps)
    return runs, after


def _meta_lr(method: str, meta_lr: float, epsilon: float, tasks: Sequence[ls.TaskLoss]
             ) -> float:
    """An interpolating algorithm's (Reptile's) step is the paper's epsilon on the *average*
    of (theta_tilde - phi) over tasks, so its engine meta_lr is ``epsilon / n_tasks``."""
    interpolates = _algorithms.get(method).outer_rule == "interpolation"
    return epsilon / len(tasks) if interpolates else meta_lr


@st.cache_data(max_entries=64, show_spinner=False)
def direction_field_1d(spec: tuple, inner_lr: float, steps: int,
                       reptile_steps: int) -> dict[str, np.ndarray]:
    with np.errstate(all="ignore"):
        return ls.direction_field(tasks_1d(spec), field_grid_1d(), inner_lr, steps,
                                  reptile_steps)


@st.cache_data(max_entries=128, show_spinner=False)
def landscape_2d(preset: str, phi: tuple[float, float], inner_lr: float, steps: int,
                 reptile_steps: int) -> ls.Landscape2D:
    return ls.landscape_2d(ls.PRESETS_2D[preset], phi, inner_lr, steps, reptile_steps,
                           x_range=X_2D, y_range=Y_2D, n_points=N_2D)


@st.cache_data(max_entries=128, show_spinner=False)
def second_steps_2d(preset: str, phi: tuple[float, float], inner_lr: float,
                    steps: int) -> np.ndarray:
    """Per task m: ``-inner_lr * grad l^m(theta_hat^m)``, the lecture's second step."""
    return np.stack([inner_lr * ls.update_directions([task], phi, inner_lr, steps).fomaml
                     for task in ls.PRESETS_2D[preset]])


@st.cache_data(max_entries=32, show_spinner=False)
def trajectories_2d(preset: str, phi0: tuple[float, float], inner_lr: float, steps: int,
                    meta_lr: float, reptile_eps: float, reptile_steps: int, n_steps: int
                    ) -> tuple[list[ls.Trajectory], dict[str, np.ndarray]]:
    tasks = ls.PRESETS_2D[preset]
    runs, after = [], {}
    for method in ls.METHODS:
        run = ls.trajectory(method, tasks, phi0, _meta_lr(method, meta_lr, reptile_eps, tasks),
                            n_steps, inner_lr, steps, reptile_steps)
        runs.append(run)
        with np.errstate(all="ignore"):
            after[method] = ls.objective_curve(tasks, run.phis, ls.AFTER, inner_lr, steps)
    return runs, after


def fmt(x: float) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{x:.3f}"


@st.cache_data(max_entries=256, show_spinner=False)
def objectives_at_1d(spec: tuple, inner_lr: float, steps: int,
                     phis: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(pre-training objective, MAML objective) at each phi: now, and after training."""
    tasks, grid = tasks_1d(spec), np.asarray(phis, dtype=float)
    with np.errstate(all="ignore"):
        return (ls.objective_curve(tasks, grid, ls.NOW),
                ls.objective_curve(tasks, grid, ls.AFTER, inner_lr, steps))


def frame_buttons(key: str, n_frames: int, labels: dict[str, str],
                  on_press: Callable[[], None] | None = None) -> int:
    """Reset / back / step / end buttons over a session-state frame counter; the frame.

    ``on_press`` runs first on any press (e.g. to start computing the animation).
    """
    def move(to: int | None = None, by: int = 0) -> None:
        if on_press is not None:
            on_press()
        now = int(st.session_state.get(key, 0))
        st.session_state[key] = int(min(max((now if to is None else to) + by, 0),
                                        n_frames - 1))

    cols = st.columns(4)
    cols[0].button(labels["reset"], key=f"{key}_reset", on_click=move, kwargs={"to": 0},
                   use_container_width=True)
    cols[1].button(labels["back"], key=f"{key}_back", on_click=move, kwargs={"by": -1},
                   use_container_width=True)
    cols[2].button(labels["step"], key=f"{key}_step", on_click=move, kwargs={"by": 1},
                   use_container_width=True)
    cols[3].button(labels["end"], key=f"{key}_end", on_click=move,
                   kwargs={"to": n_frames - 1}, use_container_width=True)
    frame = int(min(max(int(st.session_state.get(key, 0)), 0), n_frames - 1))
    st.session_state[key] = frame
    return frame


def button_labels() -> dict[str, str]:
    return _i18n.texts("landscape.buttons")


def clip_y(fig, data: ls.Landscape1D) -> None:
    """Keep the y axis on the task losses when an objective flies off the picture."""
    top = float(np.nanmax(data.task_losses))
    fig.update_yaxes(range=[-0.45 * top, 2.5 * top])

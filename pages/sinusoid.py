"""Toy example: sinusoids, live. Meta-train in front of the class, then adapt to a new task.

Thin: widgets in; ``mamlviz.live`` trains in a worker thread owned by this
session, ``mamlviz.newtask`` adapts, ``mamlviz.figures.sinusoid`` draws. The
streaming chart is a small custom component that updates one Plotly div in
place (``pages/_live_chart.py``).
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import plotly.graph_objects as go
import streamlit as st
import torch

from mamlviz.config import TrainConfig
from mamlviz.errors import MamlvizError
from mamlviz.figures.sinusoid import fits_figure, mse_steps_figure, training_figure
from mamlviz.live import LiveRun, process_rss_bytes
from mamlviz.live_sinusoid import live_defaults, live_sinusoid_configs
from mamlviz.tasks.sinusoid import SinusoidTask, support_from_points
from pages import _algorithms, _classroom, _i18n, _ui
from pages import _sinusoid_models as models_on
from pages._live_chart import live_chart

_ui.through_the_router()

ALGORITHMS = _algorithms.names("sinusoid")
RUN_KEY = "sin_live_run"


def _fig_labels(name: str) -> dict[str, str]:
    return dict(_i18n.texts("sinusoid.figures")[name])


def _meter(t: dict[str, str], snap: Any, names: dict[str, str]) -> None:
    rows = []
    for key in snap.status:
        rows.append({t["models"]: names.get(key, key),
                     t["status"]: t.get(f"state_{snap.status[key]}", snap.status[key]),
                     t["steps"]: snap.steps.get(key, 0),
                     t["its"]: round(snap.it_per_s.get(key, 0.0), 1)})
    c1, c2, c3 = st.columns(3)
    c1.metric(t["its"], f"{sum(snap.it_per_s.values()) if snap.running else 0.0:.1f}")
    c2.metric(t["device"], snap.device or _ui.device_name())
    c3.metric(t["memory"], f"{process_rss_bytes() / 2**20:.0f} MiB")
    st.markdown(_ui.markdown_table(rows))
    _classroom.run_messages(t, snap, names)


def placeholder_figure(t: dict[str, str], names: dict[str, str]) -> go.Figure:
    """The live chart before any run: no axes, the sentence that says what comes."""
    fig = training_figure({}, names, labels=_fig_labels("training"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(text=t["idle"], name="placeholder", x=0.5, y=0.5, xref="paper",
                       yref="paper", showarrow=False, font={"size": 18})
    return fig


def _live_panel(t: dict[str, str], names: dict[str, str]) -> None:
    run: LiveRun | None = st.session_state.get(RUN_KEY)
    if run is None:
        # The empty chart loads plotly.js now, so the first curve point shows at once; it
        # says what will appear in it instead of showing an empty log grid.
        live_chart(lambda: placeholder_figure(t, names), key="sin_live_chart", height=460,
                   version=-1)
        return
    snap = run.snapshot()
    _classroom.queue_status(snap, "sin")
    live_chart(lambda: training_figure(snap.records, names, labels=_fig_labels("training")),
               key="sin_live_chart", height=460, version=snap.version)
    _meter(t, snap, names)
    # Ended means the worker ended: its last messages (the final weights, the held-out
    # scores) come after the last status.
    was_running = st.session_state.get("sin_was_running", False)
    st.session_state["sin_was_running"] = run.alive
    if was_running and not run.alive:
        st.rerun()  # the run ended: redraw the page once (models, no more polling)


# The training settings' widget keys; their defaults are the paper's
# (``mamlviz.live_sinusoid.live_defaults``). The Train button's callback reads them from
# the session state.
SETTINGS = {"k_shot": "sin_k", "inner_lr": "sin_inner_lr", "inner_steps": "sin_inner_steps",
            "meta_batch_size": "sin_meta_batch", "meta_lr": "sin_meta_lr",
            "iterations": "sin_iterations", "seed": "sin_seed",
            "reptile_steps": "sin_rep_steps", "reptile_eps": "sin_rep_eps"}
DEFAULTS = live_defaults()


def _key(name: str) -> str:
    return SETTINGS[name]


def _default(name: str) -> Any:
    return DEFAULTS[name]


def _setting(name: str) -> Any:
    return st.session_state.get(_key(name), _default(name))


def _start_training(t: dict[str, str]) -> None:
    """Train's callback. It runs before the script, so the very run it triggers already
    shows the run (settings disabled, chart polling): no second rerun before the
    first curve point."""
    chosen = st.session_state.get("sin_algorithms") or []
    if not chosen:
        st.session_state["sin_message"] = ("warning", t["no_algorithm"])
        return
    values = {name: _setting(name) for name in SETTINGS}
    if not _algorithms.interpolating(chosen):  # Reptile's own settings: shown when chosen
        values["reptile_steps"], values["reptile_eps"] = (_default("reptile_steps"),
                                                         _default("reptile_eps"))
    values["iterations"], values["seed"] = int(values["iterations"]), int(values["seed"])
    try:
        configs = live_sinusoid_configs(chosen, values)
    except MamlvizError as exc:
        st.session_state["sin_message"] = ("error", t["bad_setting"].format(error=exc))
        return
    old: LiveRun | None = st.session_state.get(RUN_KEY)
    if old is not None:
        old.stop()
    st.session_state[RUN_KEY] = LiveRun(
        configs, device=None, idle_timeout=_classroom.IDLE_TIMEOUT_S,
        backend=_classroom.training_backend(), held_out=models_on.HELD_OUT).start()
    st.session_state["sin_was_running"] = True


def _stop_training() -> None:
    run: LiveRun | None = st.session_state.get(RUN_KEY)
    if run is not None:
        run.stop()
        run.join(timeout=5)


def _clear_training() -> None:
    st.session_state.pop(RUN_KEY, None)


def live_meta_training(t: dict[str, str], names: dict[str, str]) -> None:
    """The chosen algorithms meta-trained side by side, live, in a worker thread; the
    settings start at the paper's (Finn et al. 2017, section 5.1)."""
    st.header(t["train_head"])
    run: LiveRun | None = st.session_state.get(RUN_KEY)
    running = run is not None and run.alive
    chosen = st.multiselect(t["algorithms"], ALGORITHMS, default=_algorithms.contrasted(),
                            format_func=names.__getitem__, key="sin_algorithms", disabled=running)

    c = st.columns(4)
    c[0].slider(t["k_shot"], 1, 40, _default("k_shot"), key=_key("k_shot"), disabled=running)
    c[1].number_input(t["inner_lr"], 0.0, 100.0, _default("inner_lr"), step=0.005, format="%.4f",
                      key=_key("inner_lr"), disabled=running)
    c[2].slider(t["inner_steps"], 1, 10, _default("inner_steps"), key=_key("inner_steps"),
                disabled=running)
    c[3].slider(t["meta_batch"], 1, 100, _default("meta_batch_size"), key=_key("meta_batch_size"),
                disabled=running)
    c = st.columns(4)
    c[0].number_input(t["meta_lr"], 0.0, 100.0, _default("meta_lr"), step=0.001, format="%.4f",
                      key=_key("meta_lr"), disabled=running)
    c[1].number_input(t["iterations"], 1, 70_000, _default("iterations"), step=500,
                      key=_key("iterations"), disabled=running)
    c[2].number_input(t["seed"], 0, 1_000_000, _default("seed"), key=_key("seed"), disabled=running)
    if _algorithms.interpolating(chosen):
        c[3].slider(t["reptile_steps"], 1, 20, _default("reptile_steps"), key=_key("reptile_steps"),
                    disabled=running)
        c[3].number_input(t["reptile_eps"], 0.0, 10.0, _default("reptile_eps"), step=0.05,
                          key=_key("reptile_eps"), disabled=running)
    st.caption(t["defaults"])
    _classroom.capacity_note()

    b1, b2, b3, _ = st.columns([1, 1, 2, 4])
    b1.button(t["train"], type="primary", key="sin_train", disabled=running,
              on_click=_start_training, args=(t,))
    b2.button(t["stop"], key="sin_stop", disabled=not _classroom.stoppable(run),
              on_click=_stop_training)
    if run is not None and not running:
        b3.button(t["clear"], key="sin_clear", on_click=_clear_training)
    message = st.session_state.pop("sin_message", None)
    if message is not None:
        getattr(st, message[0])(message[1])

    st.fragment(run_every=_classroom.poll_interval(run))(_live_panel)(t, names)


# -- 2. a new task -------------------------------------------------------------------------------


@st.fragment
def new_task_section(t: dict[str, str], names: dict[str, str]) -> None:
    """The models on a new task. A fragment: moving its sliders (a class does, all at
    once) reruns this section alone, not the settings, the live chart and the lecture's
    header and sidebar around it."""
    run: LiveRun | None = st.session_state.get(RUN_KEY)
    running = run is not None and run.alive
    st.header(t["new_head"])
    st.markdown(t["new_body"])

    shipped: dict[str, tuple[TrainConfig, dict[str, torch.Tensor]]] = {}
    for key, value in _ui.sinusoid_checkpoints().items():
        if not isinstance(value, BaseException):
            shipped[key] = value
    session_models: dict[str, tuple[TrainConfig, dict[str, torch.Tensor]]] = {}
    if run is not None and not running:
        # The session's own models once its run has ended: while it trains, its phi
        # changes every second and each change of the task would re-adapt and
        # re-evaluate them (per session, on a server shared by the class).
        configs = run.configs
        session_models = {k: (configs[k], phi) for k, phi in run.phis().items()}

    sources = ["shipped"] + (["session"] if session_models else [])
    if session_models and st.session_state.get("sin_models_of") is not run:
        # A run has just ended: show its models, so the class never credits the shipped
        # 70,000-iteration fits to a run of seconds.
        st.session_state["sin_models_of"] = run
        st.session_state["sin_model_source"] = "session"
    elif st.session_state.get("sin_model_source") not in sources:
        st.session_state["sin_model_source"] = "shipped"  # the run was cleared
    source = st.radio(t["models"], sources, key="sin_model_source", horizontal=True,
                      format_func=lambda s: t[s])
    if source == "shipped":
        models = shipped
        for key, value in _ui.sinusoid_checkpoints().items():
            if isinstance(value, BaseException):
                st.caption(t["missing"].format(name=names[key], error=value))
    else:
        models = session_models

    task_source = st.radio(t["task_source"], ["ab", "points"], horizontal=True, key="sin_task_src",
                           format_func=lambda s: t["from_ab"] if s == "ab" else t["own_points"])
    n1, n2, n3, n4 = st.columns(4)
    # With my own points the task is the table: a, b, K and the seed only made its first
    # rows, and moving them must not replace what was typed (they are frozen meanwhile).
    own = task_source == "points"
    amplitude = n1.slider(t["amplitude"], 0.1, 10.0, 3.0, step=0.1, key="sin_a", disabled=own)
    phase = n2.slider(t["phase"], 0.0, round(2 * math.pi, 2), 1.0, step=0.05, key="sin_b",
                      disabled=own)
    k_new = n3.slider(t["k_new"], 1, 40, 10, key="sin_k_new", disabled=own)
    point_seed = int(n4.number_input(t["point_seed"], 0, 10_000, 0, key="sin_point_seed",
                                     disabled=own))

    task = SinusoidTask(amplitude, phase)
    sample = task.sample(k_new, 100, generator=torch.Generator().manual_seed(point_seed))
    support_x, support_y = sample.support_x[0], sample.support_y[0]
    query_x, query_y = sample.query_x[0], sample.query_y[0]
    points_ok = True
    if task_source == "points":
        st.caption(t["points_help"])
        default_rows = [{"x": round(float(x), 2), "y": round(float(y), 2)}
                        for x, y in zip(support_x[:, 0].tolist(), support_y[:, 0].tolist())]
        edited = st.data_editor(default_rows, num_rows="dynamic", key="sin_points",
                                width="content")
        rows = [r for r in (edited or []) if r.get("x") is not None and r.get("y") is not None]
        try:
            support_x, support_y = support_from_points([float(r["x"]) for r in rows],
                                                       [float(r["y"]) for r in rows])
        except (MamlvizError, TypeError, ValueError) as exc:
            st.error(t["points_bad"].format(error=exc))
            points_ok = False

    if not models:
        st.info(t["none_available"])
    elif points_ok:
        grid = torch.linspace(-5.0, 5.0, 200)
        fits: dict[str, Any] = {}
        task_curves: dict[str, list[float]] = {}
        points = (support_x, support_y, query_x, query_y)
        points_key = _ui.digest(*points)
        folder = str(_ui.checkpoints_dir())
        for key, (config, phi) in models.items():
            if source == "shipped":
                fits[key], task_curves[key] = models_on.shipped_new_task(folder, key, points_key,
                                                                         points)
            else:
                fits[key], task_curves[key] = models_on.for_this_run(
                    run, ("new_task", key, points_key),
                    partial(models_on.new_task, config, phi, points))
            if any(v is None for v in fits[key]["fits"].values()):
                st.warning(t["fit_diverged"].format(name=names.get(key, key)))
        truth = (grid.tolist(), task(grid).tolist())
        # The shipped models' figures depend only on the task and its points: built once per
        # server and shared by the class. A session's own models are its alone.
        task_key = (folder, points_key, amplitude, phase) if source == "shipped" else None

        def new_task_figure() -> go.Figure:
            fig = fits_figure(truth, (support_x[:, 0].tolist(), support_y[:, 0].tolist()),
                              fits, names, labels=_fig_labels("fits"))
            if task_source == "points":
                # Typed points have no true curve: a/b's sine would be a curve of another task.
                fig.data = [trace for trace in fig.data if trace.meta != "truth"]
            return fig

        _ui.show_figure(new_task_figure, "sinusoid-new-task", key="sin_fits_fig",
                        cache_key=None if task_key is None else (task_key, task_source))

        st.subheader(t["curve_head"])
        k_eval = int(support_x.shape[0])
        st.caption(t["curve_body"].format(n=models_on.EVAL_TASKS, k=k_eval))
        curves = {}
        for key, (config, phi) in models.items():
            try:
                if source == "shipped":
                    curves[key] = models_on.shipped_curve(folder, key, k_eval,
                                                          models_on.CURVE_STEPS)
                elif run is not None:  # the session's models are its run's
                    curves[key] = models_on.session_curve(run, key, config, phi, k_eval)
            except MamlvizError as exc:
                _ui.error_box(exc)
        if source == "shipped":
            shown_curves = curves
        else:
            shown_curves = {k: v for k, v in curves.items()
                            if all(math.isfinite(m) for m in v[0])}
        this_task = task_curves if task_source == "ab" else None
        _ui.show_figure(lambda: mse_steps_figure(shown_curves, names, labels=_fig_labels("mse"),
                                                 this_task=this_task),
                        "sinusoid-mse-steps", key="sin_mse_fig",
                        cache_key=None if task_key is None else (task_key, task_source, k_eval))


def render() -> None:
    t = _classroom.live_texts("sinusoid")
    names = _algorithms.labels(_i18n.lang(), "sinusoid")
    st.title(t["title"])
    st.markdown(t["intro"])
    live_meta_training(t, names)
    new_task_section(t, names)
    _ui.chapter_figures("sinusoid")  # last: a zip of the figures this page showed


render()

"""Warning of math: the first-order approximation, next to numbers measured on the sinusoid MLP.

Thin: widgets in, ``mamlviz.first_order`` measures, ``mamlviz.figures.first_order`` draws.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import streamlit as st

from mamlviz.figures.first_order import components_figure, cosine_figure, cost_figure
from mamlviz.first_order import agreement, compare_step_times, meta_gradients, meta_step_cost
from mamlviz.three_steps import random_init, sinusoid_task_set
from pages import _algorithms, _i18n, _ui

_ui.through_the_router()

INNER_LRS = [0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5]
SWEEP_STEPS = (1, 2, 3)
N_QUERY = 10
SECOND_ORDER = _algorithms.second_order()  # MAML: its meta-gradient against the first-order one

# Timing: full and first order alternate for this many steps each (one step is tens of
# ms on a CPU); the median of so many is not moved by a shared CPU's bursts.
TIMING_REPEATS = 15
COST_REPEATS = 3  # the batched step's time and the memory count, steadier than the loop


def _fig_labels(name: str) -> dict[str, str]:
    return dict(_i18n.texts("first_order.figures")[name])


def _phi(which: str, seed: int) -> Any:
    if which == SECOND_ORDER:
        value = _ui.sinusoid_checkpoints().get(SECOND_ORDER)
        if value is not None and not isinstance(value, BaseException):
            return value[1]
    return random_init(seed)


@st.cache_data(show_spinner=False, max_entries=32)
def _batch(n_tasks: int, seed: int) -> Any:
    return sinusoid_task_set(n_tasks, 10, N_QUERY, seed).batch


@st.cache_data(show_spinner=False, max_entries=256)
def _grads(which: str, n_tasks: int, seed: int, inner_lr: float, steps: int) -> Any:
    return meta_gradients(_phi(which, seed), _batch(n_tasks, seed), inner_lr, steps)


@st.cache_data(show_spinner=False, max_entries=64)
def _sweep(which: str, n_tasks: int, seed: int) -> dict[int, list[float]]:
    return {s: [_grads(which, n_tasks, seed, lr, s).cosine for lr in INNER_LRS]
            for s in SWEEP_STEPS}


@st.cache_data(show_spinner=False, max_entries=64)
def _costs(which: str, n_tasks: int, seed: int, inner_lr: float, steps: int,
           device: str) -> tuple[Any, ...]:
    phi = {k: v.to(device) for k, v in _phi(which, seed).items()}
    batch = _batch(n_tasks, seed).to(device)
    timing = compare_step_times(phi, batch, inner_lr, steps, TIMING_REPEATS)
    costs = [meta_step_cost(phi, batch, inner_lr, steps, first_order, COST_REPEATS)
             for first_order in (False, True)]
    # The loop's time shown (and drawn) is the alternating median, not meta_step_cost's own.
    return (timing, *(dataclasses.replace(cost, seconds_naive=times[1], repeats=TIMING_REPEATS)
                      for cost, times in zip(costs, (timing.full, timing.first_order))))


def _cost_device() -> str:
    """Where the cost is measured: the training device when it is CUDA, else the CPU."""
    from mamlviz.device import pick_device
    from mamlviz.errors import MamlvizError

    try:
        return "cuda" if pick_device().type == "cuda" else "cpu"
    except MamlvizError:
        return "cpu"


def _kb(n_bytes: float) -> str:
    return f"{n_bytes / 1e3:,.1f} KB"


Settings = tuple[str, int, int, float, int]  # (which phi, tasks, seed, inner rate, steps)


def derivation(t: Mapping[str, str]) -> None:
    """The lecture's derivation: the chain rule, and the second derivatives dropped."""
    st.title(t["title"])
    st.markdown(t["intro"])
    st.markdown(t["update"])
    st.latex(r"\phi \leftarrow \phi - \eta \nabla_\phi L(\phi), \qquad "
             r"L(\phi) = \sum_{n=1}^{N} l^n(\hat\theta^n), \qquad "
             r"\nabla_\phi L(\phi) = \sum_{n=1}^{N} \nabla_\phi l^n(\hat\theta^n)")
    st.markdown(t["chain"])
    st.latex(r"\nabla_\phi l(\hat\theta) = \begin{bmatrix} "
             r"\partial l(\hat\theta)/\partial\phi_1 \\ "
             r"\vdots \\ \partial l(\hat\theta)/\partial\phi_i \\ \vdots \end{bmatrix}, \qquad "
             r"\frac{\partial l(\hat\theta)}{\partial \phi_i} = \sum_j "
             r"\frac{\partial l(\hat\theta)}{\partial \hat\theta_j}"
             r"\frac{\partial \hat\theta_j}{\partial \phi_i}")
    st.markdown(t["first_factor"])
    st.latex(r"\hat\theta_j = \phi_j - \alpha \frac{\partial l(\phi)}{\partial \phi_j}")
    st.markdown(t["cases"])
    st.latex(r"i \neq j:\quad \frac{\partial \hat\theta_j}{\partial \phi_i} = "
             r"-\alpha \frac{\partial^2 l(\phi)}{\partial \phi_i \partial \phi_j} \approx 0"
             r"\qquad\qquad "
             r"i = j:\quad \frac{\partial \hat\theta_j}{\partial \phi_i} = "
             r"1 - \alpha \frac{\partial^2 l(\phi)}{\partial \phi_i^2} \approx 1")
    st.markdown(t["approx"])
    st.latex(r"\frac{\partial l(\hat\theta)}{\partial \phi_i} \approx "
             r"\frac{\partial l(\hat\theta)}{\partial \hat\theta_i}, \qquad "
             r"\nabla_\phi l(\hat\theta) \approx \nabla_{\hat\theta} l(\hat\theta)")
    st.markdown(t["approx_after"])


def measurement_settings(t: Mapping[str, str]) -> Settings:
    """The phi to measure at (MAML's or a random one), the inner rate and steps, the tasks."""
    st.header(t["measured"])
    st.markdown(t["measured_body"])
    checkpoint = _ui.sinusoid_checkpoints().get(SECOND_ORDER)
    maml_ok = checkpoint is not None and not isinstance(checkpoint, BaseException)
    c1, c2, c3, c4, c5 = st.columns([2, 2, 1, 1, 1])
    which = str(c1.radio(t["phi"], [SECOND_ORDER, "random"] if maml_ok else ["random"],
                         key="fo_phi", format_func=lambda v: t["phi_maml"] if v == SECOND_ORDER
                         else t["phi_random"]))
    if not maml_ok:
        c1.caption(t["maml_missing"].format(error=checkpoint))
    inner_lr = c2.select_slider(t["inner_lr"], INNER_LRS, value=0.01, key="fo_inner_lr")
    steps = c3.slider(t["inner_steps"], 1, 5, 1, key="fo_steps")
    n_tasks = c4.slider(t["n_tasks"], 1, 50, 25, key="fo_n_tasks")
    seed = int(c5.number_input(t["seed"], 0, 10_000, 0, step=1, key="fo_seed"))
    return which, n_tasks, seed, inner_lr, steps


def both_gradients(t: Mapping[str, str], settings: Settings) -> Any:
    """The full and the first-order meta-gradient at these settings, and how they agree."""
    which, n_tasks, seed, inner_lr, steps = settings
    grads = _grads(which, n_tasks, seed, inner_lr, steps)
    if not grads.finite:
        st.warning(t["diverged"].format(lr=inner_lr, steps=steps))
    else:
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(t["cosine"], f"{grads.cosine:.4f}", help=t["cosine_help"])
        m2.metric(t["norm_full"], f"{float(grads.full.norm()):.4g}")
        m3.metric(t["norm_first"], f"{float(grads.first_order.norm()):.4g}")
        m4.metric(t["rel"], f"{grads.relative_difference:.3f}")
        if inner_lr == 0:
            st.info(t["zero_lr"])
        else:
            agree = agreement(grads)
            sentence = t[f"agree_{agree.verdict}"].format(
                rel=agree.relative_difference, angle=agree.angle_degrees, cos=agree.cosine,
                dropped=agree.dropped_norm, full=agree.full_norm)
            if which == SECOND_ORDER and agree.verdict != "same":
                other = _grads("random", n_tasks, seed, inner_lr, steps)
                if other.finite:
                    sentence += t["agree_meta_learned"].format(other=other.cosine)
            st.markdown(sentence)
    return grads


def against_the_inner_rate(t: Mapping[str, str], settings: Settings, grads: Any) -> None:
    """Their cosine similarity as the inner rate grows, and the components side by side."""
    which, n_tasks, seed, inner_lr, steps = settings
    st.subheader(t["sweep_head"])
    st.markdown(t["sweep_body"])
    current = (inner_lr, grads.cosine if grads.finite else math.nan)
    # Figures are built once per server for their inputs (show_figure's cache_key).
    _ui.show_figure(lambda: cosine_figure(INNER_LRS, _sweep(which, n_tasks, seed), current,
                                          labels=_fig_labels("cosine")),
                    "first-order-cosine", key="fo_cosine_fig", cache_key=settings)

    if grads.finite:
        st.subheader(t["components_head"])
        _ui.show_figure(lambda: components_figure(grads, labels=_fig_labels("components")),
                        "first-order-components", key="fo_components_fig", cache_key=settings)


def cost(t: Mapping[str, str], settings: Settings) -> None:
    """What the exact meta-gradient costs in time and memory against the first-order one."""
    st.subheader(t["cost_head"])
    device = _cost_device()
    timing, full_cost, first_cost = _costs(*settings, device)
    st.markdown(t["cost_body"].format(repeats=timing.repeats, batched=COST_REPEATS))
    k1, k2, k3, k4 = st.columns(4)
    k1.metric(t["time_full"], f"{1e3 * full_cost.seconds_naive:.2f} ms")
    k2.metric(t["time_first"], f"{1e3 * first_cost.seconds_naive:.2f} ms")
    k3.metric(t["mem_full"], _kb(full_cost.saved_bytes_peak))
    k4.metric(t["mem_first"], _kb(first_cost.saved_bytes_peak))
    if full_cost.cuda_peak_bytes is not None and first_cost.cuda_peak_bytes is not None:
        st.caption(t["cuda_peak"].format(full=full_cost.cuda_peak_bytes / 1e3,
                                         first=first_cost.cuda_peak_bytes / 1e3))
    st.caption(t["device"].format(device=device))
    ms = {k: 1e3 * v for k, v in zip(("f0", "f1", "f2", "o0", "o1", "o2"),
                                      (*timing.full, *timing.first_order))}
    st.caption(t["timing_spread"].format(repeats=timing.repeats, **ms))
    if not timing.first_order_faster:
        st.info(t["timing_slower"].format(first=ms["o1"], full=ms["f1"]))
    elif timing.overlapping:
        st.caption(t["timing_noise"])
    # Keyed by the measurements themselves, not the settings: if _costs' smaller cache
    # measures these settings again, the figure still shows the numbers printed above it.
    _ui.show_figure(lambda: cost_figure(full_cost, first_cost, labels=_fig_labels("cost")),
                    "first-order-cost", key="fo_cost_fig", cache_key=(full_cost, first_cost))


def render() -> None:
    t = _i18n.texts("first_order")
    derivation(t)
    chosen = measurement_settings(t)
    grads = both_gradients(t, chosen)
    against_the_inner_rate(t, chosen, grads)
    cost(t, chosen)
    _ui.show_source(meta_gradients, t["source"])
    _ui.chapter_figures("first-order")  # last: a zip of the figures this page showed


render()

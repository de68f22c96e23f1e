"""Chapter 'More, and things to think about': MAML for machine translation (MetaNMT), what
else can be learned (the initialization, the step sizes, which layers adapt, a metric),
each shown by a small figure the engine computes, what a meta-step of each costs, turtles
all the way down, and the crazy idea.

Thin: ``mamlviz.what_is_learned``, ``mamlviz.landscape`` and ``mamlviz.cost`` compute,
``mamlviz.figures.what_is_learned`` draws; which algorithm stands for which part comes
from the registry (``pages/_algorithms.py``).
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st
import torch

from pages import _algorithms, _data, _i18n, _ui

_ui.through_the_router()

PRESET_2D, PHI_2D, LR_2D, REPTILE_K = "lecture", (2.0, 1.0), 0.7, 3
STEP_LRS = (0.1, 0.4, 0.8)
LAYER_STEPS, LAYER_TASKS = 5, 25
COST_STEPS, COST_TASKS = (1, 2, 4), 2
N_WAY, K_SHOT, N_QUERY, EPISODE_SEED = 5, 5, 5, 7


def _fig_labels(name: str) -> dict[str, str]:
    return dict(_i18n.texts("more.figures")[name])


@st.cache_data(show_spinner=False)
def _layer_changes() -> tuple[dict[str, dict[str, float]], str | None, float]:
    """Per-layer inner-loop movement from the shipped MAML model's phi (or a random phi and
    why), and the inner rate used: the model's own."""
    from mamlviz.models import SinusoidMLP
    from mamlviz.models.mlp import init_params
    from mamlviz.what_is_learned import layer_changes

    shipped = _ui.sinusoid_checkpoints().get(_algorithms.second_order())
    if isinstance(shipped, tuple):
        config, phi = shipped
        return layer_changes(phi, config.inner_lr, LAYER_STEPS, LAYER_TASKS), None, \
            config.inner_lr
    phi = init_params(SinusoidMLP(), seed=0)
    return layer_changes(phi, 0.01, LAYER_STEPS, LAYER_TASKS), str(shipped), 0.01


@st.cache_data(show_spinner=False)
def _prototype_map(source: str | None) -> tuple[Any, bool] | None:
    """The episode as ProtoNets embeds it, and whether the embedding is a trained one."""
    from mamlviz.data.omniglot import OmniglotData
    from mamlviz.models import Conv4
    from mamlviz.models.mlp import init_params
    from mamlviz.runs import load_run
    from mamlviz.tasks.omniglot import OmniglotTasks
    from mamlviz.what_is_learned import prototype_map

    data = _data.omniglot()
    if not isinstance(data, OmniglotData):
        return None
    metric = next(a.name for a in _algorithms.all_algorithms() if a.family == "metric-based")
    path = _ui.checkpoints_dir() / f"omniglot_{metric}_{N_WAY}w1s.pt"
    model = Conv4(N_WAY)
    trained = path.exists()
    phi = load_run(path, "omniglot")[1] if trained else init_params(model, seed=0)
    split = data.split()[1].with_rotations(False)
    episode = OmniglotTasks(split, N_WAY).episodes(
        1, K_SHOT, N_QUERY, generator=torch.Generator().manual_seed(EPISODE_SEED)).batch
    sx, sy, qx, qy = (t[0] for t in episode.tensors())
    return prototype_map(model, phi, sx, sy, qx, qy), trained


@st.cache_data(show_spinner=False)
def _costs() -> Any:
    from mamlviz.cost import meta_step_costs

    torch.set_num_threads(1)  # a page shares the server's cores with the class
    return meta_step_costs(COST_STEPS, n_tasks=COST_TASKS)


def section_init(t: Any, names: dict[str, str]) -> None:
    from mamlviz import landscape as ls
    from mamlviz.figures.what_is_learned import directions_figure

    st.markdown(f"#### {t['init_title']}")
    st.markdown(t["init"].format(lr=LR_2D, k=REPTILE_K))
    directions = ls.update_directions(ls.PRESETS_2D[PRESET_2D], PHI_2D, LR_2D, 1, REPTILE_K)
    _ui.show_figure(lambda: directions_figure(directions, names, _fig_labels("directions")),
                    "more-directions", key="more_directions",
                    cache_key=(PRESET_2D, PHI_2D, LR_2D, REPTILE_K, tuple(names.items())))


def section_step_sizes(t: Any) -> None:
    from mamlviz.figures.what_is_learned import step_size_figure
    from mamlviz.what_is_learned import step_size_curves

    st.markdown(f"#### {t['step_title']}")
    st.markdown(t["step"])
    _ui.show_figure(lambda: step_size_figure(step_size_curves("lecture", STEP_LRS),
                                             _fig_labels("step_size")),
                    "more-step-sizes", key="more_step_sizes", cache_key=STEP_LRS)


def section_layers(t: Any, names: dict[str, str]) -> None:
    from mamlviz.figures.what_is_learned import layer_change_figure

    every = _algorithms.second_order()
    head = next(a.name for a in _algorithms.all_algorithms() if a.inner_mask is not None)
    changes, error, lr = _layer_changes()
    st.markdown(f"#### {t['layers_title']}")
    phi = t["phi_maml"] if error is None else t["phi_random"].format(error=error)
    st.markdown(t["layers"].format(steps=LAYER_STEPS, lr=lr, phi=phi, tasks=LAYER_TASKS,
                                   every=names[every], head=names[head]))
    layers = dict(zip(changes["every"], t["layer_names"].split("|")))
    modes = {"every": (names[every], every), "head": (names[head], head)}
    _ui.show_figure(lambda: layer_change_figure(changes, modes, layers, _fig_labels("layers")),
                    "more-layers", key="more_layers",
                    cache_key=(tuple(modes.items()), tuple(layers.items()), error))


def section_metric(t: Any) -> None:
    from mamlviz.figures.what_is_learned import prototype_figure

    st.markdown(f"#### {t['metric_title']}")
    shown = _prototype_map(os.environ.get(_data.SOURCE_ENV))
    if shown is None:
        st.markdown(t["metric"].format(n_way=N_WAY, k_shot=K_SHOT,
                                       embedding=t["embedding_random"]))
        st.info(t["metric_missing"])
        return
    data, trained = shown
    st.markdown(t["metric"].format(n_way=N_WAY, k_shot=K_SHOT, embedding=t[
        "embedding_trained" if trained else "embedding_random"]))
    _ui.show_figure(lambda: prototype_figure(data, _fig_labels("prototypes")),
                    "more-prototypes", key="more_prototypes", cache_key=(trained, EPISODE_SEED))


def section_cost(t: Any, names: dict[str, str]) -> None:
    from mamlviz.figures.what_is_learned import cost_by_steps_figure

    st.subheader(t["cost_title"])
    st.markdown(t["cost"].format(tasks=COST_TASKS))
    with st.spinner(t["cost_spinner"]):
        table = _costs()
    _ui.show_figure(lambda: cost_by_steps_figure(table, names, _fig_labels("cost")),
                    "more-cost", key="more_cost",
                    cache_key=(COST_STEPS, COST_TASKS, tuple(names.items())))


def the_lecture_closes(t: Any) -> None:
    """An application (MAML for translation), and what else could be learned."""
    st.title(t["title"])
    st.subheader(t["nmt_title"])
    st.markdown(t["nmt"])
    st.subheader(t["other_title"])
    st.markdown(t["other"])


def what_is_learned(t: Any) -> None:
    """Beyond the initialization, each part of the learner that is learned, live."""
    names = _algorithms.labels(_i18n.lang())
    st.subheader(t["learned_title"])
    st.markdown(t["learned_intro"])
    section_init(t, names)
    section_step_sizes(t)
    section_layers(t, names)
    section_metric(t)
    section_cost(t, names)


def questions_left(t: Any) -> None:
    """Turtles all the way down, the crazy idea, and the papers."""
    for part in ("turtles", "crazy"):
        st.subheader(t[f"{part}_title"])
        st.markdown(t[part])
    st.subheader(t["refs"])
    st.markdown(t["ref_list"])


def render() -> None:
    t = _i18n.texts("more")
    the_lecture_closes(t)
    what_is_learned(t)
    questions_left(t)


render()

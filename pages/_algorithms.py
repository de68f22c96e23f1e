"""What the chapters show of the algorithm registry (``mamlviz.algorithms``): names in
the reader's language, and the few groupings the lecture makes. No chapter names an
algorithm; each asks here, so a newly registered one appears everywhere at once."""

from __future__ import annotations

from mamlviz.algorithms import Algorithm, all_algorithms, get, names
from mamlviz.live_omniglot import live_algorithms
from pages import _i18n

__all__ = ["Algorithm", "all_algorithms", "contrasted", "get", "interpolating", "labels",
           "names"]


def labels(language: str = "en", problem: str | None = None) -> dict[str, str]:
    """name -> display name in ``language`` (its catalogue's; the registry's English name
    where no catalogue has one yet), in registry order."""
    shown = _i18n.texts("algorithms", language)
    return {a.name: str(shown.get(a.name, a.label)) for a in all_algorithms(problem)}


def contrasted() -> list[str]:
    """The lecture's contrast, shown first: the algorithms that minimise an objective of
    their own (MAML: how good after adaptation; pre-training: how good now)."""
    return [a.name for a in all_algorithms() if a.objective is not None]


def second_order() -> str:
    """The algorithm that differentiates through its inner steps (MAML), whose meta-gradient
    the first-order chapter compares with its first-order approximation."""
    return next(a.name for a in all_algorithms() if a.second_order)


def live_default(problem: str) -> list[str]:
    """What a live run trains unless told otherwise: on Omniglot the first algorithm the
    live defaults were measured for (``mamlviz.live_omniglot``: MAML reaches 90% in
    about 500 meta-iterations); elsewhere the first registered one that adapts."""
    if problem == "omniglot":
        return live_algorithms()[:1]
    return [a.name for a in all_algorithms(problem) if a.adapts][:1]


def interpolating(chosen: list[str] | tuple[str, ...]) -> bool:
    """Whether any chosen algorithm moves phi by interpolation (Reptile's epsilon), so
    its own rate and steps are to be asked for."""
    return any(get(name).outer_rule == "interpolation" for name in chosen)

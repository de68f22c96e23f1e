"""The registry: every algorithm the app knows, in the order chapters show them."""

from __future__ import annotations

from ..errors import ConfigError
from .base import Algorithm

REGISTRY: dict[str, Algorithm] = {}


def register(algorithm: Algorithm) -> Algorithm:
    """Add ``algorithm`` after those registered before it; a name may be taken once."""
    if algorithm.name in REGISTRY:
        raise ValueError(f"algorithm {algorithm.name!r} is registered twice")
    REGISTRY[algorithm.name] = algorithm
    return algorithm


def names(problem: str | None = None) -> tuple[str, ...]:
    """The registered names, in order; with ``problem``, those that support it."""
    return tuple(n for n, a in REGISTRY.items() if problem is None or problem in a.problems)


def get(name: str) -> Algorithm:
    """The algorithm called ``name``; a ConfigError that lists the choices otherwise."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):
        raise ConfigError("algorithm", f"unknown algorithm {name!r}; choose one of "
                          f"{', '.join(REGISTRY)}") from None


def all_algorithms(problem: str | None = None) -> tuple[Algorithm, ...]:
    """The registered algorithms, in order; with ``problem``, those that support it."""
    return tuple(REGISTRY[n] for n in names(problem))

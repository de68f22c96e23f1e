"""Meta-learning algorithms as objects in a registry, one module each.

An ``Algorithm`` (``base``) carries a name, an English label, a colour, its family, its default
settings per problem and its behaviour: a batched meta-step through the one functional
inner loop (``mamlviz.inner``), the objective it minimises where it has one, and the
plain per-task maths for the float64 reference (``mamlviz.reference``). Pages, figures,
the CLI, the bench and the model card iterate over the registry, so adding an algorithm
is one module here plus one ``register`` line below, and its name in each language's
catalogue (``pages/locales/``, section "algorithms"; ``tests/test_registry.py`` asks for
it; a chapter shows the English label wherever a name is missing).

References: MAML and first-order MAML (Finn et al. 2017, arXiv 1703.03400), Reptile
(Nichol et al. 2018, arXiv 1803.02999), iMAML (Rajeswaran et al. 2019, arXiv
1909.04630), Meta-SGD (Li et al. 2017, arXiv 1707.09835), ANIL (Raghu et al. 2019, arXiv
1909.09157), Prototypical Networks (Snell et al. 2017, arXiv 1703.05175); the layout follows
pytorch-maml's
``metalearners/`` and learn2learn's ``algorithms/``.
"""

from __future__ import annotations

from importlib import import_module

from ..inner import check_inner
from .base import Algorithm, InnerLoop, StepFn, StepOutput, merge_moments
from .registry import REGISTRY, all_algorithms, get, names, register


def _module(name: str) -> Algorithm:
    algorithm = import_module(f"{__name__}.{name}").ALGORITHM
    assert isinstance(algorithm, Algorithm)
    return algorithm


# The order here is the order every chapter, figure and table shows them in.
register(_module("maml"))
register(_module("fomaml"))
register(_module("reptile"))
register(_module("pretrain"))
register(_module("imaml"))
register(_module("metasgd"))
register(_module("anil"))
register(_module("protonet"))

ALGORITHMS = names()


def make_step(algorithm: str, loop: InnerLoop) -> StepFn:
    """The batched (vmap) meta-step of ``algorithm``."""
    check_inner(loop.inner_lr, loop.inner_steps)  # a loop's settings may change after it was built
    return get(algorithm).make_step(loop)


__all__ = ["ALGORITHMS", "REGISTRY", "Algorithm", "InnerLoop", "StepFn", "StepOutput",
           "all_algorithms", "get", "make_step", "merge_moments", "names", "register"]

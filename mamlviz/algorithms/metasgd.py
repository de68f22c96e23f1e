"""Meta-SGD (Li, Zhou, Chen & Li 2017, arXiv 1707.09835): learn the step sizes too.

The inner step is theta_hat = phi - inner_lr ∘ grad l_support(phi), with ``inner_lr``
a vector as large as phi (one step size per weight, elementwise product), and the
meta-objective sum_n l^n_query(theta_hat^n) is minimised over phi *and* inner_lr
together: the lecture's "learn the update rule", its direction as well as its size.

The step sizes ride in phi as ``inner_lr.<weight>`` (``mamlviz.inner.RATES``), so the
outer optimiser updates them with the weights, checkpoints keep them, and every
adaptation from such a phi (evaluation, a new task, the landscapes) takes them instead
of the configured ``inner_lr``. The meta-step is MAML's, differentiating through the
inner steps with respect to both. They start at the configured ``inner_lr`` for every
weight (the paper draws them at random from [0.005, 0.1]).
"""

from __future__ import annotations

from ..inner import with_rates
from .base import Algorithm
from .maml import maml_step, naive_task

ALGORITHM = Algorithm(
    name="metasgd",
    label="Meta-SGD",
    colour="#9467bd",
    family="gradient-based",
    make_step=maml_step,
    naive_task=naive_task,
    second_order=True,
    init_phi=with_rates,
    dash="dashdot",
    # The paper adapts in one step, meta-training and testing alike: its learned step
    # sizes are for that one step (on the sinusoid ten of them diverge).
    defaults={"omniglot": {5: {"inner_steps": 1, "test_inner_steps": 1},
                           20: {"inner_steps": 1, "test_inner_steps": 1}}},
    paper={(5, 1): "99.53 ± 0.26", (20, 1): "95.93 ± 0.38"},
    paper_source="Meta-SGD paper (Li et al. 2017), Omniglot results",
)

"""First-order MAML (Finn et al. 2017, arXiv 1703.03400, section 5.2).

MAML's objective with the inner gradients held constant, so grad_phi l(theta_hat)
becomes grad_theta_hat l(theta_hat): the second derivatives are dropped.
"""

from __future__ import annotations

from functools import partial

from .base import Algorithm
from .maml import maml_step, naive_task

ALGORITHM = Algorithm(
    name="fomaml",
    label="first-order MAML",
    colour="#17becf",
    family="gradient-based",
    make_step=partial(maml_step, first_order=True),
    naive_task=naive_task,
    paper={(5, 1): "98.3 ± 0.5", (5, 5): "99.2", (20, 1): "89.4 ± 0.5", (20, 5): "97.9"},
    paper_source="MAML paper (Finn et al. 2017), Table 1",
)

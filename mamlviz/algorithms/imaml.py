"""iMAML (Rajeswaran, Finn, Kakade & Levine 2019, arXiv 1909.04630): implicit gradients.

Each task's inner problem is regularised towards phi,

    theta_hat = argmin_theta  l_support(theta) + lam/2 ||theta - phi||^2,

approximately, by ``inner_steps`` gradient steps from phi. At the optimum
grad l_support(theta_hat) + lam (theta_hat - phi) = 0, so by the implicit function
theorem d theta_hat / d phi = (I + H / lam)^-1, H the support loss's Hessian at
theta_hat, and the meta-gradient of l_query(theta_hat) is

    g = (I + H / lam)^-1 grad l_query(theta_hat),

found by ``cg_steps`` steps of conjugate gradient, each one Hessian-vector product
(reverse over reverse, ``torch.func.vjp`` of ``grad``). Nothing is differentiated
through the inner steps, so memory does not grow with them: only theta_hat is kept.
The regulariser's strength and the number of CG steps are those common iMAML-GD code
defaults to (lam = 2, 5 steps).

The paper assumes lam large enough that the regularised inner problem is convex, so
that I + H / lam is positive definite. A network's loss need not oblige: where H has
curvature below -lam, CG on the indefinite system takes steps of any size and sign
(on the sinusoid MLP meta-training then learned nothing). CG here stops
at the first direction of non-positive curvature, as truncated (Steihaug) CG does in
Newton-CG methods: its answer so far, or, if that happens at once, the query gradient
itself (first-order MAML's direction). Where the system is positive definite nothing
changes.

On Omniglot the inner steps leave the pull out (``inner_lam`` 0): theta_hat is where
plain steps from phi stop, as in the paper's Omniglot code, whose steps minimise the
support loss alone. A pull of lam = 2 inside steps of 0.4 on the mean cross-entropy
takes back 80% of theta's distance from phi at every step, and meta-training stalled:
67.5% on 5-way 1-shot testing tasks after 300 meta-iterations against 85.6% without it,
and 65% to 73% with lam 0.5 or 0.1 in both places (assets/checkpoints/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
from torch.func import grad, vjp, vmap

from ..inner import Params, adapt, task_loss
from .base import Algorithm, InnerLoop, StepFn, StepOutput, query_losses

LAM = 2.0
CG_STEPS = 5


def _dot(a: Params, b: Params) -> torch.Tensor:
    return sum((a[k] * b[k]).sum() for k in a)  # type: ignore[return-value]


def conjugate_gradient(apply_a: Callable[[Params], Params], b: Params, steps: int) -> Params:
    """x with A x = b for a symmetric A given as x -> A x, after ``steps`` CG iterations
    from x = 0 (for a positive definite A, exact after as many steps as distinct
    eigenvalues). It stops at the first direction p with p^T A p <= 0, keeping the x
    reached, or b if that is the first direction (truncated CG). Fixed iterations, no
    branching on values, so it maps over tasks."""
    x = {k: torch.zeros_like(v) for k, v in b.items()}
    r = dict(b)
    p = dict(b)
    rs = _dot(r, r)
    going = torch.ones((), dtype=torch.bool, device=rs.device)
    for i in range(steps):
        ap = apply_a(p)
        pap = _dot(p, ap)
        curved = pap > 0
        if i == 0:  # no curvature to follow along b itself: b, the first-order direction
            x = {k: torch.where(curved, x[k], b[k]) for k in x}
        going = going & curved
        # a stopped solve takes no more steps (and an exactly converged one, r = 0, has
        # p^T A p = 0: it stops rather than take 0/0)
        alpha = torch.where(going, rs / torch.where(curved, pap, 1), 0)
        x = {k: x[k] + alpha * p[k] for k in x}
        r = {k: r[k] - alpha * ap[k] for k in r}
        rs_new = _dot(r, r)
        beta = torch.where(rs != 0, rs_new / torch.where(rs != 0, rs, 1), 0)
        p = {k: r[k] + beta * p[k] for k in p}
        rs = rs_new
    return x


def _task(loop: InnerLoop, lam: float, cg_steps: int, phi: Params, support_x: torch.Tensor,
          support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
          ) -> tuple[Params, torch.Tensor, torch.Tensor]:
    theta_hat = adapt(loop.model, loop.loss_fn, phi, support_x, support_y, loop.inner_lr,
                      loop.inner_steps, first_order=True, optimizer=loop.optimizer,
                      batch_size=loop.batch_size, lam=loop.pull(lam))  # Omniglot's: 0
    theta_hat = {k: v.detach() for k, v in theta_hat.items()}
    before, after = query_losses(loop, phi, theta_hat, query_x, query_y)
    query_grad = grad(partial(task_loss, loop.model, loop.loss_fn))(theta_hat, query_x, query_y)
    support_grad = grad(partial(task_loss, loop.model, loop.loss_fn))
    hessian_times = vjp(lambda theta: support_grad(theta, support_x, support_y), theta_hat)[1]

    def apply_a(v: Params) -> Params:  # (I + H / lam) v; H is symmetric, so v^T H = H v
        hv = hessian_times(v)[0]
        return {k: v[k] + hv[k] / lam for k in v}

    return conjugate_gradient(apply_a, query_grad, cg_steps), before, after


def imaml_step(loop: InnerLoop, lam: float = LAM, cg_steps: int = CG_STEPS) -> StepFn:
    """The batched meta-step: the mean over tasks of the implicit meta-gradient."""
    per_task = vmap(partial(_task, loop, lam, cg_steps), in_dims=(None, 0, 0, 0, 0))

    def step(phi: Params, *batch: torch.Tensor) -> StepOutput:
        directions, before, after = per_task(phi, *batch)
        return {k: d.mean(0) for k, d in directions.items()}, before, after

    return step


def naive_task(loss, phi: Params, theta: Params, support_x: torch.Tensor,  # type: ignore[no-untyped-def]
               support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
               ) -> Params:
    """The implicit meta-gradient at theta_hat, with ``torch.autograd`` double backward
    for the Hessian-vector products and truncated CG written out: a direction already."""
    names = list(theta)
    leaves = [theta[k].detach().requires_grad_() for k in names]
    at = dict(zip(names, leaves))
    query_grad = torch.autograd.grad(loss(at, query_x, query_y), leaves)
    support_grad = torch.autograd.grad(loss(at, support_x, support_y), leaves, create_graph=True)

    def apply_a(v: list[torch.Tensor]) -> list[torch.Tensor]:
        hv = torch.autograd.grad(support_grad, leaves, grad_outputs=v, retain_graph=True)
        return [vi + hvi / LAM for vi, hvi in zip(v, hv)]

    x = [torch.zeros_like(g) for g in query_grad]
    r, p = list(query_grad), list(query_grad)
    rs = torch.stack([(ri * ri).sum() for ri in r]).sum()
    for i in range(CG_STEPS):
        ap = apply_a(p)
        pap = torch.stack([(pi * api).sum() for pi, api in zip(p, ap)]).sum()
        if pap <= 0:  # truncated CG: no curvature to follow; b itself if at once
            if i == 0:
                x = list(query_grad)
            break
        alpha = rs / pap
        x = [xi + alpha * pi for xi, pi in zip(x, p)]
        r = [ri - alpha * api for ri, api in zip(r, ap)]
        rs_new = torch.stack([(ri * ri).sum() for ri in r]).sum()
        beta = rs_new / rs if rs != 0 else torch.zeros_like(rs)
        p = [ri + beta * pi for ri, pi in zip(r, p)]
        rs = rs_new
    return {k: xi.detach() for k, xi in zip(names, x)}


ALGORITHM = Algorithm(
    name="imaml",
    label="iMAML",
    colour="#2ca02c",
    family="gradient-based",
    make_step=partial(imaml_step, lam=LAM, cg_steps=CG_STEPS),
    naive_task=naive_task,
    lam=LAM,
    dash="dot",
    defaults={
        # The implicit gradient is blind to the inner steps, so meta-training drifts to
        # ever sharper phi until plain steps of any fixed size diverge: on the sinusoid
        # MLP after a summed meta learning rate of about 15 (15,000 steps of 0.001) for
        # every inner rate and lambda tried (assets/checkpoints/README.md). Small steps
        # (25 of 0.002) put that edge far out, and a run of 16,000 meta-iterations with
        # the rate annealed to a tenth stops at about 9, well before it.
        "sinusoid": {"inner_steps": 25, "inner_lr": 0.002, "iterations": 16_000,
                     "meta_lr_final": 0.0001},
        # Plain inner steps (see the module's text); at 5-way five of them, as at 20-way,
        # where MAML's single step leaves no problem to solve. At 20-way MAML's steps of
        # 2.0 drove phi where they overshoot (the query loss before adaptation rose to 75
        # over 4,000 meta-iterations, and testing accuracy fell from 48% to 43%): 0.4.
        "omniglot": {5: {"inner_lam": 0.0, "inner_steps": 5, "test_inner_steps": 5},
                     20: {"inner_lam": 0.0, "inner_lr": 0.4}},
    },
    paper={(5, 1): "99.16 ± 0.35", (20, 1): "94.46 ± 0.42"},
    paper_source="iMAML paper (Rajeswaran et al. 2019), Omniglot results (iMAML, GD)",
)

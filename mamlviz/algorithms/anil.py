"""ANIL, "almost no inner loop" (Raghu, Raghu, Bengio & Vinyals 2019, arXiv 1909.09157).

*Rapid learning or feature reuse?* The paper finds that after MAML's training the
body's features barely change in the inner loop; only the head (the last layer)
really adapts. ANIL makes that the rule: the inner loop moves the head alone,

    theta_hat = (phi_body, phi_head - alpha * grad_head l_support(phi)),

and the meta-gradient is MAML's, differentiated through the head's steps to every
weight (the body is reached through the features the head adapted on). The body's
features are computed once per task and the inner steps are a linear model's, so a
step costs far less than MAML's.

The head is the network's last layer: the weights that share the last weight's
module (``net.4.*`` of the sinusoid MLP, ``head.*`` of Conv4). A model whose weights
are one vector (a landscape's phi) has its last coordinate as the "head" and the
others as the "body", so the 2-D landscape shows ANIL adapting along one axis only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

import torch
from torch import nn
from torch.func import grad

from ..errors import ConfigError
from ..inner import Params, check_inner, mini_batch, task_loss
from .base import Algorithm, InnerLoop, StepFn
from .heads import embed, head_mask, head_module, is_linear_head
from .maml import maml_step, naive_task


def head_names(phi: Params) -> list[str]:
    """The weights the inner loop moves at all."""
    return [k for k, m in head_mask(phi).items() if not (isinstance(m, float) and m == 0.0)]


def head_adaptation(loop: InnerLoop, phi: Params, support_x: torch.Tensor,
                    support_y: torch.Tensor, first_order: bool = False) -> Iterator[Params]:
    """theta after each of ``loop.inner_steps`` plain gradient steps on the head, the body
    held at phi.

    Only the head is differentiated in the inner loop (``grad`` with respect to it), so
    its backward pass never enters the body; the mini-batches are the inner loop's
    (``mamlviz.inner.mini_batch``)."""
    check_inner(loop.inner_lr, loop.inner_steps)
    if loop.optimizer != "sgd":
        raise ConfigError("inner_optimizer", "ANIL's head adapts with plain gradient steps "
                          f"(sgd), not {loop.optimizer!r}")
    mask = head_mask(phi)
    moving = head_names(phi)
    body = {k: v for k, v in phi.items() if k not in moving}
    # The body does not change in the inner loop, so with the whole support set in every
    # step (batch statistics included) its features are computed once, and each step is
    # a step of a linear model on them.
    once = is_linear_head(phi) and (loop.batch_size is None
                                    or loop.batch_size >= support_x.shape[0])
    weight, bias = f"{head_module(phi)}.weight", f"{head_module(phi)}.bias"
    inputs = embed(loop.model, phi, support_x) if once else support_x

    def support_loss(head: Params, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if once:
            return loop.loss_fn(nn.functional.linear(x, head[weight], head[bias]), y)
        return task_loss(loop.model, loop.loss_fn, {**body, **head}, x, y)

    head = {k: phi[k] for k in moving}
    for step in range(loop.inner_steps):
        x, y = mini_batch(inputs, support_y, step, loop.batch_size)
        g = grad(support_loss)(head, x, y)
        if first_order:
            g = {k: t.detach() for k, t in g.items()}
        head = {k: head[k] - loop.inner_lr * mask[k] * g[k] for k in moving}
        yield {k: head.get(k, phi[k]) for k in phi}


def adapt_head(loop: InnerLoop, phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
               first_order: bool = False) -> Params:
    """theta_hat: the weights after all of the head's inner steps (phi if there are none)."""
    theta = phi
    for theta in head_adaptation(loop, phi, support_x, support_y, first_order):  # noqa: B007
        pass
    return theta


class HeadLoop(InnerLoop):
    """An inner loop whose adaptation moves the head alone."""

    @classmethod
    def of(cls, loop: InnerLoop) -> HeadLoop:
        return cls(**{f.name: getattr(loop, f.name) for f in fields(loop)})

    def adapt(self, phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
              first_order: bool) -> Params:
        return adapt_head(self, phi, support_x, support_y, first_order)


def anil_step(loop: InnerLoop) -> StepFn:
    """MAML's meta-step (second order) through the head's inner steps."""
    return maml_step(HeadLoop.of(loop))


ALGORITHM = Algorithm(
    name="anil",
    label="ANIL",
    colour="#bcbd22",
    family="gradient-based",
    make_step=anil_step,
    naive_task=naive_task,  # MAML's: the query loss after (head-only) adaptation
    second_order=True,
    inner_mask=head_mask,
    dash="dot",
    paper={(20, 1): "96.2 ± 0.5"},
    paper_source="ANIL paper (Raghu et al. 2019), Table 2",
)

"""Prototypical Networks (Snell, Swersky & Zemel 2017, arXiv 1703.05175).

No inner loop: the network f_phi is an embedding, and a task's support set is
summarised by one prototype per class, the mean embedding of its shots,

    c_k = mean_{i: y_i = k} f_phi(x_i),

and a query x is classified by how close it lands to each prototype,

    p(y = k | x) = softmax_k(-||f_phi(x) - c_k||^2).

The lecture's "crazy idea": a model that takes the training data (the support set)
and the testing data (the queries) and returns the answers directly. Meta-training
minimises the query cross-entropy with respect to phi; nothing is adapted.

The embedding is Conv4 without its head: the features its last layer would read
(the model's head is replaced by the identity, so every model whose last layer is a
linear map gives its features the same way). Classification only: it needs classes.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn
from torch.func import grad, vmap

from ..inner import Params
from .base import Algorithm, InnerLoop, StepFn, StepOutput
from .heads import embed, head_module


def n_way_of(phi: Params) -> int:
    """The number of classes the model was built for: its last layer's outputs."""
    return int(phi[f"{head_module(phi)}.bias"].shape[0])


def prototype_logits(model: nn.Module, phi: Params, support_x: torch.Tensor,
                     support_y: torch.Tensor, query_x: torch.Tensor,
                     n_way: int | None = None) -> torch.Tensor:
    """-||f_phi(query) - c_k||^2 for every query and class k < ``n_way`` (default: the
    model's classes): [queries, n_way]. A class without support images gets -inf, so it
    never wins and adds nothing to a softmax."""
    n_way = n_way_of(phi) if n_way is None else n_way
    z_support, z_query = embed(model, phi, support_x), embed(model, phi, query_x)
    # one-hot by comparison, not F.one_hot: it maps over tasks (vmap) without a .item()
    one_hot = (support_y.unsqueeze(-1) == torch.arange(n_way, device=support_y.device)
               ).to(z_support.dtype)
    counts = one_hot.sum(0)
    # clamped so an empty class's prototype is 0, not 0/0 (whose gradient would be nan)
    prototypes = (one_hot.T @ z_support) / counts.clamp(min=1).unsqueeze(-1)
    logits = -(z_query.unsqueeze(1) - prototypes.unsqueeze(0)).square().sum(-1)
    return logits.masked_fill(counts == 0, float("-inf"))


def _task(loop: InnerLoop, phi: Params, support_x: torch.Tensor, support_y: torch.Tensor,
          query_x: torch.Tensor, query_y: torch.Tensor
          ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    # A task has at most one class per support image, whatever the model's output layer
    # holds: meta-training may draw more ways than testing (the paper's 60-way episodes).
    logits = prototype_logits(loop.model, phi, support_x, support_y, query_x,
                              n_way=support_x.shape[0])
    loss = loop.loss_fn(logits, query_y)
    # nothing adapts: the query loss "before" and "after" are the same
    return loss, (loss.detach(), loss.detach())


def objective(loop: InnerLoop, phi: Params, *batch: torch.Tensor
              ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """The mean over tasks of the prototypes' query loss, and the per-task losses."""
    loss, aux = vmap(partial(_task, loop), in_dims=(None, 0, 0, 0, 0))(phi, *batch)
    return loss.mean(), aux


def protonet_step(loop: InnerLoop) -> StepFn:
    """The gradient of the prototypes' query loss; the inner loop's settings are unused."""
    meta_grad = grad(partial(objective, loop), has_aux=True)

    def step(phi: Params, *batch: torch.Tensor) -> StepOutput:
        direction, (before, after) = meta_grad(phi, *batch)
        return direction, before, after

    return step


def naive_task(embedding, loss_fn, support_x: torch.Tensor,  # type: ignore[no-untyped-def]
               support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
               ) -> torch.Tensor:
    """One task written plainly: a prototype per class from a loop over the classes,
    the squared distances from each query, the cross-entropy. ``embedding(x)`` is
    f_phi(x), as the reference (``mamlviz.reference``) computes it."""
    z_support, z_query = embedding(support_x), embedding(query_x)
    classes = int(support_y.max()) + 1
    prototypes = torch.stack([z_support[support_y == k].mean(0) for k in range(classes)])
    distances = torch.stack([((z_query - c) ** 2).sum(-1) for c in prototypes], dim=-1)
    result: torch.Tensor = loss_fn(-distances, query_y)
    return result


ALGORITHM = Algorithm(
    name="protonet",
    label="Prototypical Networks",
    colour="#393b79",
    family="metric-based",
    make_step=protonet_step,
    naive_task=naive_task,
    problems=("omniglot",),
    adapts=False,
    classify=prototype_logits,
    dash="dashdot",
    # The paper's Omniglot training: Adam at 1e-3 (halved every 2000 episodes), 60-way
    # training episodes with 5 queries per class; here the test's N ways by default, as
    # the others (``train_ways`` draws more).
    defaults={"omniglot": {5: {"inner_steps": 0, "test_inner_steps": 0, "meta_lr": 0.001},
                           20: {"inner_steps": 0, "test_inner_steps": 0, "meta_lr": 0.001}}},
    paper={(5, 1): "98.8", (5, 5): "99.7", (20, 1): "96.0", (20, 5): "98.9"},
    paper_source="Prototypical Networks paper (Snell et al. 2017), Table 1",
)

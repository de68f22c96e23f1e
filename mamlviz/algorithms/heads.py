"""A network's head (its last layer) and its body (everything before), by weight names.

ANIL (Raghu et al. 2019, arXiv 1909.09157) adapts the head alone; Prototypical
Networks (Snell et al. 2017, arXiv 1703.05175) use the body as an embedding. The head
is the module of the last weight (``net.4`` of the sinusoid MLP, ``head`` of Conv4);
both models apply it last, as a linear map, so the body's output is the model's output
with the head replaced by the identity.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from ..inner import Params


def head_module(phi: Params) -> str:
    """The name of the last layer's module (``head`` for Conv4)."""
    return list(phi)[-1].rsplit(".", 1)[0]


def head_mask(phi: Params) -> dict[str, torch.Tensor | float]:
    """Which weights the inner loop moves: 1.0 for the head's, 0.0 for the body's; for a
    single vector of weights (a landscape's phi), a mask that is 1 on its last coordinate."""
    names = list(phi)
    last = names[-1]
    if len(names) == 1 and "." not in last:
        p = phi[last]
        n = p.shape[-1]
        return {last: (torch.arange(n, device=p.device) == n - 1).to(p.dtype)}
    module = head_module(phi)
    return {k: 1.0 if k.rsplit(".", 1)[0] == module else 0.0 for k in names}


def is_linear_head(phi: Params) -> bool:
    """Whether the head is a linear layer: ``weight`` [out, in] and ``bias`` [out] alone."""
    if len(phi) < 3 or "." not in list(phi)[-1]:
        return False
    module = head_module(phi)
    own = [k for k in phi if k.rsplit(".", 1)[0] == module]
    weight, bias = phi.get(f"{module}.weight"), phi.get(f"{module}.bias")
    return (len(own) == 2 and weight is not None and bias is not None and weight.dim() == 2
            and bias.dim() == 1)


def embed(model: nn.Module, phi: Params, x: torch.Tensor) -> torch.Tensor:
    """The features the head reads, [examples, features]: the model with its head the
    identity."""
    module = head_module(phi)
    weight = phi[f"{module}.weight"]
    features = weight.shape[1]
    eye = torch.eye(features, dtype=weight.dtype, device=weight.device)
    identity = {f"{module}.weight": eye,
                f"{module}.bias": torch.zeros(features, dtype=eye.dtype, device=eye.device)}
    out: torch.Tensor = functional_call(model, {**phi, **identity}, (x,))
    return out

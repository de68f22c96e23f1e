"""The outer optimiser, written functionally so it fuses into the meta-step.

``phi <- phi - meta_lr * Adam(direction)`` for MAML, first-order MAML and
pre-training (the MAML paper uses Adam, meta learning rate 0.001), and plain
SGD for Reptile, where ``direction = phi - mean theta_tilde`` makes the SGD step
the paper's interpolation ``phi <- phi + epsilon (mean theta_tilde - phi)``.

Being pure functions of tensors, the update traces and compiles together
with the meta-gradient into one graph; the tests check it against
``torch.optim.Adam`` step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .inner import Params

OptState = dict[str, torch.Tensor]


@dataclass(frozen=True)
class OuterOptimizer:
    kind: str  # "adam" or "sgd"
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def init(self, phi: Params) -> OptState:
        if self.kind == "sgd":
            return {}
        any_p = next(iter(phi.values()))
        state = {"t": torch.zeros((), dtype=any_p.dtype, device=any_p.device)}
        for k, p in phi.items():
            state[f"m.{k}"] = torch.zeros_like(p)
            state[f"v.{k}"] = torch.zeros_like(p)
        return state

    def update(self, phi: Params, state: OptState, direction: Params
               ) -> tuple[Params, OptState]:
        if self.kind == "sgd":
            return {k: phi[k] - self.lr * direction[k] for k in phi}, state
        beta1, beta2 = self.betas
        t = state["t"] + 1
        # Bias corrections, as in torch.optim.Adam (Kingma & Ba 2015, Algorithm 1).
        step_size = self.lr / (1 - beta1**t)
        root_c2 = torch.sqrt(1 - beta2**t)
        new_phi: Params = {}
        new_state: OptState = {"t": t}
        for k, p in phi.items():
            g = direction[k]
            m = beta1 * state[f"m.{k}"] + (1 - beta1) * g
            v = beta2 * state[f"v.{k}"] + (1 - beta2) * g * g
            new_phi[k] = p - step_size * m / (torch.sqrt(v) / root_c2 + self.eps)
            new_state[f"m.{k}"], new_state[f"v.{k}"] = m, v
        return new_phi, new_state

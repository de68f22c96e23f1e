"""The outer optimiser, written functionally so it fuses into the meta-step.

``phi <- phi - meta_lr * Adam(direction)`` for MAML, first-order MAML and
pre-training (the MAML paper uses Adam, meta learning rate 0.001), and plain
SGD for Reptile, where ``direction = phi - mean theta_tilde`` makes the SGD step
the paper's interpolation ``phi <- phi + epsilon (mean theta_tilde - phi)``.

Reptile's paper also anneals its step linearly, epsilon = 1 at the start to 0 at
the end of the run (``lr_final`` over ``total_steps``); the step count lives in
the optimiser's state, so the schedule survives a resume.

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
    lr_final: float | None = None  # anneal linearly from lr to this over total_steps
    total_steps: int = 1

    def init(self, phi: Params) -> OptState:
        if self.kind == "sgd" and self.lr_final is None:
            return {}
        any_p = next(iter(phi.values()))
        state = {"t": torch.zeros((), dtype=any_p.dtype, device=any_p.device)}
        if self.kind == "sgd":
            return state
        for k, p in phi.items():
            state[f"m.{k}"] = torch.zeros_like(p)
            state[f"v.{k}"] = torch.zeros_like(p)
        return state

    def learning_rate(self, state: OptState) -> torch.Tensor | float:
        """This step's rate: ``lr``, or on the linear schedule at step ``t`` (from 0)."""
        if self.lr_final is None:
            return self.lr
        done = torch.clamp(state["t"] / self.total_steps, max=1.0)
        return self.lr + (self.lr_final - self.lr) * done

    def update(self, phi: Params, state: OptState, direction: Params
               ) -> tuple[Params, OptState]:
        lr = self.learning_rate(state)
        if self.kind == "sgd":
            new = {k: phi[k] - lr * direction[k] for k in phi}
            return new, ({"t": state["t"] + 1} if state else state)
        beta1, beta2 = self.betas
        t = state["t"] + 1
        # Bias corrections, as in torch.optim.Adam (Kingma & Ba 2015, Algorithm 1).
        step_size = lr / (1 - beta1**t)
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

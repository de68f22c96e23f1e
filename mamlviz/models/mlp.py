"""The MAML paper's regression network: 1-40-40-1 with ReLU (Finn et al. 2017, 5.1).

The module only holds the architecture; algorithms pass their own weights
through ``torch.func.functional_call``, so ``phi`` and every ``theta_hat`` are
plain dictionaries of tensors.
"""

from __future__ import annotations

import torch
from torch import nn


class SinusoidMLP(nn.Module):
    def __init__(self, hidden: int = 40):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(1, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def init_params(model: nn.Module, seed: int, dtype: torch.dtype = torch.float32,
                device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Fresh ``phi``: PyTorch's default initialisation, reproducible from ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for module in model.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset) and module is not model:
                reset()
    return {k: v.detach().to(device=device, dtype=dtype).clone()
            for k, v in model.named_parameters()}

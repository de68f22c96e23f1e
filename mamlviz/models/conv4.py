"""The MAML paper's few-shot image classifier, "Conv4" (Finn et al. 2017, section 5.2).

Four blocks of [3x3 convolution with 64 filters, batch normalisation, ReLU,
2x2 down-sampling], then a linear layer to ``n_way`` logits. This architecture
comes from Vinyals et al. (2016). The paper down-samples in one of two ways:

``pool="stride"`` (default; the paper's Omniglot model)
    stride-2 convolutions and no pooling: 28 -> 14 -> 7 -> 4 -> 2, then the
    64 channels are averaged over the remaining 2x2 positions, as the MAML code
    does, so the head sees 64 features.
``pool="max"`` (the paper's MiniImagenet model)
    stride-1 convolutions followed by 2x2 max-pooling: 28 -> 14 -> 7 -> 3 -> 1,
    then the feature map is flattened (64 features at 28x28).

Batch normalisation is *transductive*: it always normalises with the statistics
of the batch it is given (the task's support set while adapting, its query set
while scoring), in training and in evaluation alike, and keeps no running
averages. This is what the MAML paper does. It is written out with an explicit
mean and variance plus a learnable scale and shift, not with
``nn.BatchNorm2d``/``F.batch_norm``: through ``torch.func`` transforms such as
``grad(vmap(grad(...)))`` the fused batch-norm kernel gives wrong second-order
gradients. Because the batch mean is subtracted, a bias on the convolutions
would cancel out (its gradient is exactly zero), so the convolutions have none.

The module only holds the architecture; algorithms pass ``phi`` and every
``theta_hat`` as dictionaries through ``torch.func.functional_call``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .mlp import init_params

__all__ = ["BatchStatNorm2d", "Conv4", "init_params"]

POOLS = ("stride", "max")


class BatchStatNorm2d(nn.Module):
    """Batch norm that always uses the batch's own statistics (no running averages).

    y = (x - mean) / sqrt(var + eps) * weight + bias, with mean and (biased) variance
    per channel over the batch and both spatial axes.
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))  # scale gamma
        self.bias = nn.Parameter(torch.zeros(channels))  # shift beta

    def reset_parameters(self) -> None:
        nn.init.ones_(self.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        var = (x - mean).square().mean(dim=(0, 2, 3), keepdim=True)
        x_hat = (x - mean) * torch.rsqrt(var + self.eps)
        return x_hat * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class ConvBlock(nn.Module):
    """3x3 convolution -> batch-statistics norm -> ReLU -> 2x2 down-sampling."""

    def __init__(self, in_channels: int, out_channels: int, pool: str):
        super().__init__()
        self.pool = pool
        stride = 2 if pool == "stride" else 1
        self.conv = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.norm = BatchStatNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm(self.conv(x)))
        return F.max_pool2d(x, 2) if self.pool == "max" else x


class Conv4(nn.Module):
    """Conv4 for ``image_size`` x ``image_size`` inputs with ``in_channels`` channels.

    Input [batch, in_channels, H, W] (or [batch, H, W] for one channel); output
    [batch, n_way] logits. Parameters: ``blocks.{0..3}.conv.weight``,
    ``blocks.{i}.norm.weight``/``.bias`` (scale/shift), ``head.weight``/``.bias``.
    """

    def __init__(self, n_way: int = 5, *, in_channels: int = 1, hidden: int = 64,
                 pool: str = "stride", image_size: int = 28):
        super().__init__()
        if pool not in POOLS:
            raise ConfigError("pool", f"unknown down-sampling {pool!r} (use 'stride' or 'max')")
        if n_way < 2:
            raise ConfigError("n_way", f"needs at least 2 classes, got {n_way}")
        side = image_size
        for _ in range(4):
            side = (side - 1) // 2 + 1 if pool == "stride" else side // 2
        if side < 1:
            raise ConfigError("image_size", f"{image_size}x{image_size} is too small for four "
                              f"2x2 max-pools (need at least 16)")
        self.pool = pool
        self.blocks = nn.ModuleList(
            ConvBlock(in_channels if i == 0 else hidden, hidden, pool) for i in range(4)
        )
        # The strided model averages over the last positions (as the MAML code); the
        # max-pooled one flattens them.
        features = hidden if pool == "stride" else hidden * side * side
        self.head = nn.Linear(features, n_way)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        for block in self.blocks:
            x = block(x)
        x = x.mean(dim=(2, 3)) if self.pool == "stride" else x.flatten(1)
        logits: torch.Tensor = self.head(x)
        return logits

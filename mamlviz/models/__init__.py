"""Models, written to be used functionally (``torch.func.functional_call``)."""

from .conv4 import BatchStatNorm2d, Conv4
from .mlp import SinusoidMLP

__all__ = ["BatchStatNorm2d", "Conv4", "SinusoidMLP"]

"""Models, written to be used functionally (``torch.func.functional_call``)."""

from .mlp import SinusoidMLP

__all__ = ["SinusoidMLP"]

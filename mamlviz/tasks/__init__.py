"""Task distributions: each task has a support set (to adapt on) and a query set (to score on)."""

from .base import TaskBatch
from .sinusoid import SinusoidTask, SinusoidTasks

__all__ = ["SinusoidTask", "SinusoidTasks", "TaskBatch"]

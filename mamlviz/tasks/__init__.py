"""Task distributions: each task has a support set (to adapt on) and a query set (to score on)."""

from .base import TaskBatch
from .omniglot import EpisodeInfo, OmniglotEpisodes, OmniglotTasks, WithinAlphabetTasks
from .sinusoid import SinusoidTask, SinusoidTasks

__all__ = ["EpisodeInfo", "OmniglotEpisodes", "OmniglotTasks", "SinusoidTask", "SinusoidTasks",
           "TaskBatch", "WithinAlphabetTasks"]

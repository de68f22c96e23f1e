"""Real data sets: Omniglot (Lake et al. 2015), found, checked and cached once."""

from .omniglot import (
    IMAGE_SIZE,
    PROTOCOLS,
    CharacterInfo,
    OmniglotData,
    OmniglotSplit,
    load_omniglot,
    prepare,
)
from .omniglot_source import OmniglotSource, cache_root, resolve_source

__all__ = [
    "IMAGE_SIZE",
    "PROTOCOLS",
    "CharacterInfo",
    "OmniglotData",
    "OmniglotSource",
    "OmniglotSplit",
    "cache_root",
    "load_omniglot",
    "prepare",
    "resolve_source",
]

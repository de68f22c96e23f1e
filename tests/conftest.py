"""Shared test setup: one CPU thread, so timings and results are stable; the Omniglot data."""

import os
from pathlib import Path

import pytest
import torch

from mamlviz.data import load_omniglot

torch.set_num_threads(1)

# The real Omniglot zips: ../shared/omniglot beside the checkout, or $MAMLVIZ_OMNIGLOT.
SHARED_OMNIGLOT = Path(os.environ.get(
    "MAMLVIZ_OMNIGLOT", Path(__file__).resolve().parents[1].parent / "shared" / "omniglot"))


@pytest.fixture(scope="session")
def omniglot(tmp_path_factory):
    """The whole data set, loaded once (a missing folder fails: CI must have it)."""
    if not SHARED_OMNIGLOT.exists():
        pytest.fail(f"the Omniglot data the tests need is missing at {SHARED_OMNIGLOT}")
    os.environ.setdefault("MAMLVIZ_CACHE", str(tmp_path_factory.mktemp("cache")))
    return load_omniglot(SHARED_OMNIGLOT, progress=False)

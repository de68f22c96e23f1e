"""Shared test setup: one CPU thread, so timings and results are stable."""

import torch

torch.set_num_threads(1)

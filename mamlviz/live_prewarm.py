"""Imported only by the training fork server: pay the one-time costs before any run.

A fresh process spends about a second on first uses (torch.func, make_fx and
its symbolic-shape machinery) before its first meta-step. The fork server
imports this module once, so every training process forked from it starts warm
and a live run's first curve point arrives in a fraction of a second.

One algorithm's run warms what every algorithm shares: after it, each other
algorithm's first run costs what its second does, give or take a few tenths of
a second (its own trace, which every training process makes anyway). Warming
each one would add seconds of CPU while the first students open their pages,
and keep the first Train waiting for a fork server still warming up.
"""

import torch

from .algorithms import names
from .config import TrainConfig
from .live_process import lower_priority
from .train import Trainer

lower_priority()  # the warm-up yields to the server: students are opening their pages
torch.set_num_threads(1)
_config = TrainConfig.for_algorithm(names("sinusoid")[0], iterations=2, meta_batch_size=2,
                                    implementation="traced")
for _ in Trainer(_config, device="cpu").run():
    pass

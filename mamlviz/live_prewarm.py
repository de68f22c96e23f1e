"""Imported only by the training fork server: pay the one-time costs before any run.

A fresh process spends about a second on first uses (torch.func, make_fx and
its symbolic-shape machinery) before its first meta-step. The fork server
imports this module once, so every training process forked from it starts warm
and a live run's first curve point arrives in a fraction of a second.
"""

import torch

from .algorithms import names
from .config import TrainConfig
from .live_process import lower_priority
from .train import Trainer

lower_priority()  # the warm-up yields to the server: students are opening their pages
torch.set_num_threads(1)
for _algorithm in names("sinusoid"):
    _config = TrainConfig.for_algorithm(_algorithm, iterations=2, meta_batch_size=2,
                                        implementation="traced")
    for _ in Trainer(_config, device="cpu").run():
        pass

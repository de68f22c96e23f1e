"""Meta-steps that stay on the GPU: updated in place and replayed from a CUDA graph.

On a GPU one second-order MAML step on Omniglot is about a thousand small
kernels. Launching them one by one from Python (``torch.func`` dispatching op
by op) takes far longer than the GPU needs to run them, so plain ``vmap``
leaves the GPU idle most of the time. A CUDA graph (``torch.cuda.graph``)
records the kernels of one whole meta-step once and replays them with a single
launch: same kernels, same maths (exact second-order gradients), none of the
Python in between.

A graph always reads and writes the same memory, so the step here is written
to update its own inputs in place: the batch is copied into fixed buffers, and
``phi`` and the outer optimiser's state are overwritten with their new values.
Two things the host loop of ``mamlviz.train`` does every step move onto the
device as well, so the host never waits for the GPU between steps:

* a step whose losses or update are not finite is not applied
  (``torch.where``), and once one was not, no later step is either, so ``phi``
  keeps the last finite weights, as the plain loop guarantees;
* the query losses are summed on the device and read once per record.

The same ``DeviceMetaStep`` runs without a graph (eagerly) on any device,
which is how the CPU tests check it against the plain training loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .inner import Params
from .optim import OptState

MetaStep = Callable[..., tuple[Params, OptState, torch.Tensor]]


@dataclass(frozen=True)
class Totals:
    """What the device summed since the last ``take``: the inputs of one training record."""

    steps: int  # meta-steps applied (finite)
    query_loss_before: float  # mean over those steps
    query_loss_after: float
    finite: bool  # False once a step was not finite (and was not applied)


class DeviceMetaStep:
    """``meta_step`` (from ``mamlviz.train.fused_meta_step``) applied in place, on the device."""

    def __init__(self, meta_step: MetaStep, phi: Params, opt_state: OptState,
                 batch: tuple[torch.Tensor, ...]):
        self.meta_step = meta_step
        self.phi: Params = {k: v.detach().clone() for k, v in phi.items()}
        self.opt_state: OptState = {k: v.detach().clone() for k, v in opt_state.items()}
        self.batch = tuple(t.clone() for t in batch)
        like = next(iter(self.phi.values()))
        self.finite = torch.ones((), dtype=like.dtype, device=like.device)  # 0 once not finite
        self.sums = torch.zeros(3, dtype=like.dtype, device=like.device)  # before, after, steps
        self.graph: torch.cuda.CUDAGraph | None = None

    def _step_in_place(self) -> None:
        new_phi, new_state, stats = self.meta_step(self.phi, self.opt_state, *self.batch)
        keep = self.finite * stats[2]  # 1 only if this step and every earlier one was finite
        apply = keep.bool()
        for old, new in ((self.phi, new_phi), (self.opt_state, new_state)):
            for k in old:
                old[k].copy_(torch.where(apply, new[k], old[k]))
        counted = torch.stack([stats[0], stats[1], torch.ones_like(stats[0])])
        self.sums.add_(torch.where(apply, counted, torch.zeros_like(counted)))
        self.finite.copy_(keep)

    # Let cuDNN time its convolution algorithms during the warm-up and keep the fastest:
    # the shapes never change, so the graph replays the tuned kernels every step.
    autotune = True

    def capture(self) -> None:
        """Record one step as a CUDA graph; later calls replay it (CUDA only)."""
        # Only the benchmark flag changes (cudnn.flags() would also reset TF32 and the rest).
        previous = torch.backends.cudnn.benchmark
        torch.backends.cudnn.benchmark = self.autotune
        try:
            # Warm-up on a side stream, as torch.cuda.graph requires: cuDNN/cuBLAS pick
            # their kernels and workspaces here, not inside the capture. ``meta_step`` is
            # pure, so these runs change nothing.
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(2):
                    self.meta_step(self.phi, self.opt_state, *self.batch)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):  # records kernels; runs none of them
                self._step_in_place()
        finally:
            torch.backends.cudnn.benchmark = previous
        self.graph = graph

    def __call__(self, batch: tuple[torch.Tensor, ...]) -> None:
        """One meta-step on ``batch``; returns at once (nothing is read back)."""
        for buffer, value in zip(self.batch, batch, strict=True):
            buffer.copy_(value)
        if self.graph is not None:
            self.graph.replay()
        else:
            self._step_in_place()

    def take(self) -> Totals:
        """Read (one host-device synchronisation) and reset the sums."""
        before, after, steps = self.sums.tolist()
        finite = bool(self.finite.item())
        self.sums.zero_()
        n = max(int(steps), 1)
        return Totals(int(steps), before / n, after / n, finite)

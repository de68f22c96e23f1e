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

Graphing removes the launch overhead but not the kernels themselves: about a
thousand, most of them tiny elementwise steps (the written-out batch norm, the
inner and outer updates of 14 weight tensors). With ``fuse=True`` the step is
first flattened into plain tensor operations (``make_fx`` unrolls
``torch.func``'s transforms) and compiled by ``torch.compile``, whose inductor
backend fuses chains of elementwise work into single kernels; the graph then
replays those. The maths is unchanged: the compiled graph is the same exact
second-order step, only its loops are fused.

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
# (phi, optimiser state, finite flag, sums): what one in-place step leaves behind
State = tuple[Params, OptState, torch.Tensor, torch.Tensor]


def fuse(step: Callable[..., State], *example: object) -> Callable[..., State]:
    """``step`` flattened to tensor operations (``make_fx``) and compiled by inductor.

    ``make_fx`` runs ``step`` once on the examples and records the plain operations that
    ``grad``/``vmap`` expand into, so the compiler sees one flat graph with no
    ``torch.func`` in it. Compiling happens on the first call (tens of seconds).
    """
    from torch.fx.experimental.proxy_tensor import make_fx

    flat = make_fx(step)(*example)
    return torch.compile(flat, dynamic=False, fullgraph=True)  # type: ignore[return-value]


@dataclass(frozen=True)
class Totals:
    """What the device summed since the last ``take``: the inputs of one training record."""

    steps: int  # meta-steps applied (finite)
    query_loss_before: float  # mean over those steps
    query_loss_after: float
    finite: bool  # False once a step was not finite (and was not applied)


class DeviceMetaStep:
    """``meta_step`` (from ``mamlviz.train.fused_meta_step``) applied in place, on the device.

    ``fused``: compile the step (see :func:`fuse`) before capturing it.
    """

    def __init__(self, meta_step: MetaStep, phi: Params, opt_state: OptState,
                 batch: tuple[torch.Tensor, ...], fused: bool = False):
        self.meta_step = meta_step
        self.phi: Params = {k: v.detach().clone() for k, v in phi.items()}
        self.opt_state: OptState = {k: v.detach().clone() for k, v in opt_state.items()}
        self.batch = tuple(t.clone() for t in batch)
        like = next(iter(self.phi.values()))
        self.finite = torch.ones((), dtype=like.dtype, device=like.device)  # 0 once not finite
        self.sums = torch.zeros(3, dtype=like.dtype, device=like.device)  # before, after, steps
        self.graph: torch.cuda.CUDAGraph | None = None
        self.fused = fused
        self._next: Callable[..., State] = self.next_state  # compiled by prepare() if fused

    def _inputs(self) -> tuple[object, ...]:
        return (self.phi, self.opt_state, self.finite, self.sums, *self.batch)

    def next_state(self, phi: Params, opt_state: OptState, finite: torch.Tensor,
                   sums: torch.Tensor, *batch: torch.Tensor) -> State:
        """One meta-step as a pure function: what the in-place step will write."""
        new_phi, new_state, stats = self.meta_step(phi, opt_state, *batch)
        keep = finite * stats[2]  # 1 only if this step and every earlier one was finite
        apply = keep.bool()
        phi = {k: torch.where(apply, new_phi[k], phi[k]) for k in phi}
        opt_state = {k: torch.where(apply, new_state[k], opt_state[k]) for k in opt_state}
        counted = torch.stack([stats[0], stats[1], torch.ones_like(stats[0])])
        return phi, opt_state, keep, sums + torch.where(apply, counted, torch.zeros_like(counted))

    def _step_in_place(self) -> None:
        phi, opt_state, finite, sums = self._next(*self._inputs())
        # One multi-tensor copy instead of one small kernel per weight tensor.
        torch._foreach_copy_([*self.phi.values(), *self.opt_state.values(), self.finite,
                              self.sums], [*phi.values(), *opt_state.values(), finite, sums])

    def prepare(self) -> None:
        """Do the slow, one-time work now: compile (if fused), and capture on CUDA.

        An exception here (no compiler, a failed capture) leaves nothing changed, so the
        caller can fall back to a plainer step.
        """
        if self.fused:
            self._next = fuse(self.next_state, *self._inputs())
        if next(iter(self.phi.values())).is_cuda:
            self.capture()  # its warm-up runs compile
        elif self.fused:
            self._next(*self._inputs())  # pure: compiles, changes nothing

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
                    self._next(*self._inputs())
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

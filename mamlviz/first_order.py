"""Warning of math: the full MAML meta-gradient versus its first-order approximation.

For one task, theta_hat = phi - eps * grad l_support(phi) (repeated for more
steps), and the chain rule gives

    dl(theta_hat)/dphi_i = sum_j dl(theta_hat)/dtheta_hat_j * dtheta_hat_j/dphi_i,
    dtheta_hat_j/dphi_i  = 1 - eps d2l/dphi_i^2   (i = j)
                         =   - eps d2l/dphi_i dphi_j   (i != j).

First-order MAML drops the second derivatives: dtheta_hat_j/dphi_i becomes
1 if i = j and 0 otherwise, so grad_phi l(theta_hat) is replaced by
grad_theta_hat l(theta_hat), the plain query gradient at the adapted point.

This module measures both on the real sinusoid MLP: the two meta-gradients,
their cosine similarity, and what each costs per meta-step in time and in
memory (bytes that autograd saves for the backward pass, the memory that the
second-order graph adds; on CUDA also the allocator's peak).

The derivation's "about 0" is per term: one alpha * d2l/dphi_i dphi_j against 1.
First order drops all of them at once, a sum over every theta_hat_j weighted by
the query gradient, and that sum is weighed against the full meta-gradient,
which is small where meta-training has nearly finished. ``Agreement`` states
what the measured cosine and relative difference mean in those terms.
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from .algorithms import InnerLoop
from .algorithms.maml import maml_step
from .errors import ConfigError
from .inner import Params, check_inner_lr, mse, task_loss
from .models.mlp import SinusoidMLP
from .tasks import TaskBatch


def sinusoid_loop(inner_lr: float, inner_steps: int) -> InnerLoop:
    """The paper's 1-40-40-1 MLP with MSE, adapted ``inner_steps`` steps of ``inner_lr``."""
    check_inner_lr(inner_lr)
    if inner_steps < 1:
        raise ConfigError("inner_steps", f"must be at least 1, got {inner_steps}")
    return InnerLoop(SinusoidMLP(), mse, float(inner_lr), int(inner_steps))


def flatten(params: Params) -> torch.Tensor:
    """All parameters as one vector, in the dictionary's order."""
    return torch.cat([v.reshape(-1) for v in params.values()])


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """cos(a, b); NaN when either vector is zero or not finite."""
    a, b = a.double(), b.double()
    if not (torch.isfinite(a).all() and torch.isfinite(b).all()):
        return math.nan
    denominator = a.norm() * b.norm()
    if denominator == 0:
        return math.nan
    return float((a @ b) / denominator)


@dataclass(frozen=True)
class MetaGradients:
    """grad_phi L(phi) computed exactly (second order) and to first order."""

    full: torch.Tensor  # flattened, exact
    first_order: torch.Tensor  # flattened, second derivatives dropped
    names: tuple[str, ...]
    sizes: tuple[int, ...]

    @property
    def finite(self) -> bool:
        return bool(torch.isfinite(self.full).all() and torch.isfinite(self.first_order).all())

    @property
    def cosine(self) -> float:
        return cosine(self.full, self.first_order)

    @property
    def relative_difference(self) -> float:
        """|full - first order| / |full|: how much the second-order terms weigh."""
        norm = float(self.full.double().norm())
        if not self.finite or norm == 0:
            return math.nan
        return float((self.full - self.first_order).double().norm()) / norm

    def per_tensor_cosine(self) -> dict[str, float]:
        full = self.full.split(list(self.sizes))
        first = self.first_order.split(list(self.sizes))
        return {n: cosine(a, b) for n, a, b in zip(self.names, full, first)}


@dataclass(frozen=True)
class Agreement:
    """How far first order is from the full meta-gradient, in the words a lecture needs.

    ``verdict`` is ``"same"`` (under 8 degrees apart: cosine above 0.99), ``"tilted"``
    (the dropped terms turn the direction, yet a small first-order step still goes
    downhill on L) or ``"opposed"`` (90 degrees or more: a first-order step climbs L).
    """

    cosine: float
    angle_degrees: float
    relative_difference: float
    full_norm: float
    dropped_norm: float  # |full - first order|: the second-order terms first order drops
    verdict: str


SAME_DIRECTION_COSINE = 0.99


def agreement(grads: MetaGradients) -> Agreement:
    """What the measured cosine and relative difference say (``grads`` must be finite)."""
    if not grads.finite:
        raise ConfigError("meta-gradients", "are not finite: the inner loop diverged")
    cos = grads.cosine
    full_norm = float(grads.full.double().norm())
    dropped = float((grads.full - grads.first_order).double().norm())
    if math.isnan(cos):  # a zero vector: both zero means no difference at all
        cos = 1.0 if dropped == 0 else 0.0
    angle = math.degrees(math.acos(max(-1.0, min(1.0, cos))))
    verdict = ("same" if cos > SAME_DIRECTION_COSINE else "tilted" if cos > 0 else "opposed")
    rel = dropped / full_norm if full_norm > 0 else math.inf
    return Agreement(cos, angle, rel, full_norm, dropped, verdict)


def meta_gradients(phi: Params, batch: TaskBatch, inner_lr: float,
                   inner_steps: int = 1) -> MetaGradients:
    """Both meta-gradients of L(phi) = mean_n l^n(theta_hat^n) on ``batch`` (the engine's step)."""
    loop = sinusoid_loop(inner_lr, inner_steps)
    full, _, _ = maml_step(loop)(phi, *batch.tensors())
    first, _, _ = maml_step(loop, first_order=True)(phi, *batch.tensors())
    return MetaGradients(flatten(full).detach(), flatten(first).detach(), tuple(phi),
                         tuple(v.numel() for v in phi.values()))


def cosine_sweep(phi: Params, batch: TaskBatch, inner_lrs: Sequence[float],
                 steps: Sequence[int] = (1, 2, 3)) -> dict[int, list[float]]:
    """cos(full, first order) for every inner learning rate, one curve per number of steps."""
    return {s: [meta_gradients(phi, batch, lr, s).cosine for lr in inner_lrs] for s in steps}


# --------------------------------------------------------------------------- the naive loop


def naive_meta_gradient(phi: Params, batch: TaskBatch, inner_lr: float, inner_steps: int,
                        first_order: bool) -> Params:
    """The plain autograd loop, one task at a time: the memory-honest reference.

    Full MAML keeps the graph of every inner gradient (``create_graph=True``) to
    differentiate through it; first order detaches the inner gradients, so that
    graph is freed as soon as each inner step is taken.
    """
    loop = sinusoid_loop(inner_lr, inner_steps)
    names = list(phi)
    leaves = [phi[k].detach().clone().requires_grad_() for k in names]
    start = dict(zip(names, leaves))
    n_tasks = batch.n_tasks
    total = torch.zeros((), dtype=leaves[0].dtype, device=leaves[0].device)
    for n in range(n_tasks):
        sx, sy, qx, qy = (t[n] for t in batch.tensors())
        theta = start
        for _ in range(loop.inner_steps):
            support = task_loss(loop.model, loop.loss_fn, theta, sx, sy)
            grads = torch.autograd.grad(support, list(theta.values()),
                                        create_graph=not first_order)
            theta = {k: theta[k] - loop.inner_lr * g for k, g in zip(names, grads)}
        total = total + task_loss(loop.model, loop.loss_fn, theta, qx, qy) / n_tasks
    return dict(zip(names, torch.autograd.grad(total, leaves)))


def query_gradient_at_adapted(phi: Params, batch: TaskBatch, inner_lr: float,
                              inner_steps: int) -> Params:
    """mean_n grad_theta l^n(theta) at theta = theta_hat^n: what first-order MAML follows."""
    loop = sinusoid_loop(inner_lr, inner_steps)
    names = list(phi)
    out = [torch.zeros_like(phi[k]) for k in names]
    for n in range(batch.n_tasks):
        sx, sy, qx, qy = (t[n] for t in batch.tensors())
        theta = {k: v.detach() for k, v in phi.items()}
        for _ in range(loop.inner_steps):
            leaves = {k: v.requires_grad_() for k, v in theta.items()}
            g = torch.autograd.grad(task_loss(loop.model, loop.loss_fn, leaves, sx, sy),
                                    list(leaves.values()))
            theta = {k: (theta[k] - loop.inner_lr * gk).detach() for k, gk in zip(names, g)}
        leaves = {k: v.requires_grad_() for k, v in theta.items()}
        g = torch.autograd.grad(task_loss(loop.model, loop.loss_fn, leaves, qx, qy),
                                list(leaves.values()))
        for i, gk in enumerate(g):
            out[i] += gk / batch.n_tasks
    return dict(zip(names, out))


# --------------------------------------------------------------------------- cost


class SavedTensorMeter:
    """Bytes held by autograd for backward: now, and at most, during a ``with`` block.

    Every tensor saved for backward is packed through ``saved_tensors_hooks``;
    its storage is counted once however many graph nodes save it, and released
    when the last node holding it is freed (the packed handle is garbage-collected).
    """

    def __init__(self) -> None:
        self.current = 0
        self.peak = 0
        self._refs: dict[tuple[str, int], int] = {}

    def _release(self, key: tuple[str, int], nbytes: int) -> None:
        self._refs[key] -= 1
        if self._refs[key] == 0:
            del self._refs[key]
            self.current -= nbytes

    def _pack(self, tensor: torch.Tensor) -> object:
        storage = tensor.untyped_storage()
        key, nbytes = (str(tensor.device), storage.data_ptr()), storage.nbytes()
        if key not in self._refs:
            self._refs[key] = 0
            self.current += nbytes
            self.peak = max(self.peak, self.current)
        self._refs[key] += 1
        handle = _Handle(tensor)
        weakref.finalize(handle, self._release, key, nbytes)
        return handle

    @staticmethod
    def _unpack(handle: _Handle) -> torch.Tensor:
        return handle.tensor

    @contextmanager
    def measure(self) -> Iterator[SavedTensorMeter]:
        with torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack):
            yield self


class _Handle:
    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: torch.Tensor):
        self.tensor = tensor


@dataclass(frozen=True)
class Cost:
    """What one meta-step costs."""

    seconds_naive: float  # the plain autograd loop, median of the repeats
    seconds_batched: float  # the engine's vmapped step (torch.func), median of the repeats
    saved_bytes_peak: int  # most bytes autograd held for backward at once (naive loop)
    cuda_peak_bytes: int | None = None  # torch.cuda.max_memory_allocated on CUDA, else None
    repeats: int = field(default=3)


def _median_seconds(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm up (vmap tracing, allocator)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def _quartiles(times: Sequence[float]) -> tuple[float, float, float]:
    """Lower quartile, median and upper quartile (nearest rank)."""
    ordered = sorted(times)
    n = len(ordered)
    return (ordered[(n - 1) // 4], ordered[n // 2] if n % 2 else
            (ordered[n // 2 - 1] + ordered[n // 2]) / 2, ordered[(3 * (n - 1) + 3) // 4])


@dataclass(frozen=True)
class Timing:
    """Seconds per meta-step of full and first-order MAML, timed turn about.

    On a shared CPU another program's burst lands on whichever step is running;
    alternating the two, step for step, puts both under the same load, and the
    median of many steps drops the bursts. The quartiles say how much noise remained.
    """

    full: tuple[float, float, float]  # lower quartile, median, upper quartile
    first_order: tuple[float, float, float]
    repeats: int

    @property
    def first_order_faster(self) -> bool:
        return self.first_order[1] < self.full[1]

    @property
    def overlapping(self) -> bool:
        """The two interquartile ranges overlap: the difference is within the noise."""
        return self.first_order[2] >= self.full[0] and self.full[2] >= self.first_order[0]


def compare_step_times(phi: Params, batch: TaskBatch, inner_lr: float, inner_steps: int,
                       repeats: int = 15) -> Timing:
    """Median seconds of the plain autograd loop, full and first order alternating."""
    if repeats < 1:
        raise ConfigError("repeats", f"must be at least 1, got {repeats}")
    sinusoid_loop(inner_lr, inner_steps)  # checked before any work
    steps = {first_order: (lambda fo=first_order: naive_meta_gradient(
        phi, batch, inner_lr, inner_steps, fo)) for first_order in (False, True)}
    for step in steps.values():
        step()  # warm up (allocator, autograd's first graph)
    times: dict[bool, list[float]] = {False: [], True: []}
    for r in range(repeats):
        # Which goes first alternates too: a burst that favours the first of a pair
        # favours neither over the whole run.
        for first_order in ((False, True) if r % 2 == 0 else (True, False)):
            start = time.perf_counter()
            steps[first_order]()
            times[first_order].append(time.perf_counter() - start)
    return Timing(_quartiles(times[False]), _quartiles(times[True]), repeats)


def meta_step_cost(phi: Params, batch: TaskBatch, inner_lr: float, inner_steps: int,
                   first_order: bool, repeats: int = 3) -> Cost:
    """Time (``time.perf_counter``) and memory of one full or first-order meta-step."""
    if repeats < 1:
        raise ConfigError("repeats", f"must be at least 1, got {repeats}")
    loop = sinusoid_loop(inner_lr, inner_steps)
    step = maml_step(loop, first_order)
    tensors = batch.tensors()

    def naive() -> None:
        naive_meta_gradient(phi, batch, inner_lr, inner_steps, first_order)

    seconds_naive = _median_seconds(naive, repeats)
    seconds_batched = _median_seconds(lambda: step(phi, *tensors), repeats)
    meter = SavedTensorMeter()
    with meter.measure():
        naive()
    cuda_peak = None
    device = next(iter(phi.values())).device
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        naive()
        torch.cuda.synchronize(device)
        cuda_peak = torch.cuda.max_memory_allocated(device) - base
    return Cost(seconds_naive, seconds_batched, meter.peak, cuda_peak, repeats)

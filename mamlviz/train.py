"""Meta-training as a generator of small records (after pytorch-maml's ``train_iter``).

``Trainer.run()`` yields one ``Record`` every ``log_every`` meta-steps: plain
numbers a page can plot or a CLI can print. The consumer decides when to stop
(break out of the loop, or a worker's stop flag); ``Trainer.phi`` always holds
the weights trained so far, so a stopped run loses nothing.

A step whose losses or update are NaN or infinite is not applied: the run ends
with a ``diverged`` record and ``phi`` keeps the last finite weights.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import torch

from .algorithms import InnerLoop, StepFn, get, make_step
from .config import TrainConfig
from .device import describe, pick_device
from .graphed import DeviceMetaStep, Totals
from .inner import KEPT, Params, fresh_moments, kept_moments
from .models.mlp import init_params
from .optim import OptState, OuterOptimizer
from .problems import Problem, problem_from_config
from .reference import naive_step

# Below this many meta-steps a cold torch.compile (about 20 s of C++ builds on a
# 2-core CPU) costs more than it saves, so "auto" traces instead.
COMPILE_PAYS_OFF_AFTER = 20_000
# On a GPU the fused Omniglot step is about twice as fast as the graphed one, after up
# to a minute of compiling: it pays off after about 9,000 meta-steps at 5-way and 2,000
# at 20-way (benchmarks/README.md, "Omniglot on a GPU").
FUSE_PAYS_OFF_AFTER = 10_000


@dataclass(frozen=True)
class Record:
    step: int
    algorithm: str
    device: str
    query_loss_before: float  # mean query loss at phi, before adaptation
    query_loss_after: float  # mean query loss at theta_hat, after adaptation
    elapsed_s: float
    it_per_s: float
    status: str = "running"  # running | diverged | done

    def as_dict(self, json_safe: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if json_safe:  # JSON has no NaN or infinity
            for key, value in data.items():
                if isinstance(value, float) and not math.isfinite(value):
                    data[key] = None
        return data


def compiler_available() -> bool:
    return shutil.which(os.environ.get("CXX", "g++")) is not None


def choose_implementation(config: TrainConfig, device: torch.device) -> str:
    """'auto' resolved: the fastest exact path for this problem, device and run length."""
    if config.implementation != "auto":
        return config.implementation
    if config.problem == "omniglot":
        # The conv model's per-task work is large enough that a Python loop adds
        # little on a CPU, while vmap's batched convolutions are slower there. On a GPU
        # the launches of its ~1,000 small kernels per step dominate: replay a graph,
        # and on a long run fuse it first (about 2x, after 30 to 60 s of compiling).
        # A head-only inner loop (ANIL's) is the exception on a CPU: the batched step
        # embeds a task's support set once and adapts a linear head on the features,
        # where the per-task loop differentiates the whole network at every inner step
        # (several times slower at 20-way's five steps: benchmarks/README.md).
        if device.type != "cuda":
            return "loop" if get(config.algorithm).inner_mask is None else "traced"
        fuse = config.iterations >= FUSE_PAYS_OFF_AFTER and compiler_available()
        return "fused" if fuse else "graphed"
    long_run = config.iterations >= COMPILE_PAYS_OFF_AFTER
    if device.type == "cuda" or (compiler_available() and long_run):
        return "compiled"
    return "traced"


@dataclass
class HostTotals:
    """A record's sums for the plain step, whose losses the host reads every step.

    (The graphed step keeps the same sums on the GPU: ``DeviceMetaStep.take``.)
    """

    before: float = 0.0
    after: float = 0.0
    steps: int = 0

    def add(self, before: float, after: float) -> None:
        self.before += before
        self.after += after
        self.steps += 1

    def take(self) -> Totals:
        n = max(self.steps, 1)
        totals = Totals(self.steps, self.before / n, self.after / n, finite=True)
        self.before = self.after = 0.0
        self.steps = 0
        return totals


class TracedStep:
    """``make_fx`` flattens the torch.func transforms into one graph of plain tensor ops.

    Tracing takes about a second and removes most of vmap's Python overhead,
    without the C++ build of ``torch.compile``. A new graph is traced for each
    new batch shape, on the *second* call with that shape: the first call runs
    the same step eagerly (the same maths, a few milliseconds), so a live run's
    first curve point does not wait for the tracer.
    """

    def __init__(self, step: Callable[..., Any]):
        self.step = step
        self.graphs: dict[tuple[Any, ...], Callable[..., Any] | None] = {}

    def __call__(self, *args: Any) -> Any:
        from torch.fx.experimental.proxy_tensor import make_fx
        from torch.utils._pytree import tree_leaves

        key = tuple((tuple(t.shape), t.dtype, t.device) for t in tree_leaves(args))
        if key not in self.graphs:
            self.graphs[key] = None  # seen once: eager now, traced next time
            return self.step(*args)
        graph = self.graphs[key]
        if graph is None:
            graph = self.graphs[key] = make_fx(self.step)(*args)
        return graph(*args)


def build_step(implementation: str, algorithm: str, loop: InnerLoop) -> StepFn:
    """The meta-gradient (direction) of ``algorithm`` by the chosen implementation."""
    if implementation == "loop":
        return partial(naive_step, algorithm, loop)
    if implementation in ("vmap", "traced", "compiled", "graphed", "fused"):
        return make_step(algorithm, loop)
    raise ValueError(f"unknown implementation {implementation!r}")


MetaStep = Callable[..., tuple[Params, OptState, torch.Tensor]]
# Implementations whose step updates phi in place (mamlviz.graphed.DeviceMetaStep)
IN_PLACE = ("graphed", "fused")


def fused_meta_step(step_fn: StepFn, optimizer: OuterOptimizer,
                    keeps_moments: bool = False) -> MetaStep:
    """One whole meta-step: direction, outer update, and the numbers a record needs.

    Returns the new phi and optimiser state (not yet committed: the caller keeps
    them only if the step was finite) and ``stats = [before, after, finite]``,
    so the host synchronises once per step. With ``keeps_moments`` the state also
    carries the inner Adam's moments (``mamlviz.inner.KEPT``), which the step updates.
    """

    def meta_step(phi: Params, state: OptState, *batch: torch.Tensor
                  ) -> tuple[Params, OptState, torch.Tensor]:
        outer = {k: v for k, v in state.items() if not k.startswith(KEPT)}
        moments: Params = {}
        if keeps_moments:
            direction, before, after, moments = step_fn(  # type: ignore[call-arg,misc]
                phi, *batch, moments=kept_moments(state))
        else:
            direction, before, after = step_fn(phi, *batch)
        new_phi, new_state = optimizer.update(phi, outer, direction)
        new_state = {**new_state, **{KEPT + k: v for k, v in moments.items()}}
        checks = torch.stack([before.mean(), after.mean()]
                             + [d.sum() for d in direction.values()])
        finite = torch.isfinite(checks).all().to(checks.dtype)
        return new_phi, new_state, torch.stack([checks[0], checks[1], finite])

    return meta_step


def compile_meta_step(implementation: str, meta_step: MetaStep) -> MetaStep:
    if implementation == "traced":
        return TracedStep(meta_step)
    if implementation == "compiled":
        return torch.compile(meta_step, dynamic=False)  # type: ignore[return-value]
    return meta_step


class Trainer:
    """Holds phi, the outer optimiser's state and the task stream; ``run()`` yields records."""

    def __init__(self, config: TrainConfig, device: str | torch.device | None = None,
                 phi: Params | None = None, problem: Problem | None = None,
                 omniglot: Any = None):
        self.config = config
        self.device = device if isinstance(device, torch.device) else pick_device(device)
        self.device_name = describe(self.device)
        self._omniglot = omniglot
        self.problem = problem or problem_from_config(config, self.device, omniglot=omniglot)
        self.model = self.problem.model.to(self.device)
        if phi is None:
            phi = init_params(self.model, config.seed, device=self.device)
        # what else the algorithm meta-learns (Meta-SGD's step sizes), unless phi has it
        phi = get(config.algorithm).init_phi(phi, config.inner_lr)
        self.phi: Params = {k: v.detach().to(self.device).clone() for k, v in phi.items()}
        self.optimizer = OuterOptimizer(config.outer_optimizer, config.meta_lr,
                                        lr_final=config.meta_lr_final,
                                        total_steps=config.iterations)
        self.loop = InnerLoop(self.model, self.problem.loss_fn, config.inner_lr, config.inner_steps,
                              config.inner_optimizer, config.inner_batch,
                              keep_moments=config.inner_moments == "kept",
                              lam=config.inner_lam)
        self.opt_state = {**self.optimizer.init(self.phi), **self._fresh_moments()}
        self.implementation = choose_implementation(config, self.device)
        self._meta_step = self._build(self.implementation)
        self._in_place: DeviceMetaStep | None = None  # the "graphed" implementation's step
        self.generator = torch.Generator(self.device).manual_seed(config.seed)
        self.step = 0
        self.elapsed_s = 0.0
        self.status = "ready"
        self.notes: list[str] = []  # what the trainer changed on its own, said to the user

    def resume(self, opt_state: OptState, step: int, elapsed_s: float) -> None:
        """Go on from a saved run: its optimiser state and step count (phi is passed in).

        Tasks are drawn from a stream seeded with ``seed + step``, so a resumed run does
        not see the first run's tasks again. An empty ``opt_state`` (a checkpoint from
        before optimiser states were saved) restarts the optimiser's moments.
        """
        if opt_state:
            if kept_moments(opt_state) is None and self.loop.keep_moments:
                opt_state = {**opt_state, **self._fresh_moments()}
                self.notes.append("no inner Adam moments saved: they start from zero")
            if set(opt_state) != set(self.opt_state):
                raise ValueError("the saved optimiser state does not fit this optimiser")
            self.opt_state = {k: v.to(self.device) for k, v in opt_state.items()}
        else:
            self.notes.append("no optimiser state saved: its moments start from zero")
        self.step, self.elapsed_s = step, elapsed_s
        self.generator = torch.Generator(self.device).manual_seed(self.config.seed + step)

    def _fresh_moments(self) -> OptState:
        if not self.loop.keep_moments:
            return {}
        return {KEPT + k: v for k, v in fresh_moments(self.phi).items()}

    @property
    def inner_moments(self) -> Params | None:
        """The inner Adam's moments kept so far (None unless the run keeps them)."""
        return kept_moments(self.opt_state)

    def _build(self, implementation: str) -> MetaStep:
        step_fn = build_step(implementation, self.config.algorithm, self.loop)
        meta_step = fused_meta_step(step_fn, self.optimizer, self.loop.keep_moments)
        return compile_meta_step(implementation, meta_step)

    def _call_meta_step(self, batch: tuple[torch.Tensor, ...]
                        ) -> tuple[Params, OptState, torch.Tensor]:
        try:
            return self._meta_step(self.phi, self.opt_state, *batch)
        except torch.cuda.OutOfMemoryError:
            raise  # handled by the caller, which can shrink the meta-batch
        except Exception:
            if self.implementation != "compiled":
                raise
            # A machine without a working C++ toolchain: trace instead of compiling.
            self.implementation = "traced"
            self._meta_step = self._build("traced")
            self.notes.append("torch.compile failed here; using the traced implementation")
            return self._meta_step(self.phi, self.opt_state, *batch)

    def _recover_from_oom(self) -> None:
        """GPU out of memory: halve the meta-batch, and below one task move to the CPU."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        if self.config.meta_batch_size > 1:
            self.config = self.config.replace(meta_batch_size=self.config.meta_batch_size // 2)
            self.notes.append(f"out of memory on {self.device_name}: meta-batch halved to "
                              f"{self.config.meta_batch_size}")
            return
        if self.device.type == "cpu":
            raise MemoryError("out of memory even with one task per meta-batch on the CPU")
        cpu = torch.device("cpu")
        self.notes.append(f"out of memory on {self.device_name} with one task: moved to the CPU")
        self.device, self.device_name = cpu, describe(cpu)
        self.model = self.model.to(cpu)
        self.phi = {k: v.to(cpu) for k, v in self.phi.items()}
        self.opt_state = {k: v.to(cpu) for k, v in self.opt_state.items()}
        self.problem = problem_from_config(self.config, cpu, omniglot=self._omniglot)
        self.generator = torch.Generator(cpu).manual_seed(self.config.seed + self.step)
        self.implementation = "loop" if self.config.problem == "omniglot" else "traced"
        self._meta_step = self._build(self.implementation)

    def run(self, iterations: int | None = None,
            max_seconds: float | None = None) -> Generator[Record, None, None]:
        """Meta-train for ``iterations`` more steps (default: up to ``config.iterations``).

        ``max_seconds`` ends the run early, with a ``done`` record, once that much wall
        time has passed: "train for a minute" on whatever machine the class has.
        """
        target = self.config.iterations if iterations is None else self.step + iterations
        host = HostTotals()  # the plain step's losses; the graphed step sums on the device
        since_log = 0
        started = time.perf_counter()
        elapsed_at_start = self.elapsed_s
        window_start, window_step = started, self.step
        self.status = "running"
        while self.step < target:
            tasks = self.problem.sample(self.config.meta_batch_size, self.generator)
            if self.config.inner_batch is not None:  # mini-batches that mix the classes
                tasks = tasks.shuffled_support(self.generator)
            batch = tasks.tensors()
            try:
                plain = self._advance(batch)
            except torch.cuda.OutOfMemoryError:
                self._recover_from_oom()
                continue
            if plain is not None:
                before, after, finite = plain
                if not finite:
                    self.elapsed_s = elapsed_at_start + (time.perf_counter() - started)
                    yield self._diverged(before, after)
                    return
                host.add(before, after)
            self.step += 1
            since_log += 1
            now = time.perf_counter()
            if max_seconds is not None and now - started >= max_seconds:
                target = self.step
            if since_log < self.config.log_every and self.step < target:
                continue
            totals = self._in_place.take() if self._in_place is not None else host.take()
            now = time.perf_counter()  # take() waited for the GPU
            self.elapsed_s = elapsed_at_start + (now - started)
            if not totals.finite:
                # Found on the device: the steps after the first non-finite one were not
                # applied either.
                self.step -= since_log - totals.steps
                yield self._diverged(math.nan, math.nan)
                return
            it_per_s = (self.step - window_step) / max(now - window_start, 1e-9)
            window_start, window_step = now, self.step
            status = "done" if self.step == target else "running"
            yield Record(self.step, self.config.algorithm, self.device_name,
                         totals.query_loss_before, totals.query_loss_after, self.elapsed_s,
                         it_per_s, status)
            since_log = 0
        self.status = "done"

    def _advance(self, batch: tuple[torch.Tensor, ...]) -> tuple[float, float, bool] | None:
        """One meta-step on ``batch``.

        The plain step returns its query losses (before, after) and whether it was finite;
        only a finite one is applied. The graphed step returns None: it runs on the GPU,
        which keeps its losses until the next record.
        """
        if self.implementation in IN_PLACE and self._in_place is None:
            self._in_place = self._device_step(batch)  # None (and vmap) if capture failed
            if self._in_place is not None:
                self.phi, self.opt_state = self._in_place.phi, self._in_place.opt_state
        if self._in_place is not None:
            self._in_place(batch)
            return None
        new_phi, new_state, stats = self._call_meta_step(batch)
        before, after, finite = stats.tolist()
        if finite:
            self.phi, self.opt_state = new_phi, new_state
        return before, after, bool(finite)

    def _diverged(self, before: float, after: float) -> Record:
        """The run's last record: step ``self.step + 1`` was not finite and not applied."""
        self.status = "diverged"
        return Record(self.step + 1, self.config.algorithm, self.device_name, before, after,
                      self.elapsed_s, 0.0, "diverged")

    def _device_step(self, batch: tuple[torch.Tensor, ...]) -> DeviceMetaStep | None:
        """The in-place step of the "graphed" and "fused" implementations.

        On CUDA it is captured as a graph (and for "fused" compiled first); elsewhere the
        same in-place step runs eagerly. If compiling fails, training goes on with the
        graphed step; if capturing fails (an old driver, out of memory), with the plain
        vmap step. Either is said in ``notes``.
        """
        fused = self.implementation == "fused"
        step = DeviceMetaStep(self._meta_step, self.phi, self.opt_state, batch, fused=fused)
        try:
            step.prepare()
        except Exception as exc:  # noqa: BLE001 - any failure: fall back, keep training
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
            what = "compiling the fused step" if fused else "CUDA graph capture"
            self.implementation = "graphed" if fused else "vmap"
            self.notes.append(f"{what} failed ({type(exc).__name__}: {exc}); "
                              f"using the {self.implementation} step")
            return self._device_step(batch) if fused else None
        return step

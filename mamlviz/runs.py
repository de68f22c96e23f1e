"""Whole runs, as the CLI and the pages use them: train to a checkpoint, evaluate one.

Evaluation follows the MAML paper's sinusoid protocol: held-out tasks from
the training distribution, K support points, gradient steps of the training
inner learning rate, and the MSE on 100 query points after each step.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from . import checkpoint as ckpt
from .config import TrainConfig
from .device import describe, pick_device
from .errors import ConfigError
from .evaluate import adaptation_curves, summarise
from .inner import Params
from .models.mlp import init_params
from .problems import problem_from_config
from .train import Record, Trainer

EVAL_QUERY_POINTS = 100
EVAL_SEED = 2024  # held-out tasks come from a stream the training seed never uses


def train_to_checkpoint(config: TrainConfig, out: str | os.PathLike[str],
                        device: str | None = None) -> Iterator[Record]:
    """Train, yielding records; the checkpoint is written when the run ends or is stopped."""
    trainer = Trainer(config, device=device)
    last: Record | None = None
    try:
        for record in trainer.run():
            last = record
            yield record
    finally:  # a Stop (GeneratorExit) or Ctrl-C still saves what was trained
        metrics: dict[str, Any] = {"steps": trainer.step, "elapsed_s": trainer.elapsed_s,
                                   "device": trainer.device_name,
                                   "implementation": trainer.implementation,
                                   "status": last.status if last else "empty"}
        if last is not None:
            metrics["final_record"] = last.as_dict(json_safe=True)
        ckpt.save(out, ckpt.Checkpoint(phi=trainer.phi, config=config.to_dict(),
                                       metrics=metrics, problem=config.problem))


def load_sinusoid(path: str | os.PathLike[str]) -> tuple[TrainConfig, Params]:
    """A checkpoint's config and phi, checked to fit the paper's MLP."""
    checkpoint = ckpt.load(path, problem="sinusoid")
    try:
        config = TrainConfig.from_dict(checkpoint.config)
    except (ConfigError, TypeError) as exc:
        raise ckpt.CheckpointError(f"{path} has invalid settings: {exc}") from exc
    model = problem_from_config(config).model
    ckpt.check_compatible(checkpoint, init_params(model, 0), str(path))
    return config, checkpoint.phi


def evaluate_phi(config: TrainConfig, phi: Params, tasks: int = 100, k_shot: int | None = None,
                 steps: int = 10, seed: int = EVAL_SEED, inner_lr: float | None = None,
                 device: str | None = None) -> dict[str, Any]:
    if tasks < 1:
        raise ConfigError("tasks", f"must be at least 1, got {tasks}")
    if steps < 0:
        raise ConfigError("steps", f"must be 0 or more, got {steps}")
    k = config.k_shot if k_shot is None else k_shot
    config = config.replace(k_shot=k, n_query=EVAL_QUERY_POINTS)
    lr = config.inner_lr if inner_lr is None else inner_lr
    if lr < 0:
        raise ConfigError("inner_lr", f"must be non-negative, got {lr}")
    dev = pick_device(device)
    problem = problem_from_config(config)
    model = problem.model.to(dev)
    generator = torch.Generator(dev).manual_seed(seed)
    batch = problem.sample(tasks, generator)
    curves = adaptation_curves(model, problem.loss_fn, {k: v.to(dev) for k, v in phi.items()},
                               batch, lr, steps)
    result = summarise(curves)
    result.update({"algorithm": config.algorithm, "device": describe(dev), "shots": k,
                   "steps": steps, "inner_lr": lr, "seed": seed})
    return result


def evaluate_checkpoint(path: str | os.PathLike[str], **kwargs: Any) -> dict[str, Any]:
    config, phi = load_sinusoid(path)
    result = evaluate_phi(config, phi, **kwargs)
    result["checkpoint"] = str(Path(path))
    return result

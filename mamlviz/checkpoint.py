"""Checkpoints: phi with the settings and metrics that produced it, never arbitrary pickle.

A checkpoint is written with ``torch.save`` and read back with
``torch.load(weights_only=True)``, whose unpickler only rebuilds tensors and
plain containers: a file carrying any other pickled object (a tampered
checkpoint with code in it) is refused, never executed. Settings and metrics
are stored as JSON text inside the file. Writes are atomic (temp file, then
rename) so a crash never leaves half a checkpoint.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError
from .inner import Params

FORMAT = "mamlviz-checkpoint"
VERSION = 1


@dataclass
class Checkpoint:
    phi: Params
    config: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    problem: str = "sinusoid"
    # The outer optimiser's state (Adam's moments and step count), so a run can resume.
    opt_state: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def algorithm(self) -> str:
        return str(self.config.get("algorithm", "?"))

    @property
    def steps(self) -> int:
        """Meta-steps trained so far (0 if the metrics do not say)."""
        return int(self.metrics.get("steps", 0))


def save(path: str | os.PathLike[str], checkpoint: Checkpoint) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "problem": checkpoint.problem,
        "config": json.dumps(checkpoint.config, sort_keys=True),
        "metrics": json.dumps(checkpoint.metrics, sort_keys=True),
        "phi": {k: v.detach().cpu().contiguous() for k, v in checkpoint.phi.items()},
        "opt_state": {k: v.detach().cpu().contiguous() for k, v in checkpoint.opt_state.items()},
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike[str], problem: str | None = None,
         map_location: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint; any problem with the file raises ``CheckpointError`` saying what."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path} was refused: it contains objects other than tensors and plain data "
            f"(possibly tampered with), so it was not loaded ({str(exc).splitlines()[0]})") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(
            f"{path} is not a readable mamlviz checkpoint (corrupt or truncated?): "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a PyTorch file but not a mamlviz checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {payload.get('version')}, "
                              f"this mamlviz reads version {VERSION}")
    if problem is not None and payload.get("problem") != problem:
        raise CheckpointError(f"{path} is a {payload.get('problem')} checkpoint, "
                              f"not a {problem} one")
    try:
        config = json.loads(payload["config"])
        metrics = json.loads(payload["metrics"])
        phi = dict(payload["phi"])
        opt_state = dict(payload.get("opt_state", {}))  # absent in older files
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is damaged: {exc}") from exc
    if not phi or not all(isinstance(v, torch.Tensor) for v in phi.values()):
        raise CheckpointError(f"{path} holds no weights")
    if not all(bool(torch.isfinite(v).all()) for v in phi.values()):
        raise CheckpointError(f"{path} holds NaN or infinite weights")
    if not all(isinstance(v, torch.Tensor) for v in opt_state.values()):
        raise CheckpointError(f"{path} has a damaged optimiser state")
    return Checkpoint(phi=phi, config=config, metrics=metrics, problem=str(payload["problem"]),
                      opt_state=opt_state)


def check_compatible(checkpoint: Checkpoint, expected: Params, path: str = "checkpoint") -> None:
    """The weights must fit the model: same names and shapes as ``expected``."""
    if set(checkpoint.phi) != set(expected):
        raise CheckpointError(f"{path} does not fit this model: it has weights "
                              f"{sorted(checkpoint.phi)}, the model needs {sorted(expected)}")
    for k, v in expected.items():
        if tuple(checkpoint.phi[k].shape) != tuple(v.shape):
            raise CheckpointError(f"{path}: weight {k} has shape {tuple(checkpoint.phi[k].shape)}, "
                                  f"the model needs {tuple(v.shape)}")

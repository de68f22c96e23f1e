"""Checkpoints: phi with the settings and metrics that produced it, never arbitrary pickle.

A checkpoint is written with ``torch.save`` and read back with
``torch.load(weights_only=True)``, whose unpickler only rebuilds tensors and
plain containers: a file carrying any other pickled object (a tampered
checkpoint with code in it) is refused, never executed. Settings and metrics
are stored as JSON text inside the file. Writes are atomic (temp file, then
rename) so a crash never leaves half a checkpoint, with the permissions any new file
gets (the umask's).

Loading checks the format, the settings, every tensor's dtype, and a SHA-256 of the
content (``sha256``: the settings, metrics and every tensor's name, dtype, shape and
bytes), so a flipped bit anywhere in the weights is refused rather than run. Files
written before the hash existed (the first shipped checkpoints) have none and load
without that one check.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError, ConfigError
from .inner import RATES, Params, rates_of

FORMAT = "mamlviz-checkpoint"
VERSION = 1
DTYPE = torch.float32  # every model's weights and optimiser state
ZIP_MAGIC = b"PK\x03\x04"  # torch.save writes a zip archive


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


def check_writable(path: str | os.PathLike[str], field: str = "out") -> Path:
    """Refuse, before any training, a checkpoint path that could never be written.

    Checks what ``save`` will do: the folders it would create, and that a file can be
    created beside the target (the temporary file it writes first).
    """
    if not str(path).strip():
        raise ConfigError(field, "is empty; give a file name such as run.pt")
    path = Path(path)
    if path.is_dir():
        raise ConfigError(field, f"{path} is a folder; give a file name inside it, such as "
                          f"{path / 'run.pt'}")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(field, f"{parent} is a file, not a folder, so {path} cannot be "
                          f"written inside it")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
    except OSError as exc:
        raise ConfigError(field, f"cannot write {path}: {exc.strerror or exc} "
                          f"(in {parent})") from exc
    os.close(fd)
    os.unlink(probe)
    return path


def content_hash(problem: str, config: str, metrics: str, phi: Params,
                 opt_state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of what a checkpoint holds: its texts and every tensor's name, dtype,
    shape and bytes, in a fixed order."""
    h = hashlib.sha256()
    for text in (problem, config, metrics):
        h.update(text.encode() + b"\0")
    for group, tensors in (("phi", phi), ("opt_state", opt_state)):
        for name in sorted(tensors):
            t = tensors[name].detach().cpu().contiguous()
            h.update(f"{group}/{name}/{t.dtype}/{tuple(t.shape)}".encode() + b"\0")
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (another thread
    may be creating files), else by setting and restoring it."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def save(path: str | os.PathLike[str], checkpoint: Checkpoint) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    phi = {k: v.detach().cpu().contiguous() for k, v in checkpoint.phi.items()}
    opt_state = {k: v.detach().cpu().contiguous() for k, v in checkpoint.opt_state.items()}
    config = json.dumps(checkpoint.config, sort_keys=True)
    metrics = json.dumps(checkpoint.metrics, sort_keys=True)
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "problem": checkpoint.problem,
        "config": config,
        "metrics": metrics,
        "phi": phi,
        "opt_state": opt_state,
        "sha256": content_hash(checkpoint.problem, config, metrics, phi, opt_state),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes a private (0600) file; a checkpoint is shared like any other file.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())  # on disk before the rename makes it the checkpoint
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _what_it_is(path: Path) -> str:
    """Why a file that is not a zip archive is not a checkpoint, from its first bytes."""
    with path.open("rb") as f:
        head = f.read(64)
    if not head:
        return "it is empty"
    text = head.lstrip()
    if text[:1] in (b"{", b"["):
        return "it looks like a JSON file"
    try:
        head.decode("utf-8")
        return "it looks like a text file"
    except UnicodeDecodeError:
        return "it is some other binary file"


def load(path: str | os.PathLike[str], problem: str | None = None,
         map_location: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint; any problem with the file raises ``CheckpointError`` saying what."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with path.open("rb") as f:
            magic = f.read(len(ZIP_MAGIC))
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from exc
    if magic != ZIP_MAGIC:
        raise CheckpointError(f"{path} is not a PyTorch checkpoint file: {_what_it_is(path)}")
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
    for group, tensors in (("weight", phi), ("optimiser state", opt_state)):
        for name, t in tensors.items():
            if t.dtype != DTYPE:
                raise CheckpointError(f"{path}: {group} {name} is stored as "
                                      f"{str(t.dtype).removeprefix('torch.')}; mamlviz "
                                      f"checkpoints hold float32")
    stored_hash = payload.get("sha256")
    if stored_hash is not None:  # files from before content hashes have none
        actual = content_hash(str(payload["problem"]), payload["config"], payload["metrics"],
                              phi, opt_state)
        if stored_hash != actual:
            raise CheckpointError(f"{path} does not match its content hash: its weights or "
                                  f"settings changed after it was saved (corrupted or "
                                  f"edited), so it was not loaded")
    return Checkpoint(phi=phi, config=config, metrics=metrics, problem=str(payload["problem"]),
                      opt_state=opt_state)


def check_compatible(checkpoint: Checkpoint, expected: Params, path: str = "checkpoint") -> None:
    """The weights must fit the model: same names and shapes as ``expected``; step sizes
    learned with them (Meta-SGD's ``inner_lr.<weight>``) must each fit their weight."""
    for name, rate in rates_of(checkpoint.phi).items():
        if name not in expected or tuple(rate.shape) != tuple(expected[name].shape):
            raise CheckpointError(f"{path}: step size {RATES}{name} fits no weight of the "
                                  f"model (shape {tuple(rate.shape)})")
    expected = {**expected, **{RATES + k: expected[k] for k in rates_of(checkpoint.phi)}}
    if set(checkpoint.phi) != set(expected):
        raise CheckpointError(f"{path} does not fit this model: it has weights "
                              f"{sorted(checkpoint.phi)}, the model needs {sorted(expected)}")
    for k, v in expected.items():
        if tuple(checkpoint.phi[k].shape) != tuple(v.shape):
            raise CheckpointError(f"{path}: weight {k} has shape {tuple(checkpoint.phi[k].shape)}, "
                                  f"the model needs {tuple(v.shape)}")

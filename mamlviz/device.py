"""Which device trains: CUDA if present, else Apple's MPS, else the CPU.

``MAMLVIZ_DEVICE`` or an explicit ``--device`` overrides the choice; every run
and every record carries the name of the device it used.
"""

from __future__ import annotations

import os

import torch

from .errors import ConfigError

ENV_VAR = "MAMLVIZ_DEVICE"
KNOWN = ("cpu", "cuda", "mps")


def pick_device(requested: str | None = None) -> torch.device:
    """Resolve ``requested`` (or ``$MAMLVIZ_DEVICE``, or ``auto``) to an available device."""
    name = (requested or os.environ.get(ENV_VAR) or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise ConfigError(
            "device", f"unknown device {name!r} (use auto, cpu, cuda or mps)") from exc
    # torch knows more device types (meta, xla, ...) than a run can train on.
    if device.type not in KNOWN:
        raise ConfigError("device", f"{name!r} is not a device mamlviz trains on "
                          f"(use auto, cpu, cuda, cuda:N or mps)")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA was requested but no CUDA GPU is available")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConfigError("device", f"there is no {name}: this machine has "
                          f"{torch.cuda.device_count()} CUDA GPU(s), cuda:0 to "
                          f"cuda:{torch.cuda.device_count() - 1}")
    if device.type in ("cpu", "mps") and device.index not in (None, 0):
        raise ConfigError("device", f"there is no {name}: use {device.type}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("device", "MPS was requested but is not available on this machine")
    return device


def describe(device: torch.device) -> str:
    """A human name for the device: 'cpu', or the GPU's model name."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type

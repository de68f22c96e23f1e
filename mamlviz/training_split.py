"""Which characters a model was meta-trained on, recorded in its checkpoint.

Few-shot numbers mean something only when the testing characters were never seen in
meta-training. Lake et al. (2015) keep the 20 *evaluation* alphabets out of training
altogether (the ``lake`` protocol); the MAML protocol (Finn et al. 2017, after Santoro
et al. 2016) shuffles all 1,623 characters and keeps 1,200 for training, so Lake's
evaluation alphabets are mostly training characters there.

A checkpoint written by :func:`mamlviz.runs.train_to_checkpoint` stores, under its
metrics' ``training_split``, the protocol, the rule that builds the split (its seed and
size, or its alphabets' set) and a SHA-256 digest of the sorted list of its meta-training
characters, each named ``alphabet/character`` (names, not positions, so the digest does
not depend on how the data is laid out). From the file alone one can then tell which
protocol trained it, and, with the data, check that the digest is the one the protocol's
rule gives (:func:`check_split`). Checkpoints written before this was recorded report
``unknown split``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .data.omniglot import MAML_SPLIT_SEED, MAML_TRAIN_CHARACTERS, OmniglotData, OmniglotSplit
from .errors import ConfigError

KEY = "training_split"  # where a checkpoint's metrics keep the record
MATCHES, MISMATCH, UNKNOWN = "matches", "mismatch", "unknown split"


def characters_digest(split: OmniglotSplit) -> str:
    """SHA-256 of the split's characters as sorted ``alphabet/character`` lines."""
    data = split.data
    names = sorted(f"{data.alphabet[c]}/{data.character[c]}"
                   for c in split.characters.cpu().tolist())
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def split_rule(protocol: str) -> dict[str, Any]:
    """How ``OmniglotData.split(protocol)`` picks the meta-training characters."""
    if protocol == "maml":
        return {"order": "torch.randperm", "seed": MAML_SPLIT_SEED,
                "n_train": MAML_TRAIN_CHARACTERS}
    return {"sets": ["background"]}


def split_record(split: OmniglotSplit) -> dict[str, Any]:
    """What a checkpoint stores about the meta-training split it was trained on."""
    return {"protocol": split.protocol, "rule": split_rule(split.protocol),
            "rotations": split.rotations, "characters": split.n_characters,
            "sha256": characters_digest(split)}


def rebuilt_split(record: dict[str, Any], data: OmniglotData) -> OmniglotSplit:
    """The meta-training split that ``record``'s protocol and rule build from ``data``."""
    rule = record.get("rule", {})
    if record.get("protocol") == "maml":
        train, _ = data.split("maml", n_train=int(rule.get("n_train", MAML_TRAIN_CHARACTERS)),
                              seed=rule.get("seed", MAML_SPLIT_SEED))
    else:
        train, _ = data.split(str(record.get("protocol")))
    return train


@dataclass(frozen=True)
class SplitCheck:
    """The verdict on a checkpoint's stored split: ``matches``, ``mismatch`` or
    ``unknown split`` (an older file that stored none), and why."""

    status: str
    detail: str
    protocol: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail, "protocol": self.protocol}


def check_split(config: dict[str, Any], metrics: dict[str, Any],
                data: OmniglotData | None = None) -> SplitCheck:
    """Does the checkpoint's stored split belong to the protocol its settings name?

    Without ``data`` only the stored protocol is compared with the settings'; with the
    data, the stored digest is also compared with the one the protocol's rule gives.
    """
    record = metrics.get(KEY)
    protocol = config.get("protocol")
    if not isinstance(record, dict):
        return SplitCheck(UNKNOWN, "the checkpoint does not record its training split "
                          "(written before splits were stored)", protocol)
    if record.get("protocol") != protocol:
        return SplitCheck(MISMATCH, f"trained on a {record.get('protocol')!r} split, but its "
                          f"settings name the {protocol!r} protocol", protocol)
    if data is None:
        return SplitCheck(MATCHES, f"stored protocol {protocol!r} (digest not checked: no "
                          f"data)", protocol)
    try:
        expected = characters_digest(rebuilt_split(record, data))
    except (ConfigError, TypeError, ValueError) as exc:  # a damaged rule: say so
        return SplitCheck(MISMATCH, f"its stored rule builds no split: {exc}", protocol)
    if record.get("sha256") != expected:
        return SplitCheck(MISMATCH, f"its {record.get('characters')} training characters are "
                          f"not the {protocol!r} protocol's (digest differs)", protocol)
    return SplitCheck(MATCHES, f"{record.get('characters')} training characters, the "
                      f"{protocol!r} protocol's", protocol)

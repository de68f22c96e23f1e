"""People against models on one-shot classification, with characters nobody has seen.

Lake, Salakhutdinov and Tenenbaum (2015, Science 350:1332) scored people on 20-way 1-shot
runs built from Omniglot's 20 *evaluation* alphabets: the 20 characters of a run come from
one alphabet, and one person drew the training images, another the test images. People
erred 4.5%, their Bayesian Program Learning 3.3%, and Siamese networks (Koch et al. 2015,
as Lake et al. report them) 8.0%.

A model's score beside a person's means something only if the model never saw those
characters either. The MAML protocol (Finn et al. 2017) meta-trains on a shuffle of all
1,623 characters, so most evaluation-alphabet characters are its training characters;
the Lake protocol meta-trains on the 30 background alphabets alone. The game therefore
draws its episodes from characters a model can be checked against:
:func:`seen_characters` counts, from a checkpoint's own record of its training split,
how many of an episode's characters the model meta-trained on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .data.omniglot import OmniglotData
from .errors import ConfigError
from .tasks.omniglot import OmniglotTasks, WithinAlphabetTasks
from .training_split import KEY, characters_digest, rebuilt_split

WITHIN_ALPHABET = "within-alphabet"  # Lake's runs: one evaluation alphabet, two drawers
EVALUATION = "evaluation"  # random characters of the evaluation alphabets
MAML_TEST = "maml-test"  # the MAML split's testing characters
SOURCES = (WITHIN_ALPHABET, EVALUATION, MAML_TEST)  # or one alphabet, by its name

# Error (%) on Lake et al.'s 20-way 1-shot within-alphabet runs, as they report them.
PUBLISHED_ERRORS = {"people": 4.5, "bpl": 3.3, "siamese": 8.0}


@dataclass(frozen=True)
class GameEpisode:
    """An N-way K-shot episode with one query per class, the queries shuffled, and where
    its drawings come from: class ``n`` is character ``characters[n]`` of ``data``."""

    source: str
    tensors: dict[str, torch.Tensor]  # support_x, support_y, query_x, query_y
    characters: tuple[int, ...]
    alphabets: tuple[str, ...]  # the classes' alphabets, each once, in class order
    support_drawers: tuple[int, ...]  # 1..20, each once
    query_drawers: tuple[int, ...]


def _tasks(data: OmniglotData, source: str, n_way: int) -> OmniglotTasks | WithinAlphabetTasks:
    evaluation = data.split("lake")[1]
    if source == WITHIN_ALPHABET:
        return WithinAlphabetTasks(evaluation, n_way)
    if source == EVALUATION:
        return OmniglotTasks(evaluation.with_rotations(False), n_way)
    if source == MAML_TEST:
        return OmniglotTasks(data.shown_episodes("random"), n_way)
    if source not in data.alphabets():
        raise ConfigError("source", f"{source!r} is neither one of {', '.join(SOURCES)} "
                          f"nor an alphabet")
    return OmniglotTasks(data.shown_episodes(source), n_way)


def game_episode(data: OmniglotData, source: str, n_way: int, k_shot: int,
                 seed: int) -> GameEpisode:
    """The episode ``seed`` of ``source``: the same for every student who picks it."""
    generator = torch.Generator().manual_seed(seed)
    episodes = _tasks(data, source, n_way).episodes(1, k_shot, 1, generator=generator)
    batch, info = episodes.batch.task(0), episodes.info
    order = torch.randperm(n_way, generator=torch.Generator().manual_seed(seed + 1))
    tensors = {"support_x": batch.support_x[0], "support_y": batch.support_y[0],
               "query_x": batch.query_x[0][order], "query_y": batch.query_y[0][order]}
    characters = tuple(int(c) for c in info.classes[0].tolist())
    return GameEpisode(
        source, tensors, characters,
        tuple(dict.fromkeys(data.alphabet[c] for c in characters)),
        tuple(sorted(set(info.support_drawer[0].tolist()))),
        tuple(sorted(set(info.query_drawer[0].tolist()))))


def training_characters(config: dict[str, Any], metrics: dict[str, Any],
                        data: OmniglotData) -> tuple[frozenset[int] | None, str]:
    """The characters a checkpoint meta-trained on, and how that is known.

    ``"stored"``: the checkpoint's own record, its digest checked against the split its
    rule builds. ``"settings"``: an older file that stored no split; its settings' protocol
    names the split (the MAML protocol's seed and size have never changed). ``None`` with
    ``"mismatch"`` when a stored record does not match any split the data gives.
    """
    record = metrics.get(KEY)
    if isinstance(record, dict):
        try:
            split = rebuilt_split(record, data)
        except (ConfigError, TypeError, ValueError):
            return None, "mismatch"
        if record.get("sha256") != characters_digest(split):
            return None, "mismatch"
        how = "stored"
    else:
        split = data.split(str(config.get("protocol", "maml")))[0]
        how = "settings"
    return frozenset(int(c) for c in split.characters.cpu().tolist()), how


def seen_characters(trained_on: frozenset[int] | None, episode: GameEpisode) -> int | None:
    """How many of the episode's characters the model meta-trained on (None: unknown)."""
    if trained_on is None:
        return None
    return sum(c in trained_on for c in episode.characters)

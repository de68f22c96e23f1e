"""N-way K-shot Omniglot tasks (Finn et al. 2017, section 5.2; Vinyals et al. 2016).

A task picks N classes (characters, or rotated characters) at random and labels
them 0..N-1 in random order. For every class it draws K + Q *different* drawers:
the first K drawings form the support set, the other Q the query set, so no
drawing is ever in both. The label of a class means nothing across tasks: the
model has to learn it from the task's own support set.

Sampling is vectorised: random keys pick classes (``topk``) and drawers
(``argsort``), one gather fetches every image, and one more gather applies the
rotations. No Python loop runs over images, so the same code samples on the CPU
or, with the data moved to a GPU by :meth:`OmniglotData.to`, on the GPU.
Random numbers come from the ``generator``'s device: a CPU generator gives the
same episodes whatever device holds the images; a CUDA generator keeps
everything on the GPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch

from ..data.omniglot import IMAGE_SIZE, N_ROTATIONS, OmniglotSplit
from ..data.omniglot_source import N_DRAWERS
from ..errors import ConfigError
from .base import TaskBatch, check_counts


def _rotation_index(device: torch.device) -> torch.Tensor:
    """[4, 784]: pixel ``j`` of an image turned ``r`` quarter turns is pixel ``index[r, j]``."""
    grid = torch.arange(IMAGE_SIZE * IMAGE_SIZE, device=device).view(IMAGE_SIZE, IMAGE_SIZE)
    return torch.stack([torch.rot90(grid, r, dims=(0, 1)).reshape(-1) for r in range(N_ROTATIONS)])


@dataclass(frozen=True)
class EpisodeInfo:
    """Who drew what: the identity of every support and query image.

    Each tensor is [tasks, n_way * shots] and lines up with the TaskBatch images:
    ``*_character`` indexes ``OmniglotData`` (``data.info(c)`` names it), ``*_drawer``
    is 1..20 and ``*_rotation`` counts counter-clockwise quarter turns (0..3).
    ``classes`` and ``class_rotation`` ([tasks, n_way]) give label n's character.
    """

    classes: torch.Tensor
    class_rotation: torch.Tensor
    support_character: torch.Tensor
    support_drawer: torch.Tensor
    support_rotation: torch.Tensor
    query_character: torch.Tensor
    query_drawer: torch.Tensor
    query_rotation: torch.Tensor


@dataclass(frozen=True)
class OmniglotEpisodes:
    """A meta-batch of Omniglot tasks together with the identity of every image."""

    batch: TaskBatch
    info: EpisodeInfo
    split: OmniglotSplit

    def describe(self, task: int, part: str = "support") -> list[dict[str, Any]]:
        """One row per image of ``part`` ("support" or "query") of ``task``, for display."""
        if part not in ("support", "query"):
            raise ConfigError("part", f"must be 'support' or 'query', got {part!r}")
        chars = getattr(self.info, f"{part}_character")[task].tolist()
        drawers = getattr(self.info, f"{part}_drawer")[task].tolist()
        rots = getattr(self.info, f"{part}_rotation")[task].tolist()
        labels = getattr(self.batch, f"{part}_y")[task].tolist()
        rows = []
        for c, d, r, y in zip(chars, drawers, rots, labels, strict=True):
            who = self.split.data.info(c)
            rows.append({"label": y, "alphabet": who.alphabet, "character": who.character,
                         "global_id": who.global_id, "set": who.set_name, "drawer": d,
                         "rotation": 90 * r})
        return rows


@dataclass(frozen=True)
class OmniglotTasks:
    """The task distribution p(T): N-way tasks drawn from one split's classes."""

    split: OmniglotSplit
    n_way: int = 5

    def __post_init__(self) -> None:
        if self.n_way < 2:
            raise ConfigError("n_way", f"needs at least 2 classes, got {self.n_way}")
        if self.n_way > self.split.n_classes:
            raise ConfigError("n_way", f"the {self.split.name} split has only "
                              f"{self.split.n_classes} classes, asked for {self.n_way}")

    def sample(self, n_tasks: int, k_shot: int, n_query: int, *,
               generator: torch.Generator | None = None) -> TaskBatch:
        """``n_tasks`` tasks; ``n_query`` is per class (N * n_query query images per task).

        Images are [tasks, n_way * shots, 1, 28, 28] float32 in [0, 1] with 1 = ink,
        labels int64 in 0..n_way-1, grouped by class (label 0's K shots first).
        """
        return self.episodes(n_tasks, k_shot, n_query, generator=generator).batch

    def episodes(self, n_tasks: int, k_shot: int, n_query: int, *,
                 generator: torch.Generator | None = None) -> OmniglotEpisodes:
        """Like :meth:`sample`, plus each image's alphabet, character, drawer and rotation."""
        check_counts(n_tasks, k_shot, n_query)
        if k_shot + n_query > N_DRAWERS:
            raise ConfigError("n_query", f"k_shot + n_query must be at most {N_DRAWERS} (each "
                              f"character has {N_DRAWERS} drawings), got {k_shot} + {n_query}")
        split, n_way, shots = self.split, self.n_way, k_shot + n_query
        device = split.data.images.device
        rng_device = generator.device if generator is not None else device

        # N distinct classes per task: the N largest of i.i.d. uniform keys, in random order.
        keys = torch.rand(n_tasks, split.n_classes, generator=generator, device=rng_device)
        classes = keys.topk(n_way, dim=1).indices.to(device)  # [T, N]
        # K + Q distinct drawers per class: a random permutation of the 20, cut short.
        drawer_keys = torch.rand(n_tasks, n_way, N_DRAWERS, generator=generator, device=rng_device)
        drawers = drawer_keys.argsort(dim=-1)[..., :shots].to(device)  # [T, N, K+Q], 0-based

        n_chars = split.n_characters
        character = split.characters[classes % n_chars]  # [T, N]
        rotation = classes // n_chars  # all 0 without rotations
        return _assemble(split, character, rotation, drawers, k_shot)


def _assemble(split: OmniglotSplit, character: torch.Tensor, rotation: torch.Tensor,
              drawers: torch.Tensor, k_shot: int) -> OmniglotEpisodes:
    """Fetch the drawings ``drawers`` ([T, N, K+Q], 0-based) of each task's characters
    ([T, N] indices into the data), turn them, and cut them into support and query."""
    images = split.data.images
    device = images.device
    n_tasks, n_way, shots = drawers.shape
    x = images[character.unsqueeze(-1), drawers]  # [T, N, K+Q, 28, 28] uint8
    if split.rotations:
        index = _rotation_index(device)[rotation]  # [T, N, 784]
        flat = x.reshape(n_tasks, n_way, shots, IMAGE_SIZE * IMAGE_SIZE)
        x = flat.gather(-1, index.unsqueeze(2).expand_as(flat)).view_as(x)

    def part(lo: int, hi: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                          torch.Tensor, torch.Tensor]:
        m = hi - lo
        imgs = x[:, :, lo:hi].reshape(n_tasks, n_way * m, 1, IMAGE_SIZE, IMAGE_SIZE)
        labels = torch.arange(n_way, device=device).repeat_interleave(m).expand(n_tasks, -1)

        def per_image(t: torch.Tensor) -> torch.Tensor:
            return t.unsqueeze(-1).expand(n_tasks, n_way, m).reshape(n_tasks, n_way * m)

        return (imgs.float().div_(255.0), labels.contiguous(), per_image(character),
                (drawers[:, :, lo:hi] + 1).reshape(n_tasks, n_way * m), per_image(rotation))

    sx, sy, sc, sd, sr = part(0, k_shot)
    qx, qy, qc, qd, qr = part(k_shot, shots)
    info = EpisodeInfo(character, rotation, sc, sd, sr, qc, qd, qr)
    return OmniglotEpisodes(TaskBatch(sx, sy, qx, qy), info, split)


@dataclass(frozen=True)
class WithinAlphabetTasks:
    """Lake et al. (2015)'s one-shot runs: N characters of *one* alphabet, support and
    query drawn by different people.

    Random episodes (:class:`OmniglotTasks`) mix alphabets, so a class often differs
    from the others in style alone; Lake's within-alphabet runs take all N characters
    from one alphabet, which is much harder. Each task picks one alphabet of the split
    uniformly among those with at least N characters, then N of its characters, then
    K + Q drawers for the whole task: the first K drew every support image and the
    other Q every query image, as in Lake's runs, where one person drew the training
    images and another the test images. Omniglot's 20 drawings of a character are by
    20 different people, so a drawing's index is its drawer. A split with rotations
    (meta-training's augmentation) turns each task's characters by one random number of
    quarter turns, all alike: a turned alphabet is a new alphabet, while mixing turns
    inside a task would let its classes differ by orientation alone.
    """

    split: OmniglotSplit
    n_way: int = 20

    def __post_init__(self) -> None:
        if self.n_way < 2:
            raise ConfigError("n_way", f"needs at least 2 classes, got {self.n_way}")
        if not self.eligible_alphabets():
            largest = max(self._alphabet_sizes().values(), default=0)
            raise ConfigError("n_way", f"no alphabet of the {self.split.name} split has "
                              f"{self.n_way} characters (the largest has {largest})")

    def _alphabet_sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for c in self.split.characters.tolist():
            name = self.split.data.alphabet[c]
            sizes[name] = sizes.get(name, 0) + 1
        return sizes

    def eligible_alphabets(self) -> list[str]:
        """The split's alphabets with at least N characters, in id order."""
        return [a for a, n in self._alphabet_sizes().items() if n >= self.n_way]

    @cached_property
    def _alphabet_of(self) -> torch.Tensor:
        """[characters of the split]: each one's index among the eligible alphabets, -1 for
        a character of an alphabet too small for N-way tasks (never drawn). Built once:
        meta-training samples every step."""
        eligible = self.eligible_alphabets()
        names = [self.split.data.alphabet[c] for c in self.split.characters.tolist()]
        return torch.tensor([eligible.index(a) if a in eligible else -1 for a in names])

    def sample(self, n_tasks: int, k_shot: int, n_query: int, *,
               generator: torch.Generator | None = None) -> TaskBatch:
        return self.episodes(n_tasks, k_shot, n_query, generator=generator).batch

    def episodes(self, n_tasks: int, k_shot: int, n_query: int, *,
                 generator: torch.Generator | None = None) -> OmniglotEpisodes:
        """Like :meth:`OmniglotTasks.episodes`, with one alphabet and two groups of drawers
        per task."""
        check_counts(n_tasks, k_shot, n_query)
        if k_shot + n_query > N_DRAWERS:
            raise ConfigError("n_query", f"k_shot + n_query must be at most {N_DRAWERS} (each "
                              f"character has {N_DRAWERS} drawings), got {k_shot} + {n_query}")
        split, n_way, shots = self.split, self.n_way, k_shot + n_query
        device = split.data.images.device
        rng_device = generator.device if generator is not None else device
        n_eligible = int(self._alphabet_of.max()) + 1  # on the CPU: no device sync
        alphabet_of = self._alphabet_of.to(rng_device)
        chosen = torch.randint(n_eligible, (n_tasks,), generator=generator, device=rng_device)
        # N distinct characters of the task's alphabet: the N largest keys, the others' -1.
        keys = torch.rand(n_tasks, split.n_characters, generator=generator, device=rng_device)
        keys = keys.masked_fill(alphabet_of.unsqueeze(0) != chosen.unsqueeze(1), -1.0)
        local = keys.topk(n_way, dim=1).indices.to(device)  # [T, N]
        # One random order of the 20 drawers per task, shared by its classes: the first K
        # drew the support set, the next Q the query set.
        drawer_keys = torch.rand(n_tasks, N_DRAWERS, generator=generator, device=rng_device)
        order = drawer_keys.argsort(dim=-1)[:, :shots].to(device)  # [T, K+Q], 0-based
        drawers = order.unsqueeze(1).expand(n_tasks, n_way, shots)
        character = split.characters[local]
        rotation = torch.zeros_like(character)
        if split.rotations:  # drawn only here, so upright episodes stay as they were
            turn = torch.randint(N_ROTATIONS, (n_tasks, 1), generator=generator,
                                 device=rng_device)
            rotation = turn.to(device).expand_as(character).contiguous()
        return _assemble(split, character, rotation, drawers, k_shot)

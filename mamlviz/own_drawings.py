"""The student's own characters: a one-shot episode drawn by hand.

Lake et al. (2015, Science 350:1332) asked people to learn a new character from one
drawing; OpenAI's Reptile demo (Nichol et al. 2018, arXiv 1803.02999) lets a visitor
draw the classes and a query and watch a meta-trained network adapt. Here each drawing
(a PNG from the page's canvas) goes through exactly the preprocessing of Omniglot's
105x105 images (``mamlviz.data.omniglot.to_28``: Lanczos to 28x28, ink = 1), and the
N drawings with one query make an N-way 1-shot episode for ``newtask.omniglot_adapt``.
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np
import torch
from PIL import Image

from .data.omniglot import to_28
from .errors import ConfigError

PNG_PREFIX = "data:image/png;base64,"
MAX_BYTES = 2_000_000  # a 210x210 canvas is a few KB; anything larger is not ours
MIN_INK = 32  # out of 255: a drawing whose darkest 28x28 pixel is lighter is blank


def decode_drawing(data_url: str) -> np.ndarray:
    """A canvas's ``data:image/png;base64,...`` as 28x28 uint8 ink (255 = ink).

    Transparent pixels count as paper (a canvas exports unpainted pixels as
    transparent black)."""
    if not isinstance(data_url, str) or not data_url.startswith(PNG_PREFIX):
        raise ConfigError("drawing", "expected a PNG data URL from the drawing canvas")
    try:
        raw = base64.b64decode(data_url[len(PNG_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("drawing", f"not base64: {exc}") from exc
    if len(raw) > MAX_BYTES:
        raise ConfigError("drawing", f"{len(raw):,} bytes is larger than a drawing")
    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (OSError, SyntaxError) as exc:  # PIL's errors for a broken file
        raise ConfigError("drawing", f"not a PNG image: {exc}") from exc
    paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return to_28(Image.alpha_composite(paper, image.convert("RGBA")))


def is_blank(ink: np.ndarray) -> bool:
    return int(np.asarray(ink).max()) < MIN_INK


def own_episode(support: list[np.ndarray], query: np.ndarray
                ) -> dict[str, torch.Tensor]:
    """One drawing per class (class i = ``support[i]``) and one query, as the episode
    sampler hands them out: floats in [0, 1], 1 = ink, [n, 1, 28, 28].

    Batch norm is transductive (as in the MAML paper): a query batch normalises with its
    own statistics, and one drawing alone has none worth the name. So the query set is
    the N support drawings followed by the query, as a test episode's N queries are
    drawings of N classes; the answer is the last prediction. Its label is unknown: 0
    stands in (only predictions are read)."""
    if len(support) < 2:
        raise ConfigError("support", "draw at least two classes")
    for i, ink in enumerate([*support, query]):
        if np.asarray(ink).shape != (28, 28):
            raise ConfigError("drawing", f"drawing {i} is {np.asarray(ink).shape}, not 28x28")
    x = torch.from_numpy(np.stack(support)).float().div_(255.0).unsqueeze(1)
    q = torch.from_numpy(np.asarray(query)[None]).float().div_(255.0).unsqueeze(1)
    y = torch.arange(len(support))
    return {"support_x": x, "support_y": y, "query_x": torch.cat([x, q]),
            "query_y": torch.cat([y, torch.zeros(1, dtype=torch.long)])}

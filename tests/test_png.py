"""The PNG encoder behind Omniglot's pictures (mamlviz/figures/png.py), read back by a
decoder written from the format's definition, and the figures that use it."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import pytest
import torch

from mamlviz.figures.omniglot import image_grid_figure
from mamlviz.figures.png import grey_png, grey_png_uri
from mamlviz.figures.three_steps import episode_figure
from pages import _chart


def _decode(png: bytes) -> np.ndarray:
    """8-bit greyscale, filter 0 only: what grey_png writes (chunk CRCs checked)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks.append((kind, data))
        pos += 12 + length
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour, _, _, _ = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour) == (8, 0)
    rows = np.frombuffer(zlib.decompress(chunks[1][1]), np.uint8).reshape(height, width + 1)
    assert (rows[:, 0] == 0).all()  # filter type "none" on every row
    return rows[:, 1:]


def test_grey_png_round_trips_brightness() -> None:
    values = np.array([[0.0, 0.5, 1.0], [1.0, 0.25, np.nan]])
    pixels = _decode(grey_png(values))
    assert pixels.tolist() == [[0, 128, 255], [255, 64, 255]]  # NaN drawn as paper


def test_grey_png_scales_by_repeating_pixels() -> None:
    values = np.random.default_rng(0).random((3, 5))
    small, big = _decode(grey_png(values)), _decode(grey_png(values, scale=3))
    assert big.shape == (9, 15)
    assert (big == np.kron(small, np.ones((3, 3), np.uint8))).all()


def test_grey_png_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="2-D"):
        grey_png(np.zeros((2, 2, 2)))


def test_image_grid_is_one_picture_on_the_basic_bundle() -> None:
    images = torch.zeros(3, 1, 28, 28)
    images[1, 0, 5:10, 5:10] = 1.0  # ink
    fig = image_grid_figure(images, ["a", "b", "c"], columns=3)
    (picture,) = fig.layout.images
    pixels = _decode(base64.b64decode(picture.source.split(",", 1)[1]))
    cell, pad = 28 + 4, 4  # a drawing and the gap before it
    # 1 x 3 drawings at 3x; under the row, a band for its labels (in drawing units)
    height = round(fig.layout.yaxis.range[0] + 0.5)
    assert height > 1 * cell + pad
    assert pixels.shape == (3 * height, 3 * (3 * cell + pad))
    top, left = 3 * pad, 3 * (pad + cell)  # the second drawing, 3 times larger
    tile = pixels[top:top + 84, left:left + 84]
    assert (tile[15:30, 15:30] == 0).all() and tile[0, 0] == 255  # ink black, paper white
    assert _chart.bundle_for(fig) == "basic"


def test_episode_pictures_follow_the_images() -> None:
    support_x, query_x = torch.zeros(2, 1, 28, 28), torch.ones(2, 1, 28, 28)
    labels = torch.tensor([0, 1])
    fig = episode_figure(support_x, labels, query_x, labels, n_way=2, k_shot=1)
    sources = [_decode(base64.b64decode(im.source.split(",", 1)[1])) for im in fig.layout.images]
    assert len(sources) == 4 and all(s.shape == (112, 112) for s in sources)
    assert [int(s.mean()) for s in sources] == [255, 255, 0, 0]  # support blank, query ink
    assert _chart.bundle_for(fig) == "basic"
    assert grey_png_uri(np.ones((1, 1))).startswith("data:image/png;base64,")

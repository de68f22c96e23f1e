"""The student's own characters: a canvas PNG becomes Omniglot's 28x28 ink, exactly as
Omniglot's own drawings do, and the shipped models answer on the episode it makes."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from mamlviz.data.omniglot import to_28
from mamlviz.errors import ConfigError
from mamlviz.newtask import omniglot_adapt
from mamlviz.own_drawings import decode_drawing, is_blank, own_episode
from mamlviz.runs import load_learner

torch.set_num_threads(1)
SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "checkpoints"

SHAPES = {  # five symbols nobody would confuse, drawn on a 210 px canvas
    0: lambda d: d.ellipse((50, 50, 160, 160), outline="black", width=6),
    1: lambda d: (d.line((40, 40, 170, 170), fill="black", width=6),
                  d.line((40, 170, 170, 40), fill="black", width=6)),
    2: lambda d: d.line((30, 105, 180, 105), fill="black", width=6),
    3: lambda d: d.polygon((105, 30, 180, 170, 30, 170), outline="black", width=6),
    4: lambda d: d.rectangle((60, 60, 150, 150), outline="black", width=6),
}


def _canvas(shape: int, shift: int = 0, transparent: bool = True) -> Image.Image:
    """As the page's canvas exports it: RGBA, unpainted pixels transparent or white."""
    image = Image.new("RGBA", (210, 210), (0, 0, 0, 0) if transparent else "white")
    layer = Image.new("RGBA", (210, 210), (0, 0, 0, 0))
    SHAPES[shape](ImageDraw.Draw(layer))
    layer = layer.transform(layer.size, Image.Transform.AFFINE, (1, 0, -shift, 0, 1, -shift))
    return Image.alpha_composite(image, layer)


def _url(image: Image.Image) -> str:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_a_drawing_is_preprocessed_as_omniglot_s_are() -> None:
    image = _canvas(0)
    ink = decode_drawing(_url(image))
    on_paper = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    assert ink.shape == (28, 28) and ink.dtype == np.uint8
    assert np.array_equal(ink, to_28(on_paper))  # the one preprocessing of Omniglot
    assert ink[14, 14] < 32 and ink.max() > 128  # a ring: paper inside, ink on it
    # transparent and white paper are the same drawing
    assert np.array_equal(ink, decode_drawing(_url(_canvas(0, transparent=False))))


def test_an_empty_canvas_is_blank() -> None:
    assert is_blank(decode_drawing(_url(Image.new("RGBA", (210, 210), (0, 0, 0, 0)))))
    assert not is_blank(decode_drawing(_url(_canvas(2))))


@pytest.mark.parametrize("bad", ["", "data:image/jpeg;base64,AAAA", "data:image/png;base64,@@",
                                 "data:image/png;base64," + base64.b64encode(b"no png").decode(),
                                 None])
def test_what_is_not_a_canvas_png_is_refused_by_name(bad: object) -> None:
    with pytest.raises(ConfigError, match="drawing"):
        decode_drawing(bad)  # type: ignore[arg-type]


def test_the_episode_is_one_drawing_per_class_and_a_query() -> None:
    inks = [decode_drawing(_url(_canvas(c))) for c in SHAPES]
    ep = own_episode(inks, inks[3])
    assert ep["support_x"].shape == (5, 1, 28, 28) and ep["query_x"].shape == (6, 1, 28, 28)
    assert torch.equal(ep["query_x"][:5], ep["support_x"])  # batch norm's company
    assert ep["support_y"].tolist() == [0, 1, 2, 3, 4]
    assert float(ep["support_x"].max()) <= 1.0 and float(ep["support_x"].max()) > 0.5
    with pytest.raises(ConfigError, match="support"):
        own_episode(inks[:1], inks[0])
    with pytest.raises(ConfigError, match="28x28"):
        own_episode([inks[0], np.zeros((5, 5))], inks[0])


@pytest.mark.parametrize("query", [0, 1, 3])
def test_maml_names_the_class_of_a_redrawn_symbol(query: int) -> None:
    """Shipped 5-way MAML, adapted on five hand-made symbols, recognises one of them
    drawn again a little off its place."""
    config, phi, moments = load_learner(SHIPPED / "omniglot_maml_5w1s.pt", problem="omniglot")
    inks = [decode_drawing(_url(_canvas(c))) for c in SHAPES]
    ep = own_episode(inks, decode_drawing(_url(_canvas(query, shift=8))))
    result = omniglot_adapt(phi, 5, config.inner_lr, 3, ep["support_x"], ep["support_y"],
                            ep["query_x"], ep["query_y"], config.inner_optimizer,
                            config.test_inner_batch, moments, algorithm="maml")
    assert result["predictions_by_step"][3][-1] == query

"""Figure builders of the live chapters: pure, labelled, robust to divergence."""

from __future__ import annotations

import math

import pytest
import torch

from mamlviz.figures.omniglot import accuracy_steps_figure, image_grid_figure, live_training_figure
from mamlviz.figures.sinusoid import (
    decimate,
    fits_figure,
    mse_steps_figure,
    smooth,
    training_figure,
)
from mamlviz.live import EvalPoint
from mamlviz.newtask import omniglot_adapt, random_conv4_phi, random_sinusoid_phi, sinusoid_fits
from mamlviz.train import Record


def _records(n: int, diverge: bool = False) -> list[Record]:
    out = [Record(i, "maml", "cpu", 3.0 / i, 1.0 / i, 0.1 * i, 50.0) for i in range(1, n + 1)]
    if diverge:
        out.append(Record(n + 1, "maml", "cpu", math.inf, math.nan, 0.1 * n, 0.0, "diverged"))
    return out


def _metas(fig) -> list[str]:
    return [tr.meta for tr in fig.data]


def test_decimate_and_smooth() -> None:
    xs, ys = decimate(list(range(10_000)), list(range(10_000)), 600)
    assert len(xs) <= 602 and xs[-1] == 9_999 and xs[0] == 0
    assert smooth([1.0, 3.0, math.nan, 5.0], 2) == [1.0, 2.0, 3.0, 5.0]
    assert smooth([math.nan], 3) == [None]


def test_training_figure_labels_and_divergence() -> None:
    labels = {"title": "元训练", "after": "{name}：适应后", "before": "{name}：适应前",
              "diverged": "{name} 发散"}
    fig = training_figure({"maml": _records(2000, diverge=True), "pretrain": _records(3)},
                          {"maml": "MAML", "pretrain": "模型预训练"}, labels=labels)
    assert fig.layout.title.text == "元训练"
    assert "maml:after" in _metas(fig) and "pretrain:before" in _metas(fig)
    assert "maml:diverged" in _metas(fig)
    after = next(tr for tr in fig.data if tr.meta == "maml:after")
    assert len(after.x) <= 602  # decimated for a 4 Hz stream
    assert fig.data[0].name == "MAML：适应后"
    assert fig.layout.uirevision == "live"  # zoom survives the updates


def test_fits_and_mse_figures() -> None:
    x = torch.linspace(-5, 5, 50)
    support = ([0.0, 1.0], [0.5, 1.0])
    fits = {"maml": sinusoid_fits(random_sinusoid_phi(0), 0.01, torch.tensor(support[0]),
                                  torch.tensor(support[1])),
            "pretrain": {"x": x.tolist(), "fits": {0: x.tolist(), 1: None, 10: None}}}
    fig = fits_figure((x.tolist(), torch.sin(x).tolist()), support, fits,
                      {"maml": "MAML", "pretrain": "pre"}, labels={"title": "新任务"})
    metas = _metas(fig)
    assert {"maml:fit0", "maml:fit1", "maml:fit10", "pretrain:fit0"} <= set(metas)
    assert "pretrain:fit1" not in metas  # diverged fits are annotated, not drawn
    assert any("diverged" in a.text for a in fig.layout.annotations)
    fig = mse_steps_figure({"maml": ([3.0, 1.0, 0.5], [0.2, 0.1, math.nan])}, {"maml": "MAML"},
                           this_task={"maml": [2.0, math.nan, 0.4]})
    assert {"maml:ci", "maml:mean", "maml:task"} <= set(_metas(fig))


def test_sinusoid_fits_report_divergence() -> None:
    out = sinusoid_fits(random_sinusoid_phi(0), 1e6, torch.tensor([0.0, 1.0]),
                        torch.tensor([100.0, -100.0]))
    assert out["fits"][0] is not None and out["fits"][10] is None


def test_omniglot_figures_and_adaptation() -> None:
    images = torch.rand(7, 1, 28, 28)
    fig = image_grid_figure(images, [str(i) for i in range(7)], columns=3,
                            marks=[True, False, None, True, True, False, True], meta="query")
    assert fig.data[0].meta == "query"
    assert len(fig.layout.shapes) == 6 and len(fig.layout.annotations) == 7
    fig = accuracy_steps_figure({"maml": [0.2, 0.8, 1.0], "fomaml": [0.2, 0.7, 0.9]},
                                {"maml": "MAML", "fomaml": "FO"},
                                paper={"maml": 98.7, "fomaml": 98.3}, labels={"title": "正确率"})
    assert fig.data[0].y == (20.0, 80.0, 100.0)
    assert fig.layout.title.text == "正确率"
    # The papers' numbers are legend entries (close numbers' labels overlapped on the lines).
    papers = {t.meta: t for t in fig.data if t.meta.endswith(":paper")}
    assert papers["maml:paper"].y == (98.7, 98.7) and papers["maml:paper"].x == (0, 2)
    assert "98.3" in papers["fomaml:paper"].name and not fig.layout.annotations
    # A variant (a Lake-protocol model) takes its algorithm's colour, dotted; each of two
    # keys the registry does not know gets a colour of its own.
    fig = accuracy_steps_figure({"maml": [0.2, 1.0], "maml@lake": [0.2, 0.8], "a": [0.2, 0.2],
                                 "b": [0.2, 0.4]}, {})
    line = {t.meta.split(":")[0]: t.line for t in fig.data}
    assert line["maml"].color == line["maml@lake"].color
    assert (line["maml"].dash, line["maml@lake"].dash) == ("solid", "dot")
    assert len({line[k].color for k in ("maml", "a", "b")}) == 3
    # More models, more legend rows below the plot: the chart grows by them, the plot not
    # squeezed (tests/browser/test_layout_browser.py measures it in a browser).
    assert fig.layout.height > accuracy_steps_figure({"maml": [0.2, 1.0]}, {}).layout.height
    recs = {"fomaml": _records(20)}
    evals = {"fomaml": [EvalPoint(0, 0.2, 0.0), EvalPoint(10, 0.5, 1.0)]}
    fig = live_training_figure(recs, evals, {"fomaml": "FO"}, n_way=5)
    assert "fomaml:accuracy" in _metas(fig)
    support_y = torch.arange(5)
    out = omniglot_adapt(random_conv4_phi(5, 0), 5, 0.4, 2, torch.rand(5, 1, 28, 28), support_y,
                         torch.rand(5, 1, 28, 28), support_y)
    assert len(out["predictions_by_step"]) == 3 and len(out["accuracy_by_step"]) == 3
    assert all(0 <= p < 5 for p in out["predictions_by_step"][-1])


def _grid_rows_in_pixels(fig) -> tuple[float, list[float], list[float]]:
    """Pixels per data unit (the figure is drawn to scale), the bottoms of the labels and
    the tops of the frames, both in data units."""
    layout = fig.layout
    plot_w = layout.width - layout.margin.l - layout.margin.r
    plot_h = layout.height - layout.margin.t - layout.margin.b
    x_units = layout.xaxis.range[1] - layout.xaxis.range[0]
    y_units = layout.yaxis.range[0] - layout.yaxis.range[1]
    px = min(plot_w / x_units, plot_h / y_units)  # scaleanchor: the smaller scale wins
    return px, [a.y for a in layout.annotations], [s.y0 for s in layout.shapes]


def test_grid_labels_keep_clear_of_the_next_rows_frames_at_20_way() -> None:
    """At 20-way (two rows of ten) a row's labels were struck through by the next row's
    frames: the rows had a 4-unit gap (9 px) for a 14 px line of text."""
    from mamlviz.figures import style

    titles = [f"#{i + 1} → {i % 20}" for i in range(20)]
    marks = [i % 3 != 0 for i in range(20)]
    for big in (False, True):
        fig = style(image_grid_figure(torch.rand(20, 1, 28, 28), titles, columns=10,
                                      marks=marks, meta="query"), big)
        px, label_tops, frame_tops = _grid_rows_in_pixels(fig)
        font = fig.layout.annotations[0].font.size
        first_row_label = label_tops[0]
        second_row_frame = min(y for y in frame_tops if y > first_row_label)
        room = (second_row_frame - first_row_label) * px
        assert room >= 1.3 * font, (big, room, font)
        # Drawn to scale: the plot area is the canvas, nothing left over.
        plot_w = fig.layout.width - 20
        x_units = fig.layout.xaxis.range[1] - fig.layout.xaxis.range[0]
        assert plot_w / x_units == pytest.approx(px, rel=0.02)

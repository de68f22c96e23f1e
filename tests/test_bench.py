"""The bench's naive baseline: the paper's MAML as a learner writes it, and a reference."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from mamlviz import bench
from mamlviz.algorithms import InnerLoop, make_step
from mamlviz.bench import NaiveMLP, naive_maml_loss
from mamlviz.inner import mse
from mamlviz.models.mlp import SinusoidMLP
from mamlviz.tasks import SinusoidTasks


def _same_weights(naive: NaiveMLP) -> dict[str, torch.Tensor]:
    """The naive model's weights under our SinusoidMLP's names (net.0, net.2, net.4)."""
    phi = {}
    for i, layer in enumerate(naive.layers):
        phi[f"net.{2 * i}.weight"] = layer.weight.detach().clone()
        phi[f"net.{2 * i}.bias"] = layer.bias.detach().clone()
    return phi


@pytest.mark.parametrize("inner_steps", [1, 3])
def test_naive_loop_computes_our_maml_meta_gradient_in_float64(inner_steps: int) -> None:
    torch.manual_seed(0)
    naive = NaiveMLP().double()
    batch = SinusoidTasks().sample(5, 10, 10, generator=torch.Generator().manual_seed(1))
    tensors = batch.to("cpu", torch.float64).tensors()
    inner_lr = 0.05  # large enough that the second-order terms matter

    loss = naive_maml_loss(naive, *tensors, inner_lr=inner_lr, inner_steps=inner_steps)
    naive_grad = torch.autograd.grad(loss, list(naive.parameters()))

    phi = _same_weights(naive)
    loop = InnerLoop(SinusoidMLP(), mse, inner_lr, inner_steps)
    ours, _, after = make_step("maml", loop)(phi, *tensors)
    first_order, _, _ = make_step("fomaml", loop)(phi, *tensors)

    assert float(after.mean()) == pytest.approx(float(loss.detach()), rel=1e-12)
    for name, g in zip(phi, naive_grad, strict=True):
        torch.testing.assert_close(ours[name], g, rtol=1e-10, atol=1e-12)
    # The comparison can tell: dropping the second-order terms changes the gradient.
    gap = max(float((first_order[k] - g).abs().max()) for k, g in zip(phi, naive_grad))
    assert gap > 1e-4


def test_naive_row_times_meta_steps_on_the_paper_setup() -> None:
    row = bench.time_naive(iterations=3, warmup=1, seed=0)
    assert row["implementation"] == "naive" and row["algorithm"] == "maml"
    assert row["iterations"] == 3 and row["it_s"] > 0 and row["warmup_s"] > 0
    assert row["meta_batch_size"] == bench.PAPER_SETUP["meta_batch_size"]


def test_ratios_are_against_the_naive_row(monkeypatch: pytest.MonkeyPatch) -> None:
    speeds = {"loop": 10.0, "vmap": 80.0, "traced": 150.0, "compiled": 400.0}

    def fake_ours(algorithm: str, implementation: str, *args: Any, **kwargs: Any
                  ) -> dict[str, Any]:
        return {"algorithm": algorithm, "implementation": implementation,
                "it_s": speeds[implementation]}

    def fake_naive(iterations: int, warmup: int, seed: int = 0) -> dict[str, Any]:
        return {"algorithm": "maml", "implementation": "naive", "it_s": 20.0}

    monkeypatch.setattr(bench, "time_meta_steps", fake_ours)
    monkeypatch.setattr(bench, "time_naive", fake_naive)
    rows = bench.sinusoid_rows(quick=True)
    assert rows[0]["implementation"] == "naive"
    assert {r["implementation"]: r["speedup_vs_naive"] for r in rows} == {
        "naive": 1.0, "loop": 0.5, "vmap": 4.0, "traced": 7.5, "compiled": 20.0}

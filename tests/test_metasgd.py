"""Meta-SGD (Li et al. 2017, arXiv 1707.09835): the meta-gradient for phi and for the
per-weight step sizes against the naive per-task loop and finite differences (float64),
and the step sizes kept wherever phi goes: training, checkpoints, adaptation, the
landscapes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mamlviz import checkpoint as ckpt
from mamlviz import landscape as ls
from mamlviz.algorithms import InnerLoop, get, make_step
from mamlviz.config import TrainConfig
from mamlviz.errors import CheckpointError
from mamlviz.inner import RATES, mse, rates_of, weights_of, with_rates
from mamlviz.models.mlp import SinusoidMLP, init_params
from mamlviz.newtask import sinusoid_task_mse
from mamlviz.reference import naive_step
from mamlviz.runs import load_checkpoint, train_to_checkpoint
from mamlviz.tasks import SinusoidTasks

torch.set_num_threads(1)


def _batch() -> tuple[torch.Tensor, ...]:
    batch = SinusoidTasks().sample(3, 5, 5, generator=torch.Generator().manual_seed(0))
    return batch.to("cpu", torch.float64).tensors()


def _phi_with_uneven_rates() -> dict[str, torch.Tensor]:
    """MLP weights and step sizes that differ weight by weight, as after meta-training."""
    weights = init_params(SinusoidMLP(), seed=3, dtype=torch.float64)
    g = torch.Generator().manual_seed(1)
    return {**weights, **{RATES + k: 0.005 + 0.05 * torch.rand(v.shape, generator=g,
                                                                dtype=torch.float64)
                          for k, v in weights.items()}}


def _objective(phi: dict[str, torch.Tensor], batch: tuple[torch.Tensor, ...],
               steps: int) -> float:
    """mean_n l_query(theta_hat^n), theta_hat = phi - rates * grad l_support, written out."""
    model, total = SinusoidMLP().double(), 0.0
    weights, rates = weights_of(phi), rates_of(phi)
    names = list(weights)
    for sx, sy, qx, qy in zip(*batch):
        theta = [weights[k].clone().requires_grad_() for k in names]
        for _ in range(steps):
            params = dict(zip(names, theta))
            loss = mse(torch.func.functional_call(model, params, (sx,)), sy)
            grads = torch.autograd.grad(loss, theta)
            theta = [(t - rates[k] * g).detach().requires_grad_()
                     for k, t, g in zip(names, theta, grads)]
        with torch.no_grad():
            total += float(mse(torch.func.functional_call(model, dict(zip(names, theta)),
                                                          (qx,)), qy))
    return total / batch[0].shape[0]


@pytest.mark.parametrize("steps", [1, 2])
def test_the_meta_gradient_for_phi_and_the_step_sizes_is_the_naive_loops(steps: int) -> None:
    phi, batch = _phi_with_uneven_rates(), _batch()
    loop = InnerLoop(SinusoidMLP(), mse, 0.02, steps)
    ours, before, after = make_step("metasgd", loop)(phi, *batch)
    ref, ref_before, ref_after = naive_step("metasgd", loop, phi, *batch)
    assert set(ours) == set(ref) == set(phi)
    for k in phi:
        assert torch.allclose(ours[k], ref[k], rtol=1e-11, atol=1e-13), k
    assert torch.allclose(after, ref_after, atol=1e-13)
    assert torch.allclose(before, ref_before, atol=1e-13)
    assert max(float(ours[RATES + k].abs().max()) for k in weights_of(phi)) > 1e-3


@pytest.mark.parametrize("steps", [1, 2])
def test_the_meta_gradient_is_the_finite_differences(steps: int) -> None:
    """Central differences (eps 1e-7) along random directions of phi, of the step sizes,
    and of both, against the gradient's inner product with them."""
    phi, batch = _phi_with_uneven_rates(), _batch()
    loop = InnerLoop(SinusoidMLP(), mse, 0.02, steps)
    meta_grad = make_step("metasgd", loop)(phi, *batch)[0]
    eps, g = 1e-7, torch.Generator().manual_seed(5)
    for part in ("weights", "rates", "both"):
        along = {k: torch.randn(v.shape, generator=g, dtype=torch.float64)
                 if part == "both" or (part == "rates") == k.startswith(RATES)
                 else torch.zeros_like(v) for k, v in phi.items()}
        plus = _objective({k: v + eps * along[k] for k, v in phi.items()}, batch, steps)
        minus = _objective({k: v - eps * along[k] for k, v in phi.items()}, batch, steps)
        finite = (plus - minus) / (2 * eps)
        exact = float(sum((meta_grad[k] * along[k]).sum() for k in phi))
        assert abs(finite - exact) < 1e-6 * max(1.0, abs(exact)), (part, finite, exact)
        assert abs(exact) > 1e-3, part


def test_one_step_size_by_finite_differences_on_the_landscape() -> None:
    """The 1-D landscape's first Meta-SGD step moves the step size alpha by
    -meta_lr * d/d alpha sum_n l^n(phi - alpha l^n'(phi)), the derivative taken here by
    central differences of the task losses themselves."""
    tasks, phi0, inner_lr, meta_lr = ls.PRESETS_1D["lecture"], 0.5, 1.2, 0.05
    run = ls.trajectory("metasgd", tasks, phi0, meta_lr, 3, inner_lr, 1)
    assert run.rates is not None and run.rates.shape == run.phis.shape == (4, 1)
    assert run.rates[0, 0] == inner_lr

    def after(alpha: float) -> float:
        total = 0.0
        for task in tasks:
            p = torch.tensor([phi0], dtype=torch.float64, requires_grad=True)
            slope, = torch.autograd.grad(task(p), p)
            total += float(task(p.detach() - alpha * slope))
        return total

    eps = 1e-7
    expected = inner_lr - meta_lr * (after(inner_lr + eps) - after(inner_lr - eps)) / (2 * eps)
    assert abs(run.rates[1, 0] - expected) < 1e-6
    assert abs(run.rates[1, 0] - inner_lr) > 1e-3  # it learns: the step size moved
    # the other methods learn no step size
    assert ls.trajectory("maml", tasks, phi0, meta_lr, 3, inner_lr, 1).rates is None


def test_step_sizes_are_trained_saved_loaded_and_used(tmp_path: Path) -> None:
    config = TrainConfig.for_algorithm("metasgd", iterations=5, meta_batch_size=4, log_every=5)
    out = tmp_path / "metasgd.pt"
    for _ in train_to_checkpoint(config, out, device="cpu"):
        pass
    loaded_config, checkpoint = load_checkpoint(out, problem="sinusoid")
    weights, rates = weights_of(checkpoint.phi), rates_of(checkpoint.phi)
    assert set(rates) == set(weights) and loaded_config.algorithm == "metasgd"
    moved = max(float((r - config.inner_lr).abs().max()) for r in rates.values())
    assert moved > 1e-5  # the outer optimiser updated the step sizes with phi
    assert any(k.startswith(f"m.{RATES}") for k in checkpoint.opt_state)  # Adam's moments too
    # adapting the loaded phi takes its own step sizes, not the configured inner_lr
    task = SinusoidTasks().sample(1, 10, 20, generator=torch.Generator().manual_seed(2))
    sx, sy, qx, qy = (t[0] for t in task.tensors())
    learned = sinusoid_task_mse(checkpoint.phi, config.inner_lr, sx, sy, qx, qy, steps=2)
    plain = sinusoid_task_mse(weights, config.inner_lr, sx, sy, qx, qy, steps=2)
    assert learned[0] == plain[0] and learned[1] != plain[1]
    # a step size that fits no weight is refused
    bad = ckpt.Checkpoint({**checkpoint.phi, RATES + "net.0.weight": torch.ones(3)},
                          checkpoint.config, problem="sinusoid")
    with pytest.raises(CheckpointError, match="step size"):
        ckpt.check_compatible(bad, init_params(SinusoidMLP(), 0))


def test_fresh_meta_sgd_phi_starts_every_step_size_at_inner_lr() -> None:
    weights = init_params(SinusoidMLP(), seed=0)
    phi = get("metasgd").init_phi(weights, 0.03)
    assert set(rates_of(phi)) == set(weights)
    assert all(torch.equal(r, torch.full_like(weights[k], 0.03)) for k, r in rates_of(phi).items())
    again = with_rates(phi, 0.5)  # step sizes it carries are kept, not reset
    assert set(again) == set(phi) and all(again[k] is phi[k] for k in phi)
    assert get("maml").init_phi(weights, 0.03) is weights


def test_a_diverging_curve_leaves_the_mse_chart_readable() -> None:
    """Meta-SGD's step sizes, learned for one step, can diverge over ten: the chart keeps
    the axis of the errors before adaptation rather than stretching to 1e30."""
    from mamlviz.figures.sinusoid import mse_steps_figure

    nan = float("nan")
    curves = {"maml": ([2.9, 0.34, 0.2], [0.2, 0.03, 0.02]),
              "metasgd": ([2.9, 0.22, 1e29, nan], [0.2, 0.02, 1e30, nan])}
    fig = mse_steps_figure(curves, {"maml": "MAML", "metasgd": "Meta-SGD"})
    assert tuple(fig.layout.yaxis.range) == pytest.approx((0.0, 1.5 * 3.1))
    calm = mse_steps_figure({"maml": curves["maml"]}, {"maml": "MAML"})
    assert calm.layout.yaxis.range is None  # nothing diverged: plotly's own range

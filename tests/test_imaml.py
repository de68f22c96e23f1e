"""iMAML's implicit meta-gradient (Rajeswaran et al. 2019, arXiv 1909.04630) against
independent references, in float64.

On quadratic tasks (linear regression) the regularised inner optimum and its
meta-gradient have closed forms, solved here with numpy. On a non-quadratic convex task
(logistic regression) the implicit gradient is what differentiating through the
regularised inner steps (unrolled by hand with ``torch.autograd``) tends to as those
steps converge.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mamlviz.algorithms import InnerLoop, get
from mamlviz.algorithms.imaml import conjugate_gradient, imaml_step
from mamlviz.inner import cross_entropy, mse

torch.set_num_threads(1)
DIM = 4


class Linear(nn.Module):
    """f(x) = x theta: a task's loss is quadratic in theta under MSE."""

    def __init__(self, dim: int = DIM, out: int = 1) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(dim, out, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.theta


def _regression_tasks(n_tasks: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    sx = torch.randn(n_tasks, 8, DIM, generator=g, dtype=torch.float64)
    sy = torch.randn(n_tasks, 8, 1, generator=g, dtype=torch.float64)
    qx = torch.randn(n_tasks, 6, DIM, generator=g, dtype=torch.float64)
    qy = torch.randn(n_tasks, 6, 1, generator=g, dtype=torch.float64)
    return sx, sy, qx, qy


def _closed_form(phi: np.ndarray, lam: float, sx: np.ndarray, sy: np.ndarray, qx: np.ndarray,
                 qy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(theta*, d l_query(theta*) / d phi) for MSE linear regression:
    l(theta) = 1/n |X theta - y|^2 has Hessian A = 2/n X^T X and gradient A theta - c."""
    a_s, c_s = 2 / len(sx) * sx.T @ sx, 2 / len(sx) * sx.T @ sy
    a_q, c_q = 2 / len(qx) * qx.T @ qx, 2 / len(qx) * qx.T @ qy
    regularised = a_s + lam * np.eye(DIM)
    theta = np.linalg.solve(regularised, c_s + lam * phi)  # grad + lam (theta - phi) = 0
    # d theta*/d phi = lam (A_s + lam I)^-1, symmetric
    return theta, lam * np.linalg.solve(regularised, a_q @ theta - c_q)


@pytest.mark.parametrize("lam", [0.5, 2.0, 10.0])
def test_the_implicit_gradient_is_the_closed_form_on_quadratic_tasks(lam: float) -> None:
    model = Linear()
    phi = {"theta": torch.randn(DIM, 1, generator=torch.Generator().manual_seed(1),
                                dtype=torch.float64)}
    batch = _regression_tasks(3, seed=0)
    # Steps small enough for the largest curvature and many of them: the regularised
    # optimum to rounding; DIM CG steps solve a DIM-dimensional system exactly.
    sx = batch[0].numpy()
    largest = max(np.linalg.eigvalsh(2 / len(x) * x.T @ x).max() for x in sx) + lam
    loop = InnerLoop(model, mse, 1.0 / largest, 2000)
    direction, before, after = imaml_step(loop, lam=lam, cg_steps=DIM)(phi, *batch)
    expected, losses = np.zeros((DIM, 1)), []
    for sx_n, sy_n, qx_n, qy_n in zip(*(t.numpy() for t in batch)):
        theta, meta_grad = _closed_form(phi["theta"].numpy(), lam, sx_n, sy_n, qx_n, qy_n)
        expected += meta_grad / len(sx)
        losses.append(np.mean((qx_n @ theta - qy_n) ** 2))
    np.testing.assert_allclose(direction["theta"].numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(after.numpy(), losses, rtol=1e-10)
    assert float(np.abs(expected).max()) > 1e-3  # a gradient worth comparing


def _logistic_tasks(seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    sx = torch.randn(1, 10, DIM, generator=g, dtype=torch.float64)
    qx = torch.randn(1, 10, DIM, generator=g, dtype=torch.float64)
    sy = torch.randint(0, 3, (1, 10), generator=g)
    qy = torch.randint(0, 3, (1, 10), generator=g)
    return sx, sy, qx, qy


def _unrolled_gradient(phi: torch.Tensor, lam: float, inner_lr: float, steps: int,
                       batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """d l_query(theta_K) / d phi through K regularised gradient steps, by hand."""
    sx, sy, qx, qy = (t[0] for t in batch)
    phi = phi.detach().clone().requires_grad_()
    theta = phi
    for _ in range(steps):
        g, = torch.autograd.grad(cross_entropy(sx @ theta, sy), theta, create_graph=True)
        theta = theta - inner_lr * (g + lam * (theta - phi))
    return torch.autograd.grad(cross_entropy(qx @ theta, qy), phi)[0]


def test_the_implicit_gradient_is_where_unrolled_gradients_go_as_the_inner_problem_converges(
        ) -> None:
    lam, inner_lr = 1.0, 0.5
    model = Linear(out=3)
    phi = torch.randn(DIM, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    batch = _logistic_tasks(seed=3)
    loop = InnerLoop(model, cross_entropy, inner_lr, 400)
    implicit = imaml_step(loop, lam=lam, cg_steps=3 * DIM)({"theta": phi}, *batch)[0]["theta"]
    errors = [float((_unrolled_gradient(phi, lam, inner_lr, k, batch) - implicit).norm())
              for k in (1, 2, 4, 8, 16, 32, 400)]
    converging = errors[:-1]  # before the last, rounding takes over
    assert all(later < earlier for earlier, later in zip(converging, converging[1:])), errors
    assert errors[0] > 1e-2 * float(implicit.norm())  # one step is far from the optimum
    assert errors[-1] < 1e-12 * float(implicit.norm()), errors


def test_conjugate_gradient_solves_a_symmetric_positive_definite_system() -> None:
    g = torch.Generator().manual_seed(4)
    m = torch.randn(6, 6, generator=g, dtype=torch.float64)
    a = m @ m.T + 0.5 * torch.eye(6, dtype=torch.float64)
    b = torch.randn(6, generator=g, dtype=torch.float64)
    x = conjugate_gradient(lambda v: {"x": a @ v["x"]}, {"x": b}, steps=6)["x"]
    assert torch.allclose(x, torch.linalg.solve(a, b), rtol=1e-9, atol=1e-12)
    # an exactly solved system stays solved: further steps take no 0/0 step
    one = conjugate_gradient(lambda v: {"x": 3.0 * v["x"]}, {"x": b}, steps=5)["x"]
    assert torch.allclose(one, b / 3.0, rtol=1e-14)


def test_conjugate_gradient_stops_at_the_first_direction_of_negative_curvature() -> None:
    """On an indefinite system CG would go on to A^-1 b, a point of no meaning for a
    regularised inner problem that is not convex: it stops where p^T A p <= 0."""
    a = torch.diag(torch.tensor([2.0, -1.0], dtype=torch.float64))
    b = torch.tensor([1.0, 1.0], dtype=torch.float64)
    # step 1 along b (b^T A b = 1 > 0) reaches 2 b; the next direction, (6, 12), has
    # p^T A p = -72: stop there (plain CG would take it to A^-1 b = (0.5, -1))
    x = conjugate_gradient(lambda v: {"x": a @ v["x"]}, {"x": b}, steps=2)["x"]
    assert torch.equal(x, 2 * b)
    # no curvature along b itself: b, the first-order direction
    x = conjugate_gradient(lambda v: {"x": -v["x"]}, {"x": b}, steps=3)["x"]
    assert torch.equal(x, b)


def test_where_curvature_is_negative_the_batched_step_and_the_naive_loop_agree() -> None:
    """Both stop CG at the same point on a steep 1-D well, whose curvature falls below
    -lam on its flanks (there the direction is no longer (1 + l''/lam)^-1 l')."""
    from mamlviz import landscape as ls
    from mamlviz.reference import naive_step

    task = ls.TaskLoss(wells=(ls.Well(center=(0.0,), depth=4.0, width=0.5),), bowl=0.02,
                       bowl_center=(0.0,), name="steep")
    loop = InnerLoop(ls.TaskModel(task, 1), ls.value_of, 0.05, 1)
    x, y = torch.zeros(1, 1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    def loss(q: torch.Tensor) -> torch.Tensor:
        return task(q).sum()

    truncated = 0
    for phi in np.linspace(-2.0, 2.0, 41):
        at = {"phi": torch.tensor([phi], dtype=torch.float64)}
        ours = imaml_step(loop)(at, x, y, x, y)[0]["phi"]
        ref = naive_step("imaml", loop, at, x, y, x, y)[0]["phi"]
        assert torch.allclose(ours, ref, rtol=1e-12, atol=1e-14), (phi, ours, ref)
        theta = at["phi"] - loop.inner_lr * torch.func.grad(loss)(at["phi"])
        curvature = float(torch.func.hessian(loss)(theta))
        if 1 + curvature / get("imaml").lam <= 0:  # the query gradient at theta itself
            assert torch.allclose(ours, torch.func.grad(loss)(theta), rtol=1e-12), phi
            truncated += 1
    assert truncated >= 4, truncated


def test_no_graph_through_the_inner_steps_is_kept() -> None:
    """Memory does not grow with the inner steps: the direction is computed from
    theta_hat alone, so it holds no autograd history back through the steps to phi."""
    phi = {"theta": torch.randn(DIM, 1, dtype=torch.float64, requires_grad=True)}
    loop = InnerLoop(Linear(), mse, 0.05, 50)
    direction = imaml_step(loop)(phi, *_regression_tasks(2, seed=5))[0]
    assert direction["theta"].grad_fn is None and not direction["theta"].requires_grad
    assert get("imaml").lam > 0 and not get("imaml").second_order


@pytest.mark.parametrize("steps", [1, 5])
def test_without_the_pull_the_direction_is_the_implicit_gradient_where_plain_steps_stop(
        steps: int) -> None:
    """Omniglot's inner steps leave the pull out (``inner_lam`` 0): theta_hat is where
    plain steps stop, and the direction is (I + H/lam)^-1 grad l_query(theta_hat) with
    the algorithm's lam, in closed form on quadratic tasks; the naive loop agrees."""
    from mamlviz.reference import naive_step

    lam, inner_lr = get("imaml").lam, 0.05
    phi = {"theta": torch.randn(DIM, 1, generator=torch.Generator().manual_seed(2),
                                dtype=torch.float64)}
    batch = _regression_tasks(3, seed=4)
    plain = InnerLoop(Linear(), mse, inner_lr, steps, lam=0.0)
    direction, _, after = imaml_step(plain, lam=lam, cg_steps=DIM)(phi, *batch)
    expected, losses = np.zeros((DIM, 1)), []
    for sx, sy, qx, qy in zip(*(t.numpy() for t in batch)):
        a_s, c_s = 2 / len(sx) * sx.T @ sx, 2 / len(sx) * sx.T @ sy
        a_q, c_q = 2 / len(qx) * qx.T @ qx, 2 / len(qx) * qx.T @ qy
        theta = phi["theta"].numpy()
        for _ in range(steps):
            theta = theta - inner_lr * (a_s @ theta - c_s)
        expected += np.linalg.solve(np.eye(DIM) + a_s / lam, a_q @ theta - c_q) / len(batch[0])
        losses.append(np.mean((qx @ theta - qy) ** 2))
    np.testing.assert_allclose(direction["theta"].numpy(), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(after.numpy(), losses, rtol=1e-10)
    reference = naive_step("imaml", plain, phi, *batch)[0]["theta"]
    torch.testing.assert_close(direction["theta"], reference, rtol=1e-12, atol=1e-14)
    pulled = imaml_step(InnerLoop(Linear(), mse, inner_lr, steps), lam=lam, cg_steps=DIM)(
        phi, *batch)[0]["theta"]
    # The pull is zero at phi, where the first step starts; after it, it moves theta_hat.
    assert ((pulled - direction["theta"]).abs().max() > 1e-4) == (steps > 1)


def test_omniglot_leaves_the_pull_out_of_the_steps_and_only_imaml_takes_one() -> None:
    from mamlviz.config import TrainConfig
    from mamlviz.errors import ConfigError

    for n_way in (5, 20):
        assert TrainConfig.for_algorithm("imaml", problem="omniglot",
                                         n_way=n_way).inner_lam == 0.0
    assert TrainConfig.for_algorithm("imaml", problem="sinusoid").inner_lam is None
    with pytest.raises(ConfigError, match="no pull towards phi"):
        TrainConfig.for_algorithm("maml", problem="omniglot", inner_lam=1.0)
    with pytest.raises(ConfigError, match="inner_lam"):
        TrainConfig.for_algorithm("imaml", problem="omniglot", inner_lam=-1.0)

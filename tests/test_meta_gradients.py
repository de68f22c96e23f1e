"""The maths of the four algorithms against independent references (float64).

References: closed forms on quadratic task losses, the naive per-task loop with
torch.autograd (``mamlviz.reference``), and finite differences.
"""

import pytest
import torch

from mamlviz.algorithms import InnerLoop, make_step
from mamlviz.inner import adapt, mse, task_loss
from mamlviz.models.mlp import SinusoidMLP, init_params
from mamlviz.reference import naive_step
from mamlviz.tasks import SinusoidTasks

ALGORITHMS = ["maml", "fomaml", "reptile", "pretrain"]


@pytest.fixture(scope="module")
def mlp():
    model = SinusoidMLP()
    return model, init_params(model, seed=3, dtype=torch.float64)


def sinusoid_batch(n_tasks=4, k_shot=10, n_query=10, seed=0):
    batch = SinusoidTasks().sample(n_tasks, k_shot, n_query,
                                   generator=torch.Generator().manual_seed(seed))
    return batch.to("cpu", torch.float64)


def max_diff(a, b):
    return max((a[k] - b[k]).abs().max().item() for k in a)


class Linear(torch.nn.Module):
    """y = w x: with MSE on fixed data each task loss is a quadratic in w."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, x):
        return self.w * x


def test_maml_matches_closed_form_on_quadratic_task_losses():
    # l_s(w) = mean (w x_s - y_s)^2 = A_s w^2 - 2 B_s w + C_s, so one inner step gives
    # theta_hat = w - a (2 A_s w - 2 B_s) and d l_q(theta_hat)/dw = (1 - 2 a A_s) l_q'(theta_hat).
    g = torch.Generator().manual_seed(1)
    sx, sy, qx, qy = (torch.randn(3, 5, 1, generator=g, dtype=torch.float64) for _ in range(4))
    w0, lr = 0.7, 0.05
    phi = {"w": torch.tensor([w0], dtype=torch.float64)}
    direction, _, _ = make_step("maml", InnerLoop(Linear(), mse, lr, 1))(phi, sx, sy, qx, qy)
    expected = 0.0
    for n in range(3):
        a_s = (sx[n] ** 2).mean()
        b_s = (sx[n] * sy[n]).mean()
        theta_hat = w0 - lr * (2 * a_s * w0 - 2 * b_s)
        dq = 2 * ((theta_hat * qx[n] - qy[n]) * qx[n]).mean()
        expected += (1 - 2 * lr * a_s) * dq / 3
    assert direction["w"].item() == pytest.approx(expected.item(), rel=1e-12)


# Inner rules: MAML's plain steps on the whole support set; mini-batches of 4 of the 10
# points (the third step wraps around); Reptile's Adam (beta1 = 0) on those mini-batches.
# Not second-order MAML through Adam: sqrt(v) has no derivative where a ReLU left a
# gradient of exactly 0 (NaN), which is why TrainConfig refuses that combination.
RULES = [(a, "sgd", None) for a in ALGORITHMS] + [(a, "sgd", 4) for a in ALGORITHMS] + [
    (a, "adam", 4) for a in ALGORITHMS if a != "maml"]


@pytest.mark.parametrize("algorithm,optimizer,batch_size", RULES)
@pytest.mark.parametrize("inner_steps", [1, 3])
def test_batched_step_equals_naive_per_task_loop(mlp, algorithm, inner_steps, optimizer,
                                                 batch_size):
    model, phi = mlp
    loop = InnerLoop(model, mse, 0.02, inner_steps, optimizer, batch_size)
    batch = sinusoid_batch().tensors()
    ours, before, after = make_step(algorithm, loop)(phi, *batch)
    ref, ref_before, ref_after = naive_step(algorithm, loop, phi, *batch)
    assert max_diff(ours, ref) < 1e-12
    assert torch.allclose(before, ref_before, atol=1e-12)
    assert torch.allclose(after, ref_after, atol=1e-12)


@pytest.mark.parametrize("inner_steps", [1, 3])
def test_reptile_keeping_adam_moments_equals_the_naive_loop(mlp, inner_steps):
    """Kept moments (Reptile's code): each task starts from them, and the moments after
    the meta-batch equal running the tasks in turn (each rotation of their order) and
    averaging; the naive loop does exactly that, index by index."""
    model, phi = mlp
    loop = InnerLoop(model, mse, 0.02, inner_steps, "adam", 4, keep_moments=True)
    g = torch.Generator().manual_seed(5)
    moments = {"t": torch.tensor(37.0, dtype=torch.float64),
               **{f"v.{k}": torch.rand(p.shape, generator=g, dtype=torch.float64) * 1e-3
                  for k, p in phi.items()}}
    batch = sinusoid_batch().tensors()
    ours, before, after, merged = make_step("reptile", loop)(phi, *batch, moments=moments)
    ref, ref_before, ref_after, ref_merged = naive_step("reptile", loop, phi, *batch,
                                                        moments=moments)
    assert max_diff(ours, ref) < 1e-12 and max_diff(merged, ref_merged) < 1e-12
    assert torch.allclose(after, ref_after, atol=1e-12)
    assert merged["t"].item() == 37 + 4 * inner_steps  # four tasks' steps, in turn
    # Starting from the kept moments is not starting afresh.
    fresh, _, _ = make_step("reptile", loop)(phi, *batch)
    assert max_diff(ours, fresh) > 1e-6


def test_merged_moments_weigh_each_task_as_if_run_in_turn():
    from mamlviz.algorithms import merge_moments
    from mamlviz.inner import ADAM_BETA2

    beta = ADAM_BETA2
    moments = {"t": torch.tensor(10.0, dtype=torch.float64),
               "v.w": torch.tensor([4.0], dtype=torch.float64)}
    # Two tasks, one step each, own squared gradients 1 and 9: v^n = beta v + (1 - beta) c^n.
    per_task = {"t": torch.tensor([11.0, 11.0], dtype=torch.float64),
                "v.w": torch.tensor([[beta * 4 + (1 - beta) * 1], [beta * 4 + (1 - beta) * 9]],
                                    dtype=torch.float64)}
    merged = merge_moments(moments, per_task, steps=1)
    in_turn = [beta * (beta * 4 + (1 - beta) * a) + (1 - beta) * b for a, b in ((1, 9), (9, 1))]
    assert merged["v.w"].item() == pytest.approx(sum(in_turn) / 2, rel=1e-12)
    assert merged["t"].item() == 12


def test_maml_meta_gradient_matches_finite_differences(mlp):
    model, phi = mlp
    loop = InnerLoop(model, mse, 0.02, 2)
    batch = sinusoid_batch(n_tasks=2).tensors()
    direction, _, _ = make_step("maml", loop)(phi, *batch)

    def objective(p):
        _, _, after = make_step("fomaml", loop)(p, *batch)  # fomaml's forward = maml's loss
        return after.mean().item()

    eps = 1e-7  # small: ReLU kinks make the objective only piecewise smooth
    for name, index in [("net.0.weight", (3, 0)), ("net.2.weight", (5, 7)), ("net.4.bias", (0,))]:
        plus = {k: v.clone() for k, v in phi.items()}
        minus = {k: v.clone() for k, v in phi.items()}
        plus[name][index] += eps
        minus[name][index] -= eps
        numeric = (objective(plus) - objective(minus)) / (2 * eps)
        assert direction[name][index].item() == pytest.approx(numeric, rel=1e-5, abs=1e-8)


def test_fomaml_direction_is_query_gradient_at_adapted_weights(mlp):
    model, phi = mlp
    loop = InnerLoop(model, mse, 0.02, 2)
    sx, sy, qx, qy = sinusoid_batch(n_tasks=3).tensors()
    direction, _, _ = make_step("fomaml", loop)(phi, sx, sy, qx, qy)
    expected = {k: torch.zeros_like(v) for k, v in phi.items()}
    for n in range(3):
        theta_hat = adapt(model, mse, phi, sx[n], sy[n], 0.02, 2)
        theta_hat = {k: v.detach().requires_grad_() for k, v in theta_hat.items()}
        loss = task_loss(model, mse, theta_hat, qx[n], qy[n])
        grads = torch.autograd.grad(loss, list(theta_hat.values()))
        for k, g in zip(theta_hat, grads):
            expected[k] += g / 3
    assert max_diff(direction, expected) < 1e-12


def test_maml_differs_from_fomaml_by_second_order_terms(mlp):
    model, phi = mlp
    loop = InnerLoop(model, mse, 0.05, 1)
    batch = sinusoid_batch().tensors()
    maml, _, _ = make_step("maml", loop)(phi, *batch)
    fomaml, _, _ = make_step("fomaml", loop)(phi, *batch)
    assert max_diff(maml, fomaml) > 1e-6


def test_reptile_sgd_step_is_the_interpolation_toward_adapted_weights(mlp):
    from mamlviz.optim import OuterOptimizer

    model, phi = mlp
    loop = InnerLoop(model, mse, 0.02, 5)
    sx, sy, qx, qy = sinusoid_batch(n_tasks=3).tensors()
    direction, _, _ = make_step("reptile", loop)(phi, sx, sy, qx, qy)
    epsilon = 0.3
    new_phi, _ = OuterOptimizer("sgd", epsilon).update(phi, {}, direction)
    thetas = [adapt(model, mse, phi, sx[n], sy[n], 0.02, 5) for n in range(3)]
    mean_theta = {k: sum(t[k] for t in thetas) / 3 for k in phi}
    expected = {k: phi[k] + epsilon * (mean_theta[k] - phi[k]) for k in phi}
    assert max_diff(new_phi, expected) < 1e-12


def test_pretrain_direction_is_gradient_of_joint_loss_at_phi(mlp):
    model, phi = mlp
    loop = InnerLoop(model, mse, 0.02, 1)
    sx, sy, qx, qy = sinusoid_batch(n_tasks=2).tensors()
    direction, _, _ = make_step("pretrain", loop)(phi, sx, sy, qx, qy)
    leaves = {k: v.clone().requires_grad_() for k, v in phi.items()}
    loss = sum(task_loss(model, mse, leaves, torch.cat([sx[n], qx[n]]),
                         torch.cat([sy[n], qy[n]])) for n in range(2)) / 2
    grads = torch.autograd.grad(loss, list(leaves.values()))
    assert max_diff(direction, dict(zip(leaves, grads))) < 1e-12


def test_adaptation_lowers_the_support_loss(mlp):
    model, phi = mlp
    sx, sy, _, _ = sinusoid_batch(n_tasks=5).tensors()
    for n in range(5):
        before = task_loss(model, mse, phi, sx[n], sy[n])
        theta_hat = adapt(model, mse, phi, sx[n], sy[n], 0.01, 1)
        assert task_loss(model, mse, theta_hat, sx[n], sy[n]) < before


def test_functional_adam_matches_torch_optim_adam():
    from mamlviz.optim import OuterOptimizer

    g = torch.Generator().manual_seed(0)
    phi = {"a": torch.randn(3, 2, generator=g, dtype=torch.float64),
           "b": torch.randn(4, generator=g, dtype=torch.float64)}
    reference = {k: v.clone() for k, v in phi.items()}
    torch_adam = torch.optim.Adam(list(reference.values()), lr=0.01)
    ours = OuterOptimizer("adam", 0.01)
    state = ours.init(phi)
    for _ in range(5):
        direction = {k: torch.randn(v.shape, generator=g, dtype=torch.float64)
                     for k, v in phi.items()}
        phi, state = ours.update(phi, state, direction)
        for k, p in reference.items():
            p.grad = direction[k]
        torch_adam.step()
    assert max_diff(phi, reference) < 1e-12

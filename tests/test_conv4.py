"""Conv4 (Finn et al. 2017, 5.2): shapes, transductive batch norm, exact MAML meta-gradient."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

from mamlviz.errors import ConfigError
from mamlviz.models.conv4 import BatchStatNorm2d, Conv4, init_params

torch.set_num_threads(1)


@pytest.mark.parametrize("pool", ["stride", "max"])
def test_output_shape(pool: str) -> None:
    model = Conv4(n_way=5, pool=pool)
    params = init_params(model, seed=0)
    x = torch.rand(10, 1, 28, 28)
    assert functional_call(model, params, (x,)).shape == (10, 5)
    assert functional_call(model, params, (x[:, 0],)).shape == (10, 5)  # [B, 28, 28] too
    assert model.head.in_features == 64
    # 3x3x64 filters (no bias: batch norm's mean subtraction would cancel it), scale, shift.
    assert params["blocks.1.conv.weight"].shape == (64, 64, 3, 3)
    assert "blocks.0.conv.bias" not in params
    assert set(params) >= {"blocks.3.norm.weight", "blocks.3.norm.bias", "head.weight"}
    assert not list(model.buffers())  # no running statistics


def test_strided_is_the_default_and_sizes_follow_the_input() -> None:
    assert Conv4().pool == "stride"
    assert Conv4(pool="max", image_size=84).head.in_features == 64 * 5 * 5
    with pytest.raises(ConfigError, match="image_size"):
        Conv4(pool="max", image_size=8)
    with pytest.raises(ConfigError, match="pool"):
        Conv4(pool="avg")


def test_init_params_reproducible() -> None:
    model = Conv4(n_way=5)
    a = init_params(model, seed=3, dtype=torch.float64)
    b = init_params(model, seed=3, dtype=torch.float64)
    c = init_params(model, seed=4, dtype=torch.float64)
    assert all(torch.equal(a[k], b[k]) and a[k].dtype == torch.float64 for k in a)
    assert not torch.equal(a["head.weight"], c["head.weight"])
    assert torch.equal(a["blocks.0.norm.weight"], torch.ones(64, dtype=torch.float64))


def test_batch_statistics_normalise() -> None:
    norm = BatchStatNorm2d(8)
    x = 3.0 + 5.0 * torch.randn(16, 8, 6, 6, dtype=torch.float64)
    y = norm(x)
    assert torch.allclose(y.mean(dim=(0, 2, 3)), torch.zeros(8, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(y.var(dim=(0, 2, 3), unbiased=False),
                          torch.ones(8, dtype=torch.float64), atol=1e-4)
    # learnable scale and shift act after normalising
    params = {"weight": torch.full((8,), 2.0, dtype=torch.float64),
              "bias": torch.full((8,), -1.0, dtype=torch.float64)}
    z = functional_call(norm, params, (x,))
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.full((8,), -1.0, dtype=torch.float64))
    # transductive: the same in eval mode, and each batch uses its own statistics
    norm.eval()
    assert torch.equal(norm(x), y)
    assert torch.allclose(norm(x[:4]).mean(dim=(0, 2, 3)), torch.zeros(8, dtype=torch.float64),
                          atol=1e-12)


def test_model_has_no_train_eval_difference() -> None:
    model = Conv4(n_way=5, hidden=8)
    x = torch.rand(6, 1, 28, 28)
    out_train = model(x)
    model.eval()
    assert torch.equal(model(x), out_train)


def _episode(n_tasks: int, n_way: int, size: int, n_query: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    xs = torch.rand(n_tasks, n_way, 1, size, size, generator=g, dtype=torch.float64)
    ys = torch.arange(n_way).expand(n_tasks, -1)
    xq = torch.rand(n_tasks, n_way * n_query, 1, size, size, generator=g, dtype=torch.float64)
    yq = torch.arange(n_way).repeat_interleave(n_query).expand(n_tasks, -1)
    return xs, ys, xq, yq


@pytest.mark.parametrize(("pool", "size"), [("stride", 8), ("max", 16)])
def test_maml_meta_gradient_matches_a_naive_loop(pool: str, size: int) -> None:
    # MAML, one inner step, 2 tasks, 5-way 1-shot:
    # d/dphi mean_n L_query^n(phi - alpha grad L_support^n(phi))
    model = Conv4(n_way=5, hidden=6, pool=pool, image_size=size)
    phi = init_params(model, seed=0, dtype=torch.float64)
    xs, ys, xq, yq = _episode(2, 5, size, n_query=2)
    alpha = 0.4

    def loss(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(functional_call(model, params, (x,)), y)

    def query_loss(params: dict[str, torch.Tensor], xs: torch.Tensor, ys: torch.Tensor,
                   xq: torch.Tensor, yq: torch.Tensor) -> torch.Tensor:
        g = grad(loss)(params, xs, ys)
        theta_hat = {k: params[k] - alpha * g[k] for k in params}
        return loss(theta_hat, xq, yq)

    def meta_loss(params: dict[str, torch.Tensor]) -> torch.Tensor:
        return vmap(query_loss, in_dims=(None, 0, 0, 0, 0))(params, xs, ys, xq, yq).mean()

    fast = grad(meta_loss)(phi)

    leaves = {k: v.clone().requires_grad_(True) for k, v in phi.items()}
    total = torch.zeros((), dtype=torch.float64)
    first_order = {k: torch.zeros_like(v) for k, v in phi.items()}
    for n in range(2):
        support = loss(leaves, xs[n], ys[n])
        g = torch.autograd.grad(support, list(leaves.values()), create_graph=True)
        theta_hat = {k: v - alpha * gk for (k, v), gk in zip(leaves.items(), g, strict=True)}
        q = loss(theta_hat, xq[n], yq[n])
        total = total + q / 2
        fo = torch.autograd.grad(q, list(theta_hat.values()), retain_graph=True)
        for k, gk in zip(theta_hat, fo, strict=True):
            first_order[k] += gk / 2
    naive = dict(zip(leaves, torch.autograd.grad(total, list(leaves.values())), strict=True))

    assert torch.allclose(meta_loss(phi), total.detach(), atol=1e-12)
    for k in phi:
        assert torch.allclose(fast[k], naive[k], atol=1e-10, rtol=0), k
    # The test has teeth: the second-order terms are far from negligible here.
    gap = max(float((naive[k] - first_order[k]).abs().max()) for k in phi)
    assert gap > 1e-4


def test_vmapped_over_a_meta_batch_of_images() -> None:
    # Shapes of an Omniglot TaskBatch: [tasks, N*K, 1, 28, 28]; BN statistics stay per task.
    model = Conv4(n_way=5, hidden=8)
    params = init_params(model, seed=1)
    x = torch.rand(3, 5, 1, 28, 28)
    batched = vmap(lambda xi: functional_call(model, params, (xi,)))(x)
    looped = torch.stack([functional_call(model, params, (xi,)) for xi in x])
    assert batched.shape == (3, 5, 5)
    assert torch.allclose(batched, looped, atol=1e-5)

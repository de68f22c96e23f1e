"""ANIL and Prototypical Networks against independent references, in float64.

ANIL: the batched meta-gradient (``torch.func``, the head alone differentiated in the
inner loop) equals the naive per-task loop (``torch.autograd`` on every weight, the
body's inner step multiplied by zero) on the MLP and on Conv4, and the finite
differences of its objective. ProtoNets: its loss and gradient equal a direct
implementation (a loop over the classes, embeddings caught by a forward hook); scored
on an Omniglot episode, it gives one accuracy, at no step.
"""

from __future__ import annotations

import math

import pytest
import torch

from mamlviz import landscape as ls
from mamlviz.algorithms import InnerLoop, get, make_step
from mamlviz.algorithms.anil import adapt_head
from mamlviz.algorithms.heads import embed, head_mask
from mamlviz.algorithms.protonet import prototype_logits
from mamlviz.errors import ConfigError
from mamlviz.inner import cross_entropy, mse
from mamlviz.models import Conv4, SinusoidMLP
from mamlviz.models.mlp import init_params
from mamlviz.reference import naive_step
from mamlviz.tasks import SinusoidTasks

torch.set_num_threads(1)


def _max_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


def _sinusoid() -> tuple[torch.Tensor, ...]:
    batch = SinusoidTasks().sample(3, 5, 5, generator=torch.Generator().manual_seed(1))
    return batch.to("cpu", torch.float64).tensors()


def _episodes(n_tasks: int = 2, n_way: int = 5, k_shot: int = 2, n_query: int = 2
              ) -> tuple[torch.Tensor, ...]:
    """Random 28x28 "images" with class labels 0..n_way-1 (maths, not data, is tested)."""
    g = torch.Generator().manual_seed(0)
    sx = torch.randn(n_tasks, n_way * k_shot, 28, 28, generator=g, dtype=torch.float64)
    qx = torch.randn(n_tasks, n_way * n_query, 28, 28, generator=g, dtype=torch.float64)
    sy = torch.arange(n_way).repeat_interleave(k_shot).repeat(n_tasks, 1)
    qy = torch.arange(n_way).repeat(n_tasks, n_query)
    return sx, sy, qx, qy


def test_anil_moves_the_head_alone() -> None:
    model = SinusoidMLP()
    phi = init_params(model, seed=0, dtype=torch.float64)
    sx, sy, _, _ = (t[0] for t in _sinusoid())
    theta = adapt_head(InnerLoop(model, mse, 0.05, 3), phi, sx, sy)
    for k in phi:
        moved = not torch.equal(theta[k], phi[k])
        assert moved == k.startswith("net.4."), k
    # a landscape's phi is one vector: its last coordinate is the head
    assert head_mask({"phi": torch.zeros(2)})["phi"].tolist() == [0.0, 1.0]
    assert head_mask(init_params(Conv4(5), 0))["head.weight"] == 1.0


@pytest.mark.parametrize("inner_steps", [1, 3])
def test_anil_matches_the_naive_loop_on_conv4(inner_steps: int) -> None:
    model = Conv4(5)
    phi = init_params(model, seed=1, dtype=torch.float64)
    loop = InnerLoop(model, cross_entropy, 0.4, inner_steps)
    batch = _episodes()
    ours, before, after = make_step("anil", loop)(phi, *batch)
    ref, ref_before, ref_after = naive_step("anil", loop, phi, *batch)
    assert _max_diff(ours, ref) < 1e-12
    assert torch.allclose(after, ref_after, atol=1e-12)
    assert torch.allclose(before, ref_before, atol=1e-12)
    # the body learns through the head's steps: its meta-gradient is not zero
    assert ours["blocks.0.conv.weight"].abs().max() > 1e-6


def test_anil_meta_gradient_equals_finite_differences() -> None:
    model = SinusoidMLP()
    phi = init_params(model, seed=2, dtype=torch.float64)
    loop = InnerLoop(model, mse, 0.05, 2)
    batch = _sinusoid()
    step = make_step("anil", loop)
    direction, _, _ = step(phi, *batch)
    v = {k: torch.randn(p.shape, generator=torch.Generator().manual_seed(i), dtype=p.dtype)
         for i, (k, p) in enumerate(phi.items())}
    eps = 1e-7

    def objective(sign: float) -> float:
        shifted = {k: phi[k] + sign * eps * v[k] for k in phi}
        return float(step(shifted, *batch)[2].mean())

    numeric = (objective(1.0) - objective(-1.0)) / (2 * eps)
    analytic = float(sum((direction[k] * v[k]).sum() for k in phi))
    assert abs(numeric - analytic) < 1e-6 * max(1.0, abs(analytic))


def test_anil_on_the_2d_landscape_adapts_along_the_head_axis() -> None:
    task = ls.PRESETS_2D["lecture"][0]
    loop = InnerLoop(ls.TaskModel(task, 2), ls.value_of, 0.7, 2)
    phi = {"phi": torch.tensor([1.0, -0.5], dtype=torch.float64)}
    x, y = torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    theta = adapt_head(loop, phi, x, y)["phi"]
    assert theta[0] == phi["phi"][0] and theta[1] != phi["phi"][1]
    assert "anil" in ls.METHODS and "protonet" not in ls.METHODS


def test_anil_refuses_an_inner_adam() -> None:
    model = SinusoidMLP()
    loop = InnerLoop(model, mse, 0.01, 1, optimizer="adam")
    with pytest.raises(ConfigError, match="sgd"):
        make_step("anil", loop)(init_params(model, 0, torch.float64), *_sinusoid())


def test_protonet_loss_and_gradient_equal_a_direct_implementation() -> None:
    model = Conv4(5)
    phi = init_params(model, seed=4, dtype=torch.float64)
    loop = InnerLoop(model, cross_entropy, 0.4, 0)
    batch = _episodes(n_tasks=3, k_shot=3, n_query=2)
    ours, before, after = make_step("protonet", loop)(phi, *batch)
    ref, ref_loss, _ = naive_step("protonet", loop, phi, *batch)
    assert _max_diff(ours, ref) < 1e-12
    assert torch.allclose(after, ref_loss, atol=1e-12) and torch.equal(before, after)
    assert ours["blocks.3.norm.weight"].abs().max() > 1e-6
    # the head is not part of the embedding: no gradient reaches it
    assert ours["head.weight"].abs().max() == 0


def test_protonet_logits_are_minus_squared_distances_to_class_means() -> None:
    model = Conv4(5)
    phi = init_params(model, seed=5, dtype=torch.float64)
    sx, sy, qx, _ = (t[0] for t in _episodes(k_shot=3))
    logits = prototype_logits(model, phi, sx, sy, qx)
    z_support, z_query = embed(model, phi, sx), embed(model, phi, qx)
    means = torch.stack([z_support[sy == k].mean(0) for k in range(5)])
    assert z_support.shape == (15, 64)
    assert torch.allclose(logits, -torch.cdist(z_query, means) ** 2, atol=1e-10)


def test_protonet_meta_trains_on_more_ways_than_its_head_holds() -> None:
    # Snell et al. train on 60-way episodes and test on 5 or 20: the step takes its classes
    # from the support set, not from the model's 5-output head, and still equals the
    # direct implementation.
    model = Conv4(5)
    phi = init_params(model, seed=6, dtype=torch.float64)
    loop = InnerLoop(model, cross_entropy, 0.4, 0)
    batch = _episodes(n_tasks=2, n_way=12, k_shot=2, n_query=1)
    ours, _, after = make_step("protonet", loop)(phi, *batch)
    ref, ref_loss, _ = naive_step("protonet", loop, phi, *batch)
    assert _max_diff(ours, ref) < 1e-12 and torch.allclose(after, ref_loss, atol=1e-12)
    assert all(torch.isfinite(g).all() for g in ours.values())
    # Asked for more classes than the support holds, the empty ones get -inf and change
    # nothing: the same probabilities over the classes present.
    sx, sy, qx, _ = (t[0] for t in _episodes(n_way=5, k_shot=2))
    wide = prototype_logits(model, phi, sx, sy, qx, n_way=9)
    assert wide.shape == (10, 9) and torch.isneginf(wide[:, 5:]).all()
    assert torch.allclose(wide.softmax(-1)[:, :5],
                          prototype_logits(model, phi, sx, sy, qx).softmax(-1), atol=1e-12)


def test_train_ways_is_for_the_metric_based_method_alone(omniglot) -> None:  # type: ignore[no-untyped-def]
    from mamlviz.config import TrainConfig
    from mamlviz.runs import evaluate_phi
    from mamlviz.train import Trainer

    config = TrainConfig.for_algorithm("protonet", problem="omniglot", n_way=5, train_ways=30,
                                       n_query=1, meta_batch_size=2, iterations=1)
    assert config.ways_in_training == 30 and config.examples_per_task() == 60
    trainer = Trainer(config, device="cpu", omniglot=omniglot)
    assert trainer.problem.tasks.n_way == 30
    records = list(trainer.run())
    assert records and all(math.isfinite(r.query_loss_after) for r in records)
    # Tested on its own n_way-way tasks; the model's head is still n_way wide.
    assert trainer.phi["head.bias"].shape == (5,)
    result = evaluate_phi(config, trainer.phi, tasks=4, omniglot=omniglot)
    assert result["ways"] == 5 and 0.0 <= result["accuracy"] <= 1.0
    for algorithm in ("maml", "anil", "pretrain"):
        with pytest.raises(ConfigError, match="only a metric-based method"):
            TrainConfig.for_algorithm(algorithm, problem="omniglot", n_way=5, train_ways=30)
    assert TrainConfig.for_algorithm("maml", problem="omniglot", n_way=5, train_ways=5)
    with pytest.raises(ConfigError, match="only Omniglot"):
        TrainConfig.for_algorithm("maml", train_ways=5)
    with pytest.raises(ConfigError, match="train_ways"):
        TrainConfig.for_algorithm("protonet", problem="omniglot", train_ways=1)


def test_protonet_runs_only_where_there_are_classes() -> None:
    spec = get("protonet")
    assert spec.problems == ("omniglot",) and spec.family == "metric-based"
    assert spec.classify is not None and not spec.adapts


def test_protonet_is_scored_once_on_omniglot_episodes(omniglot) -> None:  # type: ignore[no-untyped-def]
    from mamlviz.config import TrainConfig
    from mamlviz.runs import evaluate_phi

    config = TrainConfig(algorithm="protonet", problem="omniglot", inner_steps=0,
                         test_inner_steps=0)
    phi = init_params(Conv4(5), seed=0)
    result = evaluate_phi(config, phi, tasks=10, omniglot=omniglot)
    assert result["steps"] == 0 and len(result["accuracy_by_step"]) == 1
    assert 0.0 <= result["accuracy"] <= 1.0
    # an untrained embedding already beats chance (0.2) on 5-way episodes
    assert result["accuracy"] > 0.2
    with pytest.raises(ConfigError, match="no inner loop"):
        evaluate_phi(config, phi, tasks=10, steps=3, omniglot=omniglot)


def test_live_scoring_classifies_protonet_by_its_prototypes(omniglot) -> None:  # type: ignore[no-untyped-def]
    from mamlviz.newtask import omniglot_evaluator

    evaluate = omniglot_evaluator(omniglot.split()[1], 5, 1, 0.4, 0, tasks=4)
    phi = init_params(Conv4(5), seed=0)
    # the head of an untrained Conv4 classifies at chance; its prototypes do better
    assert evaluate("protonet", phi) > evaluate("maml", phi)


def test_anil_is_scored_adapting_its_head_alone() -> None:
    from mamlviz.evaluate import adaptation_curves
    from mamlviz.inner import task_loss

    model = SinusoidMLP()
    phi = init_params(model, seed=6, dtype=torch.float64)
    batch = SinusoidTasks().sample(3, 5, 5, generator=torch.Generator().manual_seed(2)
                                   ).to("cpu", torch.float64)
    curves = adaptation_curves(model, mse, phi, batch, 0.05, 2, head_only=True)
    everything = adaptation_curves(model, mse, phi, batch, 0.05, 2)
    loop = InnerLoop(model, mse, 0.05, 2)
    for n in range(3):
        sx, sy, qx, qy = (t[n] for t in batch.tensors())
        theta = adapt_head(loop, phi, sx, sy)
        assert curves[n, -1] == pytest.approx(float(task_loss(model, mse, theta, qx, qy)),
                                              rel=1e-10)
    assert not torch.allclose(curves, everything)


def test_an_episode_adapts_as_each_algorithm_does() -> None:
    from mamlviz.newtask import omniglot_adapt

    sx, sy, qx, qy = (t[0].float() for t in _episodes(n_tasks=1, k_shot=1, n_query=1))
    sy, qy = sy.long(), qy.long()
    phi = init_params(Conv4(5), seed=3)
    proto = omniglot_adapt(phi, 5, 0.4, 3, sx, sy, qx, qy, algorithm="protonet")
    logits = prototype_logits(Conv4(5), phi, sx, sy, qx)
    assert len(proto["accuracy_by_step"]) == 1 and len(proto["predictions_by_step"]) == 4
    assert proto["predictions_by_step"][3] == logits.argmax(-1).tolist()
    anil = omniglot_adapt(phi, 5, 0.4, 3, sx, sy, qx, qy, algorithm="anil")
    maml = omniglot_adapt(phi, 5, 0.4, 3, sx, sy, qx, qy, algorithm="maml")
    assert len(anil["accuracy_by_step"]) == 4
    assert anil["predictions_by_step"][0] == maml["predictions_by_step"][0]
    assert anil["confidence"] != maml["confidence"]

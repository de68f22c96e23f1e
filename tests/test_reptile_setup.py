"""Reptile's paper setup on Omniglot: mini-batches of more shots, inner Adam, annealed epsilon.

Nichol et al. 2018 (arXiv 1803.02999), appendix A: each training task has 10 shots per
class, taken 10 (5-way) or 20 (20-way) at a time by Adam steps with beta1 = 0; the outer
step epsilon goes linearly from 1 to 0. Checked in float64 against the naive per-task loop
and against ``torch.optim.Adam``; the batched step against the naive per-task loop with
these rules is in test_meta_gradients.py.
"""

import pytest
import torch

from mamlviz.config import TrainConfig
from mamlviz.errors import ConfigError
from mamlviz.inner import adapt, adaptation, mini_batch, mse, task_loss
from mamlviz.models.mlp import SinusoidMLP, init_params
from mamlviz.optim import OuterOptimizer
from mamlviz.tasks import SinusoidTasks
from mamlviz.train import Trainer


@pytest.fixture(scope="module")
def mlp():
    model = SinusoidMLP()
    return model, init_params(model, seed=5, dtype=torch.float64)


def sinusoid_batch(n_tasks=3, k_shot=10, seed=0):
    batch = SinusoidTasks().sample(n_tasks, k_shot, 10,
                                   generator=torch.Generator().manual_seed(seed))
    return batch.to("cpu", torch.float64)


def max_diff(a, b):
    return max((a[k] - b[k]).abs().max().item() for k in a)


def test_mini_batches_are_taken_in_turn_and_wrap_around():
    x = torch.arange(10).view(10, 1)
    y = torch.arange(10)
    taken = [mini_batch(x, y, step, 4)[1].tolist() for step in range(4)]
    assert taken == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1], [2, 3, 4, 5]]
    assert mini_batch(x, y, 3, None)[1].tolist() == list(range(10))
    assert mini_batch(x, y, 3, 50)[1].tolist() == list(range(10))


def test_inner_adam_is_torch_adam_with_beta1_zero_started_afresh(mlp):
    model, phi = mlp
    sx, sy, _, _ = sinusoid_batch(n_tasks=1).tensors()
    ours = adapt(model, mse, phi, sx[0], sy[0], 0.003, 6, first_order=True,
                 optimizer="adam", batch_size=5)
    leaves = {k: v.clone().requires_grad_() for k, v in phi.items()}
    torch_adam = torch.optim.Adam(list(leaves.values()), lr=0.003, betas=(0.0, 0.999), eps=1e-8)
    for step in range(6):
        index = [(5 * step + i) % 10 for i in range(5)]
        torch_adam.zero_grad()
        task_loss(model, mse, leaves, sx[0][index], sy[0][index]).backward()
        torch_adam.step()
    assert max_diff(ours, {k: v.detach() for k, v in leaves.items()}) < 1e-12


def test_inner_adam_from_kept_moments_is_torch_adam_going_on(mlp):
    """Kept moments: the steps after them are the steps one torch Adam would take next."""
    from mamlviz.inner import adapt_keeping_moments

    model, phi = mlp
    sx, sy, _, _ = sinusoid_batch(n_tasks=2).tensors()
    leaves = {k: v.clone().requires_grad_() for k, v in phi.items()}
    torch_adam = torch.optim.Adam(list(leaves.values()), lr=0.003, betas=(0.0, 0.999), eps=1e-8)
    for _ in range(4):  # an earlier task: only Adam's state is carried on
        torch_adam.zero_grad()
        task_loss(model, mse, leaves, sx[1], sy[1]).backward()
        torch_adam.step()
    _, moments = adapt_keeping_moments(model, mse, phi, sx[1], sy[1], 0.003, 4, True, "adam",
                                       None, None)
    assert moments["t"].item() == 4
    state = [torch_adam.state[p] for p in leaves.values()]
    assert max(float((moments[f"v.{k}"] - st["exp_avg_sq"]).abs().max())
               for k, st in zip(leaves, state)) < 1e-15
    with torch.no_grad():
        for k, v in leaves.items():
            v.copy_(phi[k])  # back to phi, with Adam's state kept
    ours, after = adapt_keeping_moments(model, mse, phi, sx[0], sy[0], 0.003, 3, True, "adam",
                                        None, moments)
    for _ in range(3):
        torch_adam.zero_grad()
        task_loss(model, mse, leaves, sx[0], sy[0]).backward()
        torch_adam.step()
    assert max_diff(ours, {k: v.detach() for k, v in leaves.items()}) < 1e-12
    assert after["t"].item() == 7


def test_kept_moments_are_only_for_reptiles_adam_and_default_on_omniglot():
    assert TrainConfig.for_algorithm("reptile", problem="omniglot").inner_moments == "kept"
    plain = TrainConfig.for_algorithm("reptile", problem="omniglot", inner_optimizer="sgd")
    assert plain.inner_moments == "fresh"  # plain steps have no moments to keep
    with pytest.raises(ConfigError, match="inner_moments"):
        TrainConfig(algorithm="reptile", inner_moments="kept")  # sgd inner steps
    with pytest.raises(ConfigError, match="inner_moments"):
        TrainConfig(algorithm="fomaml", inner_optimizer="adam", inner_moments="kept")
    with pytest.raises(ConfigError, match="inner_moments"):
        TrainConfig(algorithm="reptile", inner_optimizer="adam", inner_moments="always")


def test_kept_moments_travel_in_the_checkpoint_to_evaluation(tmp_path):
    from mamlviz.runs import evaluate_checkpoint, evaluate_phi, train_to_checkpoint

    config = TrainConfig.for_algorithm("reptile", iterations=3, meta_batch_size=2,
                                       inner_optimizer="adam", inner_batch=5, inner_steps=3,
                                       inner_moments="kept", implementation="vmap")
    path = tmp_path / "reptile.pt"
    list(train_to_checkpoint(config, path))
    trainer = Trainer(config)
    list(trainer.run())
    moments = trainer.inner_moments
    assert moments is not None and moments["t"].item() == 3 * 2 * 3  # its, tasks, steps
    result = evaluate_checkpoint(path, tasks=20, steps=3)
    assert result["inner_moments"] == "kept"
    kept = evaluate_phi(config, trainer.phi, tasks=20, steps=3, moments=moments)
    fresh = evaluate_phi(config, trainer.phi, tasks=20, steps=3)
    assert result["mse_by_step"] == pytest.approx(kept["mse_by_step"], rel=1e-6)
    assert fresh["inner_moments"] == "fresh" and fresh["mse_by_step"] != kept["mse_by_step"]


def test_resuming_a_run_saved_without_moments_starts_them_afresh():
    config = TrainConfig.for_algorithm("reptile", iterations=4, meta_batch_size=2,
                                       inner_optimizer="adam", inner_moments="kept",
                                       implementation="vmap", meta_lr_final=0.0)
    trainer = Trainer(config)
    trainer.resume({"t": torch.tensor(2.0)}, step=2, elapsed_s=1.0)
    assert "no inner Adam moments saved" in trainer.notes[0]
    assert [r.step for r in trainer.run()] == [3, 4]


def test_adaptation_yields_every_step_and_adam_lowers_the_support_loss(mlp):
    model, phi = mlp
    sx, sy, _, _ = sinusoid_batch(n_tasks=1).tensors()
    thetas = list(adaptation(model, mse, phi, sx[0], sy[0], 0.01, 20, first_order=True,
                             optimizer="adam"))
    assert len(thetas) == 20
    losses = [task_loss(model, mse, t, sx[0], sy[0]).item() for t in [phi, *thetas]]
    assert losses[-1] < 0.5 * losses[0]


def test_annealed_sgd_goes_linearly_from_meta_lr_to_the_final_rate():
    optimizer = OuterOptimizer("sgd", 1.0, lr_final=0.0, total_steps=4)
    phi = {"w": torch.zeros(1, dtype=torch.float64)}
    state = optimizer.init(phi)
    moves = []
    for _ in range(6):
        new_phi, state = optimizer.update(phi, state, {"w": -torch.ones(1, dtype=torch.float64)})
        moves.append((new_phi["w"] - phi["w"]).item())
        phi = new_phi
    assert moves == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0, 0.0])
    assert state["t"].item() == 6
    assert OuterOptimizer("sgd", 0.1).init(phi) == {}  # constant epsilon: no state at all


def test_reptile_omniglot_defaults_are_its_papers():
    five = TrainConfig.for_algorithm("reptile", problem="omniglot", n_way=5)
    twenty = TrainConfig.for_algorithm("reptile", problem="omniglot", n_way=20)
    assert (five.shots_in_training, five.k_shot, five.inner_optimizer, five.inner_lr,
            five.inner_steps, five.inner_batch, five.meta_batch_size, five.meta_lr,
            five.meta_lr_final, five.steps_at_test, five.test_inner_batch) == (
        10, 1, "adam", 0.001, 5, 10, 5, 1.0, 0.0, 50, 5)
    assert (twenty.inner_lr, twenty.inner_steps, twenty.inner_batch, twenty.iterations,
            twenty.test_inner_batch) == (0.0005, 10, 20, 200_000, 10)
    # MAML keeps its own paper's inner loop.
    maml = TrainConfig.for_algorithm("maml", problem="omniglot", n_way=5)
    assert (maml.inner_optimizer, maml.inner_batch, maml.shots_in_training) == ("sgd", None, 1)


def test_adam_inner_steps_are_refused_for_second_order_maml():
    with pytest.raises(ConfigError, match="inner_optimizer"):
        TrainConfig(algorithm="maml", inner_optimizer="adam")
    with pytest.raises(ConfigError, match="inner_optimizer"):
        TrainConfig(algorithm="reptile", inner_optimizer="rmsprop")
    with pytest.raises(ConfigError, match="inner_batch"):
        TrainConfig(algorithm="reptile", inner_batch=0)
    with pytest.raises(ConfigError, match="meta_lr_final"):
        TrainConfig(algorithm="reptile", meta_lr_final=-1.0)


def test_shuffled_support_reorders_each_task_and_keeps_its_pairs():
    batch = sinusoid_batch(n_tasks=4)
    shuffled = batch.shuffled_support(torch.Generator().manual_seed(1))
    again = batch.shuffled_support(torch.Generator().manual_seed(1))
    assert torch.equal(shuffled.support_x, again.support_x)
    assert torch.equal(shuffled.query_x, batch.query_x)
    for n in range(4):
        pairs = sorted(zip(batch.support_x[n].flatten().tolist(),
                           batch.support_y[n].flatten().tolist()))
        moved = list(zip(shuffled.support_x[n].flatten().tolist(),
                         shuffled.support_y[n].flatten().tolist()))
        assert sorted(moved) == pairs
    assert not torch.equal(shuffled.support_x, batch.support_x)


def test_reptile_trains_on_ten_shots_and_is_scored_on_one(omniglot, tmp_path):
    from mamlviz.runs import evaluate_checkpoint, train_to_checkpoint

    config = TrainConfig.for_algorithm("reptile", problem="omniglot", iterations=3,
                                       meta_batch_size=2, log_every=1, implementation="loop")
    trainer = Trainer(config, omniglot=omniglot)
    sample = trainer.problem.sample(2, torch.Generator().manual_seed(0))
    assert sample.support_x.shape[1] == 5 * 10 and sample.query_x.shape[1] == 5 * 5
    records = list(trainer.run())
    assert [r.step for r in records] == [1, 2, 3]
    assert trainer.opt_state["t"].item() == 3  # epsilon's schedule is in the saved state

    path = tmp_path / "omniglot_reptile_5w1s.pt"
    list(train_to_checkpoint(config.replace(iterations=1), path, omniglot=omniglot))
    result = evaluate_checkpoint(path, problem="omniglot", tasks=4, steps=3, omniglot=omniglot)
    assert result["shots"] == 1 and result["inner_optimizer"] == "adam"
    assert result["inner_batch"] == 5 and len(result["accuracy_by_step"]) == 4


def test_reptile_loop_and_vmap_agree_on_omniglot(omniglot):
    runs = {}
    for implementation in ("loop", "vmap"):
        config = TrainConfig.for_algorithm("reptile", problem="omniglot", iterations=2,
                                           meta_batch_size=2, implementation=implementation)
        trainer = Trainer(config, omniglot=omniglot)
        list(trainer.run())
        runs[implementation] = trainer.phi
    for k in runs["loop"]:
        assert torch.allclose(runs["loop"][k], runs["vmap"][k], atol=1e-4)

"""Omniglot through the same engine as the sinusoid: train, stop, checkpoint, evaluate."""

import json
import os
import subprocess
import sys

import pytest
import torch

from mamlviz import checkpoint
from mamlviz.config import TrainConfig
from mamlviz.errors import ConfigError
from mamlviz.optim import OuterOptimizer
from mamlviz.runs import evaluate_checkpoint, train_to_checkpoint
from mamlviz.train import Trainer


def tiny(algorithm="maml", **overrides):
    settings = {"problem": "omniglot", "iterations": 2, "meta_batch_size": 2, "n_query": 2,
                "log_every": 1, "implementation": "loop"}
    return TrainConfig.for_algorithm(algorithm, **{**settings, **overrides})


def test_paper_defaults_per_number_of_ways():
    five = TrainConfig.for_algorithm("maml", problem="omniglot", n_way=5)
    twenty = TrainConfig.for_algorithm("maml", problem="omniglot", n_way=20)
    assert (five.inner_lr, five.inner_steps, five.meta_batch_size, five.steps_at_test) == (
        0.4, 1, 32, 3)
    # The paper's 0.1 on a loss summed over the 20 support images is 2.0 on their mean.
    assert (twenty.inner_lr, twenty.inner_steps, twenty.meta_batch_size,
            twenty.steps_at_test) == (2.0, 5, 16, 5)


@pytest.mark.parametrize("algorithm", ["maml", "fomaml", "reptile", "pretrain"])
def test_each_algorithm_trains_on_omniglot(omniglot, algorithm):
    trainer = Trainer(tiny(algorithm), omniglot=omniglot)
    records = list(trainer.run())
    assert [r.step for r in records] == [1, 2]
    assert all(0 < r.query_loss_before < 10 for r in records)
    assert trainer.model.head.out_features == 5


def test_loop_vmap_and_in_place_steps_agree_on_omniglot(omniglot):
    runs = {}
    for implementation in ("loop", "vmap", "graphed"):
        trainer = Trainer(tiny(implementation=implementation), omniglot=omniglot)
        list(trainer.run())
        runs[implementation] = trainer.phi
    for implementation in ("vmap", "graphed"):
        for k in runs["loop"]:
            assert torch.allclose(runs["loop"][k], runs[implementation][k], atol=1e-4)


def test_checkpoint_then_eval_on_testing_characters(omniglot, tmp_path):
    path = tmp_path / "omniglot_maml_5w1s.pt"
    list(train_to_checkpoint(tiny(), path, omniglot=omniglot))
    result = evaluate_checkpoint(path, problem="omniglot", tasks=10, omniglot=omniglot)
    assert result["ways"] == 5 and result["shots"] == 1 and result["tasks"] == 10
    assert len(result["accuracy_by_step"]) == 3 + 1  # the paper's 3 test steps at 5-way
    assert 0.0 <= result["accuracy"] <= 1.0 and result["ci95"] >= 0.0
    with pytest.raises(ConfigError, match="5-way"):
        evaluate_checkpoint(path, problem="omniglot", tasks=2, omniglot=omniglot, n_way=20)


def test_cli_eval_omniglot_json(omniglot, tmp_path):
    path = tmp_path / "m.pt"
    list(train_to_checkpoint(tiny("fomaml", iterations=1), path, omniglot=omniglot))
    env = {**os.environ, "MAMLVIZ_OMNIGLOT": str(omniglot.source)}
    proc = subprocess.run([sys.executable, "-m", "mamlviz", "eval", "omniglot", "--checkpoint",
                           str(path), "--tasks", "6", "--steps", "1", "--json"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ("accuracy", "ci95", "tasks", "ways", "shots", "device"):
        assert key in result
    assert result["tasks"] == 6 and result["ways"] == 5 and result["shots"] == 1


def test_eval_on_training_characters_draws_the_tests_kind_of_episode(omniglot, tmp_path,
                                                                      monkeypatch):
    """--split train: episodes from the characters meta-training saw, with the test's K
    shots (not Reptile's 10 training shots), so the two scores compare like for like."""
    import mamlviz.runs as runs

    path = tmp_path / "r.pt"
    list(train_to_checkpoint(tiny("reptile", iterations=1, train_shots=3, inner_batch=None),
                             path, omniglot=omniglot))
    drawn = []

    def spy(*args, **kwargs):
        problem = real(*args, **kwargs)
        drawn.append((problem.tasks.split.name, problem.k_shot))
        return problem

    real = runs.problem_from_config
    monkeypatch.setattr(runs, "problem_from_config", spy)
    for split in ("train", "test"):
        result = evaluate_checkpoint(path, problem="omniglot", tasks=2, steps=1,
                                     omniglot=omniglot, split=split)
        assert result["split"] == split and result["shots"] == 1
    assert drawn == [("train", 1), ("test", 1)]


def test_eval_split_is_checked_and_only_omniglot_has_training_characters(tmp_path):
    path = tmp_path / "s.pt"
    list(train_to_checkpoint(TrainConfig.for_algorithm("maml", iterations=1, log_every=1),
                             path))
    with pytest.raises(ConfigError, match="only Omniglot"):
        evaluate_checkpoint(path, problem="sinusoid", tasks=2, split="train")
    with pytest.raises(ConfigError, match="unknown split"):
        evaluate_checkpoint(path, problem="sinusoid", tasks=2, split="validation")


def test_eval_scores_as_many_queries_as_asked_and_refuses_more_than_the_drawings(
        omniglot, tmp_path, monkeypatch):
    """Models trained with 1 and with 15 queries per class are compared on one kind of
    episode; a character has only 20 drawings."""
    import mamlviz.runs as runs

    path = tmp_path / "m.pt"
    list(train_to_checkpoint(tiny(), path, omniglot=omniglot))  # trained with 2 queries
    sizes = []
    real = runs.adaptation_curves

    def spy(model, loss_fn, phi, sample, *args, **kwargs):
        sizes.append(sample.query_x.shape[1])
        return real(model, loss_fn, phi, sample, *args, **kwargs)

    monkeypatch.setattr(runs, "adaptation_curves", spy)
    default = evaluate_checkpoint(path, problem="omniglot", tasks=2, steps=1, omniglot=omniglot)
    asked = evaluate_checkpoint(path, problem="omniglot", tasks=2, steps=1, omniglot=omniglot,
                                n_query=7)
    assert (default["queries"], asked["queries"]) == (2, 7)
    assert sizes == [5 * 2, 5 * 7]  # N-way x queries per class, in every scored task
    with pytest.raises(ConfigError, match="at most 20"):
        evaluate_checkpoint(path, problem="omniglot", tasks=2, omniglot=omniglot, n_query=20)


def test_a_resumed_run_may_anneal_its_meta_learning_rate(omniglot, tmp_path):
    """`--resume` keeps the saved settings, but a run that goes on may end with annealing:
    at step t of T the meta learning rate is meta_lr * (1 - t / T) when annealed to 0."""
    first = tmp_path / "first.pt"
    list(train_to_checkpoint(tiny(iterations=2), first, omniglot=omniglot))
    env = {**os.environ, "MAMLVIZ_OMNIGLOT": str(omniglot.source)}
    resumed, phi = {}, {}
    for name, extra in (("constant", []), ("annealed", ["--meta-lr-final", "0"])):
        out = tmp_path / f"{name}.pt"
        proc = subprocess.run([sys.executable, "-m", "mamlviz", "train", "omniglot",
                               "--algorithm", "maml", "--iterations", "4", "--resume",
                               str(first), "--out", str(out), "--json", *extra],
                              capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        saved = checkpoint.load(out)
        resumed[name], phi[name] = saved.config, saved.phi
    assert resumed["constant"]["meta_lr_final"] is None
    assert resumed["annealed"]["meta_lr_final"] == 0.0
    assert resumed["annealed"]["iterations"] == 4 and resumed["annealed"]["n_query"] == 2
    # The same tasks (same seed and step), smaller steps: the weights differ.
    assert any(not torch.equal(phi["constant"][k], phi["annealed"][k]) for k in phi["constant"])
    # The schedule such a run follows (OuterOptimizer, as Trainer builds it): its first
    # step, the third of four, at half the rate; the fourth at a quarter.
    schedule = OuterOptimizer("adam", 1e-3, lr_final=0.0, total_steps=4)
    rates = [float(schedule.learning_rate({"t": torch.tensor(t)})) for t in (2, 3)]
    assert rates == pytest.approx([5e-4, 2.5e-4])

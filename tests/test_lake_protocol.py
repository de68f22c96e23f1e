"""Lake et al. (2015)'s protocol end to end, on the real Omniglot data: meta-training never
sees an evaluation alphabet, within-alphabet episodes are built as Lake's runs, and a
checkpoint's stored training split is checked against its protocol."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mamlviz import checkpoint as ckpt
from mamlviz import training_split
from mamlviz.cli import main
from mamlviz.config import TrainConfig
from mamlviz.errors import ConfigError
from mamlviz.problems import problem_from_config
from mamlviz.runs import evaluate_phi, load_checkpoint, train_to_checkpoint
from mamlviz.tasks import OmniglotTasks, WithinAlphabetTasks
from mamlviz.train import Trainer

CHECKPOINTS = Path(__file__).resolve().parents[1] / "assets" / "checkpoints"


def tiny(protocol: str, **changes) -> TrainConfig:
    settings = {"n_way": 5, "iterations": 1, "meta_batch_size": 2, "n_query": 1,
                "log_every": 1, **changes}
    return TrainConfig.for_algorithm("fomaml", problem="omniglot", protocol=protocol,
                                     **settings)


def test_lake_meta_training_never_sees_an_evaluation_alphabet(omniglot) -> None:
    evaluation = set(omniglot.alphabets("evaluation"))
    assert len(evaluation) == 20 and len(omniglot.alphabets("background")) == 30
    # The split meta-training draws from, as the trainer builds it.
    trainer = Trainer(tiny("lake"), device="cpu", omniglot=omniglot)
    train_split = trainer.problem.tasks.split
    chars = train_split.characters.tolist()
    assert len(chars) == 964 and not train_split.rotations
    assert {omniglot.alphabet[c] for c in chars} == set(omniglot.alphabets("background"))
    assert not any(omniglot.alphabet[c] in evaluation for c in chars)
    # And the episodes it samples: 200 tasks, every image from a background alphabet.
    episodes = trainer.problem.tasks.episodes(200, 1, 5, generator=torch.Generator().manual_seed(0))
    drawn = torch.cat([episodes.info.support_character.flatten(),
                       episodes.info.query_character.flatten()]).unique().tolist()
    assert all(omniglot.set_name(c) == "background" for c in drawn)
    # Every evaluation character is on the testing side, none on both.
    test_chars = set(omniglot.split("lake")[1].characters.tolist())
    assert test_chars == {c for c in range(omniglot.n_characters)
                          if omniglot.set_name(c) == "evaluation"}
    assert not test_chars & set(chars)


def test_within_alphabet_episodes_are_lakes_runs(omniglot) -> None:
    tasks = WithinAlphabetTasks(omniglot.split("lake")[1], n_way=20)
    # Every evaluation alphabet has at least 20 characters (Angelic has exactly 20).
    assert len(tasks.eligible_alphabets()) == 20
    k_shot, n_query = 1, 2
    eps = tasks.episodes(60, k_shot, n_query, generator=torch.Generator().manual_seed(3))
    info = eps.info
    alphabets_used = set()
    for t in range(60):
        classes = info.classes[t].tolist()
        assert len(set(classes)) == 20
        alphabets = {omniglot.alphabet[c] for c in classes}
        assert len(alphabets) == 1, "an episode's characters all come from one alphabet"
        assert omniglot.set_name(classes[0]) == "evaluation"
        alphabets_used |= alphabets
        support_drawers = set(info.support_drawer[t].tolist())
        query_drawers = set(info.query_drawer[t].tolist())
        assert not support_drawers & query_drawers, "support and query drawers differ"
        # Lake's runs: one person drew all the support images, another all the queries.
        assert len(support_drawers) == k_shot and len(query_drawers) == n_query
        assert info.support_character[t].tolist() == [c for c in classes for _ in range(k_shot)]
        assert info.query_character[t].tolist() == [c for c in classes for _ in range(n_query)]
        # Each image is that drawer's drawing of that character, as labelled.
        for x, c, d in zip(eps.batch.query_x[t], info.query_character[t].tolist(),
                           info.query_drawer[t].tolist()):
            assert torch.equal(x[0], omniglot.images[c, d - 1].float() / 255.0)
    assert len(alphabets_used) > 10  # alphabets are picked at random, not always the same


def test_rotations_augment_meta_training_only(omniglot, omniglot_source: Path,
                                               tmp_path: Path) -> None:
    # --rotations under the lake protocol: the 964 background characters, each turned four
    # ways, are 3,856 training classes; the testing characters stay upright, and the stored
    # split is still the protocol's (no evaluation character is added).
    out = tmp_path / "turned.pt"
    rc = main(["train", "omniglot", "--algorithm", "fomaml", "--protocol", "lake",
               "--rotations", "--iterations", "1", "--meta-batch-size", "2", "--queries", "1",
               "--device", "cpu", "--omniglot", str(omniglot_source), "--out", str(out),
               "--json"])
    assert rc == 0
    config, saved = load_checkpoint(out, problem="omniglot")
    assert config.rotations is True and config.protocol == "lake"
    train = problem_from_config(config, "cpu", omniglot=omniglot).tasks.split
    test = problem_from_config(config, "cpu", split="test", omniglot=omniglot).tasks.split
    assert (train.n_characters, train.n_classes, train.rotations) == (964, 3856, True)
    assert (test.n_classes, test.rotations) == (659, False)
    eps = OmniglotTasks(train, n_way=20).episodes(50, 1, 1,
                                                  generator=torch.Generator().manual_seed(0))
    assert set(eps.info.class_rotation.unique().tolist()) == {0, 1, 2, 3}
    assert all(omniglot.set_name(c) == "background" for c in eps.info.classes.unique().tolist())
    stored = saved.metrics[training_split.KEY]
    assert stored["rotations"] is True and stored["characters"] == 964
    check = training_split.check_split(saved.config, saved.metrics, omniglot)
    assert check.status == "matches"
    # Off under the MAML protocol, on by default there; refused where nothing turns.
    assert problem_from_config(tiny("maml"), "cpu", omniglot=omniglot).tasks.split.rotations
    off = problem_from_config(tiny("maml", rotations=False), "cpu", omniglot=omniglot)
    assert off.tasks.split.n_classes == 1200
    with pytest.raises(ConfigError, match="only Omniglot"):
        TrainConfig.for_algorithm("maml", rotations=True)
    with pytest.raises(ConfigError, match="true or false"):
        tiny("lake", rotations="yes")


def test_within_alphabet_meta_training(omniglot, omniglot_source: Path, tmp_path: Path) -> None:
    # --train-episodes within-alphabet: every training task is N characters of one
    # background alphabet, all turned alike, drawn by two groups of people; testing tasks
    # are unchanged, and the setting travels with the checkpoint.
    config = tiny("lake", train_episodes="within-alphabet", rotations=True, n_way=20)
    trainer = Trainer(config, device="cpu", omniglot=omniglot)
    tasks = trainer.problem.tasks
    assert isinstance(tasks, WithinAlphabetTasks) and tasks.split.rotations
    eps = tasks.episodes(80, 1, 2, generator=torch.Generator().manual_seed(1))
    turns = set()
    for t in range(80):
        classes = eps.info.classes[t].tolist()
        assert len({omniglot.alphabet[c] for c in classes}) == 1
        assert omniglot.set_name(classes[0]) == "background"
        rotation = eps.info.class_rotation[t].unique().tolist()
        assert len(rotation) == 1, "one turn for the whole task"
        turns.add(rotation[0])
        assert not set(eps.info.support_drawer[t].tolist()) & set(eps.info.query_drawer[t].tolist())
    assert turns == {0, 1, 2, 3}
    # A turned image is its upright drawing turned: the query images are what info says.
    t = 0
    c, d, r = (eps.info.query_character[t, 0].item(), eps.info.query_drawer[t, 0].item(),
               eps.info.query_rotation[t, 0].item())
    upright = omniglot.images[c, d - 1].float() / 255.0
    assert torch.equal(eps.batch.query_x[t, 0, 0], torch.rot90(upright, r, dims=(0, 1)))
    test = problem_from_config(config, "cpu", split="test", omniglot=omniglot).tasks
    assert isinstance(test, OmniglotTasks) and not test.split.rotations
    # Upright splits draw no turn, so Lake's testing episodes are as they always were.
    upright_tasks = WithinAlphabetTasks(omniglot.split("lake")[1], n_way=20)
    a = upright_tasks.episodes(3, 1, 1, generator=torch.Generator().manual_seed(5))
    assert a.info.class_rotation.eq(0).all()
    out = tmp_path / "within.pt"
    rc = main(["train", "omniglot", "--algorithm", "protonet", "--protocol", "lake",
               "--ways", "20", "--train-episodes", "within-alphabet", "--iterations", "1",
               "--meta-batch-size", "1", "--queries", "1", "--device", "cpu",
               "--omniglot", str(omniglot_source), "--out", str(out), "--json"])
    assert rc == 0
    saved_config, saved = load_checkpoint(out, problem="omniglot")
    assert saved_config.train_episodes == "within-alphabet"
    assert training_split.check_split(saved.config, saved.metrics, omniglot).status == "matches"
    with pytest.raises(ConfigError, match="only Omniglot has alphabets"):
        TrainConfig.for_algorithm("maml", train_episodes="within-alphabet")
    with pytest.raises(ConfigError, match="train_episodes"):
        tiny("lake", train_episodes="alphabetical")


def test_within_alphabet_needs_alphabets_of_n_characters(omniglot) -> None:
    test = omniglot.split("lake")[1]
    assert len(WithinAlphabetTasks(test, n_way=40).eligible_alphabets()) < 20
    with pytest.raises(ConfigError, match="no alphabet"):
        WithinAlphabetTasks(test, n_way=60)


def test_within_alphabet_eval_refuses_the_maml_split(omniglot) -> None:
    config = tiny("lake")
    with pytest.raises(ConfigError, match="lake protocol"):
        evaluate_phi(config, {}, tasks=2, omniglot=omniglot, protocol="maml",
                     episodes="within-alphabet")


def test_checkpoint_stores_its_split_and_it_is_checked(omniglot, tmp_path: Path) -> None:
    for protocol in ("lake", "maml"):
        out = tmp_path / f"{protocol}.pt"
        records = list(train_to_checkpoint(tiny(protocol), out, device="cpu", omniglot=omniglot))
        assert records[-1].status == "done"
        _, saved = load_checkpoint(out, problem="omniglot")
        stored = saved.metrics[training_split.KEY]
        assert stored["protocol"] == protocol
        assert stored["characters"] == (964 if protocol == "lake" else 1200)
        check = training_split.check_split(saved.config, saved.metrics, omniglot)
        assert (check.status, check.protocol) == ("matches", protocol)
    # The lake digest is that of the 964 background characters, no more, no fewer.
    train = omniglot.split("lake")[0]
    lake = ckpt.load(tmp_path / "lake.pt")
    assert lake.metrics[training_split.KEY]["sha256"] == training_split.characters_digest(train)
    # Settings that name another protocol than the split stored: mismatch.
    relabelled = {**lake.config, "protocol": "maml"}
    assert training_split.check_split(relabelled, lake.metrics, omniglot).status == "mismatch"
    # A stored list that is not the protocol's (another seed's shuffle): mismatch.
    maml = ckpt.load(tmp_path / "maml.pt")
    other = training_split.split_record(omniglot.split("maml", seed=7)[0])
    forged = {**maml.metrics, training_split.KEY: other | {"rule": maml.metrics[
        training_split.KEY]["rule"]}}
    assert training_split.check_split(maml.config, forged, omniglot).status == "mismatch"
    # Older files stored none: they still load, and say so.
    old = {k: v for k, v in maml.metrics.items() if k != training_split.KEY}
    assert training_split.check_split(maml.config, old, omniglot).status == "unknown split"


def test_eval_cli_within_alphabet_reports_contamination(omniglot, omniglot_source: Path,
                                                        capsys) -> None:
    # A shipped model was trained under the MAML protocol, before splits were stored: it
    # loads, its split is "unknown split", and most of Lake's evaluation characters were
    # among its training characters.
    rc = main(["eval", "omniglot", "--checkpoint", str(CHECKPOINTS / "omniglot_maml_5w1s.pt"),
               "--protocol", "lake", "--episodes", "within-alphabet", "--tasks", "6",
               "--queries", "1", "--device", "cpu", "--omniglot", str(omniglot_source),
               "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["episodes"] == "within-alphabet" and result["protocol"] == "lake"
    assert result["trained_protocol"] == "maml" and result["tasks"] == 6
    assert 5 <= result["characters"] <= 30  # distinct characters of 6 tasks x 5
    assert 0 < result["characters_seen_in_training"] <= 30
    assert result["training_split"]["status"] == "unknown split"
    assert len(result["accuracy_by_step"]) == 4 and 0 <= result["accuracy"] <= 1

"""People against models, honest: the game's episodes come from where they say, and each
shipped model's count of the episode's characters it meta-trained on is read from its file
(Lake et al. 2015; mamlviz.human_vs_model). Runs on the real Omniglot data."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamlviz import human_vs_model as game
from mamlviz.errors import ConfigError
from mamlviz.runs import load_checkpoint

CHECKPOINTS = Path(__file__).resolve().parents[1] / "assets" / "checkpoints"


def test_within_alphabet_episode_is_one_evaluation_alphabet_by_two_drawers(omniglot) -> None:
    for seed in range(20):
        ep = game.game_episode(omniglot, game.WITHIN_ALPHABET, 20, 1, seed)
        assert len(set(ep.characters)) == 20 and len(ep.alphabets) == 1
        assert {omniglot.alphabet[c] for c in ep.characters} == set(ep.alphabets)
        assert all(omniglot.set_name(c) == "evaluation" for c in ep.characters)
        # one person drew the support set, another the queries (Lake's runs)
        assert len(ep.support_drawers) == 1 and len(ep.query_drawers) == 1
        assert ep.support_drawers != ep.query_drawers
        assert sorted(ep.tensors["query_y"].tolist()) == list(range(20))
        assert ep.tensors["support_y"].tolist() == list(range(20))
    # the same seed gives every student the same episode
    a = game.game_episode(omniglot, game.WITHIN_ALPHABET, 5, 2, 7)
    b = game.game_episode(omniglot, game.WITHIN_ALPHABET, 5, 2, 7)
    assert a.characters == b.characters and (a.tensors["query_x"] == b.tensors["query_x"]).all()
    assert len(a.support_drawers) == 2 and not set(a.support_drawers) & set(a.query_drawers)


@pytest.mark.parametrize("source", [game.EVALUATION, game.MAML_TEST, "Korean"])
def test_other_sources_draw_from_their_characters(omniglot, source: str) -> None:
    allowed = {
        game.EVALUATION: set(omniglot.split("lake")[1].characters.tolist()),
        game.MAML_TEST: set(omniglot.split("maml")[1].characters.tolist()),
        "Korean": {c for c in range(omniglot.n_characters) if omniglot.alphabet[c] == "Korean"},
    }[source]
    for seed in range(10):
        ep = game.game_episode(omniglot, source, 5, 1, seed)
        assert set(ep.characters) <= allowed and len(set(ep.characters)) == 5


def test_an_unknown_source_is_refused(omniglot) -> None:
    with pytest.raises(ConfigError, match="neither"):
        game.game_episode(omniglot, "Klingon", 5, 1, 0)


def _trained_on(name: str, omniglot) -> tuple[frozenset[int] | None, str]:
    _, checkpoint = load_checkpoint(CHECKPOINTS / name, problem="omniglot")
    return game.training_characters(checkpoint.config, checkpoint.metrics, omniglot)


def test_a_lake_model_never_saw_a_game_character_and_a_maml_model_did(omniglot) -> None:
    lake, how = _trained_on("omniglot_protonet_20w1s_lake.pt", omniglot)
    assert how == "stored" and lake is not None and len(lake) == 964
    maml, how = _trained_on("omniglot_maml_20w1s.pt", omniglot)
    assert how == "settings" and maml is not None and len(maml) == 1200
    seen_by_maml = 0
    for seed in range(30):
        ep = game.game_episode(omniglot, game.WITHIN_ALPHABET, 20, 1, seed)
        assert game.seen_characters(lake, ep) == 0
        seen_by_maml += game.seen_characters(maml, ep) or 0
    # 1,200 of 1,623 characters: about three in four of an evaluation alphabet's
    assert 0.6 < seen_by_maml / (30 * 20) < 0.9
    ep = game.game_episode(omniglot, game.MAML_TEST, 20, 1, 0)
    assert game.seen_characters(maml, ep) == 0


def test_a_stored_split_that_does_not_match_is_unknown(omniglot) -> None:
    _, checkpoint = load_checkpoint(CHECKPOINTS / "omniglot_protonet_20w1s_lake.pt",
                                    problem="omniglot")
    metrics = dict(checkpoint.metrics)
    metrics["training_split"] = {**metrics["training_split"], "sha256": "0" * 64}
    assert game.training_characters(checkpoint.config, metrics, omniglot) == (None, "mismatch")
    ep = game.game_episode(omniglot, game.WITHIN_ALPHABET, 5, 1, 0)
    assert game.seen_characters(None, ep) is None

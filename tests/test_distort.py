"""Koch et al. (2015)'s affine distortions of meta-training drawings (mamlviz.tasks.distort):
the maps stay in the paper's ranges, a map moves ink where it says, and only meta-training
tasks are distorted."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from mamlviz.cli import main
from mamlviz.config import TrainConfig
from mamlviz.errors import ConfigError
from mamlviz.problems import problem_from_config
from mamlviz.runs import load_checkpoint
from mamlviz.tasks import OmniglotTasks, WithinAlphabetTasks
from mamlviz.tasks.distort import DistortedTasks, affine_matrices, distort, warp


def test_maps_stay_in_the_papers_ranges() -> None:
    n = 20_000
    maps = affine_matrices(n, torch.Generator().manual_seed(0)).double()
    linear, shift = maps[:, :, :2], maps[:, :, 2]
    # Each of the four parts is on with probability 1/2, so 1/16 of the maps are the identity.
    identity = (linear == torch.eye(2, dtype=linear.dtype)).all(-1).all(-1) & (shift == 0).all(-1)
    assert abs(identity.double().mean().item() - 1 / 16) < 0.01
    # Shifts: at most 2 of 105 pixels, in [-1, 1] coordinates (2 across), about half of them on.
    assert shift.abs().max().item() <= 4 / 105 + 1e-12
    assert abs((shift != 0).all(-1).double().mean().item() - 0.5) < 0.02
    # Turn x shear x scale: the area changes by s_x s_y (1 - rho_x rho_y), within the ranges'.
    det = torch.linalg.det(linear)
    assert det.min().item() >= 0.8 * 0.8 * (1 - 0.09) - 1e-9
    assert det.max().item() <= 1.2 * 1.2 * (1 + 0.09) + 1e-9
    # A pure turn (no shear, no scale) is a rotation by at most 10 degrees.
    gram = linear @ linear.transpose(1, 2) - torch.eye(2, dtype=linear.dtype)
    orthogonal = gram.abs().amax((1, 2)) < 1e-6  # float32 maps
    angles = torch.atan2(linear[orthogonal, 1, 0], linear[orthogonal, 0, 0]).abs()
    assert angles.max().item() <= math.radians(10) + 1e-9 and angles.max().item() > math.radians(9)


def test_a_map_moves_the_ink_where_it_says() -> None:
    image = torch.zeros(1, 1, 28, 28)
    image[0, 0, 10:14, 8:20] = 1.0
    # The identity samples every pixel at its centre: the same image, exactly.
    identity = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    assert torch.equal(warp(image, identity), image)
    # affine_grid maps output to input coordinates: reading one pixel (2/28) to the left
    # moves the ink one pixel to the right, exactly.
    shifted = torch.tensor([[[1.0, 0.0, -2.0 / 28], [0.0, 1.0, 0.0]]])
    assert torch.allclose(warp(image, shifted), torch.roll(image, 1, dims=-1), atol=1e-6)
    # Random distortions keep the shape, the range and roughly the ink; fixed seed, fixed result.
    batch = image.expand(64, 1, 28, 28)
    a = distort(batch, torch.Generator().manual_seed(1))
    b = distort(batch, torch.Generator().manual_seed(1))
    assert a.shape == batch.shape and torch.equal(a, b)
    assert a.min().item() >= 0.0 and a.max().item() <= 1.0 + 1e-6
    ink = a.sum((1, 2, 3)) / image.sum()
    assert ink.min().item() > 0.6 and ink.max().item() < 1.6
    assert not torch.equal(a, batch)


def test_only_meta_training_drawings_are_distorted(omniglot, omniglot_source: Path,
                                                   tmp_path: Path, capsys) -> None:
    config = TrainConfig.for_algorithm("protonet", problem="omniglot", protocol="lake",
                                       n_way=5, k_shot=1, n_query=2, rotations=True,
                                       train_episodes="within-alphabet", distort=True)
    train = problem_from_config(config, "cpu", omniglot=omniglot)
    assert isinstance(train.tasks, DistortedTasks)
    assert isinstance(train.tasks.tasks, WithinAlphabetTasks) and train.tasks.split.rotations
    # The same tasks as undistorted sampling draws (classes, drawers), each image warped.
    batch = train.sample(4, torch.Generator().manual_seed(2))
    plain = train.tasks.tasks.sample(4, 1, 2, generator=torch.Generator().manual_seed(2))
    assert torch.equal(batch.support_y, plain.support_y)
    assert torch.equal(batch.query_y, plain.query_y)
    assert not torch.equal(batch.support_x, plain.support_x)
    test = problem_from_config(config, "cpu", split="test", omniglot=omniglot)
    assert type(test.tasks) is OmniglotTasks
    # The setting travels with the checkpoint.
    out = tmp_path / "distorted.pt"
    rc = main(["train", "omniglot", "--algorithm", "protonet", "--protocol", "lake",
               "--ways", "5", "--distort", "--iterations", "1", "--meta-batch-size", "1",
               "--queries", "1", "--device", "cpu", "--omniglot", str(omniglot_source),
               "--out", str(out), "--json"])
    assert rc == 0
    saved_config, _ = load_checkpoint(out, problem="omniglot")
    assert saved_config.distort is True
    # Scoring it, even on its training characters, reads the drawings undistorted.
    rc = main(["eval", "omniglot", "--checkpoint", str(out), "--split", "train", "--tasks",
               "3", "--device", "cpu", "--omniglot", str(omniglot_source), "--json"])
    assert rc == 0
    scored = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scored["split"] == "train" and scored["tasks"] == 3
    assert 0.0 <= scored["accuracy"] <= 1.0


def test_only_omniglot_is_distorted() -> None:
    with pytest.raises(ConfigError, match="only Omniglot's drawings are distorted"):
        TrainConfig(problem="sinusoid", distort=True)
    with pytest.raises(ConfigError, match="must be true or false"):
        TrainConfig(problem="omniglot", distort="yes")  # type: ignore[arg-type]

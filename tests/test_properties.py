"""Property-based tests (hypothesis) over the engine's settings and task generators."""

import dataclasses
import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mamlviz.config import TrainConfig
from mamlviz.errors import ConfigError
from mamlviz.tasks import SinusoidTasks
from mamlviz.tasks.sinusoid import support_from_points

FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}
anything = st.one_of(st.integers(-10**13, 10**13), st.floats(allow_nan=True, allow_infinity=True),
                     st.booleans(), st.text(max_size=5), st.none())


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(sorted(FIELDS - {"algorithm", "amplitude", "phase", "x_range"})),
       value=anything)
def test_any_setting_either_validates_or_names_its_field(field, value):
    try:
        config = TrainConfig.for_algorithm("maml", **{field: value})
    except ConfigError as exc:
        assert exc.field in FIELDS | {"algorithm"}
        assert exc.field in str(exc)
    else:
        config.validate()  # what was accepted stays valid


@settings(max_examples=100, deadline=None)
@given(lo=st.floats(-1e6, 1e6), width=st.floats(-10, 10), field=st.sampled_from(
    ["amplitude", "phase", "x_range"]))
def test_ranges_validate_or_name_their_field(lo, width, field):
    try:
        TrainConfig.for_algorithm("maml", **{field: (lo, lo + width)})
    except ConfigError as exc:
        assert exc.field == field and width < 0


@settings(max_examples=60, deadline=None)
@given(a_lo=st.floats(0, 10), a_w=st.floats(0, 10), b_lo=st.floats(-10, 10), b_w=st.floats(0, 7),
       x_lo=st.floats(-50, 50), x_w=st.floats(0, 50), n_tasks=st.integers(1, 8),
       k_shot=st.integers(1, 20), n_query=st.integers(1, 20), seed=st.integers(0, 2**31))
def test_sinusoid_tasks_lie_on_their_curves_inside_their_ranges(a_lo, a_w, b_lo, b_w, x_lo, x_w,
                                                                n_tasks, k_shot, n_query, seed):
    tasks = SinusoidTasks(amplitude=(a_lo, a_lo + a_w), phase=(b_lo, b_lo + b_w),
                          x_range=(x_lo, x_lo + x_w))
    g = torch.Generator().manual_seed(seed)
    amplitude, phase = tasks.draw(n_tasks, g)
    batch = tasks.sample(n_tasks, k_shot, n_query, amplitude=amplitude, phase=phase, generator=g)
    assert batch.support_x.shape == (n_tasks, k_shot, 1)
    assert batch.query_y.shape == (n_tasks, n_query, 1)
    assert bool(((amplitude >= a_lo) & (amplitude <= a_lo + a_w + 1e-5)).all())
    for x, y in ((batch.support_x, batch.support_y), (batch.query_x, batch.query_y)):
        assert bool(((x >= x_lo - 1e-4) & (x <= x_lo + x_w + 1e-4)).all())
        expected = amplitude.view(-1, 1, 1) * torch.sin(x + phase.view(-1, 1, 1))
        assert torch.allclose(y, expected, atol=1e-4)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), n_tasks=st.integers(1, 5))
def test_same_seed_same_tasks(seed, n_tasks):
    def draw():
        return SinusoidTasks().sample(n_tasks, 5, 5, generator=torch.Generator().manual_seed(seed))

    assert all(torch.equal(a, b) for a, b in zip(draw().tensors(), draw().tensors()))


@settings(max_examples=100, deadline=None)
@given(points=st.lists(st.tuples(st.floats(allow_nan=True, allow_infinity=True, width=32),
                                 st.floats(allow_nan=True, allow_infinity=True, width=32)),
                       max_size=12))
def test_student_points_are_accepted_or_refused_with_a_message(points):
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    try:
        x, y = support_from_points(xs, ys)
    except ConfigError as exc:
        assert exc.field == "points"
        assert not points or not all(math.isfinite(v) for p in points for v in p)
    else:
        assert x.shape == y.shape == (len(points), 1)

"""GPU checks: the CUDA-graph step against the plain vmap step and the naive loop.

These run only where CUDA is present (the GPU machine, not CI's CPU): there they
check that replaying a captured meta-step, compiled first or not, trains exactly
like launching its kernels one by one, that divergence is caught on the device,
and that second-order MAML on the conv model matches the naive per-task loop in
float64 on the GPU too.
"""

import pytest
import torch

from mamlviz.algorithms import InnerLoop, make_step
from mamlviz.config import TrainConfig
from mamlviz.inner import cross_entropy
from mamlviz.models.conv4 import Conv4
from mamlviz.models.mlp import init_params
from mamlviz.reference import naive_step
from mamlviz.train import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def omniglot_config(n_way, **overrides):
    settings = {"problem": "omniglot", "n_way": n_way, "iterations": 6, "meta_batch_size": 4,
                "n_query": 3, "log_every": 3}
    return TrainConfig.for_algorithm("maml", **{**settings, **overrides})


# Compiling the 20-way step (five inner steps) takes minutes: the fused step is checked
# at 5-way, where it runs the same code.
@pytest.mark.parametrize(("n_way", "in_place"), [(5, "graphed"), (20, "graphed"), (5, "fused")])
def test_graph_replay_trains_like_the_plain_vmap_step(omniglot, n_way, in_place):
    # Plain SGD outside (Adam's first steps are sign-like and would magnify rounding
    # differences into lr-sized ones) and no TF32, so only float32 rounding differs.
    runs = {}
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=False):
        for implementation in ("vmap", in_place):
            trainer = Trainer(omniglot_config(n_way, implementation=implementation,
                                              outer_optimizer="sgd", meta_lr=0.1),
                              device="cuda", omniglot=omniglot)
            records = list(trainer.run())
            assert trainer.implementation == implementation and not trainer.notes
            runs[implementation] = trainer, records
    (plain, plain_records), (graphed, records) = runs["vmap"], runs[in_place]
    assert graphed._in_place is not None and graphed._in_place.graph is not None
    assert [r.step for r in records] == [r.step for r in plain_records] == [3, 6]
    for mine, theirs in zip(records, plain_records, strict=True):  # a window's mean losses
        assert mine.query_loss_after == pytest.approx(theirs.query_loss_after, rel=1e-4)
    for k in plain.phi:
        assert torch.allclose(graphed.phi[k], plain.phi[k], rtol=1e-4, atol=1e-5), k


def test_auto_picks_the_graph_on_cuda(omniglot):
    trainer = Trainer(omniglot_config(5, iterations=2, log_every=1), device="cuda",
                      omniglot=omniglot)
    assert trainer.implementation == "graphed"
    assert [r.status for r in trainer.run()] == ["running", "done"]


def test_divergence_is_caught_on_the_device():
    settings = {"iterations": 200, "meta_batch_size": 4, "outer_optimizer": "sgd",
                "meta_lr": 0.4}
    plain = Trainer(TrainConfig.for_algorithm("pretrain", implementation="vmap", **settings),
                    device="cuda")
    plain_last = list(plain.run())[-1]
    graphed = Trainer(TrainConfig.for_algorithm("pretrain", implementation="graphed",
                                                log_every=4, **settings), device="cuda")
    last = list(graphed.run())[-1]
    assert plain_last.status == last.status == "diverged"
    assert last.step == plain_last.step
    assert all(bool(torch.isfinite(v).all()) for v in graphed.phi.values())


def test_second_order_conv_meta_gradient_matches_the_naive_loop_on_the_gpu(omniglot):
    from mamlviz.tasks import OmniglotTasks

    train, _ = omniglot.split("maml")
    tasks = OmniglotTasks(train.to("cuda"), n_way=5)
    batch = tasks.sample(3, 1, 2, generator=torch.Generator("cpu").manual_seed(0))
    tensors = [t.double() if t.is_floating_point() else t for t in batch.tensors()]
    model = Conv4(5)
    phi = init_params(model, 0, dtype=torch.float64, device="cuda")
    model = model.double().cuda()
    loop = InnerLoop(model, cross_entropy, 0.4, 1)
    batched, _, _ = make_step("maml", loop)(phi, *tensors)
    naive, _, _ = naive_step("maml", loop, phi, *tensors)
    for k in phi:
        assert torch.allclose(batched[k], naive[k], rtol=1e-9, atol=1e-11), k

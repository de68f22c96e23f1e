"""Whole runs, as the CLI and the pages use them: train to a checkpoint, evaluate one.

Evaluation follows the MAML paper: held-out tasks (new sinusoids; Omniglot
tasks from the *testing* characters), adapted on their support sets with the
training inner learning rate, scored on their query sets after each step:
the MSE on 100 query points for sinusoids, the accuracy for Omniglot (600
tasks in the paper's tables), with 95% confidence intervals.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from . import algorithms, training_split
from . import checkpoint as ckpt
from .config import EPISODES, EVAL_EXAMPLE_LIMIT, MAX_INNER_STEPS, TrainConfig
from .device import describe, pick_device
from .errors import ConfigError
from .evaluate import adaptation_curves, classification_curves, summarise
from .inner import Params, check_inner, kept_moments
from .models.mlp import init_params
from .problems import OmniglotProblem, problem_from_config
from .tasks import WithinAlphabetTasks
from .train import Record, Trainer

SINUSOID_EVAL_QUERY_POINTS = 100
EVAL_SEED = 2024  # held-out tasks come from a stream the training seed never uses
MAX_EVAL_TASKS = 100_000


def train_to_checkpoint(config: TrainConfig, out: str | os.PathLike[str],
                        device: str | None = None, omniglot: Any = None,
                        max_seconds: float | None = None,
                        resume: ckpt.Checkpoint | None = None) -> Iterator[Record]:
    """Train, yielding records; the checkpoint is written when the run ends or is stopped.

    ``out`` is checked before any work. ``resume`` goes on from a checkpoint of the same
    settings (its weights, optimiser state and step count) up to ``config.iterations``.

    A run that fails (an exception other than a stop) writes nothing if it trained no
    step; if it trained some, what it trained is saved as a partial checkpoint marked
    ``metrics["status"] = "failed"`` with the ``error``, never as a finished run.
    """
    ckpt.check_writable(out)
    trainer = Trainer(config, device=device, omniglot=omniglot,
                      phi=resume.phi if resume else None)
    if resume is not None:
        try:
            trainer.resume(resume.opt_state, resume.steps,
                           float(resume.metrics.get("elapsed_s", 0.0)))
        except (ValueError, TypeError) as exc:
            raise ckpt.CheckpointError(f"cannot resume from this checkpoint: {exc}") from exc
    started = trainer.step
    last: Record | None = None

    def save(failure: BaseException | None = None) -> None:
        metrics: dict[str, Any] = {"steps": trainer.step, "elapsed_s": trainer.elapsed_s,
                                   "device": trainer.device_name,
                                   "implementation": trainer.implementation,
                                   "status": last.status if last else "empty"}
        if failure is not None:
            metrics["status"] = "failed"
            metrics["error"] = f"{type(failure).__name__}: {failure}"
        if last is not None:
            metrics["final_record"] = last.as_dict(json_safe=True)
        if trainer.notes:
            metrics["notes"] = trainer.notes
        stored_split = _split_record(trainer.problem)
        if stored_split is not None:  # so contamination can be checked from the file alone
            metrics[training_split.KEY] = stored_split
        ckpt.save(out, ckpt.Checkpoint(phi=trainer.phi, config=config.to_dict(),
                                       metrics=metrics, problem=config.problem,
                                       opt_state=trainer.opt_state))

    try:
        for record in trainer.run(max_seconds=max_seconds):
            last = record
            yield record
    except (GeneratorExit, KeyboardInterrupt):  # a Stop or Ctrl-C keeps what was trained
        save()
        raise
    except Exception as exc:
        if trainer.step > started:
            save(failure=exc)
        raise
    save()


def _split_record(problem: Any) -> dict[str, Any] | None:
    """The meta-training split of an Omniglot problem (None for sinusoids: every task new)."""
    split = getattr(getattr(problem, "tasks", None), "split", None)
    return training_split.split_record(split) if split is not None else None


def load_checkpoint(path: str | os.PathLike[str], problem: str | None = None
                    ) -> tuple[TrainConfig, ckpt.Checkpoint]:
    """A checkpoint and its config, checked to fit the model the config describes."""
    checkpoint = ckpt.load(path, problem=problem)
    try:
        config = TrainConfig.from_dict(checkpoint.config)
    except (ConfigError, TypeError, ValueError) as exc:
        raise ckpt.CheckpointError(f"{path} has invalid settings: {exc}") from exc
    model = _model_for(config)
    ckpt.check_compatible(checkpoint, init_params(model, 0), str(path))
    return config, checkpoint


def load_run(path: str | os.PathLike[str], problem: str | None = None
             ) -> tuple[TrainConfig, Params]:
    """A checkpoint's config and phi, checked to fit the model its config describes."""
    config, checkpoint = load_checkpoint(path, problem)
    return config, checkpoint.phi


def load_learner(path: str | os.PathLike[str], problem: str | None = None
                 ) -> tuple[TrainConfig, Params, Params | None]:
    """What adapting a checkpoint's model needs: its config, phi, and the inner Adam
    moments its training kept (None if it keeps none: each task starts afresh)."""
    config, checkpoint = load_checkpoint(path, problem)
    moments = kept_moments(checkpoint.opt_state) if config.inner_moments == "kept" else None
    return config, checkpoint.phi, moments


def _on(moments: Params | None, device: torch.device) -> Params | None:
    return None if moments is None else {k: v.to(device) for k, v in moments.items()}


def load_sinusoid(path: str | os.PathLike[str]) -> tuple[TrainConfig, Params]:
    return load_run(path, problem="sinusoid")


def _model_for(config: TrainConfig) -> torch.nn.Module:
    if config.problem == "omniglot":
        from .models.conv4 import Conv4

        return Conv4(config.n_way)
    from .models.mlp import SinusoidMLP

    return SinusoidMLP()


def check_evaluation(tasks: int, steps: int, inner_lr: float, seed: int) -> None:
    """An evaluation's own settings, before any data is loaded or task drawn.

    The MAML paper scores 600 tasks; far more only narrows the interval while every
    task's curve is kept, and a test adapts at most as many steps as training may.
    """
    _whole("tasks", tasks, 1, MAX_EVAL_TASKS)
    _whole("steps", steps, 0, MAX_INNER_STEPS)
    _whole("seed", seed, 0, 2**63 - 1)
    check_inner(inner_lr, steps)


def _whole(name: str, value: Any, lower: int, upper: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(name, f"must be a whole number, got {value!r}")
    if not lower <= value <= upper:
        raise ConfigError(name, f"must be between {lower:,} and {upper:,}, got {value:,}")


def evaluate_phi(config: TrainConfig, phi: Params, tasks: int = 100, k_shot: int | None = None,
                 steps: int | None = None, seed: int = EVAL_SEED, inner_lr: float | None = None,
                 device: str | None = None, omniglot: Any = None,
                 n_way: int | None = None, moments: Params | None = None,
                 split: str = "test", n_query: int | None = None, protocol: str | None = None,
                 episodes: str = "random") -> dict[str, Any]:
    """Adapt ``phi`` on ``tasks`` held-out tasks and score it after 0..``steps`` steps.

    ``moments``: the inner Adam's moments a run kept (``Trainer.inner_moments``); every
    task starts from them, as Reptile's code does at test time.

    ``n_query``: query images per class (Omniglot; default: as the model trained), so
    that models trained with different numbers are scored on the same episodes.

    ``split="train"`` draws the same kind of episode (K shots, the model's queries) from
    the characters meta-training saw instead (Omniglot only). Scored side by side, the two
    tell a model that under-fits (both low) from one that over-fits to its training
    characters (training high, testing low).
    """
    if split not in ("test", "train"):
        raise ConfigError("split", f"unknown split {split!r} (use 'test' or 'train')")
    if split == "train" and config.problem != "omniglot":
        raise ConfigError("split", "only Omniglot has training characters to score on; "
                          "every sinusoid task is new")
    if episodes not in EPISODES:
        raise ConfigError("episodes", f"unknown episodes {episodes!r} (use "
                          f"{' or '.join(map(repr, EPISODES))})")
    if config.problem != "omniglot" and (protocol is not None or episodes != "random"):
        raise ConfigError("protocol" if protocol is not None else "episodes",
                          "only Omniglot has protocols and within-alphabet episodes")
    if episodes == "within-alphabet":
        if protocol not in (None, "lake"):
            raise ConfigError("protocol", "within-alphabet episodes come from Lake's 20 "
                              "evaluation alphabets: use the lake protocol")
        if split != "test":
            raise ConfigError("split", "within-alphabet episodes come from the evaluation "
                              "alphabets, the lake protocol's testing split")
        protocol = "lake"
    trained_protocol = config.protocol
    classify = algorithms.get(config.algorithm).classify
    if classify is not None and steps:
        raise ConfigError("steps", f"{config.algorithm} has no inner loop: it is scored once, "
                          f"at 0 steps, not after {steps}")
    steps = config.steps_at_test if steps is None else steps
    if classify is not None:
        steps = 0
    lr = config.inner_lr if inner_lr is None else inner_lr
    check_evaluation(tasks, steps, lr, seed)
    # train_shots/train_ways=None: an episode from training characters has the test's K
    # shots and N ways too; distort=False: a score is on the drawings as they are.
    changes: dict[str, Any] = {"k_shot": config.k_shot if k_shot is None else k_shot,
                               "train_shots": None, "train_ways": None, "distort": False}
    if config.problem == "sinusoid":
        changes["n_query"] = SINUSOID_EVAL_QUERY_POINTS
    elif n_query is not None:
        changes["n_query"] = n_query
    if protocol is not None:
        changes["protocol"] = protocol
    if n_way is not None and n_way != config.n_way:
        raise ConfigError("ways", f"this model was trained for {config.n_way}-way tasks "
                          f"(its output layer has {config.n_way} classes), not {n_way}-way")
    config = config.replace(**changes)
    held = tasks * config.examples_per_task(config.k_shot)
    if held > EVAL_EXAMPLE_LIMIT[config.problem]:
        raise ConfigError("tasks", f"{tasks:,} tasks hold {held:,} examples at once, more "
                          f"than fit in memory (at most {EVAL_EXAMPLE_LIMIT[config.problem]:,});"
                          f" use fewer tasks")
    dev = pick_device(device)
    problem = problem_from_config(config, dev, split=split, omniglot=omniglot)
    model = problem.model.to(dev)
    # Held-out tasks come from a CPU generator, so the same command scores the same
    # tasks on every device (a CUDA generator draws a different stream).
    generator = torch.Generator("cpu").manual_seed(seed)
    drawn = None
    if isinstance(problem, OmniglotProblem):
        if episodes == "within-alphabet":
            problem.tasks = WithinAlphabetTasks(problem.tasks.split, config.n_way)
        drawn = problem.tasks.episodes(tasks, problem.k_shot, problem.n_query,
                                       generator=generator)
        sample = drawn.batch
    else:
        sample = problem.sample(tasks, generator)
    if config.test_inner_batch is not None:  # mini-batches that mix the classes
        sample = sample.shuffled_support(generator)
    chunk = 20 if config.problem == "omniglot" else 100
    phi_on = {k: v.to(dev) for k, v in phi.items()}
    if classify is not None:
        curves = classification_curves(classify, model, problem.metric_fn, phi_on,
                                       sample.to(dev), chunk=chunk)
    else:
        curves = adaptation_curves(model, problem.loss_fn, phi_on, sample.to(dev), lr, steps,
                                   metric_fn=problem.metric_fn, chunk=chunk,
                                   optimizer=config.inner_optimizer,
                                   batch_size=config.test_inner_batch,
                                   moments=_on(moments, dev),
                                   head_only=algorithms.get(config.algorithm).inner_mask
                                   is not None)
    summary = summarise(curves)
    result: dict[str, Any] = {"algorithm": config.algorithm, "problem": config.problem,
                              "device": describe(dev), "tasks": tasks, "shots": config.k_shot,
                              "steps": steps, "inner_lr": lr, "seed": seed,
                              "inner_optimizer": config.inner_optimizer,
                              "inner_batch": config.test_inner_batch,
                              # what this evaluation's Adam started from (None: plain steps)
                              "inner_moments": (("kept" if moments else "fresh")
                                                if config.inner_optimizer == "adam" else None),
                              "ci95_by_step": summary["ci95_by_step"]}
    if problem.metric_name == "accuracy":
        result.update({"accuracy_by_step": summary["by_step"], "ways": config.n_way,
                       "accuracy": summary["by_step"][-1],
                       "ci95": summary["ci95_by_step"][-1], "protocol": config.protocol,
                       "split": split, "queries": config.n_query, "episodes": episodes,
                       "trained_protocol": trained_protocol})
        if drawn is not None:
            result.update(_seen_in_training(drawn, trained_protocol))
    else:
        result["mse_by_step"] = summary["by_step"]
    return result


def _seen_in_training(drawn: Any, trained_protocol: str) -> dict[str, int]:
    """How many of the episodes' characters the model's meta-training split held."""
    data = drawn.split.data
    seen = data.split(trained_protocol)[0].characters.cpu()
    used = drawn.info.classes.cpu().unique()
    return {"characters": int(used.numel()),
            "characters_seen_in_training": int(torch.isin(used, seen).sum())}


def evaluate_checkpoint(path: str | os.PathLike[str], problem: str | None = None,
                        **kwargs: Any) -> dict[str, Any]:
    config, checkpoint = load_checkpoint(path, problem)
    moments = kept_moments(checkpoint.opt_state) if config.inner_moments == "kept" else None
    result = evaluate_phi(config, checkpoint.phi, moments=moments, **kwargs)
    result["checkpoint"] = str(Path(path))
    if config.problem == "omniglot":
        result["training_split"] = check_checkpoint_split(checkpoint, kwargs.get("omniglot"))
    return result


def check_checkpoint_split(checkpoint: ckpt.Checkpoint, omniglot: Any = None
                           ) -> dict[str, Any]:
    """``training_split.check_split`` on an Omniglot checkpoint, with the data loaded
    (``omniglot``: loaded data or a source, as for training) to check the digest."""
    from .data import OmniglotData, load_omniglot

    data = omniglot if isinstance(omniglot, OmniglotData) else load_omniglot(
        omniglot, progress=False)
    return training_split.check_split(checkpoint.config, checkpoint.metrics, data).as_dict()

"""The command line: ``mamlviz`` (or ``python -m mamlviz``).

    mamlviz train sinusoid --algorithm A ... --out FILE     (A: see ``mamlviz algorithms``)
    mamlviz eval sinusoid --checkpoint FILE [--tasks T] [--shots K] [--steps S] [--json]
    mamlviz train omniglot --algorithm A --ways N --shots K ... --out FILE
    mamlviz train omniglot --preset hw15 [--algorithm A] [options that override it] --out FILE
    mamlviz eval omniglot --checkpoint FILE [--tasks 600] [--ways N --shots K] [--steps S]
        [--protocol {maml,lake}] [--episodes {random,within-alphabet}]
    mamlviz data omniglot [--source PATH]
    mamlviz bench [--quick] [--json]
    mamlviz figures --out DIR [--lang en|zh] [--presentation] [--format png|svg|pdf]
    mamlviz algorithms [--json]

Progress goes to stderr; with ``--json`` the last line of stdout is one JSON
object, so scripts (and the tests) can read results without parsing prose.

Every setting is checked before any work (the output path included), and a problem is
one line on stderr. Exit codes: 0 done, 2 bad input (settings, paths, checkpoints,
data), 3 the training diverged (the last finite weights are still saved), 1 the system
failed us (a disk full, say), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from . import algorithms
from .config import EPISODES, IMPLEMENTATIONS, INNER_MOMENTS, PRESETS
from .errors import ConfigError, MamlvizError

EXIT_DONE, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _emit_json(obj: dict[str, Any]) -> None:
    print(json.dumps(_json_safe(obj)), flush=True)


class _Parser(argparse.ArgumentParser):
    """argparse, but a refusal is one line (the usage is one --help away)."""

    def error(self, message: str) -> Any:
        self.exit(EXIT_BAD_INPUT, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mamlviz", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="meta-train a model and save a checkpoint")
    train_sub = train.add_subparsers(dest="problem", required=True)
    ts = train_sub.add_parser("sinusoid", help="the MAML paper's sinusoid regression")
    ts.add_argument("--algorithm", required=True, choices=algorithms.names("sinusoid"))
    ts.add_argument("--iterations", type=int)
    ts.add_argument("--meta-batch-size", type=int)
    ts.add_argument("--shots", type=int, dest="k_shot", help="K support points per task")
    ts.add_argument("--queries", type=int, dest="n_query", help="query points per task")
    ts.add_argument("--inner-lr", type=float)
    ts.add_argument("--inner-steps", type=int)
    ts.add_argument("--meta-lr", type=float)
    ts.add_argument("--phase-max", type=float,
                    help="largest phase b (paper: pi; the lecture and Reptile: 2 pi)")
    ts.add_argument("--implementation", choices=IMPLEMENTATIONS)
    ts.add_argument("--seed", type=int)
    ts.add_argument("--log-every", type=int, default=100)
    ts.add_argument("--device")
    ts.add_argument("--max-seconds", type=float, help="stop after this much wall time")
    ts.add_argument("--out", required=True)
    ts.add_argument("--json", action="store_true")

    to = train_sub.add_parser("omniglot", help="N-way K-shot Omniglot classification")
    to.add_argument("--algorithm", choices=algorithms.names("omniglot"),
                    help="required unless --preset names one")
    to.add_argument("--preset", choices=tuple(PRESETS),
                    help="start from a named setup (hw15: ML2022 Spring HW15's MAML); the "
                         "options given here override its values")
    to.add_argument("--ways", type=int, dest="n_way", help="N classes per task (default 5)")
    to.add_argument("--shots", type=int, dest="k_shot")
    to.add_argument("--queries", type=int, dest="n_query", help="query images per class")
    to.add_argument("--iterations", type=int)
    to.add_argument("--meta-batch-size", type=int)
    to.add_argument("--inner-lr", type=float)
    to.add_argument("--inner-steps", type=int)
    to.add_argument("--test-inner-steps", type=int)
    to.add_argument("--meta-lr", type=float)
    # Reptile's paper setup (its defaults for --algorithm reptile; see mamlviz/config.py).
    to.add_argument("--train-shots", type=int, help="shots per class of a training task")
    to.add_argument("--inner-optimizer", choices=("sgd", "adam"))
    to.add_argument("--inner-batch", type=int, help="support images per inner step")
    to.add_argument("--test-inner-batch", type=int)
    to.add_argument("--inner-moments", choices=INNER_MOMENTS,
                    help="Adam's inner moments: afresh for every task, or kept from task to "
                         "task and into testing (Reptile's code)")
    to.add_argument("--inner-lam", type=float,
                    help="iMAML: the pull towards phi inside the inner steps (0: plain steps; "
                         "default: its lam, or its Omniglot setting)")
    to.add_argument("--meta-lr-final", type=float,
                    help="anneal the meta learning rate linearly to this")
    to.add_argument("--protocol", choices=("maml", "lake"))
    to.add_argument("--rotations", action=argparse.BooleanOptionalAction,
                    help="meta-train on each character turned by 0, 90, 180 and 270 degrees "
                         "as four classes (default: the protocol's choice, on for maml, off "
                         "for lake; testing keeps the protocol's)")
    to.add_argument("--train-ways", type=int,
                    help="classes per meta-training task (default: --ways); protonet only, "
                         "as its paper's 60-way training for 5- and 20-way tests")
    to.add_argument("--train-episodes", choices=EPISODES,
                    help="meta-training tasks: random (default), or within-alphabet: N "
                         "characters of one training alphabet, as Lake et al. build their "
                         "testing runs (with --rotations, one turn for the whole task)")
    to.add_argument("--distort", action=argparse.BooleanOptionalAction,
                    help="meta-train on drawings each under a small random affine map "
                         "(Koch et al. 2015's distortions: turns up to 10 degrees, shears, "
                         "scales, shifts); testing drawings are never distorted")
    to.add_argument("--implementation", choices=IMPLEMENTATIONS)
    to.add_argument("--seed", type=int)
    to.add_argument("--log-every", type=int, default=10)
    to.add_argument("--device")
    to.add_argument("--omniglot", help="local Omniglot folder or zip (else $MAMLVIZ_OMNIGLOT "
                    "or a download of the official zips)")
    to.add_argument("--max-seconds", type=float, help="stop after this much wall time")
    to.add_argument("--out", required=True)
    to.add_argument("--json", action="store_true")
    for train_parser in (ts, to):
        train_parser.add_argument(
            "--resume", metavar="CHECKPOINT",
            help="go on training this checkpoint (its settings, weights, optimiser state and "
                 "step count) up to --iterations in all; other settings are ignored, but for "
                 "--meta-lr-final")

    ev = sub.add_parser("eval", help="evaluate a checkpoint on held-out tasks")
    ev_sub = ev.add_subparsers(dest="problem", required=True)
    es = ev_sub.add_parser("sinusoid")
    es.add_argument("--checkpoint", required=True)
    es.add_argument("--tasks", type=int, default=100)
    es.add_argument("--shots", type=int, dest="k_shot")
    es.add_argument("--steps", type=int, default=10)
    es.add_argument("--inner-lr", type=float)
    es.add_argument("--seed", type=int, default=2024)
    es.add_argument("--device")
    es.add_argument("--json", action="store_true")

    eo = ev_sub.add_parser("omniglot")
    eo.add_argument("--checkpoint", required=True)
    eo.add_argument("--tasks", type=int, default=600)
    eo.add_argument("--ways", type=int, dest="n_way")
    eo.add_argument("--shots", type=int, dest="k_shot")
    eo.add_argument("--steps", type=int, help="adaptation steps (default: the model's test steps)")
    eo.add_argument("--queries", type=int, dest="n_query",
                    help="query images per class (default: as the model was trained)")
    eo.add_argument("--inner-lr", type=float)
    eo.add_argument("--seed", type=int, default=2024)
    eo.add_argument("--device")
    eo.add_argument("--omniglot")
    eo.add_argument("--split", choices=("test", "train"), default="test",
                    help="characters the episodes come from: the testing ones (default) or "
                         "those meta-training saw (under- or over-fitting?)")
    eo.add_argument("--protocol", choices=("maml", "lake"),
                    help="the split the episodes come from (default: the model's own); lake: "
                         "the 20 evaluation alphabets")
    eo.add_argument("--episodes", choices=EPISODES, default="random",
                    help="random: N characters from anywhere in the split; within-alphabet: "
                         "N characters of one evaluation alphabet, support and query by "
                         "different drawers (Lake et al. 2015; implies --protocol lake)")
    eo.add_argument("--json", action="store_true")

    data = sub.add_parser("data", help="fetch or import, verify and preprocess a data set")
    data_sub = data.add_subparsers(dest="problem", required=True)
    do = data_sub.add_parser("omniglot")
    do.add_argument("--source", help="local folder or zip (else $MAMLVIZ_OMNIGLOT or download)")
    do.add_argument("--json", action="store_true")

    doctor = sub.add_parser("doctor", help="what this machine has: torch, data, checkpoints, "
                                           "browser (exit 1 if an essential is missing)")
    doctor.add_argument("--json", action="store_true")

    bench = sub.add_parser("bench", help="meta-steps per second against the naive loop")
    bench.add_argument("--quick", action="store_true")
    bench.add_argument("--problem", dest="rows", choices=("all", "sinusoid", "omniglot"),
                       default="all",
                       help="time only this problem's rows")
    bench.add_argument("--no-target", action="store_true",
                       help="skip the time-to-target MAML run")
    bench.add_argument("--device")
    bench.add_argument("--omniglot", help="local Omniglot folder or zip for the Omniglot rows")
    bench.add_argument("--json", action="store_true")

    figures = sub.add_parser("figures", help="every chapter's figures at its default settings, "
                                             "as files for slides (chapter-figure-lang.ext)")
    figures.add_argument("--out", required=True, help="folder to write them to")
    # No argparse choices: the languages are the app's catalogues (pages/locales/).
    figures.add_argument("--lang", help="only this language: en, zh, ... (default: all)")
    figures.add_argument("--presentation", action="store_true",
                         help="as presentation mode draws them: larger fonts and lines")
    # No argparse choices: an unknown format gets the same plain message as a bad --out.
    figures.add_argument("--format", default="png", help="png (3x scale, default), svg or pdf")
    figures.add_argument("--json", action="store_true")

    listing = sub.add_parser("algorithms", help="the registered algorithms")
    listing.add_argument("--json", action="store_true")
    return parser


def _train(args: argparse.Namespace) -> dict[str, Any]:
    from .config import TrainConfig
    from .progress import Progress
    from .runs import train_to_checkpoint

    settings: dict[str, Any] = {
        "problem": args.problem, "iterations": args.iterations,
        "meta_batch_size": args.meta_batch_size, "k_shot": args.k_shot, "n_query": args.n_query,
        "inner_lr": args.inner_lr, "inner_steps": args.inner_steps, "meta_lr": args.meta_lr,
        "seed": args.seed, "implementation": args.implementation, "log_every": args.log_every}
    if args.problem == "sinusoid" and args.phase_max is not None:
        settings["phase"] = (0.0, args.phase_max)
    if args.problem == "omniglot":
        settings.update(n_way=args.n_way, protocol=args.protocol,
                        test_inner_steps=args.test_inner_steps, train_shots=args.train_shots,
                        inner_optimizer=args.inner_optimizer, inner_batch=args.inner_batch,
                        test_inner_batch=args.test_inner_batch,
                        inner_moments=args.inner_moments, meta_lr_final=args.meta_lr_final,
                        inner_lam=args.inner_lam, rotations=args.rotations,
                        train_episodes=args.train_episodes, train_ways=args.train_ways,
                        distort=args.distort)
    preset = getattr(args, "preset", None)
    if preset is not None:
        from .config import preset_settings

        # The preset's values first; every option given on the command line wins.
        chosen = preset_settings(preset)
        settings = {**chosen, **{k: v for k, v in settings.items() if v is not None}}
        args.algorithm = args.algorithm or settings.pop("algorithm", None)
        settings.pop("algorithm", None)
    if args.algorithm is None:
        raise ConfigError("algorithm", "choose one with --algorithm (or a --preset that "
                          "names one)")
    config = TrainConfig.for_algorithm(args.algorithm, **settings)
    resume = None
    if args.resume:
        config, resume = _resumed(args, config.log_every)
    progress = Progress(config.iterations, f"{args.algorithm}", enabled=not args.json,
                        start=resume.steps if resume is not None else 0)
    last = None
    for record in train_to_checkpoint(config, args.out, device=args.device,
                                      omniglot=getattr(args, "omniglot", None),
                                      max_seconds=args.max_seconds, resume=resume):
        last = record
        progress.update(record.step, f"query loss {record.query_loss_after:.3f} "
                        f"{record.it_per_s:.1f} it/s")
    progress.close()
    assert last is not None
    summary = {**last.as_dict(json_safe=True), "checkpoint": args.out,
               "settings": config.to_dict()}
    if preset is not None:
        summary["preset"] = preset
    if last.status == "diverged":
        print(f"diverged at step {last.step}: the loss became NaN or infinite; try a smaller "
              f"learning rate. The last finite weights were saved to {args.out}", file=sys.stderr)
    return summary


def _resumed(args: argparse.Namespace, log_every: int) -> tuple[Any, Any]:
    """The config and checkpoint of a run to go on with: ``--resume`` plus ``--iterations``."""
    from .runs import load_checkpoint

    config, saved = load_checkpoint(args.resume, problem=args.problem)
    if config.algorithm != args.algorithm:
        raise ConfigError("resume", f"{args.resume} was trained with {config.algorithm}, "
                          f"not {args.algorithm}")
    iterations = args.iterations if args.iterations is not None else config.iterations
    if iterations <= saved.steps:
        raise ConfigError("iterations", f"{args.resume} already has {saved.steps} steps; ask "
                          f"for more than that in all (--iterations)")
    # How to compute is not part of the model: the machine that goes on decides (a run
    # fused on a GPU would otherwise compile for minutes on a CPU).
    implementation = getattr(args, "implementation", None) or "auto"
    config = config.replace(iterations=iterations, log_every=log_every,
                            implementation=implementation)
    # Annealing the meta learning rate is how a long run ends, so a run that goes on may
    # take it up. The schedule counts from step 0: at step t of T the rate is
    # meta_lr + (final - meta_lr) * t / T, so it starts part of the way down.
    if getattr(args, "meta_lr_final", None) is not None:
        config = config.replace(meta_lr_final=args.meta_lr_final)
    return config, saved


def _eval(args: argparse.Namespace) -> dict[str, Any]:
    from .runs import evaluate_checkpoint

    extra: dict[str, Any] = {}
    if args.problem == "omniglot":
        extra = {"omniglot": args.omniglot, "n_way": args.n_way, "split": args.split,
                 "n_query": args.n_query, "protocol": args.protocol, "episodes": args.episodes}
    result = evaluate_checkpoint(args.checkpoint, problem=args.problem, tasks=args.tasks,
                                 k_shot=args.k_shot, steps=args.steps, seed=args.seed,
                                 inner_lr=args.inner_lr, device=args.device, **extra)
    if not args.json:
        ways = f"{result['ways']}-way " if "ways" in result else ""
        held_out = "training-character" if result.get("split") == "train" else "held-out"
        print(f"{result['algorithm']} on {result['tasks']} {held_out} {ways}tasks, "
              f"K={result['shots']}, {result['device']}")
        name = "accuracy" if "accuracy_by_step" in result else "query MSE"
        values = result["accuracy_by_step" if "accuracy_by_step" in result else "mse_by_step"]
        for s, (m, c) in enumerate(zip(values, result["ci95_by_step"])):
            print(f"  after {s:2d} steps: {name} {m:.4f} +/- {c:.4f}")
        if "characters_seen_in_training" in result:
            print(f"  {result['episodes']} episodes, {result['protocol']} split: "
                  f"{result['characters_seen_in_training']} of their {result['characters']} "
                  f"characters were meta-training characters of this model")
        if "training_split" in result:
            check = result["training_split"]
            print(f"  training split: {check['status']} ({check['detail']})")
    return result


def _data(args: argparse.Namespace) -> dict[str, Any]:
    from .data import prepare

    report = prepare(args.source, progress=not args.json)
    if not args.json:
        print(json.dumps(report, indent=2))
    return report


def _bench(args: argparse.Namespace) -> dict[str, Any]:
    from .bench import omniglot_rows, sinusoid_rows, time_to_target
    from .device import describe, pick_device
    from .errors import DataError

    rows = [] if args.rows == "omniglot" else sinusoid_rows(quick=args.quick,
                                                               device=args.device)
    result: dict[str, Any] = {"device": describe(pick_device(args.device)), "rows": rows}
    try:
        if args.rows != "sinusoid":
            rows += omniglot_rows(quick=args.quick, device=args.device, omniglot=args.omniglot)
    except DataError as exc:
        result["omniglot_skipped"] = str(exc)
        print(f"Omniglot rows skipped: {exc}", file=sys.stderr)
    if not args.no_target and args.rows != "omniglot":
        result["time_to_target"] = time_to_target(device=args.device)
    if not args.json:
        print(f"{'problem':10} {'setting':26} {'algorithm':9} {'implementation':14} "
              f"{'it/s':>9} {'x naive':>8} {'warm-up s':>9} {'peak MB':>8}")
        for r in rows:
            print(f"{r['problem']:10} {r.get('setting', 'K=10, batch 25'):26} "
                  f"{r['algorithm']:9} {r['implementation']:14} {r['it_s']:9.2f} "
                  f"{r['speedup_vs_naive']:8.1f} {r['warmup_s']:9.2f} {r['peak_memory_mb']:8.0f}")
        if "time_to_target" in result:
            t = result["time_to_target"]
            print(f"MAML to 1-step query MSE < {t['target_mse']}: "
                  f"{'reached' if t['reached'] else 'NOT reached'} in {t['wall_s']:.1f} s "
                  f"({t['steps']} steps, MSE {t['mse_1_step']:.3f} +/- {t['ci95']:.3f}, "
                  f"{t['implementation']})")
    return result


def _algorithms(args: argparse.Namespace) -> dict[str, Any]:
    rows = [{"name": a.name, "label": a.label, "family": a.family,
             "problems": list(a.problems)} for a in algorithms.all_algorithms()]
    if not args.json:
        for r in rows:
            print(f"{r['name']:10} {r['label']:18} {r['family']:15} {', '.join(r['problems'])}")
    return {"algorithms": rows}


def _figures(args: argparse.Namespace) -> dict[str, Any]:
    import time

    from .figures import export

    fmt = export.check_format(args.format)  # checked already (_check_figures); normalised
    out = export.check_out(args.out)
    # The chapters are the catalogue: each is run as a first visit draws it, so the files
    # are the figures the class sees (pages/_catalogue.py says why). Imported here only:
    # the rest of mamlviz never needs the app.
    from pages import _catalogue, _i18n

    start = time.perf_counter()
    counts: dict[str, dict[str, int]] = {}
    files = []
    for lang in [args.lang] if args.lang else list(_i18n.languages()):
        rows = []
        for chapter in _catalogue.chapter_names():
            shown = _catalogue.chapter_figures(chapter, lang, args.presentation)
            counts.setdefault(chapter, {})[lang] = len(shown)
            rows += [(chapter, name, lang, fig) for name, fig in shown]
            print(f"{chapter} ({lang}): {len(shown)} figures", file=sys.stderr)
        files += export.write(rows, out, fmt)
    seconds = time.perf_counter() - start
    print(f"{len(files)} figures in {out} ({seconds:.0f} s)", file=sys.stderr)
    return {"out": str(out), "format": fmt, "counts": counts, "files": [f.name for f in files],
            "seconds": round(seconds, 1)}


# -- validation: each command's settings, checked before it does any work -----------------------

def _check_device(args: argparse.Namespace) -> None:
    from .device import pick_device

    pick_device(args.device)


def _check_train(args: argparse.Namespace) -> None:
    from .checkpoint import check_writable

    check_writable(args.out)
    _check_device(args)
    if args.max_seconds is not None and not args.max_seconds > 0:
        raise ConfigError("max_seconds", f"must be positive, got {args.max_seconds}")


def _check_eval(args: argparse.Namespace) -> None:
    from .runs import check_evaluation

    _check_device(args)
    check_evaluation(args.tasks, 0 if args.steps is None else args.steps,
                     0.0 if args.inner_lr is None else args.inner_lr, args.seed)


def _check_nothing(args: argparse.Namespace) -> None:
    """``data``: its source is checked by the importer itself, before anything is written;
    ``algorithms`` only lists."""


def _check_figures(args: argparse.Namespace) -> None:
    """A bad folder or format, or no renderer, refused before any chapter runs."""
    from .figures import export

    export.check_format(args.format)
    if args.lang is not None:
        from pages import _i18n  # the app's catalogues: this command runs its chapters

        if args.lang not in _i18n.languages():
            raise ConfigError("--lang", f"{args.lang!r} is not one of "
                                        f"{', '.join(_i18n.languages())}")
    export.check_out(args.out, create=False)  # the reader's mistake before the machine's
    reason = export.missing_renderer()
    if reason is not None:
        raise MamlvizError(reason)
    export.check_out(args.out)  # last: it creates the folder


CHECKS = {"train": _check_train, "eval": _check_eval, "bench": _check_device,
          "data": _check_nothing, "figures": _check_figures,
          "algorithms": _check_nothing}

COMMANDS = {("train", "sinusoid"): _train, ("train", "omniglot"): _train,
            ("eval", "sinusoid"): _eval, ("eval", "omniglot"): _eval,
            ("data", "omniglot"): _data, ("bench", None): _bench,
            ("figures", None): _figures, ("algorithms", None): _algorithms}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":  # before torch: a broken torch is one of the things it reports
        from .doctor import main as doctor

        return doctor(json_out=args.json)
    import torch

    torch.set_num_threads(int(os.environ.get("MAMLVIZ_THREADS", "1")))
    handler = COMMANDS[(args.command, getattr(args, "problem", None))]
    try:
        CHECKS[args.command](args)
        result = handler(args)
    except MamlvizError as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        if getattr(args, "json", False):
            _emit_json({"error": str(exc), "field": getattr(exc, "field", None)})
        return EXIT_BAD_INPUT
    except OSError as exc:  # settings were fine; the machine was not (a full disk, say)
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        _emit_json(result)
    return EXIT_DIVERGED if result.get("status") == "diverged" else EXIT_DONE


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__

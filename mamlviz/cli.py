"""The command line: ``mamlviz`` (or ``python -m mamlviz``).

    mamlviz train sinusoid --algorithm {maml,fomaml,reptile,pretrain} ... --out FILE
    mamlviz eval sinusoid --checkpoint FILE [--tasks T] [--shots K] [--steps S] [--json]
    mamlviz bench [--quick] [--json]

Progress goes to stderr; with ``--json`` the last line of stdout is one JSON
object, so scripts (and the tests) can read results without parsing prose.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from .algorithms import ALGORITHMS
from .errors import ConfigError, MamlvizError


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mamlviz", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="meta-train a model and save a checkpoint")
    train_sub = train.add_subparsers(dest="problem", required=True)
    ts = train_sub.add_parser("sinusoid", help="the MAML paper's sinusoid regression")
    ts.add_argument("--algorithm", required=True, choices=ALGORITHMS)
    ts.add_argument("--iterations", type=int)
    ts.add_argument("--meta-batch-size", type=int)
    ts.add_argument("--shots", type=int, dest="k_shot", help="K support points per task")
    ts.add_argument("--queries", type=int, dest="n_query", help="query points per task")
    ts.add_argument("--inner-lr", type=float)
    ts.add_argument("--inner-steps", type=int)
    ts.add_argument("--meta-lr", type=float)
    ts.add_argument("--phase-max", type=float,
                    help="largest phase b (paper: pi; the lecture and Reptile: 2 pi)")
    ts.add_argument("--implementation", choices=("auto", "compiled", "traced", "vmap", "loop"))
    ts.add_argument("--seed", type=int)
    ts.add_argument("--log-every", type=int, default=100)
    ts.add_argument("--device")
    ts.add_argument("--out", required=True)
    ts.add_argument("--json", action="store_true")

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

    bench = sub.add_parser("bench", help="meta-steps per second against the naive loop")
    bench.add_argument("--quick", action="store_true")
    bench.add_argument("--no-target", action="store_true",
                       help="skip the time-to-target MAML run")
    bench.add_argument("--device")
    bench.add_argument("--json", action="store_true")
    return parser


def _train_sinusoid(args: argparse.Namespace) -> dict[str, Any]:
    import math as _math

    from .config import TrainConfig
    from .progress import Progress
    from .runs import train_to_checkpoint

    phase = None if args.phase_max is None else (0.0, args.phase_max)
    if phase is not None and not _math.isfinite(args.phase_max):
        raise ConfigError("phase_max", "must be a finite number")
    config = TrainConfig.for_algorithm(
        args.algorithm, iterations=args.iterations, meta_batch_size=args.meta_batch_size,
        k_shot=args.k_shot, n_query=args.n_query, inner_lr=args.inner_lr,
        inner_steps=args.inner_steps, meta_lr=args.meta_lr, seed=args.seed, phase=phase,
        implementation=args.implementation, log_every=args.log_every)
    progress = Progress(config.iterations, f"{args.algorithm}", enabled=not args.json)
    last = None
    for record in train_to_checkpoint(config, args.out, device=args.device):
        last = record
        progress.update(record.step, f"query mse {record.query_loss_after:.3f} "
                        f"{record.it_per_s:.0f} it/s")
    progress.close()
    assert last is not None
    summary = {**last.as_dict(json_safe=True), "checkpoint": args.out}
    if last.status == "diverged":
        print(f"diverged at step {last.step}: the loss became NaN or infinite; try a smaller "
              f"learning rate. The last finite weights were saved to {args.out}", file=sys.stderr)
    return summary


def _eval_sinusoid(args: argparse.Namespace) -> dict[str, Any]:
    from .runs import evaluate_checkpoint

    result = evaluate_checkpoint(args.checkpoint, tasks=args.tasks, k_shot=args.k_shot,
                                 steps=args.steps, seed=args.seed, inner_lr=args.inner_lr,
                                 device=args.device)
    if not args.json:
        print(f"{result['algorithm']} on {result['tasks']} held-out tasks, K={result['shots']}, "
              f"{result['device']}")
        for s, (m, c) in enumerate(zip(result["mse_by_step"], result["ci95_by_step"])):
            print(f"  after {s:2d} steps: query MSE {m:.3f} +/- {c:.3f}")
    return result


def _bench(args: argparse.Namespace) -> dict[str, Any]:
    from .bench import sinusoid_rows, time_to_target
    from .device import describe, pick_device

    rows = sinusoid_rows(quick=args.quick, device=args.device)
    result: dict[str, Any] = {"device": describe(pick_device(args.device)), "rows": rows}
    if not args.no_target:
        result["time_to_target"] = time_to_target(device=args.device)
    if not args.json:
        print(f"{'problem':10} {'algorithm':9} {'implementation':14} {'it/s':>9} "
              f"{'x naive':>8} {'warm-up s':>9}")
        for r in rows:
            print(f"{r['problem']:10} {r['algorithm']:9} {r['implementation']:14} "
                  f"{r['it_s']:9.1f} {r['speedup_vs_naive']:8.1f} {r['warmup_s']:9.2f}")
        if "time_to_target" in result:
            t = result["time_to_target"]
            print(f"MAML to 1-step query MSE < {t['target_mse']}: "
                  f"{'reached' if t['reached'] else 'NOT reached'} in {t['wall_s']:.1f} s "
                  f"({t['steps']} steps, MSE {t['mse_1_step']:.3f} +/- {t['ci95']:.3f}, "
                  f"{t['implementation']})")
    return result


COMMANDS = {("train", "sinusoid"): _train_sinusoid, ("eval", "sinusoid"): _eval_sinusoid,
            ("bench", None): _bench}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    import torch

    torch.set_num_threads(int(os.environ.get("MAMLVIZ_THREADS", "1")))
    handler = COMMANDS[(args.command, getattr(args, "problem", None))]
    try:
        result = handler(args)
    except MamlvizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if getattr(args, "json", False):
            _emit_json({"error": str(exc), "field": getattr(exc, "field", None)})
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        _emit_json(result)
    return 0

"""Writes README.md here (the model card) from the train/eval JSON files beside it.

Every number in the card is what `mamlviz train ... --json` and
`mamlviz eval ... --json` printed for the shipped files; rerun this after
re-training: python assets/checkpoints/model_card.py
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1]))  # this tree's mamlviz, not an installed one

from mamlviz.algorithms import all_algorithms  # noqa: E402
from mamlviz.algorithms.imaml import ALGORITHM as IMAML  # noqa: E402
from mamlviz.algorithms.maml import ALGORITHM as MAML  # noqa: E402
from mamlviz.algorithms.metasgd import ALGORITHM as METASGD  # noqa: E402
from mamlviz.algorithms.reptile import ALGORITHM as REPTILE  # noqa: E402
from mamlviz.config import TrainConfig  # noqa: E402
from mamlviz.human_vs_model import PUBLISHED_ERRORS  # noqa: E402
from mamlviz.inner import RATES  # noqa: E402

ALGORITHMS = tuple(a.name for a in all_algorithms())
# The MAML family's 20-way Lake-protocol models (retrain_faithful_gpu.sh, or small CPU runs).
LAKE_20W = ("maml", "fomaml", "reptile", "pretrain")
# Omniglot 1-shot accuracy in percent, each algorithm's paper (``Algorithm.paper``).
PAPER = {(a.name, ways): a.paper[(ways, 1)] for a in all_algorithms() for ways in (5, 20)
         if (ways, 1) in a.paper}


def _read(name: str) -> dict | None:
    path = HERE / name
    if not path.exists() or not path.read_text().strip():
        return None
    return json.loads(path.read_text())


def _mse(mean: float | None, ci: float | None) -> str:
    """A mean query MSE with its CI; NaN or infinite (JSON null) or past 1e3: diverged."""
    if mean is None or ci is None or mean > 1e3:
        return "diverged"
    return f"{mean:.3f} ± {ci:.3f}"


def imaml_25() -> str:
    """iMAML's sinusoid MSE after the 25 steps it trains with, from its JSON."""
    r = _read("sinusoid_imaml.25-steps.eval.json")
    if not r:
        return "(not scored)"
    return f"{_mse(r['mse_by_step'][25], r['ci95_by_step'][25])} after 25 steps"


def sinusoid_rows() -> list[str]:
    rows = ["| algorithm | meta-iterations | wall time (s) | query MSE, 0 steps | 1 step | "
            "10 steps |", "|---|---:|---:|---:|---:|---:|"]
    for algorithm in ALGORITHMS:
        train, result = _read(f"sinusoid_{algorithm}.train.json"), \
            _read(f"sinusoid_{algorithm}.eval.json")
        if not train or not result:
            continue
        m, c = result["mse_by_step"], result["ci95_by_step"]
        rows.append(f"| {algorithm} | {train['step']:,} | {train['elapsed_s']:.0f} | "
                    f"{_mse(m[0], c[0])} | {_mse(m[1], c[1])} | {_mse(m[10], c[10])} |")
    return rows


def omniglot_files(first: str, second: str) -> Iterator[tuple[str, int, str, dict, dict]]:
    """(algorithm, ways, name, JSON, JSON) of every shipped Omniglot model that has both
    ``{name}.{first}.json`` and ``{name}.{second}.json``, in the table's order."""
    for ways in (5, 20):
        for algorithm in ALGORITHMS:
            name = f"omniglot_{algorithm}_{ways}w1s"
            a, b = _read(f"{name}.{first}.json"), _read(f"{name}.{second}.json")
            if a and b:
                yield algorithm, ways, name, a, b


def omniglot_rows() -> list[str]:
    rows = ["| file | meta-iterations | wall time (s) | device | test steps | accuracy (600 "
            "tasks) | paper |", "|---|---:|---:|---|---:|---:|---:|"]
    for algorithm, ways, name, train, result in omniglot_files("train", "eval"):
        rows.append(f"| `{name}.pt` | {train['step']:,} | {train['elapsed_s']:.0f} | "
                    f"{train['device']} | {result['steps']} | "
                    f"{100 * result['accuracy']:.1f} ± {100 * result['ci95']:.1f} % | "
                    f"{PAPER.get((algorithm, ways), '—')} |")
    return rows


# Lake et al. (2015), within-alphabet 20-way 1-shot error (%), as the game shows them.
LAKE_REFERENCES = tuple(zip(("people (Lake et al. 2015)", "Bayesian Program Learning",
                             "Siamese networks (Koch et al. 2015)"),
                            (PUBLISHED_ERRORS[k] for k in ("people", "bpl", "siamese"))))


def _err(r: dict) -> str:
    """'E ± C %': a classification result's error after its last step, with its 95% CI."""
    return f"{100 * (1 - r['accuracy']):.1f} ± {100 * r['ci95']:.1f} %"


def _error(name: str) -> str:
    """The error of a scored file (:func:`_err`), or 'not scored'."""
    r = _read(name)
    return _err(r) if r else "not scored"


def _by_step(name: str) -> str:
    """A scored file's error after each adaptation step, comma-separated."""
    r = _read(name)
    return ", ".join(f"{100 * (1 - a):.1f}" for a in r["accuracy_by_step"][1:]) if r else "-"


def within_alphabet_rows() -> list[str]:
    """The within-alphabet scores of every model that has a ``.within-alphabet.eval.json``
    (the Lake-protocol ``_lake`` models too, once trained), beside the published ones."""
    rows = ["| file | trained on | error (within-alphabet, 1 shot) | episodes x queries | "
            "episode characters seen in meta-training |", "|---|---|---:|---:|---:|"]
    for ways in (20,):  # Lake's runs are 20-way, as the published errors below
        for algorithm in ALGORITHMS:
            for suffix in ("_lake", ""):
                name = f"omniglot_{algorithm}_{ways}w1s{suffix}"
                r = _read(f"{name}.within-alphabet.eval.json")
                if not r:
                    continue
                trained = ("Lake: background alphabets" if r["trained_protocol"] == "lake"
                           else "MAML split: **contaminated**")
                rows.append(f"| `{name}.pt` | {trained} | {_err(r)} | {r['tasks']} x "
                            f"{r['ways'] * r['queries']} | {r['characters_seen_in_training']} "
                            f"of {r['characters']} |")
    rows += [f"| {who} | — | {error:.1f} % | — | — |" for who, error in LAKE_REFERENCES]
    return rows


def reptile_runs() -> str:
    """'N meta-iterations in T min' for each shipped Reptile model, from its train JSON
    (which names only the last run's device)."""
    runs = []
    for ways in (5, 20):
        train = _read(f"omniglot_{REPTILE.name}_{ways}w1s.train.json")
        if train:
            runs.append(f"{ways}-way: {train['step']:,} meta-iterations in "
                        f"{train['elapsed_s'] / 60:.0f} min in all, "
                        f"the last run on {train['device']}")
    return "; ".join(runs) or "none yet"


def maml_goal() -> str:
    """Each MAML model against the goal (>= 98% at 5-way, >= 95% at 20-way), with its own
    test steps and, where a ``.10-steps.eval.json`` is shipped, the paper code's 10."""

    def score(result: dict) -> str:
        return f"{100 * result['accuracy']:.2f} ± {100 * result['ci95']:.2f} %"

    def verdict(result: dict, goal: float) -> str:
        ours, ci = 100 * result["accuracy"], 100 * result["ci95"]
        if ours >= goal:
            return "reaches it"
        return (f"{goal - ours:.2f} points short of it"
                + (", within its 95% interval" if ours + ci >= goal else ""))

    goals = {5: 98.0, 20: 95.0}
    lines = []
    for algorithm, ways, name, train, result in omniglot_files("train", "eval"):
        if algorithm != MAML.name or ways not in goals:
            continue
        goal = goals[ways]
        own = f"with {result['steps']} test steps (its setting)"
        line = f"- {ways}-way 1-shot MAML, after {train['step']:,} meta-iterations: "
        longer = _read(f"{name}.10-steps.eval.json")
        if longer and longer["steps"] > result["steps"]:
            paper = (f"with {longer['steps']} test steps, as the paper's code tests "
                     f"Omniglot (`--steps {longer['steps']}`)")
            line += f"{score(longer)} {paper}: {verdict(longer, goal)}; "
        line += f"{score(result)} {own}: {verdict(result, goal)}"
        lines.append(textwrap.fill(line + ".", width=88, subsequent_indent="  "))
    return "\n".join(lines) or "- no MAML model yet"


def reptile_verdict() -> str:
    """Each Reptile model against its paper: within the two 95% intervals, or below."""
    parts = []
    for ways, paper_steps in ((5, 100_000), (20, 200_000)):
        train = _read(f"omniglot_{REPTILE.name}_{ways}w1s.train.json")
        result = _read(f"omniglot_{REPTILE.name}_{ways}w1s.eval.json")
        if not train or not result:
            continue
        ours, ours_ci = 100 * result["accuracy"], 100 * result["ci95"]
        paper, paper_ci = (float(x) for x in PAPER[(REPTILE.name, ways)].split(" ± "))
        verdict = ("matches" if abs(ours - paper) <= ours_ci + paper_ci
                   else f"is {paper - ours:.1f} points below")
        parts.append(f"the {ways}-way model {verdict} its paper ({ours:.1f} ± {ours_ci:.1f} % "
                     f"against {PAPER[(REPTILE.name, ways)]}) after "
                     f"{100 * train['step'] / paper_steps:.3g}% of its paper's meta-iterations")
    return "; ".join(parts) or "no Reptile model yet"


def reptile_steps() -> str:
    """Reptile's accuracy after 10 and after all of its test steps, from its eval JSON."""
    parts = []
    for ways in (5, 20):
        result = _read(f"omniglot_{REPTILE.name}_{ways}w1s.eval.json")
        if result and len(result["accuracy_by_step"]) > 10:
            by_step = result["accuracy_by_step"]
            parts.append(f"{ways}-way {100 * by_step[10]:.1f}% after 10 steps and "
                         f"{100 * by_step[-1]:.1f}% after {len(by_step) - 1}")
    return "; ".join(parts) or "no Reptile model yet"


# The 1-shot goals (percent) for the models trained on a CPU.
CPU_GOALS = {("protonet", 5): 98.5, ("protonet", 20): 95.0, ("anil", 5): 98.0,
             ("anil", 20): 93.0, ("metasgd", 5): 99.0, ("metasgd", 20): 95.0,
             ("imaml", 5): 98.5, ("imaml", 20): 93.0}
# The models whose every meta-step differentiates through the whole network, trained on
# a CPU by train_metasgd_imaml_cpu.sh.
SECOND_ORDER_CPU = (METASGD.name, IMAML.name)


def cpu_goals() -> str:
    """'name: A ± C % (goal G: met/not met)' for each goal, or 'not trained'."""
    out = []
    for (algorithm, ways), goal in CPU_GOALS.items():
        name = f"omniglot_{algorithm}_{ways}w1s"
        r = _read(f"{name}.eval.json")
        if r is None:
            out.append(f"`{name}` not trained (goal {goal:g} %)")
            continue
        score = 100 * r["accuracy"]
        out.append(f"`{name}` {score:.2f} ± {100 * r['ci95']:.2f} % (goal {goal:g} %: "
                   f"{'met' if score >= goal else 'not met'})")
    return "; ".join(out)


def learned_rates(name: str, start: float) -> str:
    """A Meta-SGD model's learned step sizes (all ``start`` at first): the median of each
    layer's weights' rates, first to last, and the share below zero (those weights move
    uphill on the support loss)."""
    import torch

    phi = torch.load(HERE / f"{name}.pt", weights_only=True)["phi"]
    rates = {k.removeprefix(RATES): v for k, v in phi.items() if k.startswith(RATES)}
    weights = [k for k in rates if k.endswith(".weight") and "norm" not in k]
    medians = ", ".join(f"{rates[k].median().item():.2f}" for k in weights)
    every = torch.cat([v.flatten() for v in rates.values()])
    negative = 100 * (every < 0).float().mean().item()
    return (f"its {every.numel():,} step sizes, all {start:.1f} at the start, have "
            f"medians {medians} on the weights of its layers, first to last; {negative:.1f}% "
            f"of them are negative (those weights move uphill on the support loss)")


def more_steps() -> str:
    """Each Meta-SGD model's accuracy after each of five test steps, where shipped."""
    parts = []
    for ways in (5, 20):
        r = _read(f"omniglot_{METASGD.name}_{ways}w1s.5-steps.eval.json")
        if r is not None:
            by_step = ", ".join(f"{100 * a:.1f}" for a in r["accuracy_by_step"][1:])
            parts.append(f"{ways}-way {by_step} % after 1 to 5 steps")
    return "; ".join(parts) or "not measured"


def second_order_runs() -> str:
    """One line per Meta-SGD / iMAML model: its settings, meta-iterations and wall time,
    read from its train JSON, or that it is not trained."""
    lines = []
    for ways in (5, 20):
        for algorithm in SECOND_ORDER_CPU:
            name = f"omniglot_{algorithm}_{ways}w1s"
            train = _read(f"{name}.train.json")
            if train is None:
                lines.append(f"- `{name}`: not trained (no GPU lent, no CPU time left)")
                continue
            c = train["settings"]
            steps = TrainConfig.from_dict(c).steps_at_test
            lines.append(
                f"- `{name}`: meta-batch {c['meta_batch_size']}, {c['n_query']} "
                f"quer{'y' if c['n_query'] == 1 else 'ies'} a class, {c['inner_steps']} "
                + ("plain " if c.get("inner_lam") == 0 else "")
                + f"inner step{'s' if c['inner_steps'] != 1 else ''} of {c['inner_lr']:.1f} "
                f"({steps} at test), Adam {c['meta_lr']:g} annealed towards "
                f"{c['meta_lr_final']:g} over {c['iterations']:,} meta-iterations; "
                + (f"stopped by its time limit at {train['step']:,}"
                   if train["step"] < c["iterations"] else "all of them")
                + f" in {train['elapsed_s']:,.0f} s on the {train['device']}"
                + (f"; {learned_rates(name, c['inner_lr'])}" if algorithm == METASGD.name else ""))
    return "\n".join(lines)


def lake_protonet() -> str:
    """The Lake-protocol ProtoNets model's two scores, from its eval JSONs."""
    name = "omniglot_protonet_20w1s_lake"
    train, within = _read(f"{name}.train.json"), _read(f"{name}.within-alphabet.eval.json")
    random = _read(f"{name}.lake-random.eval.json")
    if not (train and within and random):
        return "none yet"
    settings = train["settings"]
    turned = (", every background character turned four ways as four classes "
              "(`--rotations`)" if settings.get("rotations") else "")
    alphabet = (", each episode 20 characters of one background alphabet (all turned "
                "alike), support and query by different drawers, as the test's "
                "(`--train-episodes within-alphabet`)"
                if settings.get("train_episodes") == "within-alphabet" else "")
    distorted = (", every training drawing under a small random affine map of its own "
                 "(`--distort`: Koch et al. 2015's turns, shears, scales and shifts)"
                 if settings.get("distort") else "")
    ways = settings.get("train_ways") or settings["n_way"]
    return (f"`{name}.pt`, ProtoNets meta-trained on the 30 background alphabets alone "
            f"(`bash assets/checkpoints/train_protonet_lake_cpu.sh`: {train['step']:,} "
            f"episodes of {ways}-way 1-shot, {settings['n_query']} queries a class{turned}"
            f"{alphabet}{distorted}, in {train['elapsed_s']:.0f} s on the 2-core CPU, one "
            f"thread). "
            f"Its stored split "
            f"matches the protocol and none of the episodes' {within['characters']} "
            f"characters was in its meta-training. On {within['tasks']} within-alphabet "
            f"episodes it errs {_err(within)} (the table); on {random['tasks']} random 20-way "
            f"episodes of the same evaluation alphabets, {_err(random)}. Telling apart the "
            f"characters of one alphabet is "
            f"what makes Lake's runs hard, and this model, after "
            f"{train['elapsed_s'] / 60:.0f} minutes of a CPU, is far from people's 4.5 %. "
            "Five 1,200 s runs of 20-way 1-shot ProtoNets, 5 queries a class, Adam 0.001 "
            "annealed towards 0.0001 over 40,000 episodes (the time limit stops each before), "
            "scored on the same 300 within-alphabet episodes (2026-12-07), tell what the "
            "training episodes should be: upright characters in random episodes, "
            "22.7 ± 1.4 %; upright characters in within-alphabet episodes, 25.6 ± 1.4 %; "
            "turned characters in random episodes, 19.1 ± 1.4 %; turned characters in "
            "within-alphabet episodes, one turn for the whole episode (16,397 episodes), "
            "17.2 ± 1.2 %; turned characters in random 60-way episodes (`--train-ways 60`, as "
            "the ProtoNets paper trains; 5,889 episodes), 17.9 ± 1.2 %. More classes help: "
            "turning the characters makes four times as many, and with them within-alphabet "
            "episodes, harmful on 30 upright alphabets, help on 120 turned ones, about as "
            "much as three times the ways. A sixth run (2026-12-08) took the fourth's "
            "schedule to the same 16,397 episodes with every training drawing distorted "
            "(`--distort`): 16.2 ± 1.2 % on the same 300 episodes. Two longer runs on turned "
            "within-alphabet episodes, scored on the same 600: 56,000 episodes undistorted "
            "in 3,437 s, 17.2 ± 0.9 % (the model before this one; the one before that, on "
            "random episodes, 35,257 episodes in 2,700 s, 17.5 ± 0.9 %); 40,000 episodes "
            "distorted in 3,648 s, 15.2 ± 0.8 % (this model). This model then went on "
            "(`continue_cpu.sh omniglot_protonet_20w1s_lake 70000 0.0001 2400`, the rate "
            "restarted at 0.00049) to 70,000 episodes, 5,845 s in all: 15.2 ± 0.8 % on the "
            "same 600 within-alphabet episodes and 5.6 ± 0.4 % on the 600 random ones, no "
            "gain, so the 40,000-episode model stays. Undistorted, ProtoNets' Conv4 levelled "
            "off near 17 % at this budget; with Koch et al.'s distortions it levels off near "
            "15 %, two points lower, and Lake's 8 % needs more than this network and more "
            "CPU time")


def lake_20w_source() -> str:
    """Where the 20-way Lake-protocol models of the MAML family come from: the paper's
    setup on a GPU, small CPU runs, or not yet trained."""
    trained = {a: _read(f"omniglot_{a}_20w1s_lake.train.json") for a in LAKE_20W}
    if not all(trained.values()):
        return ("The 20-way `_lake` models of MAML, first-order MAML, Reptile and "
                "pre-training are not trained yet (`retrain_faithful_gpu.sh` trains and "
                "scores them in one GPU session; `train_lake_20w_cpu.sh` trains small ones "
                "on a CPU).")
    if any(t["device"] != "cpu" for t in trained.values()):
        return ("The 20-way `_lake` models of MAML, first-order MAML, Reptile and "
                "pre-training come from `retrain_faithful_gpu.sh` (the Lake table below).")
    minutes = ", ".join(f"{t['elapsed_s'] / 60:.0f}" for t in trained.values())
    return ("The 20-way `_lake` models of MAML, first-order MAML, Reptile and pre-training "
            "in the Lake table below are small CPU runs (no GPU has been lent since), by "
            "`bash assets/checkpoints/train_lake_20w_cpu.sh`, one thread each: every "
            "background character turned four ways as four classes (`--rotations`); MAML, "
            "first-order MAML and pre-training at meta-batch 8 (the paper's 16), three query "
            "images a class and one inner step of 2.0 while meta-training (the paper's five "
            "steps of its 0.1 on a summed loss; five at test time, as the paper), Reptile in "
            "its paper's setup but for its meta-iterations; " + minutes + " minutes of "
            "training (" + ", ".join(LAKE_20W) + "), the meta learning rate annealed over "
            "the meta-iterations a budget was expected to hold (the table gives those "
            "reached). " + lake_20w_resumed() + "A few thousand meta-iterations against "
            "the paper's 60,000: their rows say what a CPU hour gives, not what the methods "
            "can; `retrain_faithful_gpu.sh` trains the paper's setup where a GPU is lent.")


def lake_20w_resumed() -> str:
    """The 20-way Lake-protocol MAML model's second run and its score at the one step it
    was meta-trained with, where those files say so; first-order MAML's second run."""
    name = "omniglot_maml_20w1s_lake"
    train, one = _read(f"{name}.train.json"), _read(f"{name}.within-alphabet.1-step.eval.json")
    if not (train and one) or train["device"] != "cpu":
        return ""
    return ("MAML went on from its first 2,000 meta-iterations (1,162 s) with "
            "`continue_cpu.sh omniglot_maml_20w1s_lake 8000 0.0003 3600` (`--resume`: the "
            "rate annealed again over 8,000 in all, so it restarted at 0.0023), to "
            f"{train['step']:,} in {train['elapsed_s']:,.0f} s in all (the table). Its "
            "within-alphabet accuracy falls after the second step (one step, as it was "
            f"meta-trained: {_err(one)} error on the same {one['tasks']} episodes; the "
            "table's five, the paper's test setting, are worse), while on random episodes "
            "it holds from the second step to the fifth. First-order MAML, continued the "
            "same way (`continue_cpu.sh omniglot_fomaml_20w1s_lake 7200 0.0003 2400`, to "
            "6,442 meta-iterations on 2026-12-07), got worse: 89.1 ± 0.5 % within-alphabet "
            "and 82.6 ± 0.6 % random-episode error on the same 600 episodes each (with one "
            "first-order step of 2.0 in training, more meta-iterations did not help it), so "
            "its row is still its first run's. ")


def lake_rows() -> list[str]:
    """Every Lake-protocol (``_lake``) model with its scores on the evaluation alphabets:
    within-alphabet episodes (Lake's runs) and random episodes."""
    rows = ["| file | meta-iterations | seconds | device | error, within-alphabet | "
            "error, random episodes | episode characters seen in meta-training |",
            "|---|---:|---:|---|---:|---:|---:|"]
    for ways in (5, 20):
        for algorithm in ALGORITHMS:
            name = f"omniglot_{algorithm}_{ways}w1s_lake"
            train = _read(f"{name}.train.json")
            within = _read(f"{name}.within-alphabet.eval.json")
            random = _read(f"{name}.lake-random.eval.json")
            if not (train and within and random):
                continue

            def error(r: dict) -> str:
                return f"{_err(r)} ({r['tasks']} x {r['ways'] * r['queries']})"

            rows.append(f"| `{name}.pt` | {train['step']:,} | {train['elapsed_s']:.0f} | "
                        f"{train['device']} | {error(within)} | {error(random)} | "
                        f"{within['characters_seen_in_training']} of {within['characters']} |")
    return rows


def fit_check() -> str:
    """Models scored on their own training characters too (``--split train``): a score
    there near the testing one means the model under-fits; far above it, it over-fits."""
    rows, gaps, tasks = [], [], set()
    for _, _, name, seen, unseen in omniglot_files("train-split.eval", "eval"):
        tasks.add(seen["tasks"])
        gaps.append(100 * (seen["accuracy"] - unseen["accuracy"]))
        rows.append(f"| `{name}.pt` | {100 * unseen['accuracy']:.1f} ± "
                    f"{100 * unseen['ci95']:.1f} % | {100 * seen['accuracy']:.1f} ± "
                    f"{100 * seen['ci95']:.1f} % | {gaps[-1]:+.1f} |")
    if not rows:
        return ""
    # A few points is what new characters cost a model that fits its training tasks as
    # well as it can; far more is over-fitting.
    verdict = ("Each fits the tasks it was meta-trained on hardly better than new ones: "
               "these models under-fit rather than over-fit, so what brings them closer "
               "to their papers is a closer fit in meta-training (more meta-iterations), "
               "not better generalisation."
               if max(gaps) < 3 else "A gap of 3 points or more is over-fitting to the "
               "training characters.")
    counts = " or ".join(f"{n:,}" for n in sorted(tasks))
    return (f"\n\nThe models below, scored on {counts} tasks from the characters they were "
            "meta-trained on\n(`mamlviz eval omniglot --split train`, the same kind of "
            "episode), too:\n\n| file | testing characters | training characters | points "
            "more |\n|---|---:|---:|---:|\n" + "\n".join(rows) + "\n\n"
            + textwrap.fill(verdict, width=88))


def main() -> None:
    text = f"""# Shipped checkpoints (model card)

Written by `model_card.py` from the JSON that our own CLI printed while training
and evaluating these files. Each `.pt` holds phi, its settings and its training
metrics; it loads with `torch.load(weights_only=True)` (no pickled code).

## Sinusoid regression (MAML paper setup)

`bash assets/checkpoints/train_sinusoid.sh`: `mamlviz train sinusoid --algorithm A
--iterations 70000 --seed 0` (K = 10, meta-batch 25, inner rate 0.01, one inner step,
Adam 0.001; Reptile: five inner steps of 0.01 and SGD interpolation epsilon = 0.1;
Meta-SGD: its per-weight step sizes start at 0.01 and are meta-learned with phi,
for its one inner step, so more steps at test time can diverge; ANIL: MAML's settings,
the inner step moving the output layer only)
on one CPU thread, then `mamlviz eval sinusoid --tasks 600 --steps 10` (held-out
tasks, K = 10, 100 query points each). Query MSE with 95% confidence intervals:

{chr(10).join(sinusoid_rows())}

ANIL's one step lands short of MAML's (0.7 against 0.34): it adapts a linear read-out
of features fixed for every task, while a sinusoid's phase moves those features (Raghu
et al. measured feature reuse on images, not on this task); ten steps of the same size
overshoot on some tasks (the wide interval): the features were meta-trained for one.

iMAML has its own run (its registry defaults; `train_sinusoid.sh`): 25 inner steps of
0.002 pulled towards phi with lambda = 2, five steps of truncated conjugate gradient,
16,000 meta-iterations with the meta learning rate annealed linearly from 0.001 to
0.0001, in 367 s on one CPU thread. Its rate is a fifth of the others', so its columns
above are after 1 and 10 of *its* steps; after all 25 of its training steps it reaches
{imaml_25()} on the same 600 tasks, about MAML's one step, short of MAML's ten.

Why its own run. The implicit meta-gradient is blind to the inner steps, so
meta-training drifts to ever sharper phi until plain steps of a fixed size diverge. On
this MLP that happened after a summed meta learning rate of about 15, whatever the
setting (2026-12-06 and -07, seed 0, training query loss after adaptation): lambda = 2
with ten steps of 0.01 diverged at 3,033; twenty of 0.005 at 8,257; lambda = 10, twenty
of 0.005, at 1,437; lambda = 1, twenty of 0.005, at 8,082 (0.59 at 6,000); lambda = 100,
ten of 0.005, at 502; lambda = 10, 25 of 0.002, at 10,030; lambda = 2, 25 of 0.002, at
15,575 (0.25 at 14,000) and, with the rate annealed over 40,000 iterations, at 19,191;
Adam inner steps (lambda = 2, 20 of 0.01) did not diverge but stalled near 2.3. The
shipped run stops at a summed rate of 8.8. It is sensitive: the same settings through
the compiled step (the same maths, other rounding) ended at 0.530 ± 0.055 after 25
steps. Before truncated CG, plain conjugate gradient on the indefinite system
I + H / lambda (curvature below -lambda) learned nothing in 70,000 iterations: 4.884 ±
0.249 before adaptation, 14.431 ± 1.532 after one step.

## Omniglot 1-shot (the papers' settings, a fixed budget)

MAML, first-order MAML and pre-training: `bash assets/checkpoints/train_omniglot_gpu.sh`
on one NVIDIA H200, lent for 15 minutes in all. All eight runs (Reptile's too, since
replaced) trained at once on the one GPU (under MPS), each for 300 s of wall time:
`mamlviz train omniglot --algorithm A --ways N --shots 1 --queries 15 --iterations 60000
--max-seconds 300 --seed 0` (pre-training capped at 10,000 iterations). These are the
paper's meta-batch (32 at 5-way, 16 at 20-way), inner step counts (5-way: one step,
three at test; 20-way: five steps, five at test) and Adam 0.001, but not its inner step
sizes: 0.4 at 5-way and 0.1 at 20-way on our mean loss are the paper's 0.08 and 0.005
(its alpha is our inner_lr / N, `mamlviz/config.py`). Each run got only a share of the
GPU, and so a fraction of the paper's 60,000 meta-iterations.

The 20-way MAML model is a later run, with inner steps of 2.0. The paper's code sums
the cross-entropy over the N x K support images (divided by K) before its inner step;
ours takes their mean, so the paper's 0.1 at 20-way is 0.1 x 20 = 2.0 here (the default
now). Two H200 sessions' runs of `continue_omniglot_gpu.sh` on 2026-11-27: `mamlviz
train omniglot --algorithm maml --ways 20 --shots 1 --inner-lr 2.0 --iterations 60000
--max-seconds 420` beside another run under MPS, to 9,791 meta-iterations (94.3 ± 0.3 %);
then alone, `--resume omniglot_maml_20w1s.pt --iterations 19791 --meta-lr-final 0
--max-seconds 245`, the meta learning rate annealed linearly towards zero (from 0.00051
at the resumed step; the time limit stopped it at 14,190, at 0.00028). The first 20-way
MAML model, trained with inner steps of 0.1 for 14,691 meta-iterations (three runs,
880 s), scored 91.4 ± 0.3 %, and 93.1 ± 0.3 % after 7,000 more with the meta learning
rate annealed to zero in the same session, beside the new run.

Reptile: its own paper's setup (`OMNIGLOT` in `mamlviz/algorithms/reptile.py`: 10 training
drawings per class in mini-batches of 10 at 5-way and 20 at 20-way, 5 or 10 Adam steps
of 0.001 or 0.0005 with beta1 = 0 whose second moments are kept from task to task, as
its code keeps one Adam for the whole run, meta-batch 5, epsilon annealed linearly from
1 to 0, 50 Adam steps on the K = 1 test drawings at test time, starting from the trained
moments). The 5-way model and the first 42,000 meta-iterations of the 20-way model were
trained without a GPU by `bash assets/checkpoints/train_reptile_omniglot_cpu.sh`
(`mamlviz train omniglot --algorithm reptile --ways N --shots 1 --iterations I
--implementation fused`), on a 2-core CPU, one thread each, in four sessions: first both
side by side, 27,000 (5-way) and 7,500 (20-way) meta-iterations with epsilon annealed
over them (96.8 ± 0.4 % and 82.6 ± 0.4 %); then on from those checkpoints (`--resume`)
to 68,000 and 18,500 (97.8 ± 0.3 % and 86.8 ± 0.4 %); then the 20-way model alone to
32,000 (88.0 ± 0.3 %) and 42,000 (88.2 ± 0.4 %; 20,516 s on the CPU in all). The 20-way
model then went on from there on an H200 on 2026-11-27, by `continue_omniglot_gpu.sh` (`RESUME=
"reptile_20w1s+12000 reptile_20w1s+25000 reptile_20w1s+50000" RESUME_ARGS=""`: three
lengths side by side under MPS; the fused step ran at about 130 meta-iterations/s each
with three side by side and 240 alone):
to 54,000, 67,000 and 92,000 (88.4, 89.0 and 89.4 ± 0.3 %); the last took 364 s. From
92,000, in the same session: to 122,000 in 240 s (the shipped model; its
600 testing tasks scored 89.44 ± 0.34 % on the H200 and the same on a CPU) and, beside it, to
130,762 of 147,000 before the time limit stopped it (89.6 ± 0.3 %, epsilon not yet
annealed to zero, not shipped). Epsilon was annealed again over each longer run, so it
restarted at 0.60, 0.59, 0.42, 0.24, 0.54 and 0.25, which the paper's single run does not
do. {reptile_runs()}.
Its paper runs 100,000 and 200,000. Earlier models started Adam afresh for
every task; that way the 5-way model scored 81.9 ± 0.9 % after 16,000 meta-iterations
on the CPU and 81.8 ± 0.9 % after 20,000 on an H200: more meta-iterations did not help,
keeping the moments did.

ProtoNets and ANIL (issue 23): no GPU was lent, so `bash
assets/checkpoints/train_protonet_anil_cpu.sh` trained them on the 2-core CPU, one
thread each, for a fixed wall-clock budget (`--max-seconds`: 1,200 s per ProtoNets model,
1,800 s for 5-way ANIL, 1,500 s for 20-way ANIL), 5 query images per class, Adam 0.001
annealed linearly towards 0.0001 over `--iterations` (the time limit stopped each run
before the end of its schedule, the rows give where). ProtoNets train on episodes of the
test's N ways (the paper: 60-way training episodes, 5 queries, Adam halved every 2,000
episodes), ANIL on MAML's inner settings with a meta-batch of 4 (5-way) or 2 (20-way), not
the paper's 32 and 16. Those first ANIL runs took the per-task loop, which differentiates
the whole network at every inner step (13,390 and 1,617 meta-iterations); both then went
on from there, side by side, with the batched step, which embeds each support set once
and steps the head alone (1.7x and 3.7x faster on this CPU): `OUT=DIR bash
assets/checkpoints/continue_anil_cpu.sh` (`--resume`, 2,700 s each, Adam annealed on
towards 0.0001 over 45,000 and 21,000 meta-iterations in all: the 5-way model reached its
45,000, the 20-way one 17,499, 91.6 ± 0.3 %); the 20-way model then went on four times
more the same way, alone, with the schedule stretched (so its rate rose again each time:
to 0.00044, 0.00024, 0.00023 and 0.00028): to 26,986 of 28,000 in 1,500 s (92.6 ± 0.3 %),
to 31,601 of 32,000 in 780 s beside the test suite (92.8 ± 0.3 %), to 36,974 of 37,000 in
720 s (92.9 ± 0.3 %) and to 45,904 of 46,000 in 1,260 s beside another training (the
shipped model). The rows give the totals.

Meta-SGD and iMAML (issue 23): no GPU was lent either, so `bash
assets/checkpoints/train_metasgd_imaml_cpu.sh` trained them on the 2-core CPU, one
thread each, two side by side, for a wall-clock budget each. Both differentiate through
the whole network at every meta-step (Meta-SGD through its inner step; iMAML by
Hessian-vector products, five steps of truncated conjugate gradient with lambda = 2), so
a session's CPU gives them a fraction of their papers' meta-iterations, at meta-batches
of 8 (5-way) and 4 (20-way), where MAML's paper takes 32 and 16 (iMAML's code: 16 inner
steps of 0.1 at 5-way and 25 at 20-way, lambda = 2 and 1, meta-batch 32). Meta-SGD
adapts in one step, meta-training and testing, as in its paper; its per-weight step
sizes start at 2.0 on our mean loss (the paper draws them from [0.005, 0.1] on its own
loss). More steps at test time than it was meta-trained for (`--steps 5`, the same 600
tasks): {more_steps()}.
{second_order_runs()}

Three of these models then went on from their first runs (2026-12-07), by
`OUT=/tmp/go bash assets/checkpoints/continue_cpu.sh NAME ITERATIONS 0 SECONDS` (iMAML
with `IMPLEMENTATION=vmap`), one thread each, beside other runs. The schedule counts from
step 0 over the new total, so each rate restarted part of the way down and fell linearly
towards zero; the lines above give the totals:
- `omniglot_metasgd_5w1s`: the first run stopped at 16,315 of 17,000 meta-iterations
  (3,600 s, the rate annealed to 0.00041) and scored 98.47 ± 0.29 %; on to 32,000 (ITERATIONS
  32000, SECONDS 4500), the rate restarted at 0.0015, reached in 3,208 s more;
- `omniglot_metasgd_20w1s`: the first run ended at 13,000 (2,599 s, rate 0.0003) and scored
  92.89 ± 0.46 %; on towards 26,000 (SECONDS 2400), the rate restarted at 0.0015, stopped by
  the time limit at 24,198 (94.29 ± 0.42 %); on again to 37,500 (SECONDS 3000), the rate
  restarted at 0.0011, reached in 2,615 s more (94.79 ± 0.41 %); and to 50,000 (SECONDS
  2700), the rate restarted at 0.0008, reached in 2,696 s more;
- `omniglot_imaml_5w1s`: the first run stopped at 7,078 of 8,000 (3,600 s, rate 0.0002)
  and scored 95.79 ± 0.48 %; on towards 12,000 (SECONDS 2400), the rate restarted at
  0.00041, stopped by the time limit at 11,873 (96.54 ± 0.45 %); on again towards 18,000
  (SECONDS 3000), the rate restarted at 0.00034, stopped by the time limit at 17,604
  (96.82 ± 0.45 %); on again towards 24,000 (SECONDS 3000, 2026-12-08), the rate restarted
  at 0.00027, stopped by the time limit at 22,052.

iMAML's earlier runs (2026-12-07) pulled every inner step towards phi (lambda = 2, steps
of 0.4 on our mean loss), which takes back 80% of theta's distance from phi at each
step. At Meta-SGD's meta learning rate (0.003 annealed towards 0.0003 over 8,200
meta-iterations) that run diverged as iMAML did on the sinusoid: it stopped at 7,582
meta-iterations after 5,701 s with the training tasks' query loss at 151 before
adaptation and 3.5 after it, and scored 22.5 ± 0.5 % on the 600 tasks. At a third of
that rate, 2,300 meta-iterations in 22 minutes scored 67.8 ± 1.2 %. A study of the inner
problem followed (2026-12-07, 5-way, meta-batch 8, 3 queries a class, Adam 0.001, 300
meta-iterations each on one core, 100 testing tasks after five steps unless said):
pulled steps of 0.4, 67.5 % (67.0 % after 400); ten pulled steps of 0.08, 54.1 % (after
400, ten steps); sixteen pulled steps of 0.1, 64.3 % (sixteen steps); lambda 0.5 in both
the steps and the meta-gradient, 65.3 %; lambda 0.1, 72.6 %; plain steps of 0.4 with the
meta-gradient's lambda = 2, 85.6 %; the same with the authors' code's damped system ((1
+ 1) v + H v / (lambda + 10)), 84.9 %; first-order MAML with the same plain steps, 85.2
%. So the shipped models take plain inner steps (`inner_lam` 0, the registry's Omniglot
setting; the authors' Omniglot code also minimises the support loss alone in its steps,
then pulls back once) and keep the undamped meta-gradient with lambda = 2. At 20-way
(meta-batch 4, one query a class, 200 meta-iterations) plain steps of 2.0, MAML's 20-way
step, scored 48.0 % and of 0.4 36.0 %; but a run of 4,000 meta-iterations at 2.0 (3,301
s) drove phi where those steps overshoot: the training tasks' query loss before
adaptation reached 75, and the 600 tasks scored 42.6 ± 1.1 % after five steps. The
shipped 20-way model takes steps of 0.4 (the registry's 20-way setting).

Against the issue's goals: {cpu_goals()}.

Where we differ from the papers:
- MAML: 15 query images per class while meta-training (the paper's code uses 1);
- MAML: the inner loss is the mean over the support images, not the paper code's sum
  (divided by K), N times the mean, so our inner_lr is N x the paper's alpha (2.0 for
  the paper's 0.1 at 20-way); at 5-way all three models kept 0.4, the paper's 0.08 (its
  0.4 would be 2.0 here), which already reaches the paper's accuracy; the 20-way
  first-order MAML and pre-training models kept 0.1, the paper's 0.005, while 20-way
  MAML has 2.0: the table's 20-way MAML and first-order rows compare different steps.
  `retrain_faithful_gpu.sh` retrains those at the paper's steps (not yet run: no GPU
  has been lent since);
- MAML, 20-way: the meta learning rate annealed at the end of the run (the paper's is
  constant);
- Reptile: the tasks of a meta-batch adapt side by side, each from the same kept Adam
  moments, which are then merged as if the tasks had run one after another (the
  paper's code runs them in turn through one Adam);
- Reptile: epsilon annealed anew in every run that went on from a checkpoint (so from
  its start twice in all at 5-way, six times at 20-way);
- far fewer meta-iterations (the table gives them).

Batch norm is transductive, as in the paper. Every model was evaluated with
`mamlviz eval omniglot --checkpoint FILE --tasks 600` on the testing characters of
the MAML protocol (423 characters x 4 rotations). The held-out tasks come from a CPU
generator, so the same command scores the same tasks on any device. The table gives
the accuracy with its 95% confidence interval, next to the papers' Table 1 (MAML's;
Reptile's for Reptile):

{chr(10).join(omniglot_rows())}

Against the goal (MAML >= 98% at 5-way 1-shot, >= 95% at 20-way 1-shot):
{maml_goal()}{fit_check()}

Reptile: {reptile_verdict()}.
Most of its adaptation happens in its first test steps ({reptile_steps()}),
which is why the app's episode view stops at 10 steps.

Pre-training learns nothing that transfers here, because each task labels its
classes anew; that is the lecture's point.

## Contamination, and Lake's within-alphabet runs

Every Omniglot model above was meta-trained under the MAML protocol: a seeded shuffle
of all 1,623 characters, 1,200 of them for meta-training. 479 of the 659 characters of
Lake et al.'s (2015) 20 evaluation alphabets are among those 1,200, so a score of these
models on Lake's evaluation characters (and the human-versus-model game) lets them
answer on characters they were trained on. Lake's protocol (`--protocol lake`) meta-trains
on the 30 background alphabets only. Lake's one-shot runs are *within-alphabet*: N
characters of one evaluation alphabet, the support images drawn by one person and the
queries by another (`mamlviz eval omniglot --checkpoint FILE --protocol lake --episodes
within-alphabet --queries 1`). Checkpoints written from now on store their training split
(`training_split` in their metrics: protocol, rule, SHA-256 of the sorted meta-training
character names); `mamlviz eval omniglot` checks it against the protocol
(`mamlviz/training_split.py`) and counts the episodes' characters the model trained on.
The files here predate it: their split reads "unknown split" (it is the MAML protocol's,
seed 1, by their settings).

The shipped 20-way models on within-alphabet 20-way 1-shot episodes (600 episodes of 20
queries, scored on the CPU on 2026-12-07: `mamlviz eval omniglot --checkpoint FILE
--protocol lake --episodes within-alphabet --queries 1 --tasks 600`). They are
**contaminated** (the last column), so these errors are no fair comparison with people's.
{lake_20w_source()} The 20-way model that never saw an evaluation alphabet and errs
least on its episodes is {lake_protonet()}.

{chr(10).join(within_alphabet_rows())}

Lake-protocol models, meta-trained on the 30 background alphabets alone, each scored on
within-alphabet episodes (N characters of one evaluation alphabet, support and query by
different drawers) and on random N-way episodes of the evaluation alphabets, one query
a class. The 5-way ones come from `bash assets/checkpoints/train_lake_5w_cpu.sh` on one
CPU thread: meta-batch 8, three query images a class, the MAML paper's inner step (its
0.4 on a summed loss, 2.0 on our mean; `mamlviz/config.py`) for MAML and first-order MAML
alike, so the two compare at the same setting, the meta learning rate 0.003 annealed to
0.0003, and a wall-time budget each (40, 15 and 10 minutes). They play the
human-versus-model game on the Omniglot page, whose episodes are Lake's by default.

{chr(10).join(lake_rows())}

Within-alphabet episodes are much harder than random ones: the same 20-way MAML model errs
5.0 % on 600 random episodes of the MAML split's testing characters (the table above),
{_error("omniglot_maml_20w1s.lake-random.eval.json")} on 600 random 20-way episodes of the
evaluation alphabets with one query a class (`--protocol lake`), and
{_error("omniglot_maml_20w1s.within-alphabet.eval.json")} on the within-alphabet ones,
{_error("omniglot_maml_20w1s.within-alphabet.10-steps.eval.json")} after ten steps instead
of five (its error still falls from step to step: {_by_step(
"omniglot_maml_20w1s.within-alphabet.10-steps.eval.json")} %). An outside benchmark built as
Lake's had these models err 9.75 % (MAML), 23.3 % (first-order MAML), 20.0 % (Reptile) and
94 % (pre-training) (issue 25): ours are higher for all but pre-training, MAML's twice as
high, beyond the 95% intervals of 600 episodes. Why is not known yet: our episodes take
one drawer for all of a task's support images and another for all its queries (as
Lake's runs do), draw the alphabet uniformly, and adapt with transductive batch norm on
20 query images of one drawer; the outside benchmark may differ in any of these.

Without a GPU, `bash assets/checkpoints/train_omniglot_cpu.sh` trains smaller
versions in a fixed wall time: meta-batch 8 or 4, a few hundred iterations. On a
shared 2-core CPU this reached 87.9% (MAML, 5-way) and 40.6% (MAML, 20-way).
"""
    (HERE / "README.md").write_text(text)


if __name__ == "__main__":
    main()

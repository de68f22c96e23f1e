#!/usr/bin/env bash
# Goes on with one shipped Omniglot model on a CPU, one thread: `--resume` from the shipped
# checkpoint to ITERATIONS meta-iterations in all, for at most SECONDS of wall time, the
# meta learning rate annealed linearly towards META_LR_FINAL (the schedule counts from step
# 0 over the new total, so a longer total raises the rate where the first run left it:
# a warm restart), then scored on TASKS testing tasks (Meta-SGD also after five steps).
# Results land in OUT (never over a shipped file); if they score better, copy the .pt and
# JSON files into assets/checkpoints/ and run `python assets/checkpoints/model_card.py`.
#   OUT=/tmp/go bash assets/checkpoints/continue_cpu.sh NAME ITERATIONS [META_LR_FINAL [SECONDS]]
# e.g. NAME omniglot_metasgd_5w1s, ITERATIONS 32000, META_LR_FINAL 0, SECONDS 4500 (the run
# of 2026-12-07). Two can run side by side, one per core. IMPLEMENTATION overrides "auto"
# (iMAML's batched step, vmap, is the faster one on a CPU).
set -euo pipefail
name="${1:?NAME of a shipped model, e.g. omniglot_metasgd_5w1s}"
iterations="${2:?ITERATIONS in all}"
final="${3:-0.0001}" seconds="${4:-2700}"
OUT="${OUT:?set OUT to a folder (never the shipped one)}"
here="$(cd "$(dirname "$0")" && pwd)"
[ -e "$here/$name.pt" ] || { echo "no shipped model $here/$name.pt" >&2; exit 2; }
algorithm="${name#omniglot_}"
algorithm="${algorithm%%_*}"  # omniglot_ALGORITHM_NwKs
source "$here/_cpu_env.sh"  # makes OUT and works there
[ "$PWD" != "$here" ] || { echo "OUT must not be $here" >&2; exit 2; }
train_to "$name" --algorithm "$algorithm" --resume "$here/$name.pt" \
  --iterations "$iterations" --meta-lr-final "$final" --max-seconds "$seconds" \
  ${IMPLEMENTATION:+--implementation "$IMPLEMENTATION"}
score "$name"

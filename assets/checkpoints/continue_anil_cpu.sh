#!/usr/bin/env bash
# Goes on with the shipped ANIL Omniglot models on a CPU, one thread each, both at once
# (continue_cpu.sh for each): `--resume` from the shipped checkpoint to ITERATIONS_5 /
# ITERATIONS_20 meta-iterations in all, for at most SECONDS_EACH of wall time each, the
# meta learning rate annealed linearly on towards 0.0001 (the schedule counts from step 0,
# so it goes on from where the first run left it). The "auto" implementation is the
# batched step on a CPU for ANIL: its support set is embedded once per task and only the
# head adapts. Results land in OUT (never over a shipped file); if they score better, copy
# the .pt, .train.json and .eval.json files into assets/checkpoints/ and run
# `python assets/checkpoints/model_card.py`.
#   OUT=/tmp/anil bash assets/checkpoints/continue_anil_cpu.sh      (about SECONDS_EACH + 5 min)
# Run of 2026-12-06: SECONDS_EACH=2700 ITERATIONS_5=45000 ITERATIONS_20=21000; then the
# 20-way model alone, by the same train command from each result in turn:
# `--iterations 28000 --max-seconds 1500`, `--iterations 32000 --max-seconds 780`,
# `--iterations 37000 --max-seconds 720`, then (2026-12-07) `--iterations 46000
# --max-seconds 1260`, which stopped at 45,904.
# Try it first with tiny settings:
#   SECONDS_EACH=10 ITERATIONS_5=13400 ITERATIONS_20=1620 TASKS=4 OUT=/tmp/anil bash ...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SECONDS_EACH="${SECONDS_EACH:-2700}"
: "${OUT:?set OUT to a folder}"
bash "$here/continue_cpu.sh" omniglot_anil_5w1s "${ITERATIONS_5:-45000}" 0.0001 "$SECONDS_EACH" &
bash "$here/continue_cpu.sh" omniglot_anil_20w1s "${ITERATIONS_20:-21000}" 0.0001 \
  "$SECONDS_EACH" &
wait

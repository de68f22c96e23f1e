#!/usr/bin/env bash
# The shipped Reptile Omniglot checkpoints: its paper's setup (train shots 10, Adam inner
# steps on mini-batches whose moments are kept from task to task, epsilon annealed from 1
# to 0; mamlviz/config.py REPTILE_OMNIGLOT) with the run shortened to what one CPU thread
# trains in sessions of about two hours: ITERATIONS_5 and ITERATIONS_20 meta-iterations,
# epsilon annealed over them, then on from each checkpoint to every count in THEN_5 and
# THEN_20 in turn (the paper's runs are 100,000 and 200,000), epsilon annealed again over
# each longer run. Both train side by side, one thread each, with the fused (compiled) step:
# about 2x the per-task loop on this CPU after a minute or more of compiling. Re-create with
#   MAMLVIZ_OMNIGLOT=../shared/omniglot bash assets/checkpoints/train_reptile_omniglot_cpu.sh
# OUT (default: this folder) is where the .pt and JSON files land.
# The shipped 20-way model went on from 42,000 to 122,000 meta-iterations on an H200 with
# continue_omniglot_gpu.sh (its header and the model card give the commands).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT:-$here}"
mkdir -p "$out"
cd "$out"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}"
export PYTHONPATH="$here/../..${PYTHONPATH:+:$PYTHONPATH}"  # the engine, installed or not
ITERATIONS_5="${ITERATIONS_5:-27000}"
ITERATIONS_20="${ITERATIONS_20:-7500}"
THEN_5="${THEN_5-68000}"  # THEN_5="" stops after the first run
THEN_20="${THEN_20-18500 32000 42000}"
IMPLEMENTATION="${IMPLEMENTATION:-fused}"
train_and_eval() {  # ways iterations
  local name="omniglot_reptile_${1}w1s"
  # Progress (step, it/s) goes to the .train.err file while it runs; the last record,
  # saved in the checkpoint, becomes the .train.json the model card reads.
  python -m mamlviz train omniglot --algorithm reptile --ways "$1" --shots 1 \
    --iterations "$2" --log-every 100 --seed 0 --implementation "$IMPLEMENTATION" \
    --out "${name}.pt" > "${name}.train.log" 2> "${name}.train.err"
  # Then on from that checkpoint to each count in THEN_N, in turn: epsilon is annealed
  # again over each longer run, so it restarts at 1 - I / T (I the steps so far, T the new
  # count in all).
  local then="THEN_${1}" total
  for total in ${!then:-}; do
    python -m mamlviz train omniglot --algorithm reptile --ways "$1" --shots 1 \
      --resume "${name}.pt" --iterations "$total" --log-every 100 \
      --implementation "$IMPLEMENTATION" --out "${name}.pt" \
      >> "${name}.train.log" 2>> "${name}.train.err"
  done
  python -c "import json, sys; from mamlviz import checkpoint as c
m = c.load(sys.argv[1]).metrics
print(json.dumps({**m['final_record'], 'checkpoint': sys.argv[1]}))" "${name}.pt" \
    > "${name}.train.json"
  [ "${EVAL:-1}" = 1 ] || return 0
  python -m mamlviz eval omniglot --checkpoint "${name}.pt" --tasks 600 --json \
    | tail -n 1 > "${name}.eval.json"
}
pids=()
for ways in ${WAYS:-5 20}; do
  iterations="ITERATIONS_${ways}"
  train_and_eval "$ways" "${!iterations}" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

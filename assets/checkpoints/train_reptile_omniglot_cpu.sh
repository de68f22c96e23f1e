#!/usr/bin/env bash
# The shipped Reptile Omniglot checkpoints: its paper's setup (train shots 10, Adam inner
# steps on mini-batches, epsilon annealed from 1 to 0; mamlviz/config.py REPTILE_OMNIGLOT)
# with the run shortened to what one CPU thread trains in about 90 minutes: ITERATIONS_5 and
# ITERATIONS_20 meta-iterations (the paper's are 100,000 and 200,000), epsilon annealed
# over the shortened run. Both train side by side, one thread each. Re-create with
#   MAMLVIZ_OMNIGLOT=../shared/omniglot bash assets/checkpoints/train_reptile_omniglot_cpu.sh
# OUT (default: this folder) is where the .pt and JSON files land.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT:-$here}"
mkdir -p "$out"
cd "$out"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}"
export PYTHONPATH="$here/../..${PYTHONPATH:+:$PYTHONPATH}"  # the engine, installed or not
ITERATIONS_5="${ITERATIONS_5:-16000}"
ITERATIONS_20="${ITERATIONS_20:-5000}"
train_and_eval() {  # ways iterations
  local name="omniglot_reptile_${1}w1s"
  python -m mamlviz train omniglot --algorithm reptile --ways "$1" --shots 1 \
    --iterations "$2" --log-every 100 --seed 0 --out "${name}.pt" --json \
    > "${name}.train.log"
  tail -n 1 "${name}.train.log" > "${name}.train.json"
  python -m mamlviz eval omniglot --checkpoint "${name}.pt" --tasks 600 --json \
    | tail -n 1 > "${name}.eval.json"
}
train_and_eval 5 "$ITERATIONS_5" &
five=$!
train_and_eval 20 "$ITERATIONS_20" &
twenty=$!
wait "$five"
wait "$twenty"

#!/usr/bin/env bash
# Re-creates the shipped ProtoNets and ANIL Omniglot models on a CPU, one thread each
# (no GPU lent): a fixed wall-clock budget per model, then 600 held-out tasks.
# Usage: bash assets/checkpoints/train_protonet_anil_cpu.sh   (about 1 h 50 min)
set -euo pipefail
cd "$(dirname "$0")"
export PYTHONPATH="$(cd ../.. && pwd)${PYTHONPATH:+:$PYTHONPATH}"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}" OMP_NUM_THREADS=1
train() {  # name seconds options...
  local name=$1 seconds=$2; shift 2
  python -m mamlviz train omniglot "$@" --shots 1 --queries 5 --meta-lr 0.001 \
    --meta-lr-final 0.0001 --max-seconds "$seconds" --seed 0 --out "$name.pt" --json \
    | tail -n 1 > "$name.train.json"
  python -m mamlviz eval omniglot --checkpoint "$name.pt" --tasks 600 --json \
    | tail -n 1 > "$name.eval.json"
}
train omniglot_protonet_5w1s 1200 --algorithm protonet --ways 5 --meta-batch-size 4 \
  --iterations 20000
train omniglot_protonet_20w1s 1200 --algorithm protonet --ways 20 --meta-batch-size 1 \
  --iterations 20000
train omniglot_anil_5w1s 1800 --algorithm anil --ways 5 --meta-batch-size 4 \
  --iterations 30000
train omniglot_anil_20w1s 1500 --algorithm anil --ways 20 --meta-batch-size 2 \
  --iterations 30000

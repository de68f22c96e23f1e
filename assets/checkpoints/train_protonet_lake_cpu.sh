#!/usr/bin/env bash
# Re-creates omniglot_protonet_20w1s_lake.pt on a CPU, one thread (no GPU lent): ProtoNets
# meta-trained on Lake's 30 background alphabets only (`--protocol lake`), so no character
# of the 20 evaluation alphabets is in meta-training, for a fixed 1,200 s; then scored on
# 100 within-alphabet 20-way 1-shot episodes (20 characters of one evaluation alphabet,
# support and query by different drawers, Lake et al. 2015) and on 100 random 20-way
# episodes of the evaluation alphabets.
# Usage: bash assets/checkpoints/train_protonet_lake_cpu.sh   (about 25 minutes)
set -euo pipefail
cd "$(dirname "$0")"
export PYTHONPATH="$(cd ../.. && pwd)${PYTHONPATH:+:$PYTHONPATH}"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}" OMP_NUM_THREADS=1
name=omniglot_protonet_20w1s_lake
python -m mamlviz train omniglot --algorithm protonet --ways 20 --shots 1 --queries 5 \
  --meta-batch-size 1 --iterations 20000 --meta-lr 0.001 --meta-lr-final 0.0001 \
  --max-seconds 1200 --protocol lake --seed 0 --out "$name.pt" --json \
  | tail -n 1 > "$name.train.json"
python -m mamlviz eval omniglot --checkpoint "$name.pt" --protocol lake \
  --episodes within-alphabet --queries 1 --tasks 100 --json \
  | tail -n 1 > "$name.within-alphabet.eval.json"
python -m mamlviz eval omniglot --checkpoint "$name.pt" --protocol lake --queries 1 \
  --tasks 100 --json | tail -n 1 > "$name.lake-random.eval.json"

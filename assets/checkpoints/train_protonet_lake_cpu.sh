#!/usr/bin/env bash
# Re-creates omniglot_protonet_20w1s_lake.pt on a CPU, one thread (no GPU lent): ProtoNets
# meta-trained on Lake's 30 background alphabets only (`--protocol lake`), so no character
# of the 20 evaluation alphabets is in meta-training, each background character turned
# four ways as four classes (`--rotations`: Santoro et al.'s augmentation; the testing
# characters stay upright), for a fixed 2,700 s; then scored on 300 within-alphabet 20-way
# 1-shot episodes (20 characters of one evaluation alphabet, support and query by
# different drawers, Lake et al. 2015) and on 300 random 20-way episodes of the
# evaluation alphabets, one query a class.
# Usage: MAMLVIZ_OMNIGLOT=../shared/omniglot bash assets/checkpoints/train_protonet_lake_cpu.sh
# (about 50 minutes). OUT (default: this folder) is where the .pt and JSON files land.
set -euo pipefail
source "$(dirname "$0")/_cpu_env.sh"
name=omniglot_protonet_20w1s_lake
python -m mamlviz train omniglot --algorithm protonet --ways 20 --shots 1 --queries 5 \
  --meta-batch-size 1 --iterations 40000 --meta-lr 0.001 --meta-lr-final 0.0001 \
  --max-seconds 2700 --protocol lake --rotations --seed 0 --out "$name.pt" --json \
  | tail -n 1 > "$name.train.json"
TASKS="${TASKS:-300}" score_lake "$name"

#!/usr/bin/env bash
# Re-creates omniglot_protonet_20w1s_lake.pt on a CPU, one thread (no GPU lent): ProtoNets
# meta-trained on Lake's 30 background alphabets only (`--protocol lake`), so no character
# of the 20 evaluation alphabets is in meta-training, each background character turned
# four ways (`--rotations`: Santoro et al.'s augmentation; the testing characters stay
# upright), on within-alphabet training episodes (`--train-episodes within-alphabet`: 20
# characters of one background alphabet, all turned alike, support and query by different
# drawers, as the test's runs are built), every training drawing under a small random
# affine map (`--distort`: Koch et al. 2015's distortions), for 40,000 episodes or at most
# 4,500 s; then scored on 600 within-alphabet 20-way 1-shot episodes (20 characters of one
# evaluation alphabet, Lake et al. 2015) and on 600 random 20-way episodes of the
# evaluation alphabets, one query a class.
# Usage: MAMLVIZ_OMNIGLOT=../shared/omniglot bash assets/checkpoints/train_protonet_lake_cpu.sh
# (about 75 minutes). OUT (default: this folder) is where the .pt and JSON files land;
# SECONDS_LIMIT and ITERATIONS shorten it (the rate anneals over ITERATIONS).
set -euo pipefail
source "$(dirname "$0")/_cpu_env.sh"
name=omniglot_protonet_20w1s_lake
train_to "$name" --algorithm protonet --ways 20 --shots 1 --queries 5 --meta-batch-size 1 \
  --iterations "${ITERATIONS:-40000}" --meta-lr 0.001 --meta-lr-final 0.0001 \
  --max-seconds "${SECONDS_LIMIT:-4500}" --protocol lake --rotations \
  --train-episodes within-alphabet --distort --seed 0
score_lake "$name"

#!/usr/bin/env bash
# Re-creates the 5-way 1-shot Lake-protocol models on a CPU, one thread (no GPU lent):
# MAML, first-order MAML and pre-training meta-trained on Lake's 30 background alphabets
# only (`--protocol lake`: no character of the 20 evaluation alphabets in meta-training),
# at the MAML paper's effective inner step (our loss is the support set's mean, the
# paper's code sums over it and divides by K, so its 0.4 is our N x 0.4 = 2.0; see
# mamlviz/config.py), MAML and first-order MAML at the same settings. Each model has a
# wall-time budget; then it is scored on 600 within-alphabet 5-way 1-shot episodes (five
# characters of one evaluation alphabet, support and query by different drawers, Lake
# et al. 2015) and on 600 random 5-way episodes of the evaluation alphabets.
# Usage: MAMLVIZ_OMNIGLOT=../shared/omniglot bash assets/checkpoints/train_lake_5w_cpu.sh
# (about an hour). OUT (default: this folder) is where the .pt and JSON files land.
set -euo pipefail
source "$(dirname "$0")/_cpu_env.sh"
train_and_eval() {  # algorithm iterations seconds
  local name="omniglot_${1}_5w1s_lake"
  train_to "$name" --algorithm "$1" --ways 5 --shots 1 --queries 3 \
    --meta-batch-size 8 --inner-lr 2.0 --iterations "$2" --meta-lr 0.003 \
    --meta-lr-final 0.0003 --max-seconds "$3" --protocol lake --seed 0
  score_lake "$name"
}
train_and_eval maml "${ITERATIONS_MAML:-14000}" "${SECONDS_MAML:-2400}"
train_and_eval fomaml "${ITERATIONS_FOMAML:-14000}" "${SECONDS_FOMAML:-900}"
train_and_eval pretrain "${ITERATIONS_PRETRAIN:-14000}" "${SECONDS_PRETRAIN:-600}"

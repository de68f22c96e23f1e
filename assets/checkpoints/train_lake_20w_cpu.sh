#!/usr/bin/env bash
# The 20-way 1-shot Lake-protocol models a CPU can train, one thread each (no GPU lent):
# MAML, first-order MAML, Reptile and pre-training meta-trained on Lake's 30 background
# alphabets only (`--protocol lake`: no character of the 20 evaluation alphabets in
# meta-training), every background character turned four ways as four classes
# (`--rotations`, which cut ProtoNets' within-alphabet error from 22.7 to 19.1 %; the
# testing characters stay upright). Far smaller than the paper's 20-way runs, to fit a
# wall-time budget: MAML, first-order MAML and pre-training take meta-batch 8 (the paper's
# 16), three query images a class and ONE inner step while training (the paper's five;
# five at test time, as the paper), at the paper's effective step (its 0.1 on a summed
# loss, 2.0 on our mean: mamlviz/config.py), MAML and first-order MAML alike; Reptile
# keeps its paper's setup but for the meta-iterations. Each run's ITERATIONS are what its
# budget holds, so that its annealed rate reaches its final value as the budget ends
# (Reptile's epsilon: zero, as its paper's). Then each model is
# scored on TASKS (600) within-alphabet episodes and as many random ones (score_lake).
# Usage: MAMLVIZ_OMNIGLOT=../shared/omniglot bash assets/checkpoints/train_lake_20w_cpu.sh
# (about 100 minutes in all; ALGORITHMS="maml" and ALGORITHMS="pretrain fomaml reptile"
# side by side take about 55, one per core). OUT (default: this folder) is where the .pt
# and JSON files land. A GPU trains the paper's setup instead: retrain_faithful_gpu.sh.
set -euo pipefail
source "$(dirname "$0")/_cpu_env.sh"
# lake_20w ALGORITHM ITERATIONS SECONDS [options...]
lake_20w() {
  local name="omniglot_${1}_20w1s_lake" algorithm="$1" iterations="$2" seconds="$3"
  shift 3
  train_to "$name" --algorithm "$algorithm" --ways 20 --shots 1 --protocol lake \
    --rotations --iterations "$iterations" --max-seconds "$seconds" --seed 0 "$@"
  score_lake "$name"
}
small=(--queries 3 --meta-batch-size 8 --inner-lr 2.0 --inner-steps 1 --test-inner-steps 5
       --meta-lr 0.003 --meta-lr-final 0.0003)
for algorithm in ${ALGORITHMS:-maml fomaml pretrain reptile}; do
  case $algorithm in  # the budget holds these at 1.7, 2.2, 1.9 and 1.2 it/s
    maml) lake_20w maml "${ITERATIONS_MAML:-5000}" "${SECONDS_MAML:-3000}" "${small[@]}" ;;
    fomaml) lake_20w fomaml "${ITERATIONS_FOMAML:-2200}" "${SECONDS_FOMAML:-1000}" "${small[@]}" ;;
    pretrain) lake_20w pretrain "${ITERATIONS_PRETRAIN:-570}" "${SECONDS_PRETRAIN:-300}" \
      "${small[@]}" ;;
    reptile) lake_20w reptile "${ITERATIONS_REPTILE:-1400}" "${SECONDS_REPTILE:-1200}" ;;
    *) echo "unknown algorithm $algorithm (maml, fomaml, pretrain or reptile)" >&2; exit 2 ;;
  esac
done

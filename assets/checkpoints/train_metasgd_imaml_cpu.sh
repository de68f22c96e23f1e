#!/usr/bin/env bash
# Re-creates the shipped Meta-SGD and iMAML Omniglot models on a CPU, one thread each
# (no GPU lent): a wall-clock budget per model, then 600 held-out tasks of the MAML
# protocol. Both differentiate through every layer (Meta-SGD through its one inner step,
# iMAML by Hessian-vector products in conjugate gradient), so a session's CPU reaches a
# fraction of their papers' meta-iterations; the model card says how far.
# Meta-SGD adapts in one step, training and testing, as in its paper (its registry
# defaults); iMAML takes five plain inner steps (its Omniglot setting) and five steps of
# conjugate gradient with lambda = 2 (the paper's code: 16 steps, lambda 1 to 2, 5 CG).
# Usage: MAMLVIZ_OMNIGLOT=../shared/omniglot bash assets/checkpoints/train_metasgd_imaml_cpu.sh
# [NAME...] (default: all four, one after another; two can run side by side, one per
# core). OUT (default: this folder) is where the .pt and JSON files land.
set -euo pipefail
source "$(dirname "$0")/_cpu_env.sh"
train_and_eval() {  # name seconds options...
  local name=$1 seconds=$2; shift 2
  train_to "$name" "$@" --shots 1 --max-seconds "$seconds" --seed 0
  score "$name"
}
run() {
  case $1 in
    omniglot_metasgd_5w1s) train_and_eval "$1" 3600 --algorithm metasgd --ways 5 \
      --queries 3 --meta-batch-size 8 --inner-lr 2.0 --meta-lr 0.003 \
      --meta-lr-final 0.0003 --iterations 17000 ;;
    omniglot_metasgd_20w1s) train_and_eval "$1" 2700 --algorithm metasgd --ways 20 \
      --queries 1 --meta-batch-size 4 --inner-lr 2.0 --meta-lr 0.003 \
      --meta-lr-final 0.0003 --iterations 13000 ;;
    # iMAML: its registry's Omniglot settings (plain inner steps, see
    # mamlviz/algorithms/imaml.py), batched by vmap, which ran 2.2 meta-iterations a
    # second here to the per-task loop's 1.5. At a meta learning rate of 0.003 (as
    # Meta-SGD's) an earlier run diverged (the model card).
    omniglot_imaml_5w1s) train_and_eval "$1" 3600 --algorithm imaml --ways 5 \
      --queries 3 --meta-batch-size 8 --implementation vmap --meta-lr 0.001 \
      --meta-lr-final 0.0001 --iterations 8000 ;;
    omniglot_imaml_20w1s) train_and_eval "$1" 2100 --algorithm imaml --ways 20 \
      --queries 1 --meta-batch-size 4 --implementation vmap --meta-lr 0.001 \
      --meta-lr-final 0.0001 --iterations 2600 ;;
    *) echo "unknown model $1" >&2; exit 2 ;;
  esac
}
[ $# -gt 0 ] || set -- omniglot_metasgd_5w1s omniglot_metasgd_20w1s omniglot_imaml_5w1s \
  omniglot_imaml_20w1s
for name in "$@"; do run "$name"; done

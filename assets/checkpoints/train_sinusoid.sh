#!/usr/bin/env bash
# Re-creates the shipped sinusoid checkpoints and their evaluation (MAML paper setup:
# K=10, meta-batch 25, 70,000 meta-iterations; Reptile with its own inner loop).
# Usage: bash assets/checkpoints/train_sinusoid.sh   (about 5-10 minutes on one CPU core)
set -euo pipefail
cd "$(dirname "$0")"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}"
train_and_eval() {  # algorithm [train options]
  local algorithm="$1"
  shift
  python -m mamlviz train sinusoid --algorithm "$algorithm" --seed 0 "$@" \
    --out "sinusoid_${algorithm}.pt" --json | tail -n 1 > "sinusoid_${algorithm}.train.json"
  python -m mamlviz eval sinusoid --checkpoint "sinusoid_${algorithm}.pt" --tasks 600 \
    --steps 10 --json | tail -n 1 > "sinusoid_${algorithm}.eval.json"
}
for algorithm in maml fomaml reptile pretrain metasgd anil; do
  train_and_eval "$algorithm" --iterations 70000
done
# iMAML's own run (its registry defaults): 25 inner steps of 0.002, 16,000 meta-iterations,
# the meta learning rate annealed to 0.0001.
train_and_eval imaml
python -m mamlviz eval sinusoid --checkpoint sinusoid_imaml.pt --tasks 600 --steps 25 --json \
  | tail -n 1 > sinusoid_imaml.25-steps.eval.json

#!/usr/bin/env bash
# Re-creates the shipped sinusoid checkpoints and their evaluation (MAML paper setup:
# K=10, meta-batch 25, 70,000 meta-iterations; Reptile with its own inner loop).
# Usage: bash assets/checkpoints/train_sinusoid.sh   (about 5-10 minutes on one CPU core)
set -euo pipefail
cd "$(dirname "$0")"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}"
for algorithm in maml fomaml reptile pretrain metasgd anil; do
  python -m mamlviz train sinusoid --algorithm "$algorithm" --iterations 70000 --seed 0 \
    --out "sinusoid_${algorithm}.pt" --json | tail -n 1 > "sinusoid_${algorithm}.train.json"
  python -m mamlviz eval sinusoid --checkpoint "sinusoid_${algorithm}.pt" --tasks 600 \
    --steps 10 --json | tail -n 1 > "sinusoid_${algorithm}.eval.json"
done

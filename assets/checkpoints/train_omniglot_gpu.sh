#!/usr/bin/env bash
# Paper-level Omniglot checkpoints on one GPU (MAML paper settings: 60,000 meta-iterations,
# meta-batch 32 (5-way) / 16 (20-way), inner loops of the paper), each evaluated on 600
# testing tasks, then the model card is rewritten and the GPU benchmark rows recorded.
#   MAMLVIZ_OMNIGLOT=../shared/omniglot bash assets/checkpoints/train_omniglot_gpu.sh
# Try it on a CPU first with tiny settings:
#   ITERATIONS=2 TASKS=4 BENCH=0 MAMLVIZ_DEVICE=cpu OUT=/tmp/ckpt bash assets/checkpoints/train_omniglot_gpu.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT:-$here}"
mkdir -p "$out"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cuda}"
ITERATIONS="${ITERATIONS:-60000}"
TASKS="${TASKS:-600}"
MAX_SECONDS="${MAX_SECONDS:-1200}"   # per model: stop early rather than run out of device time
for ways in 5 20; do
  for algorithm in maml fomaml reptile pretrain; do
    name="omniglot_${algorithm}_${ways}w1s"
    python -m mamlviz train omniglot --algorithm "$algorithm" --ways "$ways" --shots 1 \
      --iterations "$ITERATIONS" --max-seconds "$MAX_SECONDS" --log-every 100 --seed 0 \
      --out "$out/${name}.pt" --json | tail -n 1 > "$out/${name}.train.json"
    python -m mamlviz eval omniglot --checkpoint "$out/${name}.pt" --tasks "$TASKS" --json \
      | tail -n 1 > "$out/${name}.eval.json"
    cat "$out/${name}.eval.json"
  done
done
if [ "${BENCH:-1}" = 1 ]; then
  python -m mamlviz bench --json | tail -n 1 > "$out/bench_${MAMLVIZ_DEVICE}.json"
fi
if [ "$out" = "$here" ]; then python "$here/model_card.py"; fi

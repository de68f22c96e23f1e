#!/usr/bin/env bash
# The Meta-SGD and iMAML Omniglot models on one GPU, for a session that is lent one
# (issue 23): all four at once for TRAIN_SECONDS of wall time each, at their papers'
# meta-batches (32 at 5-way, 16 at 20-way) and their registry settings (Meta-SGD: one
# inner step, its per-weight step sizes starting at 2.0; iMAML: five plain inner steps,
# conjugate gradient with lambda = 2), then 600 testing tasks each, then the model card
# when the files land here. Every step is our own CLI; logs and JSON land in CKPT_OUT.
#   MAMLVIZ_OMNIGLOT=../shared/omniglot CKPT_OUT=/tmp/gpu bash assets/checkpoints/train_metasgd_imaml_gpu.sh
# Try it on a CPU first with tiny settings:
#   TRAIN_SECONDS=5 ITERATIONS=2 TASKS=4 MAMLVIZ_DEVICE=cpu CKPT_OUT=/tmp/ckpt \
#     bash assets/checkpoints/train_metasgd_imaml_gpu.sh
# IMPLEMENTATION (default auto: on a GPU the graphed or fused step) picks another path.
set -uo pipefail
source "$(dirname "$0")/_gpu_env.sh"
ITERATIONS="${ITERATIONS:-60000}"
TRAIN_SECONDS="${TRAIN_SECONDS:-300}"
TASKS="${TASKS:-600}"
IMPLEMENTATION="${IMPLEMENTATION:-auto}"

say "training for up to ${TRAIN_SECONDS} s each"
names=()
pids=()
for ways in 5 20; do
  for algorithm in metasgd imaml; do
    name="omniglot_${algorithm}_${ways}w1s"
    names+=("$name")
    # The meta learning rates of the CPU runs (train_metasgd_imaml_cpu.sh): iMAML diverged
    # at Meta-SGD's 0.003.
    case $algorithm in
      metasgd) setup=(--inner-lr 2.0 --meta-lr 0.003 --meta-lr-final 0.0003) ;;
      imaml) setup=(--meta-lr 0.001 --meta-lr-final 0.0001) ;;
    esac
    python -m mamlviz train omniglot --algorithm "$algorithm" --ways "$ways" --shots 1 \
      "${setup[@]}" --iterations "$ITERATIONS" --implementation "$IMPLEMENTATION" \
      --max-seconds "$TRAIN_SECONDS" --log-every 500 --seed 0 --out "$out/${name}.pt" \
      --json > "$out/${name}.train.log" 2> "$out/${name}.train.err" &
    pids+=($!)
  done
done
wait "${pids[@]}"
for name in "${names[@]}"; do tail -n 1 "$out/${name}.train.log" > "$out/${name}.train.json"; done

say "evaluating on $TASKS testing tasks"
pids=()
for name in "${names[@]}"; do
  python -m mamlviz eval omniglot --checkpoint "$out/${name}.pt" --tasks "$TASKS" --json \
    > "$out/${name}.eval.log" 2> "$out/${name}.eval.err" &
  pids+=($!)
done
wait "${pids[@]}"
for name in "${names[@]}"; do
  tail -n 1 "$out/${name}.eval.log" > "$out/${name}.eval.json"; cat "$out/${name}.eval.json"
done
if [ "$out" = "$here" ]; then python "$here/model_card.py"; fi
say "done"

#!/usr/bin/env bash
# The next GPU session's one script for the Omniglot issue. It has three parts, in this
# order, so the cheapest evidence comes first:
#   1. the GPU checks (tests/test_cuda.py) and the graph benchmark with and without
#      cuDNN autotuning (benchmarks/bench_omniglot_gpu.py);
#   2. more meta-iterations for the shipped checkpoints named in RESUME (default: the
#      20-way MAML model, 5,472 of the paper's 60,000 iterations, 90.3% vs 95.8%),
#      TRAIN_SECONDS of wall time in all, side by side, each with `--resume`;
#   3. each resumed model scored on TASKS testing tasks.
# It never overwrites a shipped checkpoint: results land in CKPT_OUT. Compare them with
# the model card; if they are better, copy the .pt, .train.json and .eval.json files into
# assets/checkpoints/ and run `python assets/checkpoints/model_card.py`.
#   MAMLVIZ_OMNIGLOT=$PWD/.carry/omniglot CKPT_OUT=$OUT/ckpt bash assets/checkpoints/continue_omniglot_gpu.sh
# Try it on a CPU first with tiny settings:
#   MAMLVIZ_DEVICE=cpu MORE_ITERATIONS=2 TRAIN_SECONDS=20 TASKS=4 CHECKS=0 CKPT_OUT=/tmp/cont \
#     bash assets/checkpoints/continue_omniglot_gpu.sh
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CKPT_OUT:?set CKPT_OUT to a folder for the results (never the shipped folder)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ "$out" = "$here" ]; then echo "CKPT_OUT must not be $here"; exit 2; fi
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cuda}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"  # the engine, installed or not
RESUME="${RESUME:-maml_20w1s}"
ITERATIONS="${ITERATIONS:-60000}"  # the paper's run, the most any resume goes to
MORE_ITERATIONS="${MORE_ITERATIONS:-}"  # or: this many beyond each checkpoint's steps
TRAIN_SECONDS="${TRAIN_SECONDS:-420}"
TASKS="${TASKS:-600}"
cd "$root"
say() { echo "[$(date +%T)] $*"; }
status=0

if [ "${CHECKS:-1}" = 1 ]; then
  say "GPU checks"
  timeout 180 python -m pytest -q -p no:cacheprovider tests/test_cuda.py > "$out/test_cuda.log" 2>&1 \
    || status=1
  tail -n 3 "$out/test_cuda.log"
  say "graph benchmark"
  timeout 240 python benchmarks/bench_omniglot_gpu.py --json "$out/bench_omniglot_gpu.json" \
    > "$out/bench_omniglot_gpu.log" 2>&1 || status=1
  tail -n 12 "$out/bench_omniglot_gpu.log"
fi

# Train and evaluate inside CKPT_OUT, so the JSON records name the checkpoint file
# relative to its folder, as the shipped ones do.
cd "$out"
say "training ${RESUME} for up to ${TRAIN_SECONDS} s"
pids=()
for name in $RESUME; do
  ckpt="$here/omniglot_${name}.pt"
  [ -f "$ckpt" ] || { echo "no checkpoint $ckpt"; status=1; continue; }
  target="$ITERATIONS"
  if [ -n "$MORE_ITERATIONS" ]; then
    steps="$(python -c "from mamlviz.runs import load_checkpoint; print(load_checkpoint('$ckpt')[1].steps)")"
    target=$((steps + MORE_ITERATIONS))
  fi
  algorithm="${name%%_*}"; shape="${name#*_}"; ways="${shape%%w*}"; shots="${shape#*w}"
  python -m mamlviz train omniglot --algorithm "$algorithm" --ways "$ways" --shots "${shots%s}" \
    --resume "$ckpt" --iterations "$target" \
    --max-seconds "$TRAIN_SECONDS" --log-every 500 --out "omniglot_${name}.pt" --json \
    > "$out/omniglot_${name}.train.log" 2> "$out/omniglot_${name}.train.err" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

say "evaluating on $TASKS testing tasks"
for name in $RESUME; do
  f="$out/omniglot_${name}.pt"
  [ -f "$f" ] || continue
  tail -n 1 "$out/omniglot_${name}.train.log" > "$out/omniglot_${name}.train.json"
  python -m mamlviz eval omniglot --checkpoint "omniglot_${name}.pt" --tasks "$TASKS" --json \
    > "$out/omniglot_${name}.eval.log" 2> "$out/omniglot_${name}.eval.err" || status=1
  tail -n 1 "$out/omniglot_${name}.eval.log" > "$out/omniglot_${name}.eval.json"
  echo "$name: $(cat "$out/omniglot_${name}.eval.json")"
  echo "   shipped: $(cat "$here/omniglot_${name}.eval.json")"
done
say "done (status $status)"
exit "$status"

#!/usr/bin/env bash
# One GPU session's script for the Omniglot issue (about 9 minutes). While the GPU trains,
# the CPU cores run the GPU checks; the timed benchmark, if asked for, runs last, with the
# GPU to itself:
#   1. in the background, under MPS: more meta-iterations for the shipped checkpoints in
#      RESUME (default: 20-way MAML), each with `--resume` and RESUME_ARGS (default
#      "--meta-lr-final 0": the meta learning rate annealed linearly to zero over the
#      run; the "auto" implementation fuses a run this long), and the models in FRESH
#      (none by default), all for at most TRAIN_SECONDS. A FRESH name is
#      ALGORITHM_{N}w{K}s with options: _q{Q} query images per class, _a{ALPHA} inner
#      learning rate (e.g. maml_20w1s_q1_a2.0; reptile_5w1s: its paper's setup over
#      REPTILE_ITERATIONS);
#   2. meanwhile, in the foreground: the GPU checks (tests/test_cuda.py), and with BENCH=1
#      the benchmark's fused steps compiled once, to fill inductor's disk cache;
#   3. every trained model scored on TASKS testing tasks, and on as many tasks from its
#      training characters (`--split train`: under- or over-fitting?), with the query
#      images per class the shipped models were scored with (MAML's 15, `--queries 15`:
#      the same episodes for a model trained with 1; Reptile's own 5);
#   4. with BENCH=1, the benchmark (benchmarks/bench_omniglot_gpu.py): loop, vmap,
#      graphed and fused.
# Sessions that ran it (their numbers: benchmarks/README.md and the model card):
#   2026-11-26 19:15 UTC: TRAIN_SECONDS=250 FRESH=reptile_5w1s BENCH=1;
#   2026-11-27 03:47 UTC: CHECKS=0 TRAIN_SECONDS=420 MORE_ITERATIONS=7000
#     FRESH=maml_20w1s_a2.0 (the shipped 20-way MAML model's first run), then
#     CHECKS=0 TRAIN_SECONDS=245 RESUME=maml_20w1s_a2.0 MORE_ITERATIONS=10000 FRESH=""
#     (with that run's file copied beside the shipped ones first).
#   2026-11-27 06:05 UTC: CHECKS=0 TRAIN_SECONDS=380 RESUME_ARGS="" RESUME="reptile_20w1s+12000
#     reptile_20w1s+25000 reptile_20w1s+50000" (from the 42,000 the CPU had trained), then
#     CHECKS=0 TRAIN_SECONDS=275 RESUME_ARGS="" RESUME="reptile_20w1s+30000
#     reptile_20w1s+55000" from the 92,000 one, whose +30000 run is the shipped model.
# It never overwrites a shipped checkpoint: results land in CKPT_OUT. Compare them with
# the model card; if they are better, copy the .pt, .train.json and .eval.json files into
# assets/checkpoints/ and run `python assets/checkpoints/model_card.py`. CKPT_OUT holds
# more than 8 files: pack it (tar) before it comes back from the device.
#   MAMLVIZ_OMNIGLOT=$PWD/.carry/omniglot CKPT_OUT=$OUT/ckpt bash assets/checkpoints/continue_omniglot_gpu.sh
# Try it on a CPU first with tiny settings:
#   MAMLVIZ_DEVICE=cpu MORE_ITERATIONS=2 ITERATIONS=2 TRAIN_SECONDS=20 TASKS=4 CHECKS=0 \
#     CKPT_OUT=/tmp/cont bash assets/checkpoints/continue_omniglot_gpu.sh
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CKPT_OUT:?set CKPT_OUT to a folder for the results (never the shipped folder)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ "$out" = "$here" ]; then echo "CKPT_OUT must not be $here"; exit 2; fi
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cuda}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"  # the engine, installed or not
export PYTHONUNBUFFERED=1
RESUME="${RESUME-maml_20w1s}"  # RESUME="" resumes nothing
FRESH="${FRESH-}"
RESUME_ARGS="${RESUME_ARGS---meta-lr-final 0}"  # RESUME_ARGS="": a constant meta rate
ITERATIONS="${ITERATIONS:-60000}"  # the paper's run, the most any resume goes to
MORE_ITERATIONS="${MORE_ITERATIONS:-}"  # or: this many beyond each checkpoint's steps
REPTILE_ITERATIONS="${REPTILE_ITERATIONS:-20000}"  # epsilon is annealed over these
TRAIN_SECONDS="${TRAIN_SECONDS:-450}"
TASKS="${TASKS:-600}"
BENCH_SECONDS="${BENCH_SECONDS:-180}"
cd "$root"
say() { echo "[$(date +%T)] $*"; }
status=0
started=$SECONDS
cuda=0; [ "$MAMLVIZ_DEVICE" = cuda ] && cuda=1
[ "$cuda" = 1 ] && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv

# MPS lets the training processes' kernels run side by side instead of in turns.
mps=0
if [ "$cuda" = 1 ] && command -v nvidia-cuda-mps-control >/dev/null; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps-log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  if nvidia-cuda-mps-control -d; then mps=1; say "MPS on"; else say "MPS unavailable"; fi
fi

# 1. Training, in CKPT_OUT, so the JSON records name the checkpoint file relative to its
# folder, as the shipped ones do.
say "training ${RESUME} ${FRESH} for up to ${TRAIN_SECONDS} s"
pids=()
for name in $RESUME $FRESH; do
  # A name is ALGORITHM_{N}w{K}s, optionally with _q{Q}: Q query images per class (ours
  # train with 15; the MAML code's Omniglot runs use 1), and _a{ALPHA}: the inner learning
  # rate on the mean loss (the MAML code's loss sums over the N support images, so its
  # 0.1 at 20-way is 2.0 here). A RESUME name may end in +M: M more meta-iterations
  # instead of MORE_ITERATIONS, so one checkpoint can go on to several lengths side by
  # side (its learning rate annealed over each), each saved under its own name.
  base="${name%%+*}"; more="$MORE_ITERATIONS"
  [ "$base" != "$name" ] && more="${name#*+}"
  IFS=_ read -r algorithm shape options <<< "$base"
  ways="${shape%%w*}"; shots="${shape#*w}"; extra=()
  for option in ${options//_/ }; do
    case "$option" in
      q*) extra+=(--queries "${option#q}") ;;
      a*) extra+=(--inner-lr "${option#a}") ;;
      *) echo "unknown option $option in $name"; status=1; continue 2 ;;
    esac
  done
  iterations="$ITERATIONS"
  [ "$algorithm" = reptile ] && iterations="$REPTILE_ITERATIONS"
  run=(--iterations "$iterations" "${extra[@]}")
  if [[ " $RESUME " == *" $name "* ]]; then
    ckpt="$here/omniglot_${base}.pt"
    [ -f "$ckpt" ] || { echo "no checkpoint $ckpt"; status=1; continue; }
    if [ -n "$more" ]; then
      steps="$(python -c "from mamlviz.runs import load_checkpoint; print(load_checkpoint('$ckpt')[1].steps)")"
      run=(--iterations $((steps + more)))
    fi
    run+=(--resume "$ckpt" $RESUME_ARGS)
  fi
  (cd "$out" && exec python -m mamlviz train omniglot --algorithm "$algorithm" --ways "$ways" \
    --shots "${shots%s}" "${run[@]}" --max-seconds "$TRAIN_SECONDS" --log-every 500 \
    --out "omniglot_${name}.pt" --json \
    > "$out/omniglot_${name}.train.log" 2> "$out/omniglot_${name}.train.err") &
  pids+=($!)
done

# 2. Meanwhile: the GPU checks, then the compile cache for the benchmark.
if [ "${CHECKS:-1}" = 1 ]; then
  say "GPU checks"
  timeout 150 python -m pytest -q -p no:cacheprovider tests/test_cuda.py > "$out/test_cuda.log" 2>&1 \
    || status=1
  tail -n 4 "$out/test_cuda.log"
fi
if [ "${BENCH:-0}" = 1 ]; then
  left=$((TRAIN_SECONDS + 20 - (SECONDS - started)))
  if [ "$left" -gt 30 ]; then
    say "compiling the fused steps (up to ${left} s)"
    timeout "$left" python benchmarks/bench_omniglot_gpu.py --compile-only --ways 5 20 \
      2>&1 | grep -v Warning | tail -n 8
  fi
fi
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
say "training done"

# 3. Scores, side by side.
say "evaluating on $TASKS testing tasks"
for name in $RESUME $FRESH; do
  [ -f "$out/omniglot_${name}.pt" ] || continue
  tail -n 1 "$out/omniglot_${name}.train.log" > "$out/omniglot_${name}.train.json"
  queries=(--queries 15)  # Reptile's shipped scores use its own 5 query images per class
  [ "${name%%_*}" = reptile ] && queries=()
  for split in test train; do
    suffix=eval; [ "$split" = train ] && suffix=train-split.eval
    (cd "$out" && exec python -m mamlviz eval omniglot --checkpoint "omniglot_${name}.pt" \
      --tasks "$TASKS" --split "$split" "${queries[@]}" --json > "$out/omniglot_${name}.${suffix}.log" \
      2> "$out/omniglot_${name}.${suffix}.err") &
  done
done
wait
for name in $RESUME $FRESH; do
  [ -f "$out/omniglot_${name}.eval.log" ] || continue
  for suffix in eval train-split.eval; do
    tail -n 1 "$out/omniglot_${name}.${suffix}.log" > "$out/omniglot_${name}.${suffix}.json"
  done
  echo "$name: $(cut -c1-300 "$out/omniglot_${name}.train.json")"
  echo "   eval: $(cut -c1-400 "$out/omniglot_${name}.eval.json")"
  echo "   on training characters: $(cut -c1-400 "$out/omniglot_${name}.train-split.eval.json")"
  shipped="$here/omniglot_${name%%+*}.eval.json"
  [ -f "$shipped" ] && echo "   shipped: $(cut -c1-200 "$shipped")"
done
[ "$mps" = 1 ] && { echo quit | nvidia-cuda-mps-control; sleep 1; say "MPS off"; }

# 4. The benchmark, with the GPU to itself.
if [ "${BENCH:-0}" = 1 ]; then
  say "benchmark (up to ${BENCH_SECONDS} s)"
  timeout "$BENCH_SECONDS" python benchmarks/bench_omniglot_gpu.py --ways 5 20 \
    --json "$out/bench_omniglot_gpu.json" 2>&1 | grep -v Warning | tee "$out/bench_omniglot_gpu.log" \
    || status=1
fi
say "done (status $status) after $((SECONDS - started)) s"
exit "$status"

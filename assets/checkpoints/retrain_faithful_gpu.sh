#!/usr/bin/env bash
# One GPU session's script for issue 25 ("Faithful Omniglot"), prepared on a CPU; run it
# once where a GPU is lent. It trains, side by side under MPS, for at most TRAIN_SECONDS:
#   1. Lake's protocol (`--protocol lake`: the 30 background alphabets only, each character
#      turned four ways as four classes, `--rotations`; testing characters upright):
#      omniglot_{A}_{N}w1s_lake.pt for A in LAKE_ALGORITHMS and N in LAKE_WAYS. MAML,
#      first-order MAML and pre-training step at the paper's effective rate on our mean
#      loss (inner_lr = N x alpha, mamlviz/config.py): 2.0 at 5-way (alpha 0.4) and at
#      20-way (alpha 0.1); Reptile keeps its own paper's setup (REPTILE_OMNIGLOT);
#   2. the MAML protocol's models at the papers' steps, so that MAML and first-order MAML
#      are compared at the same setting, as in the paper's table: PAPER_STEP names
#      ALGORITHM_{N}w1s (default: 5-way MAML, first-order MAML, pre-training and 20-way
#      first-order MAML, pre-training), each at inner_lr 2.0 (the shipped ones: 0.4 at
#      5-way, the paper's 0.08; 0.1 at 20-way, the paper's 0.005), written as
#      omniglot_{A}_{N}w1s.pt in CKPT_OUT (never over a shipped file).
# Then every model, new and shipped, is scored on TASKS episodes each way: random episodes
# of its own protocol's testing characters, and Lake's within-alphabet N-way 1-shot
# episodes (`--episodes within-alphabet`: N characters of one of the 20 evaluation
# alphabets, support and query by different drawers) with one query per class, as
# Lake's runs (TASKS x N queries). A model of the MAML protocol saw most of those
# characters in meta-training: its JSON says how many (characters_seen_in_training).
# Every new checkpoint records its training split (mamlviz/training_split.py) and each
# score checks it. Results and logs land in CKPT_OUT, packed as CKPT_OUT/results.tar.gz.
# Compare them with the model card; copy the better ones (.pt, .train.json, .eval.json)
# into assets/checkpoints/ and run `python assets/checkpoints/model_card.py`.
#   MAMLVIZ_OMNIGLOT=$PWD/.carry/omniglot CKPT_OUT=$OUT/faithful \
#     bash assets/checkpoints/retrain_faithful_gpu.sh
# Dry run on a CPU with tiny settings (a few iterations, a few tasks, a subset):
#   MAMLVIZ_DEVICE=cpu ITERATIONS=2 REPTILE_ITERATIONS=2 TRAIN_SECONDS=20 TASKS=2 \
#     LAKE_WAYS=5 LAKE_ALGORITHMS="maml reptile" PAPER_STEP=fomaml_5w1s SHIPPED=maml_20w1s \
#     CKPT_OUT=/tmp/faithful nice -n 10 bash assets/checkpoints/retrain_faithful_gpu.sh
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CKPT_OUT:?set CKPT_OUT to a folder for the results (never the shipped folder)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ "$out" = "$here" ]; then echo "CKPT_OUT must not be $here"; exit 2; fi
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cuda}"
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
LAKE_ALGORITHMS="${LAKE_ALGORITHMS-maml fomaml reptile pretrain}"
LAKE_WAYS="${LAKE_WAYS-20 5}"
PAPER_STEP="${PAPER_STEP-maml_5w1s fomaml_5w1s pretrain_5w1s fomaml_20w1s pretrain_20w1s}"
SHIPPED="${SHIPPED-maml_5w1s fomaml_5w1s reptile_5w1s pretrain_5w1s maml_20w1s fomaml_20w1s reptile_20w1s pretrain_20w1s}"
ITERATIONS="${ITERATIONS:-60000}"
PRETRAIN_ITERATIONS="${PRETRAIN_ITERATIONS:-10000}"
REPTILE_ITERATIONS="${REPTILE_ITERATIONS:-100000}"  # epsilon is annealed over these
PAPER_INNER_LR="${PAPER_INNER_LR:-2.0}"  # N x alpha: 5 x 0.4 and 20 x 0.1
# The background characters turned four ways as four classes (--rotations): on the CPU it
# cut ProtoNets' 20-way within-alphabet error from 22.7 to 19.1 % (model card);
# LAKE_ROTATIONS=0 trains on the upright characters alone.
LAKE_AUGMENT=(--rotations); [ "${LAKE_ROTATIONS:-1}" = 1 ] || LAKE_AUGMENT=(--no-rotations)
TRAIN_SECONDS="${TRAIN_SECONDS:-420}"
TASKS="${TASKS:-600}"
QUERIES="${QUERIES:-15}"  # per class while meta-training MAML (the shipped models' choice)
cd "$root"
say() { echo "[$(date +%T)] $*"; }
status=0

say "data"
python -m mamlviz data omniglot --json | tail -n 1 > "$out/data.json" || exit 1

if [ "$MAMLVIZ_DEVICE" = cuda ] && [ "${MPS:-1}" = 1 ] && command -v nvidia-cuda-mps-control >/dev/null; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/mps-log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  if nvidia-cuda-mps-control -d && timeout 60 python -c "import torch; torch.ones(1, device='cuda').sum().item()"; then
    say "MPS on"
  else
    echo quit | timeout 10 nvidia-cuda-mps-control
    unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
    say "MPS unavailable: time-sliced"
  fi
fi

# train NAME ALGORITHM WAYS [options...]: one run in the background, its last JSON kept.
pids=()
train() {
  local name="$1" algorithm="$2" ways="$3"
  shift 3
  local setup=(--queries "$QUERIES" --iterations "$ITERATIONS")
  [ "$algorithm" = pretrain ] && setup=(--queries "$QUERIES" --iterations "$PRETRAIN_ITERATIONS")
  [ "$algorithm" = reptile ] && setup=(--iterations "$REPTILE_ITERATIONS")
  python -m mamlviz train omniglot --algorithm "$algorithm" --ways "$ways" --shots 1 \
    "${setup[@]}" "$@" --max-seconds "$TRAIN_SECONDS" --log-every 500 --seed 0 \
    --out "$out/$name.pt" --json > "$out/$name.train.log" 2> "$out/$name.train.err" &
  pids+=($!)
}

say "training for up to ${TRAIN_SECONDS} s each"
for ways in $LAKE_WAYS; do
  for algorithm in $LAKE_ALGORITHMS; do
    step=(--inner-lr "$PAPER_INNER_LR")
    [ "$algorithm" = reptile ] && step=()
    train "omniglot_${algorithm}_${ways}w1s_lake" "$algorithm" "$ways" --protocol lake \
      "${step[@]}" "${LAKE_AUGMENT[@]}"
  done
done
for spec in $PAPER_STEP; do  # ALGORITHM_{N}w1s
  algorithm="${spec%%_*}"
  ways="${spec#*_}"; ways="${ways%%w*}"
  train "omniglot_${spec}" "$algorithm" "$ways" --protocol maml --inner-lr "$PAPER_INNER_LR"
done
[ "${#pids[@]}" -gt 0 ] && { wait "${pids[@]}" || status=1; }
for f in "$out"/omniglot_*.train.log; do
  [ -e "$f" ] || continue
  tail -n 1 "$f" > "${f%.log}.json"
  grep -q '"status": "done"' "${f%.log}.json" || { echo "training failed: $f"; cat "${f%.log}.err" | tail -n 5; status=1; }
done

# score CHECKPOINT STEM [options...]: random and within-alphabet episodes, side by side.
score() {
  local f="$1" stem="$2"
  python -m mamlviz eval omniglot --checkpoint "$f" --tasks "$TASKS" --json \
    > "$stem.eval.log" 2> "$stem.eval.err" &
  pids+=($!)
  python -m mamlviz eval omniglot --checkpoint "$f" --tasks "$TASKS" --queries 1 \
    --protocol lake --episodes within-alphabet --json \
    > "$stem.within-alphabet.eval.log" 2> "$stem.within-alphabet.eval.err" &
  pids+=($!)
}

say "scoring on $TASKS episodes each way"
pids=()
for f in "$out"/omniglot_*.pt; do
  [ -e "$f" ] && score "$f" "${f%.pt}"
done
mkdir -p "$out/shipped"
for name in $SHIPPED; do  # the shipped models, within-alphabet (contaminated: said so)
  f="$here/omniglot_${name}.pt"
  [ -e "$f" ] || continue
  python -m mamlviz eval omniglot --checkpoint "$f" --tasks "$TASKS" --queries 1 \
    --protocol lake --episodes within-alphabet --json \
    > "$out/shipped/omniglot_${name}.within-alphabet.eval.log" \
    2> "$out/shipped/omniglot_${name}.within-alphabet.eval.err" &
  pids+=($!)
done
[ "${#pids[@]}" -gt 0 ] && { wait "${pids[@]}" || status=1; }
for f in "$out"/*.eval.log "$out"/shipped/*.eval.log; do
  [ -e "$f" ] || continue
  tail -n 1 "$f" > "${f%.log}.json"
  python - "${f%.log}.json" <<'EOF' || status=1
import json, sys
r = json.load(open(sys.argv[1]))
if "error" in r:
    sys.exit(f"{sys.argv[1]}: {r['error']}")
seen = r.get("characters_seen_in_training")
print(f"{r['checkpoint'].rsplit('/', 1)[-1]:34} {r['episodes']:15} {r['protocol']:5} "
      f"{r['ways']:2}-way error {100 * (1 - r['accuracy']):5.2f} +/- {100 * r['ci95']:.2f} % "
      f"({r['tasks']} tasks x {r['ways'] * r['queries']} queries; {seen} of "
      f"{r['characters']} characters seen in training; split {r['training_split']['status']})")
EOF
done
# Packed beside the folder, then moved in: tar reading a folder it writes into fails.
rm -f "$out/results.tar.gz"
tar -czf "$out.tar.gz.part" -C "$out" . && mv "$out.tar.gz.part" "$out/results.tar.gz" || status=1
say "done (status $status)"
exit "$status"

# Sourced by the CPU training scripts here: work in OUT (default: this folder), where the
# .pt and JSON files land, with this tree's mamlviz, on the CPU, one thread per training.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-$here}"
mkdir -p "$out"
cd "$out"
export PYTHONPATH="$here/../..${PYTHONPATH:+:$PYTHONPATH}"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}" OMP_NUM_THREADS=1
# train_to NAME OPTIONS...: `mamlviz train omniglot OPTIONS` into NAME.pt, its log in
# NAME.train.err and its last JSON record (the run's summary) in NAME.train.json.
train_to() {
  local name="$1"
  shift
  python -m mamlviz train omniglot "$@" --log-every 50 --out "$name.pt" --json \
    2> "$name.train.err" | tail -n 1 > "$name.train.json"
}
# score NAME: NAME.pt on TASKS (default 600) testing tasks, into NAME.eval.json; a Meta-SGD
# model (meta-trained for one step) also after five, to see whether it keeps its accuracy.
score() {
  python -m mamlviz eval omniglot --checkpoint "$1.pt" --tasks "${TASKS:-600}" --json \
    | tail -n 1 > "$1.eval.json"
  case $1 in
    *metasgd*) python -m mamlviz eval omniglot --checkpoint "$1.pt" --tasks "${TASKS:-600}" \
      --steps 5 --json | tail -n 1 > "$1.5-steps.eval.json" ;;
  esac
}
# score_lake NAME: a Lake-protocol model on TASKS (default 600) within-alphabet N-way 1-shot
# episodes (N characters of one evaluation alphabet, support and query by different
# drawers, Lake et al. 2015) and as many random N-way episodes of the evaluation alphabets,
# one query a class, into NAME.within-alphabet.eval.json and NAME.lake-random.eval.json.
score_lake() {
  python -m mamlviz eval omniglot --checkpoint "$1.pt" --protocol lake \
    --episodes within-alphabet --queries 1 --tasks "${TASKS:-600}" --json \
    | tail -n 1 > "$1.within-alphabet.eval.json"
  python -m mamlviz eval omniglot --checkpoint "$1.pt" --protocol lake --queries 1 \
    --tasks "${TASKS:-600}" --json | tail -n 1 > "$1.lake-random.eval.json"
}

# Sourced by the CPU training scripts here: work in OUT (default: this folder), where the
# .pt and JSON files land, with this tree's mamlviz, on the CPU, one thread per training.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-$here}"
mkdir -p "$out"
cd "$out"
export PYTHONPATH="$here/../..${PYTHONPATH:+:$PYTHONPATH}"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}" OMP_NUM_THREADS=1
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

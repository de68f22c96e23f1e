# Sourced by the CPU training scripts here: work in OUT (default: this folder), where the
# .pt and JSON files land, with this tree's mamlviz, on the CPU, one thread per training.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-$here}"
mkdir -p "$out"
cd "$out"
export PYTHONPATH="$here/../..${PYTHONPATH:+:$PYTHONPATH}"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cpu}" OMP_NUM_THREADS=1

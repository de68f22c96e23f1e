# Sourced by the GPU training scripts here: CKPT_OUT (default: this folder) is where the
# .pt, JSON and log files land; work from the repository root, on CUDA unless
# MAMLVIZ_DEVICE says otherwise (a dry run on the CPU); say() stamps each stage.
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${CKPT_OUT:-$here}"
mkdir -p "$out"
export MAMLVIZ_DEVICE="${MAMLVIZ_DEVICE:-cuda}"
cd "$root"
say() { echo "[$(date +%T)] $*"; }

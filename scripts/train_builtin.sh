#!/usr/bin/env bash
# Trains the built-in model (assets/builtin.pt + assets/builtin.json) from scratch:
#   scripts/train_builtin.sh [WORKDIR]
# 1. `camscope synth` writes the training scenes (fixed seeds 101-106; validation seed 199;
#    tests use seeds >= 1000000, never seen in training);
# 2. /usr/bin/python3 (Debian torch 1.13) trains, seeded, one intra-op thread (on a shared
#    2-core machine one thread trains faster than two), and exports TorchScript + sidecar.
# Deterministic on a given machine: same scenes, same seeds, same single-threaded kernels.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work=${1:-"$root/build/train_builtin"}
bin=${CAMSCOPE_BIN:-"$root/build/camscope"}
[ -x "$bin" ] || "$root/scripts/build.sh"
rm -rf "$work/train" "$work/val"  # only what this script writes
mkdir -p "$work/train"
start=$(date +%s)
synth() { "$bin" synth --force "$@"; }
# Square scenes, scenes that the stretch to 112x112 squashes (as it squashes a 16:9 frame),
# and two-object scenes (soft 0.5/0.5 targets) for class-specific maps.
synth --out "$work/train/single_112x112" --count 10000 --seed 101 --size 112x112 &
synth --out "$work/train/single_200x112" --count 1500 --seed 102 --size 200x112
synth --out "$work/train/single_112x200" --count 1500 --seed 103 --size 112x200
synth --out "$work/train/single_150x112" --count 1000 --seed 104 --size 150x112
synth --out "$work/train/single_112x150" --count 1000 --seed 105 --size 112x150
synth --out "$work/train/pair_112x112" --count 2500 --seed 106 --size 112x112 --mode pair
synth --out "$work/val" --count 1000 --seed 199 --size 112x112
wait
echo "scenes generated in $(( $(date +%s) - start )) s"
# Stage 1: 10 epochs, one-cycle up to lr 3e-3. Stages 2 and 3: warm restarts from the previous
# export, 6 epochs up to lr 1.5e-3, then 3 up to 5e-4 (each stage ended still improving).
# Validation accuracy after each stage: 0.973, 0.978, 0.980.
train() { /usr/bin/python3 "$root/scripts/train_builtin.py" --data "$work/train" --val "$work/val" \
  --threads 1 "$@"; }
train --out "$work/stage1" --seed 0 --epochs 10 --lr 3e-3 --pct-start 0.1
train --out "$work/stage2" --seed 1 --epochs 6 --lr 1.5e-3 --pct-start 0.2 \
  --init "$work/stage1/builtin.pt"
train --out "$root/assets" --seed 2 --epochs 3 --lr 5e-4 --pct-start 0.3 \
  --init "$work/stage2/builtin.pt"
echo "total $(( $(date +%s) - start )) s"

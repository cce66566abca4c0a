#!/usr/bin/env bash
# Feature visualization speed: `camscope optvis` against the same loop written plainly in
# Python (bench/optvis_python.py: same parameterization, transforms, optimizer, threads), side
# by side in one run, for the built-in model and resnet18 224x224 (bench/make_assets.sh makes
# bench/out/resnet18.pt). Objective: a class logit (the Python side has no taps).
#   bench/optvis_compare.sh [STEPS (default 64)] [THREADS (default: all cores)]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin=${CAMSCOPE_BIN:-"$root/build/camscope"}
steps=${1:-64}
threads=${2:-$(nproc)}
[ -f "$root/bench/out/resnet18.pt" ] || "$root/bench/make_assets.sh" >/dev/null
models=("$root/assets/builtin.pt" "$root/bench/out/resnet18.pt")
printf '%-12s %14s %14s %8s\n' model camscope python ratio
for m in "${models[@]}"; do
  # Both sides leave out their warm-up: Python its first 3 steps, camscope the redirected-ReLU
  # phase (16 steps) and the first plain step (each builds its graph once).
  c=$("$bin" optvis --model "$m" --class 0 --steps "$((steps + 18))" --threads "$threads" --json \
        --out /tmp/camscope_optvis_bench.png --force | python3 -c 'import json,sys; print(json.load(sys.stdin)["steady_steps_per_s"])')
  p=$(/usr/bin/python3 "$root/bench/optvis_python.py" --model "$m" --steps "$steps" \
        --threads "$threads" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps_per_s"])')
  python3 -c "import sys; c,p=float('$c'),float('$p'); print('%-12s %10.1f st/s %10.1f st/s %7.2fx' % ('$(basename "$m" .pt)', c, p, c/p))"
done

#!/usr/bin/env bash
# Builds the benchmark inputs under bench/out/ (ignored by git), skipping what exists:
#   resnet18.pt + resnet18.json  torchvision resnet18, seeded random weights, TorchScript
#   clip_640x360.mp4             10 s of ffmpeg's testsrc2, H.264, 30 fps
# The model comes from scripts/export_torchvision.py when the project has it, else from
# bench/export_resnet18.py. Set BENCH_OUT to put the files elsewhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out=${BENCH_OUT:-"$here/out"}
py=/usr/bin/python3
mkdir -p "$out"

if [ ! -f "$out/resnet18.pt" ]; then
  if [ -x "$root/scripts/export_torchvision.py" ] || [ -f "$root/scripts/export_torchvision.py" ]; then
    "$py" "$root/scripts/export_torchvision.py" --arch resnet18 --out "$out/resnet18.pt" \
      --seed 0 >/dev/null 2>&1 \
      || "$py" "$here/export_resnet18.py" --out "$out/resnet18.pt" --seed 0 --force >/dev/null
  else
    "$py" "$here/export_resnet18.py" --out "$out/resnet18.pt" --seed 0 >/dev/null
  fi
  echo "made $out/resnet18.pt"
fi

if [ ! -f "$out/clip_640x360.mp4" ]; then
  ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=640x360:rate=30 -t 10 \
    -c:v libx264 -pix_fmt yuv420p -g 30 "$out/clip_640x360.mp4"
  echo "made $out/clip_640x360.mp4"
fi

#!/usr/bin/env bash
# Builds the benchmark inputs under bench/out/ (ignored by git), skipping what exists:
#   resnet18.pt + resnet18.json  torchvision resnet18, seeded random weights, TorchScript
#   clip_640x360.mp4             10 s of ffmpeg's testsrc2, H.264, 30 fps
#   clip_1920x1080.mp4           5 s of the same at 1080p (camscope bench --export)
# The model comes from scripts/export_torchvision.py when the project has it, else from
# bench/export_resnet18.py (stretch resize). Delete bench/out/resnet18.* to re-export; set
# BENCH_OUT to put the files elsewhere.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
out=${BENCH_OUT:-"$here/out"}
py=/usr/bin/python3
mkdir -p "$out"

if [ ! -f "$out/resnet18.pt" ]; then
  if [ -f "$root/scripts/export_torchvision.py" ]; then
    # The project's exporter: seeded random weights (no network), 224x224, torchvision's
    # resize-256 + center-crop-224 sidecar.
    "$py" "$root/scripts/export_torchvision.py" resnet18 "$out/resnet18.pt" --size 224 >/dev/null
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

if [ ! -f "$out/clip_1920x1080.mp4" ]; then
  ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1920x1080:rate=30 -t 5 \
    -c:v libx264 -pix_fmt yuv420p -g 30 "$out/clip_1920x1080.mp4"
  echo "made $out/clip_1920x1080.mp4"
fi

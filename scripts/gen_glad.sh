#!/usr/bin/env bash
# Regenerates the GLAD 2 loader (OpenGL 3.3 core + GL_KHR_debug) offline.
# Usage: scripts/gen_glad.sh OUT_DIR   (default: third_party/glad, the committed copy used
# where python3-glad is missing, e.g. on the GPU machine).
set -euo pipefail
out=${1:-"$(cd "$(dirname "$0")/.." && pwd)/third_party/glad"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -m glad --quiet --api gl:core=3.3 --extensions GL_KHR_debug \
  --reproducible --out-path "$tmp" c
mkdir -p "$out"
cp -r "$tmp"/include "$tmp"/src "$out"/

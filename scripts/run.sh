#!/usr/bin/env bash
# Sets up, builds and runs camscope on the built-in model and synthetic input. With a display
# it opens the window; without one it runs a headless export and says where the output went.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
bin=${CAMSCOPE_BUILD:-"$root/build"}/camscope
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$bin" "$@"
fi
out="$root/out/default"
echo "run: no display found; running a headless export into $out"
exec "$bin" export --input synthetic:0 --frames 0:30 --out "$out" --force "$@"

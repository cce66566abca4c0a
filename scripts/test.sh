#!/usr/bin/env bash
# Sets up, builds and runs every test (ctest). Works headless (EGL surfaceless; Xvfb for the
# windowed tests when there is no DISPLAY).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
start=$(date +%s)
"$root/scripts/build.sh"
echo "test: build took $(( $(date +%s) - start )) s"
build=${CAMSCOPE_BUILD:-"$root/build"}
cd "$build"
ctest --output-on-failure -j "${CAMSCOPE_TEST_JOBS:-2}" --timeout 900 "$@"

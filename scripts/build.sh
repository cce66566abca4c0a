#!/usr/bin/env bash
# Configures and builds camscope (Release) into ${CAMSCOPE_BUILD:-build}.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=${CAMSCOPE_BUILD:-"$root/build"}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@"
fi
cmake --build "$build" -j "${CAMSCOPE_JOBS:-$(nproc)}"

#!/usr/bin/env bash
# Compiles and links the CUDA configuration of camscope (CUDA-GL interop, the device path, the
# CUDA tests and gpu_bench) against a real CUDA LibTorch: Debian 13's libtorch-cuda-dev 2.6 with
# nvidia-cuda-toolkit 12.4, in a debootstrap root of its own (libtorch-cuda-dev conflicts with
# the CPU libtorch-dev of scripts/debian13.sh's root). Nothing runs: this machine has no GPU. A
# developer's script, not CI's (the root is ~9 GB).
#
#   scripts/cuda_link.sh           set up the root (first time: ~4 GB download), build, check
#   scripts/cuda_link.sh --setup   only make the root
#   scripts/cuda_link.sh --shell   a shell in the root with the tree at /src
#
# Root: CAMSCOPE_CUDA_ROOT (default /var/cache/camscope/trixie-cuda), made from a copy of the
# Debian 13 root of scripts/debian13.sh (made first when missing). Build: build-cuda/.
#
# Debian's nvidia-cudnn is an installer that downloads cuDNN from NVIDIA at install time, which
# this machine cannot reach; an empty stand-in package satisfies the dependency, so libcudnn.so.9
# is absent from the root and the link is told to leave the symbols libtorch_cuda takes from it
# (and from the driver's libcuda.so.1, absent without a GPU driver) unresolved. Everything
# camscope itself calls must resolve: the link fails on any undefined symbol of camscope's own
# objects.
set -euo pipefail
root_dir="$(cd "$(dirname "$0")/.." && pwd)"
chroot_dir=${CAMSCOPE_CUDA_ROOT:-/var/cache/camscope/trixie-cuda}
base_root=${CAMSCOPE_TRIXIE_ROOT:-/var/cache/camscope/trixie}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
mode=${1:-build}
case $mode in
  build|--setup|--shell) ;;
  *) echo "cuda_link: unknown option '$mode' (use --setup, --shell or nothing)" >&2; exit 2 ;;
esac
log() { echo "cuda_link: $*"; }

make_root() {
  [ -f "$chroot_dir/.camscope-cuda-ok" ] && return
  if [ ! -f "$base_root/.camscope-root-ok" ] || [ ! -x "$base_root/usr/bin/cmake" ]; then
    log "making the Debian 13 base root first (scripts/debian13.sh --setup)"
    "$root_dir/scripts/debian13.sh" --setup
  fi
  log "copying $base_root to $chroot_dir"
  $SUDO rm -rf "$chroot_dir"
  $SUDO cp -a "$base_root" "$chroot_dir"
  $SUDO rm -f "$chroot_dir/.camscope-root-ok"
  mount_all
  # The stand-in for the cuDNN downloader (see the header).
  $SUDO mkdir -p "$chroot_dir/tmp/cudnn-stub/DEBIAN"
  cat <<'EOF' | $SUDO tee "$chroot_dir/tmp/cudnn-stub/DEBIAN/control" >/dev/null
Package: nvidia-cudnn
Version: 9.99.0~camscope-stub
Architecture: amd64
Maintainer: camscope <camscope@localhost>
Description: empty stand-in for the cuDNN download installer (link checks only)
EOF
  in_root /bin/bash -c "set -e
    dpkg-deb --build /tmp/cudnn-stub /tmp/nvidia-cudnn-stub.deb >/dev/null
    dpkg -i /tmp/nvidia-cudnn-stub.deb >/dev/null
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libtorch-cuda-dev nvidia-cuda-toolkit nvidia-cuda-toolkit-gcc g++-13 2>&1 | tail -5
    apt-get clean"
  $SUDO touch "$chroot_dir/.camscope-cuda-ok"
  unmount_all
}

# shellcheck source=scripts/chroot_lib.sh
. "$root_dir/scripts/chroot_lib.sh"

start=$(date +%s)
make_root
mount_all
log "root ready in $(( $(date +%s) - start )) s"
stop_for_mode "$mode"
start=$(date +%s)
# nvcc 12.4 takes GCC <= 13 as its host compiler, and CMake then links every executable with
# GCC 13's library folder first (its implicit CUDA link directories): C++ compiled by GCC 14
# would miss GCC 14's libstdc++ symbols (__cxa_call_terminate), so all C++ goes through GCC 13.
in_root /bin/bash -c "set -e; cd /src
  if [ ! -f build-cuda/CMakeCache.txt ]; then
    cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAMSCOPE_CUDA=ON \
      -DCMAKE_CXX_COMPILER=/usr/bin/g++-13 \
      -DCMAKE_CUDA_COMPILER=/usr/bin/nvcc -DCMAKE_CUDA_HOST_COMPILER=/usr/bin/g++-13 \
      -DCMAKE_CUDA_ARCHITECTURES='75-real;90' -DCAMSCOPE_TORCH_PCH=ON \
      -DCMAKE_EXE_LINKER_FLAGS='-Wl,--allow-shlib-undefined' \
      -DCMAKE_SHARED_LINKER_FLAGS='-Wl,--allow-shlib-undefined' \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache
  fi
  cmake --build build-cuda -j ${CAMSCOPE_JOBS:-$(nproc)}"
log "build took $(( $(date +%s) - start )) s"
# The checks: the app (the `camscope` launcher loads libcamscope_app.so, which holds everything),
# the CUDA tests and gpu_bench link LibTorch's CUDA library and the CUDA runtime, and carry the
# interop and device-stream code (not the CPU stand-ins).
fail=0
for exe in build-cuda/libcamscope_app.so build-cuda/tests/test_render_cuda \
           build-cuda/tests/test_device_path build-cuda/gpu_bench; do
  [ -x "$root_dir/$exe" ] || { log "MISSING $exe"; fail=1; continue; }
  needed=$(readelf -d "$root_dir/$exe" | grep NEEDED | sed 's/.*\[\(.*\)\]/\1/' | tr '\n' ' ')
  for lib in libtorch_cuda.so libcudart.so; do
    case " $needed" in *" $lib"*) ;; *) log "$exe does not link $lib (needs: $needed)"; fail=1 ;; esac
  done
  # The CUDA halves themselves: the interop implementation and the CUDA stream class.
  syms=$(nm -C "$root_dir/$exe" 2>/dev/null | grep -E ' [TtWw] ' | grep -o -E 'camscope::gpu::create_cuda_interop|camscope::model::\(anonymous namespace\)::CudaStream' | sort -u | tr '\n' ' ' || true)
  want="*create_cuda_interop*CudaStream*"
  [ "${exe##*/}" = test_render_cuda ] && want="*create_cuda_interop*"  # the bridge alone
  # shellcheck disable=SC2254
  case $syms in $want) ;; *) log "$exe lacks the CUDA code (has: $syms)"; fail=1 ;; esac
  log "$exe: links $(echo "$needed" | grep -o 'lib[a-z0-9_]*cu[a-z0-9_]*\.so[.0-9]*' | sort -u | tr '\n' ' '); has $syms"
done
# Undefined symbols left for the loader must all come from the libraries absent here (cuDNN).
undef=$(in_root /bin/bash -c "cd /src && ldd build-cuda/libcamscope_app.so 2>/dev/null | grep 'not found' | sort -u | tr -s ' \t' ' ' || true")
[ -n "$undef" ] && log "libraries not in this root (expected: libcudnn only): $undef"
if [ $fail -ne 0 ]; then log "FAILED"; exit 1; fi
log "CUDA configuration links against LibTorch $(in_root dpkg-query -W -f='${Version}' libtorch-cuda-dev) with nvcc $(in_root nvcc --version | grep -o 'release [0-9.]*')"

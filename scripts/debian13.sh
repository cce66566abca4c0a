#!/usr/bin/env bash
# Builds camscope and runs its whole test suite on Debian 13 (trixie: LibTorch 2.6, FFmpeg 7.1,
# Dear ImGui 1.90, GLFW 3.4, GCC 14, Mesa 25) inside a debootstrap root, next to the Debian 12
# build of scripts/test.sh. The root is cached (CAMSCOPE_TRIXIE_ROOT, default
# /var/cache/camscope/trixie) and re-made from scratch when missing or incomplete; the packages
# come from scripts/setup.sh run inside it, so both stacks install the same list.
#
#   scripts/debian13.sh            set up (first time ~6 min), build into build-trixie/, ctest
#   scripts/debian13.sh --setup    only make/refresh the root
#   scripts/debian13.sh --shell    a shell in the root with the tree at /src
# Needs root (debootstrap, chroot, mounts); uses sudo otherwise.
set -euo pipefail
root_dir="$(cd "$(dirname "$0")/.." && pwd)"
shared_dir="$(cd "$root_dir/.." && pwd)/shared"
chroot_dir=${CAMSCOPE_TRIXIE_ROOT:-/var/cache/camscope/trixie}
mirror=${CAMSCOPE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
mode=${1:-test}

log() { echo "debian13: $*"; }

make_root() {
  if [ -f "$chroot_dir/.camscope-root-ok" ]; then return; fi
  command -v debootstrap >/dev/null || {
    log "installing debootstrap"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq debootstrap >/dev/null
  }
  log "creating a Debian 13 root in $chroot_dir (debootstrap, ~3 min)"
  $SUDO rm -rf "$chroot_dir"
  $SUDO mkdir -p "$chroot_dir"
  $SUDO debootstrap --variant=minbase --components=main,contrib,non-free trixie "$chroot_dir" \
    "$mirror" >/tmp/camscope-debootstrap.log 2>&1 || {
    tail -20 /tmp/camscope-debootstrap.log
    log "debootstrap failed"
    exit 1
  }
  $SUDO touch "$chroot_dir/.camscope-root-ok"
}

# shellcheck source=scripts/chroot_lib.sh
. "$root_dir/scripts/chroot_lib.sh"

start=$(date +%s)
make_root
mount_all
# The same package list as the Debian 12 build (names are the same on trixie).
in_root /bin/bash /src/scripts/setup.sh
setup_s=$(( $(date +%s) - start ))
log "root ready in ${setup_s} s"
stop_for_mode "$mode"
start=$(date +%s)
in_root /bin/bash -c "cd /src && CAMSCOPE_BUILD=/src/build-trixie ./scripts/build.sh"
build_s=$(( $(date +%s) - start ))
log "build took ${build_s} s"
start=$(date +%s)
in_root /bin/bash -c "cd /src/build-trixie && ctest --output-on-failure -j ${CAMSCOPE_TEST_JOBS:-2} --timeout 900"
log "tests took $(( $(date +%s) - start )) s (setup ${setup_s} s, build ${build_s} s)"

#!/usr/bin/env bash
# Installs camscope's build and test dependencies from Debian bookworm. Idempotent: packages
# already present are skipped; prints what it installs. Uses sudo when not root.
set -euo pipefail
pkgs=(cmake ninja-build g++ pkg-config ccache
      libtorch-dev python3-torch python3-torchvision python3-numpy python3-pil
      libglfw3-dev libimgui-dev python3-glad doctest-dev
      libavformat-dev libavcodec-dev libswscale-dev libavdevice-dev libavutil-dev
      libstb-dev libjpeg62-turbo-dev libpng-dev nlohmann-json3-dev libegl-dev libgl-dev libegl-mesa0 libgl1-mesa-dri
      xvfb xauth ffmpeg clang)
# libFuzzer's runtime for scripts/fuzz.sh, named after the distribution's clang; on Debian 12
# (where CI fuzzes and sanitizes) also llvm-symbolizer, for file:line in sanitizer reports.
. /etc/os-release 2>/dev/null || true
case "${VERSION_CODENAME:-}" in
  bookworm) pkgs+=(libclang-rt-14-dev llvm-14) ;;
  trixie) pkgs+=(libclang-rt-19-dev) ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#pkgs[@]} packages already installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"

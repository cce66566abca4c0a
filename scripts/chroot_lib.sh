# Shared by scripts/debian13.sh and scripts/cuda_link.sh (sourced, not run): mounting a
# debootstrap root for chroot use and running commands in it. The caller sets chroot_dir,
# root_dir (the tree, bind-mounted at /src), SUDO, and optionally shared_dir (bind-mounted at
# /shared when it exists); unmount_all runs on exit.
mounted=()
mount_all() {
  for d in proc sys dev dev/pts; do
    $SUDO mkdir -p "$chroot_dir/$d"
    if ! mountpoint -q "$chroot_dir/$d"; then
      case $d in
        proc) $SUDO mount -t proc proc "$chroot_dir/proc" ;;
        sys) $SUDO mount -t sysfs sys "$chroot_dir/sys" ;;
        dev) $SUDO mount --bind /dev "$chroot_dir/dev" ;;
        dev/pts) $SUDO mount --bind /dev/pts "$chroot_dir/dev/pts" ;;
      esac
      mounted=("$chroot_dir/$d" "${mounted[@]}")
    fi
  done
  $SUDO mkdir -p "$chroot_dir/src"
  if ! mountpoint -q "$chroot_dir/src"; then
    $SUDO mount --bind "$root_dir" "$chroot_dir/src"
    mounted=("$chroot_dir/src" "${mounted[@]}")
  fi
  if [ -n "${shared_dir:-}" ] && [ -d "$shared_dir" ]; then
    $SUDO mkdir -p "$chroot_dir/shared"
    if ! mountpoint -q "$chroot_dir/shared"; then
      $SUDO mount --bind "$shared_dir" "$chroot_dir/shared"
      mounted=("$chroot_dir/shared" "${mounted[@]}")
    fi
  fi
  $SUDO cp /etc/resolv.conf "$chroot_dir/etc/resolv.conf" 2>/dev/null || true
}
unmount_all() {
  for m in "${mounted[@]}"; do $SUDO umount -l "$m" 2>/dev/null || true; done
  mounted=()
}
trap unmount_all EXIT

in_root() {
  $SUDO chroot "$chroot_dir" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 CI="${CI:-}" CCACHE_DIR=/root/.cache/ccache "$@"
}

# Once the root is ready: `--setup` stops there, `--shell` opens a shell in it.
stop_for_mode() {
  case $1 in
    --setup) exit 0 ;;
    --shell) in_root /bin/bash -l; exit 0 ;;
  esac
}

#!/usr/bin/env bash
# Soak: runs N frames of `camscope view --headless` and/or `camscope export --overlay none` and
# reports resident memory (and, for view, GL object counts) at the start, after a warm-up and
# at the end, with checkpoints between. Not a timed test: it prints figures and flags growth.
#   scripts/soak.sh [N (default 100000)] [view|export|both (default both)] [-- EXTRA ARGS]
# Input: CAMSCOPE_SOAK_INPUT (default synthetic:7, every frame new, so the model, the maps
# and the textures work on every frame); the built-in model unless EXTRA ARGS name another.
# Uses build/camscope (CAMSCOPE_BUILD to change); no display needed (EGL surfaceless).
# Exits 1 when GL objects grew after the warm-up, or RSS grew by more than
# CAMSCOPE_SOAK_MAX_GROWTH_MB (default 64) between the warm-up and the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=${CAMSCOPE_BUILD:-"$root/build"}
bin="$build/camscope"
n=${1:-100000}
mode=${2:-both}
shift $(( $# >= 2 ? 2 : $# ))
[ "${1:-}" != "--" ] || shift
extra=("$@")
input=${CAMSCOPE_SOAK_INPUT:-synthetic:7}
max_growth_mb=${CAMSCOPE_SOAK_MAX_GROWTH_MB:-64}
[ -x "$bin" ] || { echo "soak: $bin not built (scripts/build.sh)"; exit 1; }
[[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 100 ] || { echo "soak: N must be a number >= 100"; exit 1; }
warm=$(( n / 10 < 2000 ? n / 10 : 2000 ))
tmp=$(mktemp -d /tmp/camscope_soak.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
status=0

soak_view() {
  # Checkpoints: start, after the warm-up, 9 more, end.
  {
    echo "wait_result"
    echo "print_state"
    echo "play"
    echo "frames $warm"
    echo "print_state"
    local left=$(( n - warm )) step=$(( (n - warm) / 10 ))
    for _ in 1 2 3 4 5 6 7 8 9; do echo "frames $step"; echo "print_state"; left=$(( left - step )); done
    echo "frames $left"
    echo "print_state"
    echo "quit"
  } >"$tmp/soak.script"
  echo "soak: view --headless, $n frames of $input (warm-up $warm)"
  local start=$(date +%s)
  "$bin" view --headless --input "$input" --size 640x400 --script "$tmp/soak.script" \
    "${extra[@]}" >"$tmp/view.out" 2>"$tmp/view.err" || {
    echo "soak: view failed:"; tail -5 "$tmp/view.err"; status=1; return; }
  local secs=$(( $(date +%s) - start ))
  /usr/bin/python3 - "$tmp/view.out" "$n" "$warm" "$secs" "$max_growth_mb" <<'PY' || status=1
import json, sys
out, n, warm, secs, max_growth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
states = [json.loads(l) for l in open(out) if l.startswith("{")]
if len(states) < 3:
    sys.exit("soak: view printed %d states, expected 12" % len(states))
step = (n - warm) // 10
labels = ["start", "warm-up (%d)" % warm] + ["%d" % (warm + i * step) for i in range(1, 10)] + ["end (%d)" % n]
for label, s in zip(labels, states):
    g = s["gl_objects"]
    print("soak:   view %-14s rss %7.1f MiB  GL objects %3d (textures %d, framebuffers %d, buffers %d)  computed %s" %
          (label, s["rss_kib"] / 1024, g["total"], g["textures"], g["framebuffers"], g["buffers"],
           s["stats"]["computed"]))
a, b = states[1], states[-1]
growth = (b["rss_kib"] - a["rss_kib"]) / 1024
print("soak: view %d frames in %d s: rss start %.1f MiB, after warm-up %.1f MiB, end %.1f MiB (%+.1f MiB since warm-up); GL objects %d -> %d -> %d; results computed %d" %
      (n, secs, states[0]["rss_kib"] / 1024, a["rss_kib"] / 1024, b["rss_kib"] / 1024, growth,
       states[0]["gl_objects"]["total"], a["gl_objects"]["total"], b["gl_objects"]["total"],
       b["stats"]["computed"]))
bad = []
if b["gl_objects"] != a["gl_objects"]: bad.append("GL objects changed after the warm-up")
if growth > max_growth: bad.append("RSS grew by %.1f MiB (> %g)" % (growth, max_growth))
if bad:
    sys.exit("soak: view: " + "; ".join(bad))
PY
}

rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

soak_export() {
  echo "soak: export --overlay none, $n frames of $input (warm-up $warm)"
  local out="$tmp/export" start=$(date +%s)
  "$bin" export --input "$input" --frames "0:$n" --overlay none --out "$out" "${extra[@]}" \
    >"$tmp/export.out" 2>"$tmp/export.err" &
  local pid=$! done_frames=0 next_mark=0 rss first="" warmed="" last="" marks=()
  # Samples RSS by frames done (the maps are deleted as they come: 100k of them fill GBs).
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    rss=$(rss_mib "$pid")
    [ "$rss" != "?" ] || continue
    done_frames=$(tr '\r' '\n' <"$tmp/export.err" | sed -n 's/.*] \([0-9]*\)\/[0-9]* frames.*/\1/p' | tail -1)
    done_frames=${done_frames:-0}
    find "$out" -name 'cam_*.npy' -delete 2>/dev/null || true
    [ -n "$first" ] || first=$rss
    if [ -z "$warmed" ] && [ "$done_frames" -ge "$warm" ]; then warmed=$rss; next_mark=$(( warm + (n - warm) / 10 )); fi
    if [ -n "$warmed" ] && [ "$done_frames" -ge "$next_mark" ] && [ "$next_mark" -lt "$n" ]; then
      marks+=("$done_frames:$rss"); next_mark=$(( next_mark + (n - warm) / 10 ))
    fi
    last=$rss
  done
  if ! wait "$pid"; then echo "soak: export failed:"; tr '\r' '\n' <"$tmp/export.err" | tail -5; status=1; return; fi
  local secs=$(( $(date +%s) - start ))
  local frames
  frames=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(len(s.get('frames', [])))" "$out/summary.json" 2>/dev/null || echo "?")
  for m in "${marks[@]}"; do echo "soak:   export at ${m%%:*} frames: rss ${m##*:} MiB"; done
  echo "soak: export $n frames in $secs s ($frames in summary.json): rss start ${first:-?} MiB, after warm-up ${warmed:-?} MiB, end ${last:-?} MiB (last sample before exit)"
  if [ -n "$warmed" ] && [ -n "$last" ] &&
     awk -v a="$warmed" -v b="$last" -v m="$max_growth_mb" 'BEGIN { exit !(b - a > m) }'; then
    echo "soak: export: RSS grew by more than $max_growth_mb MiB after the warm-up"; status=1
  fi
}

case $mode in
  view) soak_view ;;
  export) soak_export ;;
  both) soak_view; soak_export ;;
  *) echo "soak: mode is view, export or both"; exit 1 ;;
esac
exit $status

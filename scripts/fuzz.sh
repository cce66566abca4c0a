#!/usr/bin/env bash
# Builds the libFuzzer harnesses in fuzz/ with clang into ${CAMSCOPE_FUZZ_BUILD:-build-fuzz} and
# runs each for a bounded time; exits non-zero when any harness finds something (a crash, a
# sanitizer report, a leak, a hang over -timeout, an input that needs more than -rss_limit_mb).
#   scripts/fuzz.sh [SECONDS_PER_HARNESS (default 30)] [HARNESS...]
#   harnesses: image video torchscript sidecar args text (default: all)
# camscope's code is compiled with -fsanitize=fuzzer-no-link,address,undefined; the libraries
# it calls (libjpeg, libpng, stb, FFmpeg) are linked as installed, not instrumented.
# Seeds: fuzz/seeds/NAME (small text files) plus what fuzz/make_seeds.sh makes at fuzz time
# (images with PIL, clips with the ffmpeg CLI, a TorchScript file with torch) in
# build-fuzz/seeds/NAME. The corpus grows in build-fuzz/corpus/NAME; findings are written to
# build-fuzz/findings/NAME/ (replay one: build-fuzz/fuzz_NAME FILE).
# Needs clang++ and libclang-rt-14-dev (libclang-rt-19-dev on Debian 13); scripts/setup.sh
# installs them.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out=${CAMSCOPE_FUZZ_BUILD:-"$root/build-fuzz"}
secs=${1:-30}
shift || true
names=("$@")
all=(image video torchscript sidecar args text)
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")
cxx=${CXX_FUZZ:-clang++}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
jobs=${CAMSCOPE_JOBS:-$(nproc)}

# The libraries each harness's camscope code needs (as CMake links them).
img_defs=(-DCAMSCOPE_HAVE_LIBJPEG=1 -DCAMSCOPE_HAVE_LIBPNG=1)
img_libs=(-ljpeg -lpng)
if [ -f /usr/include/stb/stb_image.h ]; then
  img_defs+=(-DCAMSCOPE_HAVE_STB=1 -isystem /usr/include/stb)
  img_libs+=(-lstb)
fi
read -r -a av_cflags <<<"$(pkg-config --cflags libavformat libavcodec libswscale libavutil 2>/dev/null || true)"
read -r -a av_libs <<<"$(pkg-config --libs libavformat libavcodec libswscale libavutil 2>/dev/null || true)"

flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I "$root/src" "${img_defs[@]}")
util=(error fs json log args frame_range image_io image_decode_jpeg image_decode_png
      image_decode_bmp image_decode_gif image_exif)
declare -A extra=(
  [image]="" [text]="" [args]="" [sidecar]="src/model/sidecar.cpp"
  [torchscript]="src/model/torchscript_archive.cpp"
  [video]="src/capture/video_source.cpp src/capture/ffmpeg_util.cpp src/capture/frame_source.cpp")
declare -A libs=([video]="${av_libs[*]}")
# Per harness: longest input, and seconds one input may take before it counts as a hang.
declare -A max_len=([image]=8192 [video]=16384 [torchscript]=8192 [sidecar]=4096 [args]=4096 [text]=4096)
declare -A timeout=([video]=20)
# Largest single allocation: the image harness decodes with an 8 MiB budget, so anything over
# 256 MiB means a decoder allocates far beyond what the header was checked for.
declare -A malloc_mb=([image]=256 [torchscript]=256 [sidecar]=256 [args]=256 [text]=256)

mkdir -p "$out/obj" "$out/findings"
# Each source is compiled once (instrumented, no libFuzzer main); recompiled when it or any
# camscope header is newer than its object.
newest_header=$(find "$root/src" "$root/fuzz" -name '*.h' -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)
obj_of() { echo "$out/obj/$(echo "$1" | tr / _).o"; }
needed=()
for n in "${names[@]}"; do
  [ -n "${max_len[$n]+x}" ] || { echo "fuzz: unknown harness '$n' (have: ${all[*]})"; exit 2; }
  for u in "${util[@]}"; do needed+=("src/util/$u.cpp"); done
  for s in ${extra[$n]}; do needed+=("$s"); done
  needed+=("fuzz/fuzz_$n.cpp")
done
mapfile -t needed < <(printf '%s\n' "${needed[@]}" | sort -u)
stale=()
for src in "${needed[@]}"; do
  obj=$(obj_of "$src")
  if [ ! -f "$obj" ] || [ "$root/$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then stale+=("$src"); fi
done
build_start=$(date +%s)
if [ ${#stale[@]} -gt 0 ]; then
  echo "fuzz: compiling ${#stale[@]} sources ($jobs at a time)"
  cflags=("${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" "${av_cflags[@]}")
  cc=("$cxx")
  if command -v ccache >/dev/null; then cc=(ccache "$cxx"); export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1; fi
  rm -f "$out/obj/FAILED"
  running=0
  for src in "${stale[@]}"; do
    { nice "${cc[@]}" "${cflags[@]}" -c "$root/$src" -o "$(obj_of "$src")" || touch "$out/obj/FAILED"; } &
    running=$((running + 1))
    if [ $running -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  done
  wait
  [ ! -f "$out/obj/FAILED" ] || { echo "fuzz: compilation failed"; exit 1; }
fi
for n in "${names[@]}"; do
  objs=()
  for u in "${util[@]}"; do objs+=("$(obj_of "src/util/$u.cpp")"); done
  for s in ${extra[$n]}; do objs+=("$(obj_of "$s")"); done
  objs+=("$(obj_of "fuzz/fuzz_$n.cpp")")
  # shellcheck disable=SC2086
  "$cxx" "${flags[@]}" "${objs[@]}" "${img_libs[@]}" ${libs[$n]:-} -lpthread -o "$out/fuzz_$n"
done
echo "fuzz: build took $(( $(date +%s) - build_start )) s"

"$root/fuzz/make_seeds.sh" "$out/seeds"
symbolizer=$(command -v llvm-symbolizer || ls /usr/bin/llvm-symbolizer-* 2>/dev/null | head -1 || true)
export ASAN_SYMBOLIZER_PATH=${symbolizer:-}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:handle_abort=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for n in "${names[@]}"; do
  corpus="$out/corpus/$n"
  mkdir -p "$corpus" "$out/findings/$n" "$out/seeds/$n"
  seeds=("$out/seeds/$n")
  [ -d "$root/fuzz/seeds/$n" ] && seeds+=("$root/fuzz/seeds/$n")
  [ "$n" = sidecar ] && seeds+=("$root/assets")
  # Earlier findings run first: one that still fails fails again at once.
  [ -n "$(ls -A "$out/findings/$n")" ] && seeds+=("$out/findings/$n")
  echo "fuzz: running fuzz_$n for ${secs}s"
  mask=0
  case $n in sidecar | video) mask=2 ;; esac  # their warnings would flood the log
  log="$out/fuzz_$n.log"
  rc=0
  (cd "$out" && nice "./fuzz_$n" -max_total_time="$secs" -max_len="${max_len[$n]}" \
     -timeout="${timeout[$n]:-10}" -rss_limit_mb=2048 -malloc_limit_mb="${malloc_mb[$n]:-1024}" \
     -close_fd_mask=$mask -print_final_stats=1 -artifact_prefix="$out/findings/$n/" \
     "$corpus" "${seeds[@]}" >"$log" 2>&1) || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  files=$(find "$corpus" -type f | wc -l)
  line=$(printf '%-12s %10s execs %7s exec/s  cov: %-6s ft: %-6s corpus: %s' \
         "$n" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$files")
  if [ $rc -ne 0 ]; then
    failed+=("$n")
    line+="  FAILED (exit $rc)"
    echo "fuzz: fuzz_$n found something (exit $rc); report (full log: $log):"
    grep -E -A30 'ERROR: |runtime error:|==ERROR|deadly signal|Test unit written' "$log" | head -60 || tail -40 "$log"
    ls "$out/findings/$n" 2>/dev/null | sed "s|^|  finding: $out/findings/$n/|"
  fi
  echo "fuzz: $line"
  summary+=("$line")
done
echo "fuzz: summary (${secs}s per harness)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FINDINGS in: ${failed[*]}"
  exit 1
fi
echo "fuzz: done, no findings"

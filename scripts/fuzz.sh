#!/usr/bin/env bash
# Builds the libFuzzer harnesses in fuzz/ with clang (-fsanitize=fuzzer,address,undefined) into
# ${CAMSCOPE_FUZZ_BUILD:-build-fuzz} and runs each for a bounded time.
#   scripts/fuzz.sh [SECONDS_PER_HARNESS (default 30)] [HARNESS...]   (sidecar, args, text)
# Needs clang++ and libclang-rt-14-dev (scripts/setup.sh installs them). Crashes are written to
# build-fuzz/crash-*; the corpus grows in build-fuzz/corpus/NAME (seeded from the repository).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out=${CAMSCOPE_FUZZ_BUILD:-"$root/build-fuzz"}
secs=${1:-30}
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(sidecar args text)
cxx=${CXX_FUZZ:-clang++}
command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (apt-get install clang libclang-rt-14-dev)"; exit 1; }
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I "$root/src")
util=("$root/src/util/error.cpp" "$root/src/util/fs.cpp" "$root/src/util/json.cpp"
      "$root/src/util/log.cpp" "$root/src/util/args.cpp" "$root/src/util/frame_range.cpp")
mkdir -p "$out/obj"
# Each source is compiled once (instrumented, no libFuzzer main), then each harness links.
compile() {  # SRC -> prints the object path; recompiles only when the source is newer
  local src=$1 obj
  obj="$out/obj/$(echo "${src#"$root"/}" | tr / _).o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find "$root/src/util" "$root/src/model" -name '*.h' -newer "$obj")" ]; then
    "$cxx" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -c "$src" -o "$obj" >&2
  fi
  echo "$obj"
}
declare -A extra=([sidecar]="$root/src/model/sidecar.cpp" [args]="" [text]="")
for n in "${names[@]}"; do
  echo "fuzz: building fuzz_$n"
  objs=()
  for src in "${util[@]}" ${extra[$n]} "$root/fuzz/fuzz_$n.cpp"; do objs+=("$(compile "$src")"); done
  "$cxx" "${flags[@]}" "${objs[@]}" -o "$out/fuzz_$n"
done
for n in "${names[@]}"; do
  corpus="$out/corpus/$n"
  mkdir -p "$corpus"
  if [ "$n" = sidecar ]; then
    cp -n "$root"/assets/*.json "$corpus"/ 2>/dev/null || true
    cp -n "$root"/fuzz/seeds/sidecar/* "$corpus"/ 2>/dev/null || true
  elif [ -d "$root/fuzz/seeds/$n" ]; then
    cp -n "$root"/fuzz/seeds/"$n"/* "$corpus"/ 2>/dev/null || true
  fi
  echo "fuzz: running fuzz_$n for ${secs}s"
  mask=0
  [ "$n" = sidecar ] && mask=2  # its warnings about unknown fields would flood the log
  (cd "$out" && ASAN_OPTIONS=detect_leaks=0 "./fuzz_$n" -max_total_time="$secs" -max_len=4096 \
     -close_fd_mask=$mask \
     -rss_limit_mb=1024 -print_final_stats=1 "$corpus" 2>&1 | tail -n 12)
done
echo "fuzz: done (no crash)"

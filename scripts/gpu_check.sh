#!/usr/bin/env bash
# The GPU check: one command that builds camscope's core libraries (CAMSCOPE_APP=OFF: LibTorch +
# EGL/GL + GLAD, no FFmpeg/GLFW/ImGui), the CUDA tests and bench/gpu_bench, runs the tests, makes
# ResNet-18/50 with bench/make_resnet.py and runs the benchmark; one JSON and one log come out.
#
#   scripts/gpu_check.sh            GPU mode when python3's torch sees a CUDA device, else CPU mode
#   scripts/gpu_check.sh --cpu      CPU mode (CUDA parts skipped, each with a line saying so)
#   scripts/gpu_check.sh --gpu      GPU mode even where torch sees no device (checks the CUDA
#                                   configure and build on a machine without a GPU; tests fail)
#   scripts/gpu_check.sh --fetch    on a developer machine: download the .deb files the GPU machine
#                                   lacks into .gl/ (git-ignored, ~1 MB) and exit
#
# Output: $OUT/gpu_check.json (mode, steps, test results, checks, the benchmark's JSON) and
# $OUT/gpu_check.log; OUT defaults to out/gpu_check/. Build: build-gpu/ (CAMSCOPE_GPU_BUILD).
# Exit status non-zero when a step or test fails (GPU mode: also when a CUDA check fails: the
# interop bridge not in use, device->host map bytes not 0, a CUDA test skipped). Budget on the GPU
# machine (16 cores): under 8 minutes including configure and build.
#
# On a lent GPU machine (device tool), from the checkout the tool sends (the lead's, /work/main):
#   1. here, once:   scripts/gpu_check.sh --fetch          (fills .gl/; it is git-ignored)
#   2. device tool:  run(command="scripts/gpu_check.sh", carry=[".gl"], timeout_s=600)
#      the JSON and the log come back under files_at (gpu_check.json, gpu_check.log).
# There: torch 2.11+cu130 in python3 (its LibTorch via torch.utils.cmake_prefix_path), nvcc 13,
# CMake, ninja; no package registry, maybe no pkg-config or EGL/GL headers. The .deb files are
# unpacked with dpkg -x into build-gpu/deps (headers, nlohmann-json, doctest, the libEGL link);
# only the runtime GL libraries (libEGL, libglvnd...) go into / and only when libEGL.so.1 is
# missing there, as the device tool's README does it. NVIDIA's EGL vendor file is used when the
# driver folder has one.
#
# Environment: CAMSCOPE_JOBS (build jobs; default all cores), CAMSCOPE_GPU_BUILD, PYTHON, OUT.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
build=${CAMSCOPE_GPU_BUILD:-"$root/build-gpu"}
out=${OUT:-"$root/out/gpu_check"}
jobs=${CAMSCOPE_JOBS:-$(nproc)}
mode=auto
for a in "$@"; do
  case $a in
    --cpu) mode=cpu ;;
    --gpu) mode=gpu ;;
    --fetch) mode=fetch ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown option $a (use --cpu, --gpu, --fetch or --help)" >&2; exit 2 ;;
  esac
done

# Runtime GL libraries (unpacked into / only where libEGL.so.1 is missing) and build-only
# packages (headers, the libEGL.so link; unpacked into the private prefix only).
runtime_debs=(libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
build_debs=(libegl-dev libgl-dev nlohmann-json3-dev doctest-dev)

if [ "$mode" = fetch ]; then
  mkdir -p "$root/.gl"
  git -C "$root" check-ignore -q .gl/x.deb || echo "/.gl/" >>"$(git -C "$root" rev-parse --git-path info/exclude)"
  rm -f "$root"/.gl/*.deb
  (cd "$root/.gl" && apt-get download "${runtime_debs[@]}" "${build_debs[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed') ||
    { echo "gpu_check: apt-get download failed" >&2; exit 1; }
  n=$(ls "$root"/.gl/*.deb | wc -l)
  echo "gpu_check: fetched $n .deb files into .gl/ ($(du -sh "$root/.gl" | cut -f1)); carry \".gl\" in the device call"
  exit 0
fi

mkdir -p "$out" "$build"
log="$out/gpu_check.log"
: >"$log"
exec > >(tee -a "$log") 2>&1
tee_pid=$!
exec 3>&1  # step headers reach the log even when a step's own output is redirected
t_start=$(date +%s)
say() { echo "gpu_check: $*"; }
steps_file="$build/gpu_check_steps.tsv"
: >"$steps_file"
# step NAME SECONDS_LIMIT CMD...: runs, times and records one step (name, rc, seconds).
step() {
  local name=$1 limit=$2; shift 2
  local s=$(date +%s) rc
  say "== $name" >&3
  timeout "$limit" "$@"
  rc=$?
  [ $rc -eq 124 ] && say "$name: timed out after $limit s" >&3
  printf '%s\t%s\t%s\n' "$name" "$rc" "$(( $(date +%s) - s ))" >>"$steps_file"
  return $rc
}

# Python with torch: python3, else Debian's (a pyenv python3 earlier on PATH may lack torch).
py=${PYTHON:-python3}
if ! "$py" -c 'import torch' 2>/dev/null; then
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null && py=/usr/bin/python3 ||
    { say "no python3 with torch (set PYTHON)"; exit 1; }
fi
torch_info=$("$py" -c 'import torch; print(torch.__version__, int(torch.cuda.is_available()))' 2>/dev/null)
torch_version=${torch_info% *}
cuda_ok=${torch_info##* }
gpu_name=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
if [ "$mode" = auto ]; then
  if [ "$cuda_ok" = 1 ]; then mode=gpu; else mode=cpu; fi
fi
say "mode $mode; python $py (torch $torch_version, CUDA available: $cuda_ok); GPU: ${gpu_name:-none}"
if [ "$mode" = gpu ] && [ "$cuda_ok" != 1 ]; then say "GPU mode forced (--gpu) but torch sees no CUDA device: the tests and gpu_bench will fail"; fi

# --- Dependencies missing on the GPU machine: the carried .deb files.
deps="$build/deps"
use_deps=0
unpack_deb() {  # DEB DEST (dpkg -x, or ar + tar where dpkg is missing)
  if command -v dpkg >/dev/null; then dpkg -x "$1" "$2"; return; fi
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && ar x "$1" && tar -xf data.tar.* -C "$2") ; local rc=$?
  rm -rf "$tmp"; return $rc
}
if ls "$root"/.gl/*.deb >/dev/null 2>&1; then
  use_deps=1
  rm -rf "$deps"; mkdir -p "$deps"
  for f in "$root"/.gl/*.deb; do unpack_deb "$f" "$deps" || { say "cannot unpack $f"; exit 1; }; done
  say "unpacked $(ls "$root"/.gl/*.deb | wc -l) carried .deb files into $deps"
  if ! ldconfig -p 2>/dev/null | grep -q 'libEGL\.so\.1 '; then
    if [ "$(id -u)" -eq 0 ]; then
      for p in "${runtime_debs[@]}"; do
        for f in "$root"/.gl/${p}_*.deb; do [ -f "$f" ] && unpack_deb "$f" /; done
      done
      ldconfig
      say "libEGL.so.1 was missing: runtime GL libraries unpacked into /"
    else
      export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      say "libEGL.so.1 missing and not root: using $deps through LD_LIBRARY_PATH"
    fi
  fi
  # Header-only packages and GL/KHR headers for gcc and nvcc (nvcc preprocesses with gcc).
  export CPATH="$deps/usr/include${CPATH:+:$CPATH}"
elif [ "$mode" = gpu ]; then
  say "no .gl/*.deb carried: relying on the machine's own EGL/GL headers, nlohmann-json, doctest"
fi
# Headers the build needs that the GPU machine may lack: one clear line instead of a compile error.
for h in EGL/egl.h GL/gl.h KHR/khrplatform.h nlohmann/json.hpp doctest/doctest.h; do
  if ! echo "#include <$h>" | ${CXX:-c++} -x c++ -std=c++17 -E - >/dev/null 2>&1; then
    say "header <$h> not found: run scripts/gpu_check.sh --fetch on a developer machine and carry .gl"
    exit 1
  fi
done
nv_vendor=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f "$nv_vendor" ]; then
  export __EGL_VENDOR_LIBRARY_FILENAMES=$nv_vendor
  say "EGL vendor: $nv_vendor"
fi

# --- Configure.
prefixes=()
torch_prefix=$("$py" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null)
if [ -n "$torch_prefix" ] && [ -f "$torch_prefix/Torch/TorchConfig.cmake" ]; then
  prefixes+=("$torch_prefix")
  say "LibTorch: $torch_prefix"
else
  say "LibTorch: the system's (find_package(Torch) without hints)"
fi
[ $use_deps -eq 1 ] && prefixes+=("$deps/usr")
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DCAMSCOPE_APP=OFF -DCAMSCOPE_TESTS=ON)
[ ${#prefixes[@]} -gt 0 ] && cmake_args+=("-DCMAKE_PREFIX_PATH=$(IFS=';'; echo "${prefixes[*]}")")
# With the carried packages, EGL is found by header and library (no pkg-config), as it must be
# on a machine without pkg-config; the same path is then exercised everywhere.
[ $use_deps -eq 1 ] && cmake_args+=(-DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON
                                    -DEGL_INCLUDE_DIR="$deps/usr/include"
                                    -DEGL_LIBRARY="$deps/usr/lib/x86_64-linux-gnu/libEGL.so.1")
if [ "$mode" = gpu ]; then
  nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
  [ -x "$nvcc" ] || { say "GPU mode: no nvcc (PATH or /usr/local/cuda/bin)"; exit 1; }
  cmake_args+=(-DCAMSCOPE_CUDA=ON "-DCMAKE_CUDA_COMPILER=$nvcc" -DCMAKE_CUDA_ARCHITECTURES=90)
  export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}  # skips LibTorch's GPU-arch probe
  # pip's libtorch_cuda needs cuDNN, cuBLAS... from site-packages/nvidia (found at run time
  # through its RUNPATH): the link does not have to resolve them.
  cmake_args+=(-DCMAKE_EXE_LINKER_FLAGS=-Wl,--allow-shlib-undefined)
else
  # CPU mode: no CUDA in the build at all (nothing to link it against, and faster).
  cmake_args+=(-DCAMSCOPE_CUDA=OFF)
  say "CPU mode: CUDA interop, the CUDA tests' device cases, fp16 and CUDA-graph variants are skipped"
fi
command -v ninja >/dev/null && [ ! -f "$build/Makefile" ] && cmake_args+=(-G Ninja)
if command -v ccache >/dev/null; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
fi
fail=0
say "cmake -S $root -B $build ${cmake_args[*]}"
step configure 240 cmake -S "$root" -B "$build" "${cmake_args[@]}" >"$build/configure.log" 2>&1
cfg_rc=$?
grep -E "camscope|Error|error|Torch|CUDA" "$build/configure.log" | grep -v "^--   Found\|Looking for\|Performing Test" | head -40
if [ $cfg_rc -ne 0 ] || [ ! -f "$build/CMakeCache.txt" ]; then
  tail -30 "$build/configure.log"
  say "configure FAILED (whole output: $build/configure.log)"; fail=1
fi
if [ $fail -eq 0 ] && [ "$mode" = gpu ] && ! grep -q "CUDA compile ON, link ON" "$build/configure.log"; then
  say "GPU mode: the build does not link CUDA (LibTorch without CUDA?): $(grep 'camscope: full app' "$build/configure.log")"
  fail=1
fi

# --- Build.
targets=(gpu_bench test_render_cuda)
tests=(test_render_cuda)
if [ -f "$root/tests/core/test_device_path.cpp" ]; then
  targets+=(test_device_path); tests+=(test_device_path)
else
  say "tests/core/test_device_path.cpp not in this tree: not built"
fi
if [ $fail -eq 0 ]; then
  step build 420 nice cmake --build "$build" -j "$jobs" --target "${targets[@]}" || { say "build FAILED"; fail=1; }
fi

# --- Tests (ctest sets their environment).
declare -A test_status
for t in "${tests[@]}"; do test_status[$t]=not_run; done
if [ $fail -eq 0 ]; then
  for t in "${tests[@]}"; do
    tlog="$build/$t.log"
    if step "$t" 300 ctest --test-dir "$build" -R "^$t\$" --output-on-failure -V >"$tlog" 2>&1; then
      if grep -q "SKIPPED" "$tlog"; then test_status[$t]=skipped; else test_status[$t]=pass; fi
    else
      test_status[$t]=fail
    fi
    grep -E "MESSAGE|SKIPPED|test cases:|assertions:|ERROR|FAILED|Passed|Failed" "$tlog" | sed 's/^[0-9]*: //' | head -20
    say "$t: ${test_status[$t]}"
    [ "${test_status[$t]}" = fail ] && fail=1
    if [ "${test_status[$t]}" = skipped ]; then
      if [ "$mode" = gpu ]; then say "$t skipped on a GPU machine: FAILED"; fail=1
      else say "$t: CUDA cases skipped (CPU mode)"; fi
    fi
  done
fi

# --- Models and benchmark.
models="$build/models"
bench_json="$build/gpu_bench.json"
rm -f "$bench_json"
if [ $fail -eq 0 ] || [ -x "$build/gpu_bench" ]; then
  step models 240 "$py" "$root/bench/make_resnet.py" --out "$models" --arch resnet18 resnet50 ||
    { say "make_resnet FAILED"; fail=1; }
fi
if [ -f "$models/resnet50.pt" ] && [ -x "$build/gpu_bench" ]; then
  if [ "$mode" = gpu ]; then
    bench_args=(--device cuda --frames 300 --warmup 20 --stage-frames 50 --scorecam-iters 5
                --scorecam-warmup 2 --variant-iters 100)
  else
    # CPU mode: a quick pass that exercises every code path; its timings mean little.
    bench_args=(--device cpu --frames 3 --warmup 2 --stage-frames 2 --scorecam-iters 1
                --scorecam-warmup 0 --variant-iters 2 --threads "$(( jobs < 2 ? 1 : 2 ))")
  fi
  step bench 300 "$build/gpu_bench" --model18 "$models/resnet18.pt" --model50 "$models/resnet50.pt" \
    "${bench_args[@]}" --json "$bench_json" || { say "gpu_bench FAILED"; fail=1; }
fi

# --- One JSON: steps, tests, checks, the benchmark.
wall=$(( $(date +%s) - t_start ))
tests_tsv=""
for t in "${tests[@]}"; do tests_tsv+="$t=${test_status[$t]};"; done
MODE=$mode WALL=$wall FAIL=$fail TESTS="$tests_tsv" STEPS="$steps_file" BENCH="$bench_json" \
GPU_NAME="$gpu_name" TORCH_VERSION="$torch_version" USE_DEPS=$use_deps OUTJSON="$out/gpu_check.json" \
"$py" - <<'EOF'
import json, os, platform, time
mode = os.environ["MODE"]
res = {"tool": "scripts/gpu_check.sh", "mode": mode,
       "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "host": platform.node(), "gpu": os.environ["GPU_NAME"] or None,
       "python_torch": os.environ["TORCH_VERSION"], "carried_debs": os.environ["USE_DEPS"] == "1",
       "wall_s": int(os.environ["WALL"])}
steps = {}
for line in open(os.environ["STEPS"]):
    name, rc, s = line.rstrip("\n").split("\t")
    steps[name] = {"rc": int(rc), "s": int(s)}
res["steps"] = steps
res["tests"] = dict(kv.split("=") for kv in os.environ["TESTS"].split(";") if kv)
bench = None
if os.path.exists(os.environ["BENCH"]):
    bench = json.load(open(os.environ["BENCH"]))
checks, skipped = {}, []
if mode == "gpu" and bench:
    dp = bench.get("device_path", {})
    by = dp.get("bytes_per_frame", {})
    checks["cuda_build"] = bench.get("cuda_build") is True
    checks["model_on_cuda"] = bench.get("device") == "cuda"
    checks["interop_bridge"] = dp.get("bridge") == "CUDA-GL interop"
    checks["maps_device_to_host_zero"] = (by.get("device_to_host") == 0 and
                                          by.get("device_to_host_all_frames") == 0)
    checks["texture_allocations_flat"] = dp.get("texture_allocations") == 2
elif mode == "gpu":
    checks["bench_ran"] = False
else:
    skipped = ["CUDA-GL interop (host upload bridge instead)", "test_render_cuda device cases",
               "fp16 variant", "CUDA graph variant", "device->host zero-copy check"]
res["checks"] = checks
res["skipped_cpu_mode"] = skipped
fail = int(os.environ["FAIL"]) != 0 or not all(checks.values())
res["ok"] = not fail
res["bench"] = bench
with open(os.environ["OUTJSON"], "w") as f:
    json.dump(res, f, indent=2)
for k, v in checks.items():
    print(f"gpu_check: check {k}: {'ok' if v else 'FAILED'}")
raise SystemExit(1 if fail else 0)
EOF
rc=$?
say "wrote $out/gpu_check.json and $out/gpu_check.log; wall ${wall} s; $([ $rc -eq 0 ] && echo OK || echo FAILED)"
# Let tee finish the log before the device tool collects $OUT.
exec 1>&- 2>&- 3>&-
wait "$tee_pid" 2>/dev/null
exit $rc

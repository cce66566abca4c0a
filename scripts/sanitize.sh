#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer build of camscope's core libraries and a named
# subset of the tests, into ${CAMSCOPE_ASAN_BUILD:-build-asan} (ccache reused when present).
#   scripts/sanitize.sh            build the subset and run it
#   scripts/sanitize.sh TEST...    build and run only these test programs
# Every camscope translation unit (util, model, explain, gpu, render and the tests) is
# compiled with -fsanitize=address,undefined and -fno-sanitize-recover; LibTorch, libgomp,
# Mesa and the other system libraries are linked as installed (not instrumented). Reports whose
# frames are all in those libraries are suppressed by scripts/asan.supp (leaks: scripts/lsan.supp)
# and scripts/ubsan.supp, which name only such libraries, never camscope code; any other report
# fails the test that triggered it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build=${CAMSCOPE_ASAN_BUILD:-"$root/build-asan"}
# Torch-free suites do not exist as programs (every test links the model library); the subset:
#   test_hostile_input  hostile files, sidecars, options, decoders, TorchScript archive check
#   test_model_errors   Model::load on broken / hostile model files
#   test_explain_math   the CAM / saliency arithmetic on small tensors
#   test_model          the model engine and preprocessing on the person detector (../shared;
#                       skips its cases when ../shared is absent)
tests=(test_hostile_input test_model_errors test_explain_math test_model)
[ $# -eq 0 ] || tests=("$@")
# -fno-sanitize=vptr: the vptr check needs the typeinfo of every polymorphic class it meets,
# and LibTorch does not export all of its own (c10::DynamicType): the tests would not link.
san="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
fi
start=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  # Build type "Asan": no type flags of CMake's own, -O1 -g below (fast to compile, readable
  # stacks). CUDA off: the .cu sources are not what this checks. No app (capture, UI): the
  # subset needs only the core libraries.
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Asan -DCAMSCOPE_CUDA=OFF -DCAMSCOPE_APP=OFF \
    "-DCMAKE_C_FLAGS=-O1 -g $san" "-DCMAKE_CXX_FLAGS=-O1 -g $san" \
    "-DCMAKE_EXE_LINKER_FLAGS=$san" "-DCMAKE_SHARED_LINKER_FLAGS=$san" "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j "${CAMSCOPE_JOBS:-$(nproc)}" --target "${tests[@]}"
echo "sanitize: build took $(( $(date +%s) - start )) s"

symbolizer=$(command -v llvm-symbolizer || ls /usr/bin/llvm-symbolizer-* 2>/dev/null | head -1 || true)
[ -z "$symbolizer" ] || export ASAN_SYMBOLIZER_PATH="$symbolizer"
export ASAN_OPTIONS="detect_leaks=1:suppressions=$root/scripts/asan.supp:halt_on_error=1:detect_odr_violation=0:print_suppressions=0"
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="suppressions=$root/scripts/ubsan.supp:print_stacktrace=1:halt_on_error=1"
start=$(date +%s)
regex="^($(IFS='|'; echo "${tests[*]}"))\$"
(cd "$build" && ctest --output-on-failure -j "${CAMSCOPE_TEST_JOBS:-2}" --timeout 900 -R "$regex")
echo "sanitize: ${#tests[@]} test programs took $(( $(date +%s) - start )) s"

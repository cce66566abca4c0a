#pragma once
// Host-upload timings for `camscope bench` and the test log: a 64-channel 56x56 channel grid
// (tiled on the CPU, one R32F atlas) and a 1080p map, per bridge flavour. Needs a current GL
// context. GPU (interop) timings come from the same function with a CUDA bridge (pending).
#include <string>
#include <vector>

#include "gpu/texture_bridge.h"

namespace camscope::gpu {

struct UploadBenchResult {
  std::string name;           // e.g. "grid 64x56x56 (host upload)"
  int width = 0, height = 0;  // texture size
  uint64_t bytes_per_frame = 0;
  double ms_per_frame = 0;  // upload + glFinish, mean over frames after one warm-up
  double gb_per_s() const { return ms_per_frame > 0 ? bytes_per_frame / (ms_per_frame * 1e6) : 0; }
};

// Runs both cases through make_host_bridge(false) and make_host_bridge(true).
std::vector<UploadBenchResult> bench_host_upload(int frames);

}  // namespace camscope::gpu
